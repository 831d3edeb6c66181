#include "finfuse/training/run_config.h"

namespace finfuse::training {

RunConfig RunConfig::load(const std::filesystem::path& path) {
  return from_config(Config::load(path), std::filesystem::absolute(path).parent_path());
}

RunConfig RunConfig::from_config(Config root, const std::filesystem::path& base) {
  RunConfig c;
  c.root = std::move(root);
  c.base = std::filesystem::absolute(base);
  c.runtime = RuntimeOptions::from_config(c.root.section("runtime"));
  c.data = data::DataConfig::from_config(c.root.child("data"), c.base);
  c.model = c.root.child("model");
  c.training = TrainerOptions::from_config(c.root.section("training"));
  if (c.training.warm_start() && c.training.warm_start()->path().is_relative()) {
    // Relative to the configuration's folder, as the data paths are.
    auto warm = *c.training.warm_start();
    warm.path(c.base / warm.path());
    c.training.warm_start(warm);
  }
  c.distributed = DistributedOptions::from_config(c.root.section("distributed"));
  c.experiment = ExperimentConfig::from_config(c.root.section("experiment"));
  c.seeds = c.experiment.seeds.empty() ? std::vector<std::uint64_t>{c.runtime.seed()} : c.experiment.seeds;
  c.root.reject_unknown_keys();
  return c;
}

std::vector<std::filesystem::path> input_files(const data::DataConfig& data) { return data.input_files(); }

}  // namespace finfuse::training
