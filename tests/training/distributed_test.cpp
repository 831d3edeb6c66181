// Distributed data-parallel training on loopback: the torchrun and SLURM environments, two ranks with a global batch
// of 2b against one process with batch 2b (the same parameters), a SLURM step of two nodes by two tasks, a killed
// rank ending the other with a clear error while the last checkpoint stays loadable, a rendezvous that times out, and
// the launcher's failure handling.
#include "finfuse/training/distributed.h"

#include "finfuse/core/error.h"
#include "finfuse/io/predictor.h"
#include "support/credit_data.h"
#include "support/cuda.h"
#include "support/process.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace finfuse::training {
namespace {

// Sets environment variables for a scope and restores them.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& values) {
    for (const auto& name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                             "SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID",
                             "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST", "SLURM_STEP_TASKS_PER_NODE",
                             "SLURM_TASKS_PER_NODE", "SLURM_JOB_ID", "SLURM_JOBID"}) {
      const char* old = std::getenv(name);
      saved_[name] = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(name);
    }
    for (const auto& [k, v] : values) {
      ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(DistributedEnv, ReadsTorchrunVariablesAndNamesBadOnes) {
  {
    const ScopedEnv env({});
    EXPECT_FALSE(DistributedEnv::from_environment().has_value());
  }
  {
    const ScopedEnv env({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                         {"MASTER_ADDR", "10.0.0.5"}, {"MASTER_PORT", "29400"}});
    const auto job = DistributedEnv::from_environment();
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->rank, 1);
    EXPECT_EQ(job->world_size, 4);
    EXPECT_EQ(job->local_rank, 1);
    EXPECT_EQ(job->local_world_size, 2);
    EXPECT_EQ(job->master_addr, "10.0.0.5");
    EXPECT_EQ(job->master_port, 29400);
  }
  const auto message = [](const std::map<std::string, std::string>& values) -> std::string {
    const ScopedEnv env(values);
    try {
      DistributedEnv::from_environment();
    } catch (const DistributedError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}).find("RANK is not set"),
            std::string::npos);
  EXPECT_NE(message({{"WORLD_SIZE", "two"}}).find("WORLD_SIZE='two' is not an integer"), std::string::npos);
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                .find("RANK=2 is not below WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "1"}}).find("MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                .find("not a TCP port"),
            std::string::npos);
}

// Inside `srun -N2 --ntasks-per-node=2 finfuse train ...`: rank, world, local rank and rendezvous from SLURM's
// variables; torchrun's variables, where set, win; a one-task step is a single process.
TEST(DistributedEnv, ReadsASlurmJobStepWhenTorchrunsVariablesAreAbsent) {
  const std::map<std::string, std::string> task2 = {
      {"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_PROCID", "2"},          {"SLURM_LOCALID", "0"},
      {"SLURM_NODEID", "1"},         {"SLURM_STEP_NODELIST", "node[1-2]"}, {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
      {"SLURM_JOB_ID", "777"}};
  {
    const ScopedEnv env(task2);
    const auto job = DistributedEnv::from_environment();
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->source, "SLURM");
    EXPECT_EQ(job->rank, 2);
    EXPECT_EQ(job->world_size, 4);
    EXPECT_EQ(job->local_rank, 0);
    EXPECT_EQ(job->local_world_size, 2);
    EXPECT_EQ(job->master_addr, "node1");
    EXPECT_EQ(job->master_port, 15777);
    EXPECT_EQ(job->node_addr, "node2");
  }
  {
    auto both = task2;
    both.insert({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1234"}});
    const ScopedEnv env(both);
    const auto job = DistributedEnv::from_environment();
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->source, "torchrun");
    EXPECT_EQ(job->rank, 1);
    EXPECT_EQ(job->world_size, 2);
    EXPECT_TRUE(job->node_addr.empty());
  }
  {
    const ScopedEnv env({{"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_PROCID", "0"}, {"SLURM_LOCALID", "0"},
                         {"SLURM_NODEID", "0"}, {"SLURM_STEP_NODELIST", "node1"}, {"SLURM_JOB_ID", "778"}});
    EXPECT_FALSE(DistributedEnv::from_environment().has_value());
  }
  {
    auto bad = task2;
    bad["SLURM_PROCID"] = "9";
    const ScopedEnv env(bad);
    EXPECT_THROW(DistributedEnv::from_environment(), DistributedError);
  }
}

TEST(DistributedOptions, ConfigKeysAndErrors) {
  const auto o = DistributedOptions::from_config(Config::parse(R"({"backend": "gloo", "timeout_s": 20, "bucket_mb": 4})"));
  EXPECT_EQ(o.backend, "gloo");
  EXPECT_EQ(o.timeout().count(), 20000);
  EXPECT_EQ(o.bucket_mb, 4.0);
  EXPECT_EQ(DistributedOptions::from_config(Config::parse("{}")).backend, "auto");
  EXPECT_THROW(DistributedOptions::from_config(Config::parse(R"({"backend": "mpi"})")), ConfigError);
  EXPECT_THROW(DistributedOptions::from_config(Config::parse(R"({"timeout": 20})")), ConfigError);
}

TEST(DistributedContext, ARendezvousWithoutTheOtherRanksTimesOutWithAClearError) {
  DistributedEnv env;
  env.world_size = 2;
  env.rank = 0;
  env.master_port = 0;  // any free port: the server binds, the other rank never comes
  DistributedOptions options;
  options.timeout_s = 2;
  const auto start = std::chrono::steady_clock::now();
  try {
    DistributedContext::connect(env, options, c10::Device(c10::DeviceType::CPU));
    FAIL() << "expected a DistributedError";
  } catch (const DistributedError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("rank 0 of 2"), std::string::npos) << what;
    EXPECT_NE(what.find("rendezvous"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
}

#ifdef FINFUSE_CLI

using finfuse::testing::read_text;
using finfuse::testing::spawn;
using finfuse::testing::wait_for;

class DistributedTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = finfuse::testing::unique_temp_dir("finfuse_distributed");
    // 400 applicants (default when a noisy linear score of three features is positive): 240 train, 80 valid, 80 test.
    finfuse::testing::write_credit_csv(dir_ / "credit.csv", 5);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A run configuration: an MLP without dropout, shuffled batches of `batch`, Adam.
  std::filesystem::path config(const std::string& name, std::int64_t batch, std::int64_t epochs,
                               const std::string& training_extra = "") const {
    const auto path = dir_ / (name + ".json");
    std::ofstream(path) << fmt::format(R"({{
      "runtime": {{"seed": 3, "device": "{}"}},
      "data": {{"tables": {{"credit": {{"path": "credit.csv", "kind": "static", "entity_column": "id",
                                         "label_column": "defaulted"}}}},
               "samples_from_table": "credit",
               "split": {{"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 1}},
               "dataset": {{"modalities": ["numeric"]}}}},
      "model": {{"encoders": {{"numeric": {{"type": "mlp", "layers": [16, 16], "dropout": 0.0}}}},
                "heads": {{"default": {{"type": "classification"}}}}}},
      "training": {{"epochs": {}, "batch_size": {}, "optimizer": {{"type": "adam", "lr": 0.01}},
                   "monitor": "valid.roc_auc", "restore_best": false, "progress": "none"{}}},
      "distributed": {{"timeout_s": 60}}
    }})",
                                       device_, epochs, batch, training_extra);
    return path;
  }

  std::filesystem::path dir_;
  std::string device_ = "cpu";
  const std::map<std::string, std::string> threads_{{"OMP_NUM_THREADS", "1"}};
};

// NCCL, one GPU per rank (cuda:LOCAL_RANK): two ranks with batch b train what one process with batch 2b trains.
TEST_F(DistributedTraining, TwoRanksOverNcclOnTwoGpus_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  if (cuda_device_count() < 2) {
    GTEST_SKIP() << "NCCL needs a GPU per rank; this machine has " << cuda_device_count();
  }
  device_ = "cuda";
  const std::string cli = FINFUSE_CLI;
  const auto one = spawn({cli, "train", "-c", config("one", 16, 3).string(), "-o", (dir_ / "one").string()}, threads_,
                         dir_ / "one.log");
  ASSERT_TRUE(wait_for(one, 300).value_or(-1) == 0) << read_text(dir_ / "one.log");
  const auto two = spawn({cli, "launch", "--nproc", "2", "--", cli, "train", "-c", config("two", 8, 3).string(), "-o",
                          (dir_ / "two").string()},
                         threads_, dir_ / "two.log");
  ASSERT_TRUE(wait_for(two, 300).value_or(-1) == 0) << read_text(dir_ / "two.log");
  const auto log = read_text(dir_ / "two.log");
  EXPECT_NE(log.find("nccl backend"), std::string::npos) << log;
  const io::Predictor a(dir_ / "one" / "bundle");
  const io::Predictor b(dir_ / "two" / "bundle");
  for (const auto& p : a.model()->named_parameters()) {
    const auto other = b.model()->named_parameters()[p.key()];
    EXPECT_TRUE(torch::allclose(p.value(), other, 1e-3, 1e-4))
        << p.key() << ": largest difference " << (p.value() - other).abs().max().item<double>();
  }
}

TEST_F(DistributedTraining, TwoRanksWithGlobalBatch2bReproduceOneProcessWithBatch2b) {
  const std::string cli = FINFUSE_CLI;
  const auto one = spawn({cli, "train", "-c", config("one", 16, 3).string(), "-o", (dir_ / "one").string()}, threads_,
                         dir_ / "one.log");
  const auto two = spawn({cli, "launch", "--nproc", "2", "--", cli, "train", "-c", config("two", 8, 3).string(), "-o",
                          (dir_ / "two").string()},
                         threads_, dir_ / "two.log");
  const auto one_status = wait_for(one, 120);
  const auto two_status = wait_for(two, 120);
  ASSERT_TRUE(one_status && WIFEXITED(*one_status) && WEXITSTATUS(*one_status) == 0) << read_text(dir_ / "one.log");
  ASSERT_TRUE(two_status && WIFEXITED(*two_status) && WEXITSTATUS(*two_status) == 0) << read_text(dir_ / "two.log");
  EXPECT_NE(read_text(dir_ / "two.log").find("ranks 0-1 of 2"), std::string::npos) << read_text(dir_ / "two.log");

  const io::Predictor a(dir_ / "one" / "bundle");
  const io::Predictor b(dir_ / "two" / "bundle");
  const auto pa = a.model()->named_parameters();
  const auto pb = b.model()->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  double largest_change = 0.0;
  double largest_difference = 0.0;
  for (const auto& p : pa) {
    ASSERT_TRUE(pb.contains(p.key())) << p.key();
    EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 1e-4, 1e-5))
        << p.key() << ": largest difference " << (p.value() - pb[p.key()]).abs().max().item<double>();
    largest_change = std::max(largest_change, p.value().abs().max().item<double>());
    largest_difference = std::max(largest_difference, (p.value() - pb[p.key()]).abs().max().item<double>());
  }
  EXPECT_GT(largest_change, 0.0);
  std::cout << fmt::format("largest parameter difference, 2 ranks x batch 8 vs 1 process x batch 16: {:.3g}\n",
                           largest_difference);
  // Only rank 0 wrote outputs: one bundle, one report, checkpoints from one rank.
  EXPECT_TRUE(std::filesystem::exists(dir_ / "two" / "report.html"));
}

TEST_F(DistributedTraining, AKilledRankEndsTheOtherWithAClearErrorAndTheCheckpointSurvives) {
  const std::string cli = FINFUSE_CLI;
  const auto cfg = config("long", 8, 100000, R"(, "checkpoint_every_steps": 5)");
  std::map<std::string, std::string> env = threads_;
  env["WORLD_SIZE"] = "2";
  env["MASTER_ADDR"] = "127.0.0.1";
  env["MASTER_PORT"] = std::to_string(20000 + ::getpid() % 20000);
  std::vector<pid_t> ranks;
  for (int r = 0; r < 2; ++r) {
    env["RANK"] = std::to_string(r);
    env["LOCAL_RANK"] = std::to_string(r);
    ranks.push_back(spawn({cli, "train", "-c", cfg.string(), "-o", (dir_ / "long").string()}, env,
                          dir_ / fmt::format("rank{}.log", r)));
  }
  // Wait until training runs (rank 0 has written a checkpoint), then kill rank 1 without warning.
  const auto runs = dir_ / "long" / "runs" / "seed-3";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!Trainer::latest_checkpoint(runs) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(Trainer::latest_checkpoint(runs).has_value()) << read_text(dir_ / "rank0.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(ranks[1], SIGKILL);
  const auto killed = wait_for(ranks[1], 10);
  ASSERT_TRUE(killed && WIFSIGNALED(*killed));

  const auto start = std::chrono::steady_clock::now();
  const auto survivor = wait_for(ranks[0], 60);
  if (!survivor) {
    ::kill(ranks[0], SIGKILL);
    wait_for(ranks[0], 10);
    FAIL() << "rank 0 still running 60 s after rank 1 died\n" << read_text(dir_ / "rank0.log");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(WIFEXITED(*survivor)) << read_text(dir_ / "rank0.log");
  EXPECT_EQ(WEXITSTATUS(*survivor), 1);
  const auto log = read_text(dir_ / "rank0.log");
  EXPECT_NE(log.find("error: distributed: rank 0 of 2:"), std::string::npos) << log;
  EXPECT_NE(log.find("Another rank has died"), std::string::npos) << log;
  std::cout << fmt::format("rank 0 ended {:.2f} s after rank 1 was killed\n", seconds);

  // The newest checkpoint is complete: the job resumes from it with the same two ranks and finishes.
  const auto checkpoint = Trainer::latest_checkpoint(runs);
  ASSERT_TRUE(checkpoint.has_value());
  const auto name = checkpoint->filename().string();  // checkpoint-eEEE-sSSSSSSSS.pt
  const int epoch = std::stoi(name.substr(12, 3));
  const auto resume_cfg = config("resume", 8, epoch + 2, R"(, "checkpoint_every_steps": 5)");
  const auto resumed = spawn({cli, "launch", "--nproc", "2", "--", cli, "train", "-c", resume_cfg.string(), "-o",
                              (dir_ / "long").string(), "--resume"},
                             threads_, dir_ / "resumed.log");
  const auto resumed_status = wait_for(resumed, 120);
  const auto resumed_log = read_text(dir_ / "resumed.log");
  ASSERT_TRUE(resumed_status && WIFEXITED(*resumed_status)) << resumed_log;
  EXPECT_EQ(WEXITSTATUS(*resumed_status), 0) << resumed_log;
  EXPECT_NE(resumed_log.find("resumed"), std::string::npos) << resumed_log;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "long" / "bundle" / "weights.pt"));

}

// A SLURM job step of two nodes with two tasks each, the nodes being two loopback addresses (127.0.0.1 and 127.0.0.2:
// each task's Gloo connections use its node's address), every task started as srun starts it, with the step's
// variables only: four ranks with batch 4 train what one process with batch 16 trains. Then a long job loses its
// second node mid-epoch (both tasks killed): the first node's tasks end with a clear error, and the job resumes from
// the last checkpoint.
TEST_F(DistributedTraining, ASlurmStepOfTwoNodesByTwoTasksMatchesOneProcessAndResumesAfterANodeDies) {
  const std::string cli = FINFUSE_CLI;
  const auto srun = [&](const std::vector<std::string>& args, int job, const std::string& name) {
    std::vector<pid_t> tasks;
    for (int r = 0; r < 4; ++r) {
      std::map<std::string, std::string> env = threads_;
      env.insert({{"SLURM_JOB_ID", std::to_string(job)},
                  {"SLURM_STEP_NUM_TASKS", "4"},
                  {"SLURM_STEP_NODELIST", "127.0.0.[1-2]"},
                  {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
                  {"SLURM_PROCID", std::to_string(r)},
                  {"SLURM_LOCALID", std::to_string(r % 2)},
                  {"SLURM_NODEID", std::to_string(r / 2)}});
      tasks.push_back(spawn(args, env, dir_ / fmt::format("{}{}.log", name, r)));
    }
    return tasks;
  };
  const auto all_succeed = [&](const std::vector<pid_t>& tasks, const std::string& name) {
    for (std::size_t r = 0; r < tasks.size(); ++r) {
      const auto status = wait_for(tasks[r], 180);
      EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << "task " << r << "\n" << read_text(dir_ / fmt::format("{}{}.log", name, r));
    }
  };
  const int job = 1000 + ::getpid() % 15000;

  const auto one = spawn({cli, "train", "-c", config("one", 16, 3).string(), "-o", (dir_ / "one").string()}, threads_,
                         dir_ / "one.log");
  ASSERT_TRUE(wait_for(one, 120).value_or(-1) == 0) << read_text(dir_ / "one.log");
  all_succeed(srun({cli, "train", "-c", config("four", 4, 3).string(), "-o", (dir_ / "four").string()}, job, "four"),
              "four");
  ASSERT_FALSE(HasFailure());
  const auto first = read_text(dir_ / "four0.log");
  EXPECT_NE(first.find("rank 0 of 4 (local 0 of 2 on 127.0.0.1, from SLURM's variables)"), std::string::npos) << first;
  EXPECT_NE(first.find(fmt::format("rendezvous at 127.0.0.1:{}", 15000 + job)), std::string::npos) << first;
  const io::Predictor a(dir_ / "one" / "bundle");
  const io::Predictor b(dir_ / "four" / "bundle");
  for (const auto& p : a.model()->named_parameters()) {
    const auto other = b.model()->named_parameters()[p.key()];
    EXPECT_TRUE(torch::allclose(p.value(), other, 1e-4, 1e-5))
        << p.key() << ": largest difference " << (p.value() - other).abs().max().item<double>();
  }

  // The second node dies while the job trains.
  const auto cfg = config("long", 4, 100000, R"(, "checkpoint_every_steps": 5)");
  auto tasks = srun({cli, "train", "-c", cfg.string(), "-o", (dir_ / "long").string()}, job + 1, "long");
  const auto runs = dir_ / "long" / "runs" / "seed-3";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!Trainer::latest_checkpoint(runs) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool training = Trainer::latest_checkpoint(runs).has_value();
  if (training) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  // The second node's tasks use its own address: open TCP connections or listening sockets with 127.0.0.2 as the
  // local end (written 0200007F in /proc/net/tcp; state 01 established, 0A listening).
  std::size_t second_node_sockets = 0;
  {
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    while (std::getline(tcp, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      second_node_sockets += local.rfind("0200007F:", 0) == 0 && (state == "01" || state == "0A") ? 1 : 0;
    }
  }
  EXPECT_GT(second_node_sockets, 0u) << "no connection from 127.0.0.2";
  for (const int r : {2, 3}) {
    ::kill(tasks[static_cast<std::size_t>(r)], SIGKILL);
    wait_for(tasks[static_cast<std::size_t>(r)], 10);
  }
  for (const int r : {0, 1}) {
    const auto status = wait_for(tasks[static_cast<std::size_t>(r)], 90);
    if (!status) {
      ::kill(tasks[static_cast<std::size_t>(r)], SIGKILL);
      wait_for(tasks[static_cast<std::size_t>(r)], 10);
    }
    const auto log = read_text(dir_ / fmt::format("long{}.log", r));
    ASSERT_TRUE(training) << log;
    ASSERT_TRUE(status.has_value()) << "task " << r << " still running 90 s after the second node died\n" << log;
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << log;
    EXPECT_NE(log.find(fmt::format("error: distributed: rank {} of 4:", r)), std::string::npos) << log;
    EXPECT_NE(log.find("Another rank has died"), std::string::npos) << log;
  }
  const auto checkpoint = Trainer::latest_checkpoint(runs);
  ASSERT_TRUE(checkpoint.has_value());
  const int epoch = std::stoi(checkpoint->filename().string().substr(12, 3));  // checkpoint-eEEE-sSSSSSSSS.pt
  const auto resume_cfg = config("resume", 4, epoch + 2, R"(, "checkpoint_every_steps": 5)");
  all_succeed(srun({cli, "train", "-c", resume_cfg.string(), "-o", (dir_ / "long").string(), "--resume"}, job + 2,
                   "resumed"),
              "resumed");
  EXPECT_NE(read_text(dir_ / "resumed0.log").find("resumed"), std::string::npos) << read_text(dir_ / "resumed0.log");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "long" / "bundle" / "weights.pt"));
}

TEST_F(DistributedTraining, AMidEpochCheckpointOfTwoRanksIsNotResumedByOne) {
  const std::string cli = FINFUSE_CLI;
  const auto cfg = config("two", 8, 1, R"(, "checkpoint_every_steps": 4)");
  const auto two = spawn({cli, "launch", "--nproc", "2", "--", cli, "train", "-c", cfg.string(), "-o",
                          (dir_ / "run").string()},
                         threads_, dir_ / "two.log");
  const auto two_status = wait_for(two, 120);
  ASSERT_TRUE(two_status && WIFEXITED(*two_status) && WEXITSTATUS(*two_status) == 0) << read_text(dir_ / "two.log");
  // Keep only the checkpoint of step 12, inside the epoch's 15 steps per rank.
  const auto runs = dir_ / "run" / "runs" / "seed-3";
  bool kept = false;
  for (const auto& entry : std::filesystem::directory_iterator(runs)) {
    const auto file = entry.path().filename().string();
    if (file.rfind("checkpoint-", 0) == 0) {
      if (file == "checkpoint-e000-s00000012.pt") {
        kept = true;
      } else {
        std::filesystem::remove(entry.path());
      }
    }
  }
  ASSERT_TRUE(kept) << "no mid-epoch checkpoint at step 12";
  const auto one = spawn({cli, "train", "-c", config("one", 8, 2).string(), "-o", (dir_ / "run").string(), "--resume"},
                         threads_, dir_ / "one.log");
  const auto one_status = wait_for(one, 120);
  const auto log = read_text(dir_ / "one.log");
  ASSERT_TRUE(one_status && WIFEXITED(*one_status)) << log;
  EXPECT_EQ(WEXITSTATUS(*one_status), 1) << log;
  EXPECT_NE(log.find("by a job of 2 rank(s); resume it with 2 rank(s)"), std::string::npos) << log;
}

TEST_F(DistributedTraining, TheLauncherEndsTheJobWithTheFirstFailure) {
  const std::string cli = FINFUSE_CLI;
  // Rank 1 fails at once; rank 0 would sleep for a minute: the launcher terminates it after the grace period.
  const auto start = std::chrono::steady_clock::now();
  const auto pid = spawn({cli, "launch", "--nproc", "2", "--grace", "1", "--", "/bin/sh", "-c",
                          "if [ \"$RANK\" = 1 ]; then exit 3; fi; sleep 60"},
                         threads_, dir_ / "launch.log");
  const auto status = wait_for(pid, 30);
  ASSERT_TRUE(status.has_value()) << read_text(dir_ / "launch.log");
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3) << read_text(dir_ / "launch.log");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
  const auto log = read_text(dir_ / "launch.log");
  EXPECT_NE(log.find("rank 1 exited with code 3"), std::string::npos) << log;
  EXPECT_NE(log.find("terminating them"), std::string::npos) << log;
  // Every rank sees the torchrun variables.
  const auto env_pid = spawn({cli, "launch", "--nproc", "2", "--master-port", "29999", "--", "/bin/sh", "-c",
                              "echo rank=$RANK/$WORLD_SIZE local=$LOCAL_RANK/$LOCAL_WORLD_SIZE at=$MASTER_ADDR:$MASTER_PORT"},
                             threads_, dir_ / "env.log");
  const auto env_status = wait_for(env_pid, 30);
  ASSERT_TRUE(env_status && WIFEXITED(*env_status) && WEXITSTATUS(*env_status) == 0);
  const auto printed = read_text(dir_ / "env.log");
  EXPECT_NE(printed.find("rank=0/2 local=0/2 at=127.0.0.1:29999"), std::string::npos) << printed;
  EXPECT_NE(printed.find("rank=1/2 local=1/2 at=127.0.0.1:29999"), std::string::npos) << printed;
}

#endif  // FINFUSE_CLI

}  // namespace
}  // namespace finfuse::training
