// What the training progress display shows at a step, and the two ways it is written: a bar redrawn in place when
// standard error is a terminal, log lines otherwise (TrainerOptions::progress: "auto", "bar", "log" or "none").
//
//   epoch 2/3 [#######.......................] 25/100 loss 0.6931 lr 1.00e-03 64 samples/s 1m20s left
//   [info] epoch 2/3 batch 25/100 step 125: loss 0.6931, lr 1.00e-03, 64 samples/s, 1m20s left
#pragma once

#include <cstdint>
#include <string>

namespace finfuse::training {

struct ProgressSnapshot {
  /// The current epoch, from 0, and how many the run has.
  std::int64_t epoch = 0;
  std::int64_t epochs = 0;
  /// Batches done in this epoch, and how many it has.
  std::int64_t batch = 0;
  std::int64_t batches = 0;
  std::int64_t step = 0;
  double loss = 0.0;
  double lr = 0.0;
  double samples_per_second = 0.0;
  /// Seconds since this epoch's first batch.
  double epoch_seconds = 0.0;
  /// The mean length of the finished epochs, validation included (0: none has finished).
  double mean_epoch_seconds = 0.0;
};

/// The rest of this epoch at its pace so far, plus the epochs after it at the mean length of the finished ones (or at
/// this epoch's projected length before one has finished). Negative when nothing is known yet (no batch timed).
double seconds_left(const ProgressSnapshot& s);

/// "12s", "4m05s", "1h02m"; "?" for a negative or non-finite duration.
std::string format_duration(double seconds);

/// The terminal line (without the leading carriage return): epoch, a bar of `width` cells, batches, loss, learning
/// rate, throughput and time left.
std::string progress_bar_line(const ProgressSnapshot& s, int width = 30);

/// The log line: the same figures as words.
std::string progress_log_line(const ProgressSnapshot& s);

}  // namespace finfuse::training
