// Serving a bundle: single-sample latency (p50, p99) and batched throughput of the predictor, for a multimodal model
// (price LSTM + tweet-token GRU + numeric MLP, attention fusion) on generated inputs of StockNet's shapes.
//
// Usage: finfuse_bench_predictor [--threads N] [--repeats N]
#include "finfuse/core/random.h"
#include "finfuse/evaluation/efficiency.h"
#include "finfuse/io/bundle.h"
#include "finfuse/io/predictor.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace ff = finfuse;

namespace {

ff::data::Batch batch_of(std::int64_t b) {
  ff::data::Batch batch;
  batch.modalities["price"] = ff::data::ModalityBatch{torch::randn({b, 5, 5}), torch::Tensor(), torch::ones({b}, torch::kBool)};
  auto ids = torch::randint(1, 5000, {b, 10, 32}, torch::kInt64);
  batch.modalities["text"] = ff::data::ModalityBatch{ids, torch::ones({b, 10, 32}, torch::kBool), torch::ones({b}, torch::kBool)};
  batch.modalities["numeric"] = ff::data::ModalityBatch{torch::randn({b, 16}), torch::Tensor(), torch::ones({b}, torch::kBool)};
  batch.target = torch::zeros({b});
  return batch;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  std::int64_t repeats = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--repeats") == 0) {
      repeats = std::atoll(argv[i + 1]);
    }
  }
  at::set_num_threads(threads);
  ff::seed_everything(1);
  const std::vector<ff::encoders::ModalitySpec> specs = {ff::encoders::ModalitySpec("price", {5, 5}),
                                                          ff::encoders::ModalitySpec("text", {10, 32}, 5000),
                                                          ff::encoders::ModalitySpec("numeric", {16})};
  ff::models::MultimodalModel model(ff::Config::parse(R"({
      "encoders": {"price": {"type": "rnn", "hidden": 64}, "text": {"type": "rnn", "cell": "gru", "hidden": 64},
                   "numeric": {"type": "mlp", "layers": [64]}},
      "fusion": {"type": "attention", "hidden": 64, "heads": 4},
      "heads": {"direction": {"type": "classification", "layers": [32]}}})"),
                                    specs);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("finfuse_bench_predictor_{}", ::getpid());
  ff::io::BundleSource source;
  source.model = model;
  source.modalities = specs;
  ff::io::write_bundle(dir / "bundle", source);
  const ff::io::Predictor predictor(dir / "bundle");

  const auto one = batch_of(1);
  const auto latency = ff::evaluation::measure_latency([&] { predictor.predict(one); }, repeats, 20);
  const auto big = batch_of(256);
  const auto throughput = ff::evaluation::measure_latency([&] { predictor.predict(big); }, std::max<std::int64_t>(repeats / 10, 10), 3);
  const double per_second = 256.0 / (throughput.p50_ms / 1000.0);
  std::cout << fmt::format("model parameters: {}\n", model->parameter_count());
  std::cout << fmt::format("batch 1:   p50 {:.3f} ms, p99 {:.3f} ms ({} runs, {} thread(s))\n", latency.p50_ms,
                           latency.p99_ms, latency.runs, threads);
  std::cout << fmt::format("batch 256: p50 {:.2f} ms per batch, {:.0f} samples/s\n", throughput.p50_ms, per_second);
  std::filesystem::remove_all(dir);
  return 0;
}
