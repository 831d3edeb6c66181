// Training and inference speed of the reference multimodal model (bench/reference_model.json) on generated inputs of
// StockNet's shapes: training samples/s at two batch sizes (forward, loss, backward, Adam step), single-sample
// latency (p50, p99) and batched throughput under inference mode. bench/python/train_bench.py measures the same model
// written in Python PyTorch the same way; bench/compare_training.sh runs both alternately and prints the ratios.
//
// Usage: finfuse_bench_train [--steps N] [--threads N] [--parallel-encoders]     (prints "name value" lines)
#include "finfuse/core/config.h"
#include "finfuse/core/random.h"
#include "finfuse/core/runtime.h"
#include "finfuse/evaluation/efficiency.h"
#include "finfuse/models/multimodal_model.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace ff = finfuse;

namespace {

const std::vector<ff::encoders::ModalitySpec> kSpecs = {
    ff::encoders::ModalitySpec("price", {5, 11}), ff::encoders::ModalitySpec("text", {5, 16}, 5000),
    ff::encoders::ModalitySpec("chart", {1, 32, 15}), ff::encoders::ModalitySpec("numeric", {16})};

ff::data::Batch batch_of(std::int64_t b) {
  ff::data::Batch batch;
  const auto all = torch::ones({b}, torch::kBool);
  batch.modalities["price"] = ff::data::ModalityBatch{torch::randn({b, 5, 11}), torch::Tensor(), all};
  batch.modalities["text"] = ff::data::ModalityBatch{torch::randint(1, 5000, {b, 5, 16}, torch::kInt64),
                                                     torch::ones({b, 5, 16}, torch::kBool), all};
  batch.modalities["chart"] = ff::data::ModalityBatch{torch::rand({b, 1, 32, 15}), torch::Tensor(), all};
  batch.modalities["numeric"] = ff::data::ModalityBatch{torch::randn({b, 16}), torch::Tensor(), all};
  batch.target = torch::randint(0, 2, {b}).to(torch::kFloat32);
  return batch;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t steps = 40;
  int threads = 0;
  bool parallel = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--parallel-encoders") == 0) {
      parallel = true;
      continue;
    }
    if (i + 1 >= argc) {
      break;
    }
    if (std::strcmp(argv[i], "--steps") == 0) {
      steps = std::atoll(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    }
    ++i;
  }
  ff::RuntimeOptions runtime_options;
  runtime_options.device("cpu").seed(1).num_threads(threads).log_level("warn");
  ff::apply_runtime(runtime_options);
  ff::Json config = ff::Config::load(FINFUSE_BENCH_DIR "/reference_model.json").json();
  config["parallel_encoders"] = parallel;
  ff::models::MultimodalModel model(ff::Config(config), kSpecs);
  std::cout << fmt::format("parameters {}\n", model->parameter_count());
  std::cout << fmt::format("threads {}\n", at::get_num_threads());

  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  for (const std::int64_t b : {8, 64}) {
    model->train();
    const auto batch = batch_of(b);
    const auto step = [&] {
      optimizer.zero_grad();
      const auto out = model->forward(batch);
      model->loss(out, batch).total.backward();
      optimizer.step();
    };
    for (int i = 0; i < 5; ++i) {
      step();
    }
    const std::int64_t n = b == 8 ? steps * 4 : steps;
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      step();
    }
    std::cout << fmt::format("train_b{}_samples_per_s {:.1f}\n", b, static_cast<double>(n * b) / seconds_since(start));
  }

  model->eval();
  const auto one = batch_of(1);
  const auto latency = ff::evaluation::measure_latency(
      [&] {
        c10::InferenceMode guard;
        model->forward(one);
      },
      steps * 10, 20);
  std::cout << fmt::format("infer_b1_p50_ms {:.4f}\ninfer_b1_p99_ms {:.4f}\n", latency.p50_ms, latency.p99_ms);
  const auto big = batch_of(256);
  const auto batched = ff::evaluation::measure_latency(
      [&] {
        c10::InferenceMode guard;
        model->forward(big);
      },
      std::max<std::int64_t>(steps / 4, 5), 2);
  std::cout << fmt::format("infer_b256_samples_per_s {:.1f}\n", 256.0 / (batched.p50_ms / 1000.0));
  return 0;
}
