// Micro-benchmarks of finfuse's building blocks (Google Benchmark). Side-by-side comparisons with Python
// PyTorch live in the benchmark suite's own runner.
#include <finfuse/core/random.h>
#include <finfuse/nn/mlp.h>

#include <torch/optim/adam.h>
#include <torch/types.h>

#include <benchmark/benchmark.h>

namespace {

void BM_MlpForward(benchmark::State& state) {
  finfuse::seed_everything(0);
  finfuse::nn::Mlp mlp(finfuse::nn::MlpOptions(64, {128, 128, 1}).activation("gelu").activate_output(false));
  mlp->eval();
  const auto x = torch::randn({state.range(0), 64});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(mlp->forward(x));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MlpForward)->Arg(1)->Arg(64)->Arg(1024);

void BM_MlpTrainStep(benchmark::State& state) {
  finfuse::seed_everything(0);
  finfuse::nn::Mlp mlp(finfuse::nn::MlpOptions(64, {128, 128, 1}).activation("gelu").activate_output(false));
  torch::optim::Adam optimizer(mlp->parameters(), torch::optim::AdamOptions(1e-3));
  const auto x = torch::randn({state.range(0), 64});
  const auto y = torch::randn({state.range(0), 1});
  for (auto _ : state) {
    optimizer.zero_grad();
    auto loss = torch::mse_loss(mlp->forward(x), y);
    loss.backward();
    optimizer.step();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MlpTrainStep)->Arg(8)->Arg(64)->Arg(256);

}  // namespace

BENCHMARK_MAIN();
