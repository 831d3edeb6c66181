#include "finfuse/training/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace finfuse::training {

double seconds_left(const ProgressSnapshot& s) {
  if (s.batch <= 0 || s.batches <= 0 || s.epoch_seconds <= 0.0) {
    return -1.0;
  }
  const double per_batch = s.epoch_seconds / static_cast<double>(s.batch);
  const double rest_of_epoch = per_batch * static_cast<double>(std::max<std::int64_t>(0, s.batches - s.batch));
  const double epoch_length = s.mean_epoch_seconds > 0.0 ? s.mean_epoch_seconds
                                                          : per_batch * static_cast<double>(s.batches);
  const auto later_epochs = std::max<std::int64_t>(0, s.epochs - s.epoch - 1);
  return rest_of_epoch + epoch_length * static_cast<double>(later_epochs);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) {
    return "?";
  }
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  if (total < 60) {
    return fmt::format("{}s", total);
  }
  if (total < 3600) {
    return fmt::format("{}m{:02}s", total / 60, total % 60);
  }
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

std::string progress_bar_line(const ProgressSnapshot& s, int width) {
  const double done = s.batches > 0 ? std::clamp(static_cast<double>(s.batch) / static_cast<double>(s.batches), 0.0, 1.0)
                                    : 0.0;
  const int filled = static_cast<int>(done * width);
  return fmt::format("epoch {}/{} [{}{}] {}/{} loss {:.4f} lr {:.2e} {:.0f} samples/s {} left", s.epoch + 1, s.epochs,
                     std::string(static_cast<std::size_t>(filled), '#'),
                     std::string(static_cast<std::size_t>(width - filled), '.'), s.batch, s.batches, s.loss, s.lr,
                     s.samples_per_second, format_duration(seconds_left(s)));
}

std::string progress_log_line(const ProgressSnapshot& s) {
  return fmt::format("epoch {}/{} batch {}/{} step {}: loss {:.4f}, lr {:.2e}, {:.0f} samples/s, {} left", s.epoch + 1,
                     s.epochs, s.batch, s.batches, s.step, s.loss, s.lr, s.samples_per_second,
                     format_duration(seconds_left(s)));
}

}  // namespace finfuse::training
