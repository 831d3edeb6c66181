// Soak test (ctest entry `soak.interrupted_training`, label `soak`): `finfuse train` is stopped again and again at
// random moments, by SIGTERM (the run stops after its step, writes a checkpoint and exits with 143) or by SIGKILL
// (the steps since the last checkpoint are lost), and resumed with --resume each time. The interrupted run must end
// with exactly the weights, step losses and validation figures of the same run never interrupted.
//
// FINFUSE_SOAK_SEED picks another random sequence of signals and moments (the seed is printed); FINFUSE_SOAK_STOPS
// sets how many interruptions (default 16).
#include "finfuse/io/bundle.h"
#include "finfuse/training/trainer.h"
#include "support/credit_data.h"
#include "support/process.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

namespace finfuse::training {
namespace {

#ifdef FINFUSE_CLI

using finfuse::testing::read_text;
using finfuse::testing::spawn;
using finfuse::testing::wait_for;

// Every parameter and buffer of the bundle's model.
std::map<std::string, torch::Tensor> bundle_weights(const std::filesystem::path& bundle) {
  const auto model = io::read_bundle(bundle).build_model();
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model->named_parameters()) {
    out.emplace(p.key(), p.value());
  }
  for (const auto& b : model->named_buffers()) {
    out.emplace(b.key(), b.value());
  }
  return out;
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoull(value) : fallback;
}

TEST(Soak, RunsStoppedBySigtermAndSigkillEndWithTheWeightsOfAnUninterruptedRun) {
  const std::string cli = FINFUSE_CLI;
  const auto seed = env_number("FINFUSE_SOAK_SEED", 20261201);
  const auto stops = static_cast<int>(env_number("FINFUSE_SOAK_STOPS", 16));
  std::cout << "FINFUSE_SOAK_SEED=" << seed << " FINFUSE_SOAK_STOPS=" << stops << "\n";
  const auto dir = finfuse::testing::unique_temp_dir("finfuse_soak");
  finfuse::testing::write_credit_csv(dir / "credit.csv", 29, 2000);
  const auto config = dir / "run.json";
  // 1,200 training samples in batches of 16: 75 steps an epoch, 30 epochs (about 10 s on one core); dropout, AdamW
  // and a cosine schedule with warm-up, so that the random generators, the optimizer's moments and the schedule must
  // all resume exactly; a checkpoint every 7 steps, so that SIGKILL loses work that the next run does again.
  std::ofstream(config) << R"({
    "runtime": {"seed": 7},
    "data": {"tables": {"credit": {"path": "credit.csv", "kind": "static", "entity_column": "id",
                                   "label_column": "defaulted"}},
             "samples_from_table": "credit",
             "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 1},
             "dataset": {"modalities": ["numeric"]}},
    "model": {"encoders": {"numeric": {"type": "mlp", "layers": [128, 128], "dropout": 0.2}},
              "heads": {"default": {"type": "classification"}}},
    "training": {"epochs": 30, "batch_size": 16, "optimizer": {"type": "adamw", "lr": 0.003},
                 "scheduler": {"type": "cosine", "warmup_steps": 20},
                 "monitor": "valid.roc_auc", "checkpoint_every_steps": 7, "progress": "none"}
  })";
  const std::map<std::string, std::string> env{{"OMP_NUM_THREADS", "1"}};
  const auto train = [&](const std::filesystem::path& out, bool resume, const std::filesystem::path& log) {
    std::vector<std::string> args{cli, "train", "-c", config.string(), "-o", out.string()};
    if (resume) {
      args.emplace_back("--resume");
    }
    return spawn(args, env, log);
  };

  // The run never interrupted, and how long it takes.
  const auto reference_start = std::chrono::steady_clock::now();
  const auto reference_pid = train(dir / "reference", false, dir / "reference.log");
  const auto reference_status = wait_for(reference_pid, 300);
  ASSERT_TRUE(reference_status && WIFEXITED(*reference_status) && WEXITSTATUS(*reference_status) == 0)
      << read_text(dir / "reference.log");
  const double reference_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - reference_start).count();

  // The same run, stopped `stops` times, each at a random moment within the first eighth of a whole run's length
  // after it starts logging (so that the stops fall while it reads its data, in steps, at checkpoints and at epoch
  // ends, and the run needs several attempts to finish).
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> moment(0.0, reference_seconds / 8);
  // As many SIGTERMs as SIGKILLs, in random order.
  std::vector<int> signals;
  for (int i = 0; i < stops; ++i) {
    signals.push_back(i % 2 == 0 ? SIGTERM : SIGKILL);
  }
  std::shuffle(signals.begin(), signals.end(), rng);
  const auto out = dir / "interrupted";
  int sigterm_stops = 0;
  int sigkills = 0;
  int attempts = 0;
  bool finished = false;
  for (; attempts < stops && !finished; ++attempts) {
    const auto log = dir / fmt::format("attempt{:02}.log", attempts);
    const auto pid = train(out, attempts > 0, log);
    const int signal = signals[static_cast<std::size_t>(attempts)];
    // From its first log line on (the process has started and installed its handlers), a random moment later.
    std::optional<int> status_before;
    const auto started = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_text(log).empty() && !(status_before = wait_for(pid, 0.005)) &&
           std::chrono::steady_clock::now() < started) {
    }
    if (!status_before) {
      status_before = wait_for(pid, moment(rng));
    }
    if (status_before) {  // it finished before the signal
      ASSERT_TRUE(WIFEXITED(*status_before) && WEXITSTATUS(*status_before) == 0) << read_text(log);
      finished = true;
      break;
    }
    ::kill(pid, signal);
    const auto status = wait_for(pid, 120);
    ASSERT_TRUE(status.has_value()) << "attempt " << attempts << " did not end after " << signal;
    const auto text = read_text(log);
    if (signal == SIGKILL) {
      EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
      ++sigkills;
    } else if (WIFEXITED(*status) && WEXITSTATUS(*status) == 143) {
      EXPECT_NE(text.find("stopped: stopped by SIGTERM"), std::string::npos) << text;
      ++sigterm_stops;
    } else {
      // Before the handler was installed (the process starting) the signal ends it; after training (evaluation,
      // the bundle) the run completes.
      EXPECT_TRUE((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGTERM) ||
                  (WIFEXITED(*status) && WEXITSTATUS(*status) == 0))
          << "attempt " << attempts << ": unexpected status " << *status << "\n" << text;
      finished = WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
    }
  }
  if (!finished) {
    const auto log = dir / "final.log";
    const auto status = wait_for(train(out, true, log), 300);
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_text(log);
  }
  std::cout << fmt::format("reference run {:.1f} s; {} attempts: {} stopped by SIGTERM, {} killed by SIGKILL\n",
                           reference_seconds, attempts, sigterm_stops, sigkills);
  EXPECT_GE(sigterm_stops, 3) << "too few SIGTERM stops to show anything; another FINFUSE_SOAK_SEED?";
  EXPECT_GE(sigkills, 3);

  const auto expected = bundle_weights(dir / "reference" / "bundle");
  const auto actual = bundle_weights(out / "bundle");
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [name, tensor] : expected) {
    ASSERT_EQ(actual.count(name), 1U) << name;
    EXPECT_TRUE(torch::equal(actual.at(name), tensor)) << name << " differs from the uninterrupted run's";
  }
  // The same losses at every step and the same validation figures every epoch.
  const auto history = [](const std::filesystem::path& run) {
    std::ifstream in(run / "runs" / "seed-7" / "history.jsonl");
    std::vector<Json> epochs;
    for (std::string line; std::getline(in, line);) {
      auto record = Json::parse(line);
      Json values = Json::object();  // all but timings and memory, which differ from run to run
      for (const auto& [key, value] : record.at("values").items()) {
        if (key.find("second") == std::string::npos && key.find("memory") == std::string::npos) {
          values[key] = value;
        }
      }
      record["values"] = values;
      epochs.push_back(record);
    }
    return epochs;
  };
  const auto reference_history = history(dir / "reference");
  EXPECT_EQ(reference_history.size(), 30U);
  EXPECT_EQ(history(out), reference_history);
  std::filesystem::remove_all(dir);
}

#endif  // FINFUSE_CLI

}  // namespace
}  // namespace finfuse::training
