// Stopping on SIGTERM and SIGINT: the trainer stops after the step in which the signal came, writes its checkpoint
// there, and a resumed run ends exactly where an uninterrupted one does; a second signal ends the process at once; the
// handlers that were there before come back.
#include "finfuse/training/stop_signal.h"

#include "finfuse/core/random.h"
#include "finfuse/training/callback.h"
#include "finfuse/training/trainer.h"
#include "support/credit_dataset.h"

#include <gtest/gtest.h>
#include <torch/types.h>

#include <signal.h>

namespace finfuse::training {
namespace {

class StopSignalTest : public finfuse::testing::CreditDatasetTest {
 protected:
  StopSignalTest() : CreditDatasetTest("finfuse_stop_signal", 23) {}

  models::MultimodalModel model(std::uint64_t seed) const {
    seed_everything(seed);
    return models::MultimodalModel(
        Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {16}}, {"dropout", 0.2}}}}},
                    {"heads", {{"default", {{"type", "classification"}}}}}}),
        models::modality_specs(*dataset_), label_context(*dataset_, train_));
  }

  TrainerOptions options(const std::string& folder) const {
    auto o = TrainerOptions::from_config(Config(Json::parse(
        R"({"epochs": 3, "batch_size": 32, "optimizer": {"type": "adamw", "lr": 0.01}, "progress": "none"})")));
    o.out_dir((dir_ / folder).string());
    return o;
  }
};

// Sends `signal` to the process after the given optimisation step, as a scheduler would.
class RaiseAfter : public Callback {
 public:
  RaiseAfter(std::int64_t step, int signal) : step_(step), signal_(signal) {}
  std::string name() const override { return "raise_after"; }
  void on_step_end(Trainer& t) override {
    if (t.state().step == step_) {
      ::raise(signal_);
    }
  }

 private:
  std::int64_t step_;
  int signal_;
};

TEST_F(StopSignalTest, SigtermStopsAfterTheStepWithACheckpointAndTheResumedRunMatches) {
  const auto whole_options = options("whole");
  Trainer whole(whole_options, model(3), dataset_, train_, valid_);
  const auto expected = whole.fit();
  EXPECT_EQ(expected.signal, 0);

  const auto o = options("stopped");
  {
    StopOnSignal stop_on_signal;
    Trainer first(o, model(3), dataset_, train_, valid_);
    first.add_callback(std::make_shared<RaiseAfter>(14, SIGTERM));  // inside the second epoch (10 steps an epoch)
    const auto stopped = first.fit();
    EXPECT_EQ(stopped.signal, SIGTERM);
    EXPECT_TRUE(stopped.stopped_early);
    EXPECT_EQ(stopped.stop_reason, "stopped by SIGTERM at epoch 2, step 14");
    EXPECT_EQ(stopped.step_losses.size(), 14U);
    EXPECT_EQ(stop_signal(), SIGTERM);
    const auto checkpoint = Trainer::latest_checkpoint(o.out_dir());
    ASSERT_TRUE(checkpoint.has_value());
    EXPECT_EQ(checkpoint->filename().string(), "checkpoint-e001-s00000014.pt");
  }
  EXPECT_EQ(stop_signal(), 0) << "forgotten with the handler";
  StopOnSignal fresh;  // as in a new process
  EXPECT_EQ(stop_signal(), 0);
  Trainer second(o, model(77), dataset_, train_, valid_);
  seed_everything(999);
  ASSERT_TRUE(second.resume(o.out_dir()));
  const auto resumed = second.fit();
  EXPECT_EQ(resumed.signal, 0);
  ASSERT_EQ(resumed.step_losses.size(), expected.step_losses.size());
  for (std::size_t i = 0; i < expected.step_losses.size(); ++i) {
    EXPECT_EQ(resumed.step_losses[i], expected.step_losses[i]) << "step " << i + 1;
  }
  const auto b = second.model()->named_parameters();
  for (const auto& p : whole.model()->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  }
}

TEST_F(StopSignalTest, SigintAtTheLastStepOfAnEpochStopsAfterItsValidation) {
  StopOnSignal stop_on_signal;
  const auto o = options("epoch_end");
  Trainer trainer(o, model(4), dataset_, train_, valid_);
  trainer.add_callback(std::make_shared<RaiseAfter>(10, SIGINT));  // the first epoch's last step
  const auto result = trainer.fit();
  EXPECT_EQ(result.signal, SIGINT);
  ASSERT_EQ(result.history.size(), 1U) << "the epoch is finished and validated";
  EXPECT_EQ(trainer.state().epoch, 1);
  EXPECT_EQ(trainer.state().batch, 0);
  const auto checkpoint = Trainer::latest_checkpoint(o.out_dir());
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ(checkpoint->filename().string(), "checkpoint-e001-s00000010.pt");
}

TEST_F(StopSignalTest, WithoutTheHandlerASignalTheProcessIgnoresChangesNothing) {
  // No StopOnSignal: a signal the process ignores leaves the run alone (the flag is only set by the handler).
  struct sigaction ignore {}, previous{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGTERM, &ignore, &previous);
  Trainer trainer(options("ignored"), model(5), dataset_, train_, valid_);
  trainer.add_callback(std::make_shared<RaiseAfter>(3, SIGTERM));
  const auto result = trainer.fit();
  ::sigaction(SIGTERM, &previous, nullptr);
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(result.history.size(), 3U);
}

TEST(StopOnSignal, ASecondSignalEndsTheProcessAtOnce) {
  EXPECT_EXIT(
      {
        StopOnSignal stop_on_signal;
        ::raise(SIGTERM);
        if (stop_signal() != SIGTERM) {
          std::_Exit(3);
        }
        ::raise(SIGTERM);
        std::_Exit(0);  // not reached
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

TEST(StopOnSignal, PutsBackThePreviousHandlers) {
  struct sigaction before {};
  ::sigaction(SIGINT, nullptr, &before);
  {
    StopOnSignal outer;
    {
      StopOnSignal inner;  // nested: the outer one's handlers stay
    }
    struct sigaction during {};
    ::sigaction(SIGINT, nullptr, &during);
    EXPECT_NE(during.sa_handler, before.sa_handler);
  }
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(StoppedBySignal, NamesTheCheckpointToResumeFrom) {
  const StoppedBySignal with(SIGTERM, "stopped by SIGTERM at epoch 2, step 14", "/runs/checkpoint-e001-s00000014.pt");
  EXPECT_EQ(with.signal(), SIGTERM);
  EXPECT_STREQ(with.what(), "stopped by SIGTERM at epoch 2, step 14; the checkpoint to resume from is "
                            "/runs/checkpoint-e001-s00000014.pt");
  const StoppedBySignal without(SIGINT, "stopped by SIGINT at epoch 1, step 0", "");
  EXPECT_NE(std::string(without.what()).find("no checkpoint was written"), std::string::npos);
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGHUP), "signal 1");
}

}  // namespace
}  // namespace finfuse::training
