// Hyper-parameter search: the search space, the trials it draws, successive halving with resumable progress, and the
// trainer as the default trial runner.
#include "finfuse/training/tuner.h"

#include "finfuse/core/check.h"
#include "finfuse/core/device.h"
#include "finfuse/core/digest.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/evaluation/report.h"
#include "finfuse/training/callback.h"
#include "finfuse/training/experiment.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/stop_signal.h"
#include "finfuse/training/trainer.h"

#include <ATen/Functions.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>

namespace finfuse::training {

// ------------------------------------------------------------------------------------------------- search space

namespace {

SearchParameter read_parameter(const Config& spec, const std::string& pointer) {
  if (pointer.empty() || pointer.front() != '/') {
    spec.fail(fmt::format("'{}' is not a JSON pointer (RFC 6901: \"/training/optimizer/lr\")", pointer));
  }
  if (!spec.is_object()) {
    spec.fail("expected {\"values\": [...]} or {\"low\", \"high\"[, \"scale\"][, \"integer\"]}");
  }
  SearchParameter p;
  p.pointer = pointer;
  if (spec.contains("values")) {
    p.values = spec.get<std::vector<Json>>("values");
    if (p.values.empty()) {
      spec.fail_at("values", "must list at least one value");
    }
  } else {
    p.low = spec.get<double>("low");
    p.high = spec.get<double>("high");
    const auto scale = spec.get<std::string>("scale", "linear");
    if (scale != "linear" && scale != "log") {
      spec.fail_at("scale", fmt::format("expected \"linear\" or \"log\", got \"{}\"", scale));
    }
    p.log = scale == "log";
    p.integer = spec.get<bool>("integer", false);
    if (!std::isfinite(p.low) || !std::isfinite(p.high) || !(p.low < p.high)) {
      spec.fail_at("high", fmt::format("expected low < high, both finite, got [{}, {}]", p.low, p.high));
    }
    if (p.log && p.low <= 0) {
      spec.fail_at("low", fmt::format("a log scale needs low > 0, got {}", p.low));
    }
    if (p.integer && std::ceil(p.low) > std::floor(p.high)) {
      spec.fail_at("high", fmt::format("no integer lies in [{}, {}]", p.low, p.high));
    }
  }
  spec.reject_unknown_keys();
  return p;
}

std::vector<SearchParameter> read_parameters(const Config& config) {
  const Config parameters = config.child("parameters");
  if (!parameters.is_object() || parameters.size() == 0) {
    parameters.fail("must map at least one JSON pointer to its values or range");
  }
  std::vector<SearchParameter> out;
  for (const auto& pointer : parameters.keys()) {
    out.push_back(read_parameter(parameters.child(pointer), pointer));
  }
  return out;
}

}  // namespace

void TuneOptions::validate(const Config& config) const { read_parameters(config); }

Json SearchParameter::at(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  if (is_choice()) {
    const auto n = values.size();
    return values[std::min(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)))];
  }
  // The ends exactly, whatever the logarithms round to.
  const double x = u <= 0.0   ? low
                   : u >= 1.0 ? high
                   : log      ? std::exp(std::log(low) + u * (std::log(high) - std::log(low)))
                              : low + u * (high - low);
  if (integer) {
    return static_cast<std::int64_t>(std::clamp(std::round(x), std::ceil(low), std::floor(high)));
  }
  return std::clamp(x, low, high);
}

std::vector<Json> SearchParameter::grid(std::int64_t points) const {
  if (is_choice()) {
    return values;
  }
  std::vector<Json> out;
  for (std::int64_t k = 0; k < points; ++k) {
    const auto value = at(static_cast<double>(k) / static_cast<double>(points - 1));
    if (std::find(out.begin(), out.end(), value) == out.end()) {
      out.push_back(value);
    }
  }
  return out;
}

SearchSpace::SearchSpace(const TuneOptions& options)
    : options_(options), parameters_(read_parameters(Config(Json{{"parameters", options.parameters()}}, "search"))) {}

std::vector<Json> SearchSpace::assignments() const {
  const auto dims = parameters_.size();
  std::vector<Json> out;
  if (options_.search() == "grid") {
    std::vector<std::vector<Json>> axes;
    std::size_t total = 1;
    for (const auto& p : parameters_) {
      axes.push_back(p.grid(options_.grid_points()));
      total *= axes.back().size();
      FINFUSE_CHECK(total <= 100000, "the grid has more than 100,000 combinations; use random or sobol search");
    }
    for (std::size_t i = 0; i < total; ++i) {
      Json a = Json::object();
      std::size_t rest = i;
      // The last parameter varies fastest.
      for (std::size_t d = dims; d-- > 0;) {
        a[parameters_[d].pointer] = axes[d][rest % axes[d].size()];
        rest /= axes[d].size();
      }
      out.push_back(std::move(a));
    }
    return out;
  }
  const auto trials = static_cast<std::size_t>(options_.trials());
  std::vector<std::vector<double>> points(trials, std::vector<double>(dims, 0.0));
  if (options_.search() == "random") {
    std::mt19937_64 rng(options_.seed());
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (auto& point : points) {
      for (auto& u : point) {
        u = uniform(rng);
      }
    }
  } else {
    // LibTorch's SobolEngine (unscrambled), as torch.quasirandom.SobolEngine(d).draw(n): the first point is the
    // origin, the rest come from the engine's direction numbers (Joe & Kuo).
    constexpr std::int64_t kMaxBit = 30;
    const auto d = static_cast<std::int64_t>(dims);
    auto state = at::zeros({d, kMaxBit}, at::kLong);
    at::_sobol_engine_initialize_state_(state, d);
    const auto quasi = at::zeros({d}, at::kLong);
    if (trials > 1) {
      const auto drawn = std::get<0>(at::_sobol_engine_draw(quasi, static_cast<std::int64_t>(trials) - 1, state, d,
                                                            /*num_generated=*/0, at::kDouble))
                             .contiguous();
      const auto* values = drawn.data_ptr<double>();
      for (std::size_t t = 1; t < trials; ++t) {
        for (std::size_t k = 0; k < dims; ++k) {
          points[t][k] = values[(t - 1) * dims + k];
        }
      }
    }
  }
  for (const auto& point : points) {
    Json a = Json::object();
    for (std::size_t k = 0; k < dims; ++k) {
      a[parameters_[k].pointer] = parameters_[k].at(point[k]);
    }
    out.push_back(std::move(a));
  }
  return out;
}

Json SearchSpace::apply(const Json& base, const Json& assignment) {
  Json out = base;
  for (const auto& [pointer, value] : assignment.items()) {
    try {
      const Json::json_pointer at(pointer);
      // Every parent must be an object or an array (missing objects are created, as a configuration may leave them
      // out).
      std::vector<Json::json_pointer> chain;
      for (auto p = at; !p.empty(); p = p.parent_pointer()) {
        chain.push_back(p);
      }
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const auto parent = it->parent_pointer();
        if (!out.contains(parent)) {
          break;  // created as objects from here on
        }
        const Json& node = out.at(parent);
        if (node.is_array()) {
          const auto token = it->back();
          const bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos &&
                             token.size() < 10 && std::stoul(token) < node.size();
          if (!index) {
            throw ConfigError(pointer, fmt::format("cannot set it: {} in the run configuration is an array of {} "
                                                   "element(s), and '{}' is not one of its indices",
                                                   parent.to_string().empty() ? "/" : parent.to_string(), node.size(),
                                                   token));
          }
        } else if (!node.is_object()) {
          throw ConfigError(pointer, fmt::format("cannot set it: {} in the run configuration is {}, not an object "
                                                 "or an array",
                                                 parent.to_string(), detail::describe(node)));
        }
      }
      out[at] = value;
    } catch (const Json::exception& e) {
      throw ConfigError(pointer, fmt::format("cannot set it in the run configuration: {}", e.what()));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------ records

Json TrialRecord::to_json() const {
  Json rung_list = Json::array();
  for (const auto& r : rungs) {
    rung_list.push_back(Json{{"epochs", r.epochs},
                             {"value", r.value},
                             {"loss", std::isfinite(r.loss) ? Json(r.loss) : Json()},
                             {"finished", r.finished}});
  }
  return Json{{"id", id}, {"assignment", assignment}, {"rungs", rung_list}, {"status", status}, {"seconds", seconds}};
}

TrialRecord TrialRecord::from_json(const Json& json) {
  TrialRecord r;
  r.id = json.at("id").get<std::int64_t>();
  r.assignment = json.at("assignment");
  for (const auto& rung : json.at("rungs")) {
    TrialProgress progress;
    progress.epochs = rung.at("epochs").get<std::int64_t>();
    progress.value = rung.at("value").get<double>();
    if (rung.contains("loss") && !rung.at("loss").is_null()) {
      progress.loss = rung.at("loss").get<double>();
    }
    progress.finished = rung.at("finished").get<bool>();
    r.rungs.push_back(progress);
  }
  r.status = json.at("status").get<std::string>();
  r.seconds = json.at("seconds").get<double>();
  return r;
}

Json TuneResult::to_json() const {
  Json trial_list = Json::array();
  for (const auto& t : trials) {
    trial_list.push_back(t.to_json());
  }
  return Json{{"trials", trial_list},         {"rungs", rungs},
              {"best", best},                 {"best_config", best_config},
              {"monitor", monitor},           {"higher_is_better", higher_is_better},
              {"trial_seconds", seconds}};
}

// ------------------------------------------------------------------------------------------------------- search

namespace {

std::vector<std::int64_t> rung_epochs(const HalvingOptions& halving, std::int64_t max_epochs) {
  std::vector<std::int64_t> rungs;
  if (halving.min_epochs() > 0) {
    for (std::int64_t r = halving.min_epochs(); r < max_epochs; r *= halving.reduction()) {
      rungs.push_back(r);
    }
  }
  rungs.push_back(max_epochs);
  return rungs;
}

bool better(double a, double b, bool higher) { return higher ? a > b : a < b; }

// Ranks two trials' progress: the monitored value, then (on a tie) the lower validation loss; an unknown loss ranks
// after a known one.
bool ranks_before(const TrialProgress& a, const TrialProgress& b, bool higher) {
  if (a.value != b.value) {
    return better(a.value, b.value, higher);
  }
  if (std::isnan(a.loss) || std::isnan(b.loss)) {
    return !std::isnan(a.loss) && std::isnan(b.loss);
  }
  return a.loss < b.loss;
}

std::string fingerprint(const Json& base, const TuneOptions& options) {
  Sha256 hash;
  hash.update(base.dump());
  hash.update("\n");
  hash.update(options.to_json().dump());
  return hash.hex_digest();
}

}  // namespace

TuneResult tune(const Json& base, const TuneOptions& options, const std::filesystem::path& out_dir,
                TrialRunner& runner) {
  const SearchSpace space(options);
  const auto assignments = space.assignments();
  // Every trial's configuration is checked before any trains: a wrong pointer fails now, not after hours.
  std::vector<Json> configs;
  std::int64_t max_epochs = 0;
  for (const auto& a : assignments) {
    configs.push_back(SearchSpace::apply(base, a));
    max_epochs = std::max(max_epochs, runner.max_epochs(configs.back()));
  }
  TuneResult result;
  result.rungs = rung_epochs(options.halving(), max_epochs);
  result.higher_is_better = runner.higher_is_better(configs.front());
  result.monitor = runner.monitor(configs.front());
  std::filesystem::create_directories(out_dir);
  const auto state_file = out_dir / "tune.json";
  const auto key = fingerprint(base, options);
  if (std::filesystem::exists(state_file)) {
    Json state;
    try {
      state = Json::parse(read_file(state_file));
    } catch (const Json::exception& e) {
      throw IoError(state_file.string(), fmt::format("damaged search state: {}", e.what()));
    }
    if (state.value("fingerprint", std::string()) != key) {
      throw Error(fmt::format("{} holds a search of another configuration or search space; give this search its "
                              "own output folder (or remove that one to start over)",
                              state_file.string()));
    }
    for (const auto& t : state.at("trials")) {
      result.trials.push_back(TrialRecord::from_json(t));
    }
    logger()->info("tune: continuing the search in {}", out_dir.string());
  } else {
    for (std::size_t i = 0; i < assignments.size(); ++i) {
      TrialRecord r;
      r.id = static_cast<std::int64_t>(i);
      r.assignment = assignments[i];
      result.trials.push_back(std::move(r));
    }
  }
  FINFUSE_CHECK(result.trials.size() == assignments.size(), state_file.string(), ": ", result.trials.size(),
                " trials recorded, the search draws ", assignments.size());
  const auto save = [&] {
    Json state = result.to_json();
    state["fingerprint"] = key;
    write_file_atomically(state_file, state.dump(2));
  };
  logger()->info("tune: {} trial(s) ({} search over {} parameter(s)), rungs of {} epoch(s)", assignments.size(),
                 options.search(), space.parameters().size(), fmt::join(result.rungs, ", "));
  std::vector<std::size_t> alive(assignments.size());
  for (std::size_t i = 0; i < alive.size(); ++i) {
    alive[i] = i;
  }
  for (std::size_t k = 0; k < result.rungs.size(); ++k) {
    const bool last = k + 1 == result.rungs.size();
    for (const auto i : alive) {
      auto& trial = result.trials[i];
      if (trial.rungs.size() > k) {
        continue;  // done before a restart
      }
      logger()->info("tune: trial {} of {} to {} epoch(s): {}", i + 1, assignments.size(), result.rungs[k],
                     trial.assignment.dump());
      const auto start = std::chrono::steady_clock::now();
      const auto progress = runner.run(configs[i], result.rungs[k], out_dir / "trials" / std::to_string(i));
      trial.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      trial.rungs.push_back(progress);
      trial.status = progress.finished || last ? "finished" : "running";
      logger()->info("tune: trial {}: {} {:.6g} after {} epoch(s){}", i + 1, result.monitor, progress.value,
                     progress.epochs, progress.finished ? " (finished)" : "");
      save();
    }
    if (last) {
      break;
    }
    // The best 1/reduction of the trials this rung left unfinished go on (at least one). Whether a trial finished is
    // read from its record of this rung, not from its status: in a continued search, the trials that went on to
    // finish at a later rung must be ranked here again, or others would take their places.
    std::vector<std::size_t> open;
    for (const auto i : alive) {
      if (!result.trials[i].rungs[k].finished) {
        open.push_back(i);
      }
    }
    std::stable_sort(open.begin(), open.end(), [&](std::size_t a, std::size_t b) {
      return ranks_before(result.trials[a].rungs[k], result.trials[b].rungs[k], result.higher_is_better);
    });
    const auto keep = std::max<std::size_t>(1, open.size() / static_cast<std::size_t>(options.halving().reduction()));
    std::vector<std::size_t> next;
    for (std::size_t j = 0; j < open.size(); ++j) {
      if (j < keep) {
        next.push_back(open[j]);
      } else {
        result.trials[open[j]].status = "stopped";
      }
    }
    std::sort(next.begin(), next.end());
    alive = next;
    save();
    if (alive.empty()) {
      break;
    }
  }
  // The best of the trials that completed their training.
  for (const auto& t : result.trials) {
    result.seconds += t.seconds;
    if (t.status != "finished" || t.rungs.empty()) {
      continue;
    }
    if (result.best < 0 ||
        ranks_before(t.rungs.back(), result.trials[static_cast<std::size_t>(result.best)].rungs.back(),
                     result.higher_is_better)) {
      result.best = t.id;
    }
  }
  FINFUSE_CHECK(result.best >= 0, "tune: no trial completed");
  result.best_config = configs[static_cast<std::size_t>(result.best)];
  save();
  return result;
}

std::string tune_report_html(const TuneResult& result, const TuneOptions& options, const std::string& title) {
  evaluation::HtmlReport report(title);
  const auto& best = result.trials.at(static_cast<std::size_t>(result.best));
  report.add_paragraph(fmt::format(
      "{} search, {} trial(s), rungs of {} epoch(s); every trial trained on the training part and was scored on the "
      "validation part ({}, {} is better); {:.0f} s of training in all. Best: trial {} ({:.6g}).",
      options.search(), result.trials.size(), fmt::join(result.rungs, ", "), result.monitor,
      result.higher_is_better ? "higher" : "lower", result.seconds, best.id + 1, best.rungs.back().value));
  std::vector<std::string> columns = {"trial", "status"};
  const SearchSpace space(options);
  for (const auto& p : space.parameters()) {
    columns.push_back(p.pointer);
  }
  for (const auto epochs : result.rungs) {
    columns.push_back(fmt::format("{} @ {} epochs", result.monitor, epochs));
  }
  columns.push_back("seconds");
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : result.trials) {
    std::vector<std::string> row = {std::to_string(t.id + 1) + (t.id == result.best ? " (best)" : ""), t.status};
    for (const auto& p : space.parameters()) {
      row.push_back(t.assignment.value(p.pointer, Json()).dump());
    }
    for (std::size_t k = 0; k < result.rungs.size(); ++k) {
      row.push_back(k < t.rungs.size() ? fmt::format("{:.6g}", t.rungs[k].value) : std::string("-"));
    }
    row.push_back(fmt::format("{:.1f}", t.seconds));
    rows.push_back(std::move(row));
  }
  report.add_table("Trials", columns, rows);
  report.add_json("The best configuration", result.best_config);
  return report.html();
}

// ------------------------------------------------------------------------------------------------ trial runner

namespace {

// Ends a trial's training at the end of its rung's last epoch (after the epoch's checkpoint).
class RungStop : public Callback {
 public:
  explicit RungStop(std::int64_t epochs) : epochs_(epochs) {}
  std::string name() const override { return "rung_stop"; }
  void on_epoch_end(Trainer& t, const EpochRecord& record) override {
    if (record.epoch + 1 >= epochs_ && record.epoch + 1 < t.options().epochs()) {
      t.request_stop(reason());
    }
  }
  std::string reason() const { return fmt::format("tune: the rung of {} epoch(s) is done", epochs_); }

 private:
  std::int64_t epochs_;
};

// The validation loss recorded for one epoch of a history (NaN where there is none).
double valid_loss(const std::vector<EpochRecord>& history, std::int64_t epoch) {
  if (epoch < 0 || epoch >= static_cast<std::int64_t>(history.size())) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto& values = history[static_cast<std::size_t>(epoch)].values;
  const auto it = values.find("valid.loss");
  return it == values.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

class TrainingTrialRunner : public TrialRunner {
 public:
  TrainingTrialRunner(std::filesystem::path base_dir, std::filesystem::path cache_dir)
      : base_dir_(std::move(base_dir)), cache_dir_(std::move(cache_dir)) {}

  std::int64_t max_epochs(const Json& config) const override { return load(config).training.epochs(); }
  std::string monitor(const Json& config) const override { return load(config).training.monitor(); }
  bool higher_is_better(const Json& config) const override { return load(config).training.higher_is_better(); }

  TrialProgress run(const Json& config, std::int64_t epochs, const std::filesystem::path& dir) override {
    auto run = load(config);
    const auto& pipeline = data_for(run.data);
    const auto& split = pipeline.split();
    FINFUSE_CHECK(!split.valid.empty(), "tune: the data have no validation part to score the trials on");
    const std::uint64_t seed = run.seeds.empty() ? 1 : run.seeds.front();
    auto options = run.training;
    options.out_dir(dir);
    // The trial sees the training and validation parts only.
    const auto trainer_ptr = make_run_trainer(run.model, options, pipeline, resolve_device(run.runtime.device()), seed);
    auto& trainer = *trainer_ptr;
    if (std::filesystem::exists(dir)) {
      trainer.resume(dir);
    }
    // A trial that reached the rung before the search recorded it (a crash in between) is not trained further.
    const auto& state = trainer.state();
    if (state.epoch >= epochs && state.batch == 0) {
      TrialProgress progress;
      progress.epochs = static_cast<std::int64_t>(state.history.size());
      progress.value = state.best_value;
      progress.loss = valid_loss(state.history, state.best_epoch);
      progress.finished = state.epoch >= options.epochs();
      return progress;
    }
    auto stop = std::make_shared<RungStop>(epochs);
    trainer.add_callback(stop);
    const auto fit = trainer.fit();
    if (fit.signal != 0) {
      const auto checkpoint = trainer.options().out_dir().empty()
                                  ? std::nullopt
                                  : Trainer::latest_checkpoint(trainer.options().out_dir());
      throw StoppedBySignal(fit.signal, fit.stop_reason, checkpoint.value_or(std::filesystem::path()));
    }
    TrialProgress progress;
    progress.epochs = static_cast<std::int64_t>(fit.history.size());
    progress.value = fit.best_value;
    progress.loss = valid_loss(fit.history, fit.best_epoch);
    progress.finished = progress.epochs >= options.epochs() || (fit.stopped_early && fit.stop_reason != stop->reason());
    return progress;
  }

 private:
  RunConfig load(const Json& config) const { return RunConfig::from_config(Config(config, "trial configuration"), base_dir_); }

  const data::DataPipeline& data_for(const data::DataConfig& data) {
    const auto key = data.to_json().dump();
    if (!pipeline_ || key != pipeline_key_) {
      pipeline_.reset();
      pipeline_ = std::make_unique<data::DataPipeline>(data::DataPipeline::build(data, cache_dir_));
      pipeline_key_ = key;
    }
    return *pipeline_;
  }

  std::filesystem::path base_dir_;
  std::filesystem::path cache_dir_;
  std::unique_ptr<data::DataPipeline> pipeline_;
  std::string pipeline_key_;
};

}  // namespace

std::shared_ptr<TrialRunner> training_trial_runner(std::filesystem::path base_dir, std::filesystem::path cache_dir) {
  return std::make_shared<TrainingTrialRunner>(std::move(base_dir), std::move(cache_dir));
}

}  // namespace finfuse::training
