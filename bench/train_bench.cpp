// Training and inference speed of the reference multimodal model (bench/reference_model.json) on generated inputs of
// StockNet's shapes: training samples/s at two batch sizes (forward, loss, backward, Adam step), single-sample
// latency (p50, p99) and batched throughput under inference mode. bench/python/train_bench.py measures the same model
// written in Python PyTorch the same way; bench/compare_training.sh runs both alternately and prints the ratios.
//
// Usage: finfuse_bench_train [--steps N | --seconds S] [--threads N] [--device D] [--parallel-encoders] [--fixed-threads]
//   [--breakdown] ("name value" lines). --fixed-threads keeps the thread count whatever other processes do
//   (runtime.follow_load false). --seconds runs each timed phase for S seconds instead of a number of steps. --device cuda (or cuda:N) runs the model on a GPU; each timing then waits for the GPU.
//   --parallel-encoders runs the encoders concurrently everywhere, training included ("always" instead of "auto").
//   --breakdown only times single-sample inference: each encoder alone, the encoders in turn and concurrently, and
//   the whole forward pass.
#include "finfuse/core/config.h"
#include "finfuse/core/device.h"
#include "finfuse/core/random.h"
#include "finfuse/core/runtime.h"
#include "finfuse/core/thread_budget.h"
#include "finfuse/evaluation/efficiency.h"
#include "finfuse/models/multimodal_model.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
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

// Multiply-adds of one sample's forward pass through the reference model, counted by hand (2 FLOPs each); element-wise
// work (activations, softmax, pooling, norms) is left out. A training step is about three forward passes.
double forward_flops_per_sample() {
  const double lstm = 5 * 4.0 * 64 * (11 + 64) + 5 * 64;          // 5 days, 4 gates; attention scores
  const double gru = 5 * 16 * 3.0 * 64 * (64 + 64) + 5 * 64;      // 5 tweets x 16 words, 3 gates; tweet attention
  const double conv1 = 32.0 * 15 * 32 * (5 * 3 * 1);              // 32 x 15 outputs, 32 channels, 5x3x1 kernel
  const double conv2 = 16.0 * 15 * 64 * (5 * 3 * 32);             // after 2x1 pooling: 16 x 15, 64 channels
  const double projection = 64.0 * 8 * 15 * 64;                   // 64 x 8 x 15 maps -> 64
  const double mlp = 16.0 * 64 + 64 * 64;
  const double head = 256.0 * 64 + 64 * 2;
  return 2.0 * (lstm + gru + conv1 + conv2 + projection + mlp + head);
}

// The best of several float32 1024 x 1024 matrix products, in GFLOP/s: what the BLAS reaches on this machine.
double matmul_gflops() {
  const auto a = torch::randn({1024, 1024});
  const auto b = torch::randn({1024, 1024});
  double best = 0.0;
  for (int i = 0; i < 12; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto c = torch::mm(a, b);
    best = std::max(best, 2.0 * 1024 * 1024 * 1024 / seconds_since(start) / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t steps = 40;
  double seconds = 0.0;
  int threads = 0;
  std::string device_spec = "cpu";
  bool parallel = false;
  bool breakdown = false;
  bool follow_load = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--parallel-encoders") == 0) {
      parallel = true;
      continue;
    }
    if (std::strcmp(argv[i], "--breakdown") == 0) {
      breakdown = true;
      continue;
    }
    if (std::strcmp(argv[i], "--fixed-threads") == 0) {
      follow_load = false;
      continue;
    }
    if (i + 1 >= argc) {
      break;
    }
    if (std::strcmp(argv[i], "--steps") == 0) {
      steps = std::atoll(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--seconds") == 0) {
      seconds = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--device") == 0) {
      device_spec = argv[i + 1];
    }
    ++i;
  }
  ff::RuntimeOptions runtime_options;
  runtime_options.device(device_spec).seed(1).num_threads(threads).follow_load(follow_load).log_level("warn");
  ff::apply_runtime(runtime_options);
  const auto device = ff::resolve_device(device_spec);
  // GPU work is asynchronous: a timing ends when the GPU is done.
  const auto wait = [&] {
    if (device.is_cuda()) {
      torch::cuda::synchronize(device.index());
    }
  };
  ff::Json config = ff::Config::load(FINFUSE_BENCH_DIR "/reference_model.json").json();
  if (parallel) {
    config["parallel_encoders"] = "always";  // otherwise reference_model.json's "auto"
  }
  ff::models::MultimodalModel model(ff::Config(config), kSpecs);
  if (model->parameter_count() != 909956) {
    std::cerr << "reference_model.json changed: update forward_flops_per_sample() to the new model\n";
    return 1;
  }
  model->to(device);
  std::cout << fmt::format("parameters {}\n", model->parameter_count());
  std::cout << fmt::format("threads {}\n", at::get_num_threads());

  if (breakdown) {
    model->eval();
    const auto one = batch_of(1).to(device);
    const auto time = [&](const std::string& name, const std::function<void()>& run) {
      const auto stats = ff::evaluation::measure_latency(
          [&] {
            c10::InferenceMode guard;
            run();
            wait();
          },
          steps * 10, 20);
      std::cout << fmt::format("{}_p50_ms {:.4f}\n", name, stats.p50_ms);
    };
    for (const auto& spec : kSpecs) {
      auto& encoder = model->encoder(spec.name);
      const auto& input = one.modalities.at(spec.name);
      time("encoder_" + spec.name, [&] { encoder.encode(input); });
    }
    time("forward", [&] { model->forward(one); });
    ff::Json serial_config = config;
    serial_config["parallel_encoders"] = "never";
    ff::models::MultimodalModel serial(ff::Config(serial_config), kSpecs);
    serial->to(device);
    serial->eval();
    time("forward_encoders_in_turn", [&] { serial->forward(one); });
    return 0;
  }

  // `repeats` runs after `warmup` ones, or as many as fit in `seconds` when given.
  const auto timed = [&](const std::function<void()>& run, std::int64_t repeats, std::int64_t warmup) {
    return seconds > 0 ? ff::evaluation::measure_latency_for(run, seconds, warmup)
                       : ff::evaluation::measure_latency(run, repeats, warmup);
  };
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  for (const std::int64_t b : {8, 64}) {
    model->train();
    const auto batch = batch_of(b).to(device);
    const auto step = [&] {
      ff::process_thread_budget().apply();  // as the trainer does at every step
      optimizer.zero_grad();
      const auto out = model->forward(batch);
      model->loss(out, batch).total.backward();
      optimizer.step();
    };
    for (int i = 0; i < 5; ++i) {
      step();
    }
    wait();
    if (std::getenv("X_PROFILE") && b == 64) {
      torch::autograd::profiler::RecordProfile profile(std::getenv("X_PROFILE"));
      for (int i = 0; i < 10; ++i) step();
    }
    const std::int64_t target = b == 8 ? steps * 4 : steps;
    std::int64_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    while (seconds > 0 ? seconds_since(start) < seconds : n < target) {
      step();
      ++n;
    }
    wait();
    const double per_second = static_cast<double>(n * b) / seconds_since(start);
    std::cout << fmt::format("train_b{}_samples_per_s {:.1f}\n", b, per_second);
    std::cout << fmt::format("train_b{}_gflops {:.1f}\n", b, 3.0 * forward_flops_per_sample() * per_second / 1e9);
  }

  model->eval();
  const auto one = batch_of(1).to(device);
  const auto latency = timed(
      [&] {
        ff::process_thread_budget().apply();
        c10::InferenceMode guard;
        model->forward(one);
        wait();
      },
      steps * 10, 20);
  std::cout << fmt::format("infer_b1_p50_ms {:.4f}\ninfer_b1_p99_ms {:.4f}\n", latency.p50_ms, latency.p99_ms);
  const auto big = batch_of(256).to(device);
  const auto batched = timed(
      [&] {
        ff::process_thread_budget().apply();
        c10::InferenceMode guard;
        model->forward(big);
        wait();
      },
      std::max<std::int64_t>(steps / 4, 5), 2);
  std::cout << fmt::format("infer_b256_samples_per_s {:.1f}\n", 256.0 / (batched.p50_ms / 1000.0));
  std::cout << fmt::format("forward_mflop_per_sample {:.2f}\n", forward_flops_per_sample() / 1e6);
  std::cout << fmt::format("threads_at_end {}\n", at::get_num_threads());
  std::cout << fmt::format("matmul_peak_gflops {:.1f}\n", matmul_gflops());
  return 0;
}
