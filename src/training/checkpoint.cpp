// Checkpoints: sealed LibTorch archives of the model, the optimizer, the schedule, the random generators and the run's
// position, written atomically, pruned to the newest few, and read back so a resumed run continues exactly.
#include "finfuse/training/trainer.h"

#include "archive.h"
#include "mixed_precision.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/io/format_version.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/version.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <sstream>

namespace finfuse::training {
namespace {

const std::regex& checkpoint_name() {
  static const std::regex pattern(R"(checkpoint-e(\d+)-s(\d+)\.pt)");
  return pattern;
}

// Checkpoints in a folder, newest (highest step) first.
std::vector<std::filesystem::path> checkpoints_in(const std::filesystem::path& dir) {
  std::vector<std::pair<std::int64_t, std::filesystem::path>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, checkpoint_name())) {
      found.emplace_back(std::stoll(m[2].str()), entry.path());
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::filesystem::path> out;
  for (auto& f : found) {
    out.push_back(std::move(f.second));
  }
  return out;
}


// LibTorch archives (checkpoints, best.pt) are written sealed (archive.h), and verified before LibTorch's reader sees
// them: a truncated or damaged file is an error naming it, never a crash inside the reader.
void load_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& path,
                  const c10::optional<c10::Device>& device = c10::nullopt) {
  std::istringstream bytes(read_sealed_file(path, "a checkpoint", /*accept_unsealed=*/false));
  try {
    archive.load_from(bytes, device);
  } catch (const c10::Error& e) {
    throw IoError(path.string(), fmt::format("not a readable checkpoint: {}", e.what_without_backtrace()));
  }
}


}  // namespace

void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& path) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_sealed_file(path, bytes.str());
}

void Trainer::save_best_weights() {
  capture_weights();
  if (!options_.out_dir().empty() && is_main()) {
    std::filesystem::create_directories(options_.out_dir());
    torch::serialize::OutputArchive archive;
    model_->save(archive);
    save_archive(archive, std::filesystem::path(options_.out_dir()) / "best.pt");
  }
}

std::filesystem::path Trainer::save_checkpoint() {
  FINFUSE_CHECK(!options_.out_dir().empty(), "trainer: no out_dir to write checkpoints to");
  const std::filesystem::path dir(options_.out_dir());
  const auto path = dir / fmt::format("checkpoint-e{:03}-s{:08}.pt", state_.epoch, state_.step);
  // The running epoch's sums are per rank; the checkpoint keeps the job's (rank 0 takes them back on resume).
  double epoch_loss_sum = state_.epoch_loss_sum;
  auto epoch_samples = state_.epoch_samples;
  auto epoch_head_loss_sums = state_.epoch_head_loss_sums;
  auto epoch_term_sums = state_.epoch_term_sums;
  if (distributed()) {
    epoch_loss_sum = sync_->sum(epoch_loss_sum);
    epoch_samples = static_cast<std::int64_t>(std::llround(sync_->sum(static_cast<double>(epoch_samples))));
    for (auto& [head, sum] : epoch_head_loss_sums) {
      sum = sync_->sum(sum);
    }
    for (auto& [term, sum] : epoch_term_sums) {
      sum = sync_->sum(sum);
    }
  }
  if (!is_main()) {
    return path;
  }
  std::filesystem::create_directories(dir);
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model_->save(model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer_->save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng_cpu", generator.get_state());
  }
  Json callbacks = Json::object();
  for (const auto& c : callbacks_) {
    callbacks[c->name()] = c->state();
  }
  Json history = Json::array();
  for (const auto& r : state_.history) {
    history.push_back(r.to_json());
  }
  Json head_sums = Json::object();
  for (const auto& [k, v] : epoch_head_loss_sums) {
    head_sums[k] = v;
  }
  const Json state{{"format", io::kCheckpointFormat.tag()},
                   {"finfuse_version", version()},
                   {"model", model_->config_json()},
                   {"trainer", options_.to_json()},
                   {"epoch", state_.epoch},
                   {"batch", state_.batch},
                   {"step", state_.step},
                   {"samples", state_.samples},
                   {"last_loss", state_.last_loss},
                   {"epoch_loss_sum", epoch_loss_sum},
                   {"epoch_samples", epoch_samples},
                   {"world_size", sync_ ? sync_->world_size() : 1},
                   {"epoch_head_loss_sums", head_sums},
                   {"epoch_term_sums", Json(epoch_term_sums)},
                   {"epoch_seconds", state_.epoch_seconds},
                   {"history", history},
                   {"step_losses", state_.step_losses},
                   {"best_epoch", state_.best_epoch},
                   {"best_value", state_.best_value},
                   {"loss_scale", state_.loss_scale},
                   {"good_steps", state_.good_steps},
                   {"scheduler", scheduler_->state()},
                   {"callbacks", callbacks}};
  archive.write("state", c10::IValue(state.dump()));
  save_archive(archive, path);
  // Keep the newest few.
  const auto all = checkpoints_in(dir);
  for (std::size_t i = static_cast<std::size_t>(options_.keep_checkpoints()); i < all.size(); ++i) {
    if (all[i] != path) {
      std::error_code ignored;
      std::filesystem::remove(all[i], ignored);
    }
  }
  logger()->debug("trainer: checkpoint {}", path.string());
  return path;
}

std::optional<std::filesystem::path> Trainer::latest_checkpoint(const std::filesystem::path& dir) {
  for (const auto& path : checkpoints_in(dir)) {
    try {
      torch::serialize::InputArchive archive;
      load_archive(archive, path);
      c10::IValue state;
      if (archive.try_read("state", state) && state.isString()) {
        return path;
      }
    } catch (const std::exception& e) {
      logger()->warn("trainer: checkpoint {} is damaged and is skipped ({})", path.string(), e.what());
    }
  }
  return std::nullopt;
}

bool Trainer::resume(const std::filesystem::path& path) {
  std::optional<std::filesystem::path> file;
  if (std::filesystem::is_directory(path)) {
    file = latest_checkpoint(path);
    if (!file) {
      return false;
    }
  } else if (std::filesystem::exists(path)) {
    file = path;
  } else {
    throw IoError(path.string(), "no such checkpoint file or folder");
  }
  try {
    load_checkpoint(*file);
  } catch (const Error&) {
    throw;
  } catch (const Json::exception& e) {
    throw IoError(file->string(), fmt::format("damaged checkpoint: its state record is not what finfuse writes ({})",
                                              e.what()));
  } catch (const c10::Error& e) {
    throw IoError(file->string(), fmt::format("damaged checkpoint: {}", e.what_without_backtrace()));
  }
  return true;
}

void Trainer::load_checkpoint(const std::filesystem::path& file) {
  torch::serialize::InputArchive archive;
  load_archive(archive, file, device_);
  c10::IValue state_value;
  if (!archive.try_read("state", state_value) || !state_value.isString()) {
    throw IoError(file.string(), "not a finfuse checkpoint (no state record)");
  }
  const Json state = Json::parse(state_value.toStringRef());
  io::kCheckpointFormat.check(state.value("format", std::string("?")), file.string(), "format",
                              state.value("finfuse_version", std::string()));
  // Checkpoints written before models recorded "modality_order" fused their modalities in the order of "encoders".
  Json saved_model = state.at("model");
  if (saved_model.is_object() && !saved_model.contains("modality_order") && saved_model.contains("encoders")) {
    Json order = Json::array();
    for (const auto& item : saved_model.at("encoders").items()) {
      order.push_back(item.key());
    }
    saved_model["modality_order"] = std::move(order);
  }
  if (saved_model != model_->config_json()) {
    throw TrainingError(fmt::format("checkpoint {} was written by a different model; this run's model is\n{}\nthe "
                                    "checkpoint's\n{}",
                                    file.string(), model_->config_json().dump(), saved_model.dump()));
  }
  // Mid-epoch, the position in the epoch counts each rank's own batches: only the same number of ranks continues
  // with the same samples.
  const std::int64_t world = sync_ ? sync_->world_size() : 1;
  const std::int64_t written_by = state.value("world_size", std::int64_t{1});
  if (written_by != world && state.at("batch").get<std::int64_t>() > 0) {
    throw TrainingError(fmt::format("checkpoint {} was written in the middle of epoch {} by a job of {} rank(s); resume "
                                    "it with {} rank(s), or from a checkpoint written at the end of an epoch",
                                    file.string(), state.at("epoch").get<std::int64_t>() + 1, written_by, written_by));
  }
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  model_->load(model_archive);
  model_->to(device_);
  torch::serialize::InputArchive optimizer_archive;
  archive.read("optimizer", optimizer_archive);
  load_optimizer_state(*optimizer_, optimizer_archive);
  {
    torch::Tensor rng;
    archive.read("rng_cpu", rng);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  }
  state_ = TrainingState();
  state_.epoch = state.at("epoch").get<std::int64_t>();
  state_.batch = state.at("batch").get<std::int64_t>();
  state_.step = state.at("step").get<std::int64_t>();
  state_.samples = state.at("samples").get<std::int64_t>();
  state_.last_loss = state.at("last_loss").get<double>();
  state_.epoch_loss_sum = state.at("epoch_loss_sum").get<double>();
  state_.epoch_samples = state.at("epoch_samples").get<std::int64_t>();
  for (const auto& [k, v] : state.at("epoch_head_loss_sums").items()) {
    state_.epoch_head_loss_sums[k] = v.get<double>();
  }
  const Json term_sums = state.value("epoch_term_sums", Json::object());  // absent before adversarial terms
  for (const auto& [k, v] : term_sums.items()) {
    state_.epoch_term_sums[k] = v.get<double>();
  }
  state_.epoch_seconds = state.at("epoch_seconds").get<double>();
  if (!is_main()) {
    // The job's sums so far are rank 0's to carry.
    state_.epoch_loss_sum = 0.0;
    state_.epoch_samples = 0;
    for (auto& [head, sum] : state_.epoch_head_loss_sums) {
      sum = 0.0;
    }
    for (auto& [term, sum] : state_.epoch_term_sums) {
      sum = 0.0;
    }
  }
  for (const auto& r : state.at("history")) {
    EpochRecord record;
    record.epoch = r.at("epoch").get<std::int64_t>() - 1;
    for (const auto& [k, v] : r.at("values").items()) {
      record.values[k] = v.is_null() ? std::nan("") : v.get<double>();
    }
    state_.history.push_back(record);
  }
  state_.step_losses = state.at("step_losses").get<std::vector<double>>();
  state_.best_epoch = state.at("best_epoch").get<std::int64_t>();
  state_.best_value = state.at("best_value").get<double>();
  state_.loss_scale = state.at("loss_scale").get<double>();
  state_.good_steps = state.at("good_steps").get<std::int64_t>();
  scheduler_->load_state(state.at("scheduler"));
  const auto& callbacks = state.at("callbacks");
  for (auto& c : callbacks_) {
    if (callbacks.contains(c->name())) {
      c->load_state(callbacks.at(c->name()));
    }
  }
  // The best epoch's weights come from best.pt; then the checkpoint's weights are loaded again.
  best_weights_.clear();
  const auto best = std::filesystem::path(options_.out_dir()) / "best.pt";
  if (state_.best_epoch >= 0 && !options_.out_dir().empty() && std::filesystem::exists(best)) {
    torch::serialize::InputArchive best_archive;
    load_archive(best_archive, best, device_);
    model_->load(best_archive);
    capture_weights();
    torch::serialize::InputArchive again;
    archive.read("model", again);
    model_->load(again);
    model_->to(device_);
  }
  logger()->info("trainer: resumed from {} (epoch {}, batch {}, step {})", file.string(), state_.epoch + 1,
                 state_.batch, state_.step);
}

}  // namespace finfuse::training
