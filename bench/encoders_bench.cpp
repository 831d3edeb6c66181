// Forward + backward of each finfuse encoder on StockNet-sized batches (Google Benchmark). bench/compare_encoders.sh
// runs it next to the same modules in Python PyTorch (bench/python/encoders_bench.py).
#include <finfuse/core/random.h>
#include <finfuse/encoders/encoder.h>

#include <torch/types.h>

#include <benchmark/benchmark.h>

namespace {

namespace fe = finfuse::encoders;

void run(benchmark::State& state, const char* json, const fe::ModalitySpec& spec, const torch::Tensor& values,
         const torch::Tensor& mask = {}) {
  finfuse::seed_everything(0);
  const auto encoder = fe::make_encoder(finfuse::Config::parse(json), spec);
  const finfuse::data::ModalityBatch batch{values, mask, torch::Tensor()};
  for (auto _ : state) {
    encoder->zero_grad();
    const auto out = encoder->encode(batch).pooled;
    out.pow(2).mean().backward();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * values.size(0));
}

void BM_MlpEncoder(benchmark::State& state) {
  run(state, R"({"type": "mlp", "layers": [64, 64]})", fe::ModalitySpec("numeric", {20}), torch::randn({64, 20}));
}
void BM_LstmPriceEncoder(benchmark::State& state) {
  run(state, R"({"type": "rnn", "hidden": 64, "pooling": "attention"})", fe::ModalitySpec("price", {5, 5}),
      torch::randn({64, 5, 5}));
}
void BM_GruTweetsEncoder(benchmark::State& state) {
  const auto ids = torch::randint(1, 5000, {64, 10, 32}, torch::kInt64);
  run(state, R"({"type": "rnn", "cell": "gru", "hidden": 64, "embedding_dim": 64})", fe::ModalitySpec("text", {10, 32}, 5000),
      ids, torch::ones({64, 10, 32}, torch::kBool));
}
void BM_TcnEncoder(benchmark::State& state) {
  run(state, R"({"type": "tcn", "channels": [32, 32, 32]})", fe::ModalitySpec("price", {20, 5}), torch::randn({64, 20, 5}));
}
void BM_TransformerTextEncoder(benchmark::State& state) {
  run(state, R"({"type": "transformer", "hidden": 128, "layers": 2, "heads": 4, "intermediate": 512, "dropout": 0.0})",
      fe::ModalitySpec("text", {64}, 5000), torch::randint(1, 5000, {32, 64}, torch::kInt64),
      torch::ones({32, 64}, torch::kBool));
}
void BM_ChartCnnEncoder(benchmark::State& state) {
  run(state, R"({"type": "cnn"})", fe::ModalitySpec("chart", {1, 64, 60}), torch::rand({32, 1, 64, 60}));
}
void BM_ResNet18Encoder(benchmark::State& state) {
  run(state, R"({"type": "resnet"})", fe::ModalitySpec("image", {3, 64, 64}), torch::rand({16, 3, 64, 64}));
}

BENCHMARK(BM_MlpEncoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LstmPriceEncoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GruTweetsEncoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TcnEncoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TransformerTextEncoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChartCnnEncoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResNet18Encoder)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
