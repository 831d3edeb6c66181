// Crash safety: `finfuse train` is killed with SIGKILL at random moments (while it writes checkpoints every step, and
// near the end, while it writes the bundle) many times over, each time resuming in the same folder. After every kill
// the newest checkpoint must load and training must continue from it, no half-written file may sit under a final
// name, and a bundle, once present, must read back with valid checksums. The last run finishes.
#include "finfuse/io/bundle.h"
#include "finfuse/training/trainer.h"
#include "support/credit_data.h"
#include "support/process.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

namespace finfuse::training {
namespace {

#ifdef FINFUSE_CLI

using finfuse::testing::read_text;
using finfuse::testing::spawn;
using finfuse::testing::wait_for;

TEST(CrashSafety, SigkillDuringCheckpointAndBundleWritesNeverLosesTheRun) {
  const std::string cli = FINFUSE_CLI;
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_crash");
  finfuse::testing::write_credit_csv(dir / "credit.csv", 11);
  const auto config = dir / "run.json";
  // 240 training samples in batches of 16: 15 steps an epoch, a checkpoint after every step (the newest 2 kept).
  std::ofstream(config) << R"({
    "runtime": {"seed": 5},
    "data": {"tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id",
                                   "label_column": "defaulted"}},
             "samples_from_table": "credit",
             "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 1},
             "dataset": {"modalities": ["numeric"]}},
    "model": {"encoders": {"numeric": {"type": "mlp", "layers": [32, 32]}},
              "heads": {"default": {"type": "classification"}}},
    "training": {"epochs": 40, "batch_size": 16, "optimizer": {"type": "adam", "lr": 0.01},
                 "monitor": "valid.roc_auc", "checkpoint_every_steps": 1, "progress": "none"}
  })";
  const auto out = dir / "out";
  const auto runs = out / "runs" / "seed-5";
  const std::map<std::string, std::string> env{{"OMP_NUM_THREADS", "1"}};
  std::mt19937 rng(2024);
  const auto newest_step = [&]() -> std::int64_t {
    const auto newest = std::filesystem::exists(runs) ? Trainer::latest_checkpoint(runs) : std::nullopt;
    return newest ? std::stoll(newest->filename().string().substr(17, 8)) : -1;
  };
  const auto check_files = [&](int attempt) {
    // Every checkpoint under its final name is complete (non-empty; the trainer skips damaged ones when it resumes,
    // and the next run checks that it resumed), and a bundle under its final name reads back with valid checksums.
    if (std::filesystem::exists(runs)) {
      for (const auto& entry : std::filesystem::directory_iterator(runs)) {
        const auto name = entry.path().filename().string();
        if (std::regex_match(name, std::regex(R"(checkpoint-e\d{3}-s\d{8}\.pt)"))) {
          EXPECT_GT(std::filesystem::file_size(entry.path()), 0U) << name;
        }
      }
    }
    if (std::filesystem::exists(out / "bundle")) {
      EXPECT_NO_THROW(io::read_bundle(out / "bundle")) << "attempt " << attempt;
    }
  };
  int kills = 0;
  int bundle_kills = 0;
  std::int64_t last_step = -1;
  // 12 kills while steps and their checkpoints are written, then kills while the bundle is written (after training
  // has ended, each resumed run goes straight to evaluation and the bundle), then a run that finishes.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const bool bundle_phase = attempt >= 12;
    const auto log = dir / fmt::format("attempt{}.log", attempt);
    std::vector<std::string> args{cli, "train", "-c", config.string(), "-o", out.string()};
    if (attempt > 0) {
      args.emplace_back("--resume");
    }
    const auto before = newest_step();
    const auto pid = spawn(args, env, log);
    // Wait for the run to get going: a new checkpoint, or (bundle phase) the end of training.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::optional<int> status;
    while (!(status = wait_for(pid, 0.01)) && std::chrono::steady_clock::now() < deadline) {
      if (!bundle_phase && newest_step() > before) {
        break;
      }
      if (bundle_phase && read_text(log).find("trainer: restored the weights") != std::string::npos) {
        break;
      }
    }
    if (!status) {
      std::uniform_int_distribution<int> delay_us(0, bundle_phase ? 60000 : 100000);
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
      ::kill(pid, SIGKILL);
      status = wait_for(pid, 20);
      ASSERT_TRUE(status.has_value());
      ++kills;
      bundle_kills += bundle_phase ? 1 : 0;
    }
    const auto text = read_text(log);
    if (before >= 0 && (newest_step() > before || WIFEXITED(*status))) {
      EXPECT_NE(text.find("trainer: resumed from"), std::string::npos)
          << "attempt " << attempt << " did not resume from the checkpoint of step " << before << "\n" << text;
    }
    const auto step = newest_step();
    EXPECT_GE(step, last_step) << "the newest checkpoint went back in time";
    last_step = step;
    check_files(attempt);
  }
  const auto log = dir / "final.log";
  const auto pid = spawn({cli, "train", "-c", config.string(), "-o", out.string(), "--resume"}, env, log);
  const auto status = wait_for(pid, 120);
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_text(log);
  EXPECT_NE(read_text(log).find("trainer: resumed from"), std::string::npos);
  EXPECT_GE(kills, 15);
  EXPECT_NO_THROW(io::read_bundle(out / "bundle"));
  EXPECT_EQ(newest_step(), 600) << "40 epochs of 15 steps, all trained";
  std::cout << fmt::format("{} kills ({} while the bundle was written); the run finished at step {}\n", kills,
                           bundle_kills, newest_step());
  std::filesystem::remove_all(dir);
}

#endif  // FINFUSE_CLI

}  // namespace
}  // namespace finfuse::training
