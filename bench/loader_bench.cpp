// Whether the data path keeps up with training, for any run configuration (a `finfuse universe` folder's run.json, or
// a user's): the dataset's build and its cache file, reopening the cache, the loader's throughput and the model's.
//
//   finfuse_bench_loader RUN_JSON [--cache DIR [--reopen-only]] [--batches N] [--steps N]
//
// 1. builds the dataset from the configuration's data section (writing the cache file to DIR, a temporary folder by
//    default, emptied first) and reports the build's seconds, the process's own memory once it is built (what a
//    training run that built its data goes on holding) and the file's size;
// 2. builds it again, which reopens the cache file, and reports the seconds and the process's own memory it added
//    (reopen_private_mb: the arrays are read in place from the mapped file, whose pages are the page cache's);
// 3. collates N training batches (default 200) with the trainer's sampler (cross-sectional days, or shuffled batches
//    of training.batch_size) in this thread, as the loader's background thread does: samples a second, and the pages
//    of the mapped file read by then (mapped_file_mb, shared with every process that maps the file);
// 4. trains the configuration's model on those batches for a few warm-up steps and then --steps steps (default 50):
//    forward, loss, backward, AdamW step, samples a second.
// Prints "name value" lines; loader_over_model is the loader's throughput over the model's (the goal: at least 5).
// With --reopen-only, step 1 is left out and DIR keeps the cache file an earlier run wrote there: several processes
// started so show what opening one file costs each of them.
#include "finfuse/core/logging.h"
#include "finfuse/core/runtime.h"
#include "finfuse/data/loader.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/data/sampler.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/training/run_config.h"

#include <fmt/format.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace ff = finfuse;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A field of /proc/self/status in kB ("RssAnon": this process's own pages; "RssFile": pages of mapped files, which
// the page cache shares with every process that maps them), or -1 where there is none.
long status_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::atol(line.c_str() + field.size() + 1);
    }
  }
  return -1;
}

std::uintmax_t cache_bytes(const std::filesystem::path& dir) {
  std::uintmax_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".ffcache") {
      total += entry.file_size();
    }
  }
  return total;
}

int run(int argc, char** argv) {
  std::filesystem::path run_json, cache_dir;
  long batches_wanted = 200, steps = 50;
  bool reopen_only = false;
  const char* usage = "usage: finfuse_bench_loader RUN_JSON [--cache DIR [--reopen-only]] [--batches N] [--steps N]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cache" && i + 1 < argc) {
      cache_dir = argv[++i];
    } else if (arg == "--reopen-only") {
      reopen_only = true;
    } else if (arg == "--batches" && i + 1 < argc) {
      batches_wanted = std::max(1L, std::atol(argv[++i]));
    } else if (arg == "--steps" && i + 1 < argc) {
      steps = std::max(1L, std::atol(argv[++i]));
    } else if (run_json.empty() && arg.rfind("--", 0) != 0) {
      run_json = arg;
    } else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (run_json.empty() || (reopen_only && cache_dir.empty())) {
    std::fputs(usage, stderr);
    return 2;
  }
  const auto config = ff::training::RunConfig::load(run_json);
  auto runtime = config.runtime;
  ff::apply_runtime(runtime.device("cpu").log_level("warn"));

  const bool own_cache = cache_dir.empty();
  if (own_cache) {
    cache_dir = std::filesystem::temp_directory_path() / fmt::format("finfuse-loader-bench-{}", ::getpid());
  }
  auto start = Clock::now();
  if (!reopen_only) {
    std::filesystem::remove_all(cache_dir);
    std::filesystem::create_directories(cache_dir);
    const auto built = ff::data::DataPipeline::build(config.data, cache_dir);
    fmt::print("build_seconds {:.3f}\n", seconds_since(start));
    fmt::print("samples {}\n", built.samples().samples.size());
    fmt::print("built_private_mb {:.1f}\n", static_cast<double>(status_kb("RssAnon")) / 1024.0);
  }
  fmt::print("cache_bytes {}\n", cache_bytes(cache_dir));
  const long private_before = status_kb("RssAnon");
  const long file_before = status_kb("RssFile");
  start = Clock::now();
  const auto pipeline = ff::data::DataPipeline::build(config.data, cache_dir);
  fmt::print("reopen_seconds {:.3f}\n", seconds_since(start));
  fmt::print("reopen_private_mb {:.1f}\n", static_cast<double>(status_kb("RssAnon") - private_before) / 1024.0);
  if (!pipeline.from_cache()) {
    std::fprintf(stderr, "the second build did not reopen the cache file\n");
    return 1;
  }
  if (own_cache) {
    std::filesystem::remove_all(cache_dir);
  }

  const auto dataset = pipeline.dataset();
  const auto& train = pipeline.split().train;
  std::shared_ptr<const ff::data::BatchSampler> sampler;
  if (config.training.batching() == "cross_sectional") {
    sampler = std::make_shared<ff::data::CrossSectionalSampler>(dataset->samples(), train, true, 1);
  } else {
    sampler = std::make_shared<ff::data::ShuffledSampler>(train, config.training.batch_size(), 1);
  }
  ff::data::DataLoader loader(dataset, sampler, /*prefetch=*/0);
  loader.start_epoch(0);
  std::vector<ff::data::Batch> batches;
  std::int64_t collated = 0;
  start = Clock::now();
  while (static_cast<long>(batches.size()) < batches_wanted) {
    auto batch = loader.next();
    if (!batch) {
      break;
    }
    collated += batch->target.size(0);
    batches.push_back(std::move(*batch));
  }
  const double loader_rate = static_cast<double>(collated) / seconds_since(start);
  fmt::print("loader_batches {}\nloader_samples_per_second {:.0f}\n", batches.size(), loader_rate);
  fmt::print("mapped_file_mb {:.1f}\n", static_cast<double>(status_kb("RssFile") - file_before) / 1024.0);

  ff::models::MultimodalModel model(config.model, ff::models::modality_specs(*dataset));
  model->train();
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  const auto step = [&](const ff::data::Batch& batch) {
    optimizer.zero_grad();
    const auto output = model->forward(batch);
    model->loss(output, batch).total.backward();
    optimizer.step();
  };
  const std::size_t warmup = std::min<std::size_t>(3, batches.size());
  for (std::size_t i = 0; i < warmup; ++i) {
    step(batches[i]);
  }
  std::int64_t trained = 0;
  start = Clock::now();
  for (long k = 0; k < steps; ++k) {
    const auto& batch = batches[static_cast<std::size_t>(k) % batches.size()];
    step(batch);
    trained += batch.target.size(0);
  }
  const double model_rate = static_cast<double>(trained) / seconds_since(start);
  fmt::print("model_samples_per_second {:.0f}\nloader_over_model {:.1f}\n", model_rate, loader_rate / model_rate);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finfuse_bench_loader: %s\n", e.what());
    return 1;
  }
}
