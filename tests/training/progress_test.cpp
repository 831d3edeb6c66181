// The progress display: time left by hand, and the two ways it is written (a bar on a terminal, log lines otherwise).
#include "finfuse/training/progress.h"

#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/training/trainer.h"
#include "support/credit_dataset.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>

#include <unistd.h>

namespace finfuse::training {
namespace {

TEST(Progress, TimeLeftAndDurationsByHand) {
  ProgressSnapshot s;
  s.epoch = 1;  // the second of three
  s.epochs = 3;
  s.batch = 25;
  s.batches = 100;
  s.epoch_seconds = 10.0;  // 0.4 s a batch: 75 batches left = 30 s
  s.mean_epoch_seconds = 50.0;  // one later epoch at the finished ones' mean
  EXPECT_DOUBLE_EQ(seconds_left(s), 80.0);
  s.mean_epoch_seconds = 0.0;  // none finished yet: this epoch's projected 40 s
  EXPECT_DOUBLE_EQ(seconds_left(s), 70.0);
  s.epoch = 2;
  EXPECT_DOUBLE_EQ(seconds_left(s), 30.0);
  s.batch = 0;
  EXPECT_LT(seconds_left(s), 0.0);
  EXPECT_EQ(format_duration(seconds_left(s)), "?");
  EXPECT_EQ(format_duration(0.4), "0s");
  EXPECT_EQ(format_duration(59.6), "1m00s");
  EXPECT_EQ(format_duration(245.0), "4m05s");
  EXPECT_EQ(format_duration(3725.0), "1h02m");

  s = ProgressSnapshot{};
  s.epoch = 1;
  s.epochs = 3;
  s.batch = 25;
  s.batches = 100;
  s.step = 125;
  s.loss = 0.69314;
  s.lr = 1e-3;
  s.samples_per_second = 64.2;
  s.epoch_seconds = 10.0;
  s.mean_epoch_seconds = 50.0;
  EXPECT_EQ(progress_bar_line(s, 8), "epoch 2/3 [##......] 25/100 loss 0.6931 lr 1.00e-03 64 samples/s 1m20s left");
  EXPECT_EQ(progress_log_line(s),
            "epoch 2/3 batch 25/100 step 125: loss 0.6931, lr 1.00e-03, 64 samples/s, 1m20s left");
}

class ProgressDisplay : public finfuse::testing::CreditDatasetTest {
 protected:
  ProgressDisplay() : CreditDatasetTest("finfuse_progress", 5) {}

  // Trains two short epochs with the given "progress" mode; returns what went to standard error and to the log.
  std::pair<std::string, std::string> train(const std::string& mode) {
    seed_everything(3);
    models::MultimodalModel model(
        Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {8}}}}}},
                    {"heads", {{"default", {{"type", "classification"}}}}}}),
        models::modality_specs(*dataset_), label_context(*dataset_, train_));
    const auto options = TrainerOptions::from_config(Config(Json{
        {"epochs", 2}, {"batch_size", 50}, {"progress", mode}, {"log_every", 2}, {"metrics", {"accuracy"}}}));
    const auto previous = logger();
    std::ostringstream log;
    set_logger(std::make_shared<spdlog::logger>("finfuse", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
    ::testing::internal::CaptureStderr();
    Trainer trainer(options, model, dataset_, train_, valid_);
    trainer.fit();
    const auto err = ::testing::internal::GetCapturedStderr();
    logger()->flush();
    set_logger(previous);
    return {err, log.str()};
  }
};

TEST_F(ProgressDisplay, ABarOnATerminalLogLinesOtherwise) {
  // "bar": redrawn in place on standard error, with the time left; the epochs' summaries still go to the log.
  const auto [bar_err, bar_log] = train("bar");
  EXPECT_NE(bar_err.find("\repoch 1/2 ["), std::string::npos) << bar_err;
  EXPECT_NE(bar_err.find("\repoch 2/2 [##############################] 6/6 loss "), std::string::npos) << bar_err;
  EXPECT_NE(bar_err.find(" left"), std::string::npos) << bar_err;
  EXPECT_EQ(bar_log.find("batch 2/6"), std::string::npos) << bar_log;
  EXPECT_NE(bar_log.find("epoch 2/2: "), std::string::npos) << bar_log;

  // "log": a plain line every log_every steps, no carriage returns anywhere.
  const auto [log_err, log_log] = train("log");
  EXPECT_EQ(log_err.find('\r'), std::string::npos) << log_err;
  EXPECT_NE(log_log.find("epoch 1/2 batch 2/6 step 2: loss "), std::string::npos) << log_log;
  EXPECT_NE(log_log.find("epoch 2/2 batch 6/6 step 12: loss "), std::string::npos) << log_log;
  EXPECT_NE(log_log.find(" left"), std::string::npos) << log_log;
  EXPECT_EQ(log_log.find('\r'), std::string::npos);

  // "auto" follows whether standard error is a terminal; under ctest it is not: log lines.
  const auto [auto_err, auto_log] = train("auto");
  if (::isatty(STDERR_FILENO) == 0) {
    EXPECT_EQ(auto_err.find('\r'), std::string::npos) << auto_err;
    EXPECT_NE(auto_log.find("epoch 1/2 batch 2/6 step 2"), std::string::npos) << auto_log;
  }

  const auto [none_err, none_log] = train("none");
  EXPECT_EQ(none_err.find("epoch"), std::string::npos);
  EXPECT_EQ(none_log.find("epoch 1/2"), std::string::npos) << none_log;
}

}  // namespace
}  // namespace finfuse::training
