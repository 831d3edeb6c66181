// TensorBoard event files, written without TensorFlow: records framed as TFRecords (length, masked CRC-32C, payload,
// masked CRC-32C) holding Event protocol buffers, encoded here by hand (the few fields used are fixed by TensorBoard's
// event.proto, summary.proto and the HParams plugin's api.proto / plugin_data.proto). Scalars are written as
// Summary.Value.simple_value (float32, as TensorBoard keeps them); the HParams plugin gets the experiment (its
// hyper-parameters and metrics) and each run's session start (its hyper-parameter values) and end.
//
//   TensorBoardWriter writer("runs/tb/seed-1");
//   writer.add_scalar("epoch/valid.mcc", 0.052, 3);
//   writer.flush();
//
// A run's trainer writes through the "tensorboard" callback (TrainerOptions::tensorboard, "tracking": {"tensorboard":
// DIR} in a run configuration, `finfuse train --tensorboard DIR`); `tensorboard --logdir DIR` shows it.
#pragma once

#include "finfuse/core/config.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::training {

/// CRC-32C (Castagnoli) of `size` bytes, as TFRecord framing uses it (before masking).
std::uint32_t crc32c(const void* data, std::size_t size);

/// A hyper-parameter of an HParams experiment: its name and its values' type ("number", "string" or "bool").
struct HParamInfo {
  std::string name;
  std::string type;
};

class TensorBoardWriter {
 public:
  /// Creates `dir` and a new event file in it (events.out.tfevents.<seconds>.<host>.<pid>.<n>), starting with the
  /// file-version event. IoError naming the file when it cannot be written.
  explicit TensorBoardWriter(const std::filesystem::path& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  /// A scalar at `step` (simple_value: stored as float32). `wall_time` in seconds since the epoch (default: now).
  void add_scalar(const std::string& tag, double value, std::int64_t step, std::optional<double> wall_time = {});
  /// The HParams experiment: its hyper-parameters and the scalar tags that are its metrics (at the log folder's root).
  void add_hparams_experiment(const std::vector<HParamInfo>& hparams, const std::vector<std::string>& metrics);
  /// A run's hyper-parameter values (numbers, strings or booleans; other JSON is written as its text) and group.
  void add_session_start(const std::map<std::string, Json>& hparams, const std::string& group);
  /// The end of the run's session: success or failure.
  void add_session_end(bool success);
  /// Writes what is buffered to the file.
  void flush();

  const std::filesystem::path& file() const { return file_; }
  /// Records written so far (the file-version event included).
  std::int64_t records() const { return records_; }

 private:
  void write_event(const std::string& event);
  void add_hparams(const std::string& tag, const std::string& plugin_data);

  std::filesystem::path file_;
  std::FILE* out_ = nullptr;
  std::string buffer_;
  std::int64_t records_ = 0;
};

/// The hyper-parameters of a run as HParams shows them: every number, string and boolean of `config` (nested objects
/// flattened with "/": "training/optimizer/lr"), lists as their JSON text.
std::map<std::string, Json> flatten_hparams(const Json& config, const std::string& prefix = "");

/// One finished run as the HParams dashboard shows it: its hyper-parameters and final values at its best epoch.
struct HParamsRun {
  std::map<std::string, Json> hparams;
  std::map<std::string, double> valid;
  std::map<std::string, double> test;
  std::int64_t step = 0;
};

/// Writes one finished run into `dir`: its session start (hyper-parameters), its final values as scalars
/// "final/valid.<name>" and "final/test.<name>" at `run.step`, and the session end.
void write_hparams_run(const std::filesystem::path& dir, const HParamsRun& run);

/// Writes `dir`'s HParams experiment for the runs in its sub-folders: the union of their hyper-parameters, typed by
/// their values, and of their final values as metrics.
void write_hparams_experiment(const std::filesystem::path& dir, const std::vector<HParamsRun>& runs);

}  // namespace finfuse::training
