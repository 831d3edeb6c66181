#include "options_command.h"

#include "finfuse/core/error.h"
#include "finfuse/core/runtime.h"
#include "finfuse/core/suggest.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/dataset_options.h"
#include "finfuse/data/modality.h"
#include "finfuse/data/numeric_table.h"
#include "finfuse/data/price_panel.h"
#include "finfuse/data/relation_graph.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/data/exchange_calendar.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/splits.h"
#include "finfuse/data/synthetic_universe.h"
#include "finfuse/evaluation/backtest.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/fusion/fusion.h"
#include "finfuse/models/head.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/nn/activation.h"
#include "finfuse/nn/loss.h"
#include "finfuse/training/callback.h"
#include "finfuse/training/distributed.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/scheduler.h"
#include "finfuse/training/pretrain.h"
#include "finfuse/training/trainer.h"
#include "finfuse/training/tuner.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <utility>

namespace finfuse::cli {
namespace {

Json fields_json(const std::vector<FieldInfo>& fields) {
  Json list = Json::array();
  for (const auto& f : fields) {
    list.push_back(Json{{"name", f.name},
                        {"type", f.type},
                        {"default", f.default_value},
                        {"allowed", f.rule.describe()},
                        {"required", f.rule.is_required()},
                        {"doc", f.doc}});
  }
  return list;
}

template <typename Registry>
Json describe(const Registry& registry) {
  Json out = Json::object();
  for (const auto& name : registry.names()) {
    const auto fields = registry.fields(name);
    out[name] = fields ? fields_json(*fields) : Json();
  }
  return out;
}

// Configuration sections read into one options struct each, by their path in a run configuration.
const std::vector<std::pair<std::string, std::function<const std::vector<FieldInfo>&()>>>& sections() {
  static const std::vector<std::pair<std::string, std::function<const std::vector<FieldInfo>&()>>> table = {
      {"runtime", &RuntimeOptions::fields},
      {"csv", &data::CsvOptions::fields},
      {"data", &data::DataConfig::fields},
      {"data.prices", &data::PriceSource::fields},
      {"data.prices.columns", &data::PriceColumns::fields},
      {"data.intraday", &data::IntradaySource::fields},
      {"data.intraday.columns", &data::IntradayColumns::fields},
      {"data.texts", &data::TextSource::fields},
      {"data.tables", &data::Source<data::NumericTableOptions>::fields},
      {"data.graph", &data::GraphSource::fields},
      {"data.assembly", &data::AssemblyOptions::fields},
      {"data.assembly.label", &data::LabelOptions::fields},
      {"data.assembly.market", &data::MarketClockOptions::fields},
      {"data.calendar", &data::ExchangeCalendarOptions::fields},
      {"data.assembly.text", &data::TextWindowOptions::fields},
      {"data.split", &data::SplitOptions::fields},
      {"data.split.walk_forward", &data::WalkForwardOptions::fields},
      {"data.dataset", &data::DatasetOptions::fields},
      {"data.dataset.price", &data::PriceWindowOptions::fields},
      {"data.dataset.intraday", &data::IntradayWindowOptions::fields},
      {"data.dataset.chart", &data::ChartOptions::fields},
      {"data.dataset.image", &data::ImageOptions::fields},
      {"data.dataset.text_table", &data::TextTableOptions::fields},
      {"data.dataset.graph", &data::GraphOptions::fields},
      {"data.dataset.tokenizer", &data::TokenizerOptions::fields},
      {"data.dataset.numeric", &data::NumericPreprocessorOptions::fields},
      {"model", &models::MultimodalModelOptions::fields},
      {"encoder.pretrained", &encoders::PretrainedOptions::fields},
      {"training", &training::TrainerOptions::fields},
      {"training.adversarial", &training::AdversarialOptions::fields},
      {"training.l2", &training::L2Penalty::fields},
      {"training.warm_start", &training::WarmStartOptions::fields},
      {"training.fine_tuning", &training::FineTuningOptions::fields},
      {"tune", &training::TuneOptions::fields},
      {"pretrain", &training::PretrainOptions::fields},
      {"universe", &data::UniverseOptions::fields},
      {"tune.halving", &training::HalvingOptions::fields},
      {"backtest", &evaluation::BacktestOptions::fields},
      {"experiment", &training::ExperimentConfig::fields},
      {"tracking", &training::TrackingConfig::fields},
      {"distributed", &training::DistributedOptions::fields},
  };
  return table;
}

bool is_section(const std::string& family) {
  return std::any_of(sections().begin(), sections().end(), [&](const auto& entry) { return entry.first == family; });
}

std::string default_text(const Json& field) {
  if (field["required"].get<bool>()) {
    return "required";
  }
  return field["default"].is_null() ? std::string("none") : field["default"].dump();
}

// Markdown cells may not hold '|'.
std::string cell(std::string text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Every family, in the order `finfuse options` lists them.
const std::vector<std::pair<std::string, std::function<Json()>>>& families() {
  static const std::vector<std::pair<std::string, std::function<Json()>>> table = {
      {"encoder", [] { return describe(encoders::encoder_registry()); }},
      {"fusion", [] { return describe(fusion::fusion_registry()); }},
      {"head", [] { return describe(models::head_registry()); }},
      {"loss", [] { return describe(nn::loss_registry()); }},
      {"optimizer", [] { return describe(training::optimizer_registry()); }},
      {"scheduler", [] { return describe(training::scheduler_registry()); }},
      {"metric", [] { return describe(evaluation::metric_registry()); }},
      {"callback", [] { return describe(training::callback_registry()); }},
      {"activation", [] { return describe(nn::activation_registry()); }},
      {"modality", [] { return describe(data::modality_registry()); }},
  };
  return table;
}

}  // namespace

std::vector<std::string> option_families() {
  std::vector<std::string> names;
  for (const auto& [name, describe_one] : families()) {
    names.push_back(name);
  }
  for (const auto& [name, fields] : sections()) {
    names.push_back(name);
  }
  return names;
}

Json describe_family(const std::string& family) {
  for (const auto& [name, describe_one] : families()) {
    if (name == family) {
      return describe_one();
    }
  }
  for (const auto& [name, fields] : sections()) {
    if (name == family) {
      return Json{{name, fields_json(fields())}};
    }
  }
  const auto known = option_families();
  throw Error(fmt::format("unknown family '{}'{}; families: {}", family, did_you_mean(family, known),
                          quoted_list(known)));
}

std::string family_markdown(const std::string& family) {
  const Json components = describe_family(family);
  std::string out;
  const bool section = is_section(family);
  for (const auto& [name, fields] : components.items()) {
    if (!section) {
      out += fmt::format("#### `{}`\n\n", name);
    }
    if (fields.is_null()) {
      out += "Options not declared as fields; see the family's documentation.\n\n";
      continue;
    }
    if (fields.empty()) {
      out += "No options.\n\n";
      continue;
    }
    out += "| key | type | default | allowed | meaning |\n| --- | --- | --- | --- | --- |\n";
    for (const auto& f : fields) {
      const std::string allowed = f["allowed"].get<std::string>();
      // A nested section's defaults are its own table's.
      const std::string default_cell = f["required"].get<bool>() ? std::string("required")
                                       : f["type"] == "object"   ? std::string()
                                                                 : fmt::format("`{}`", cell(default_text(f)));
      out += fmt::format("| `{}` | {} | {} | {} | {} |\n", f["name"].get<std::string>(), f["type"].get<std::string>(),
                         default_cell, cell(allowed), cell(f["doc"].get<std::string>()));
    }
    out += "\n";
  }
  return out;
}

std::string family_text(const std::string& family) {
  const Json components = describe_family(family);
  std::string out;
  for (const auto& [name, fields] : components.items()) {
    out += fmt::format("{} '{}'\n", family, name);
    if (fields.is_null()) {
      out += "  (options not declared as fields)\n";
      continue;
    }
    if (fields.empty()) {
      out += "  (no options)\n";
      continue;
    }
    std::size_t width = 0, type_width = 0, default_width = 0;
    for (const auto& f : fields) {
      width = std::max(width, f["name"].get<std::string>().size());
      type_width = std::max(type_width, f["type"].get<std::string>().size());
      default_width = std::max(default_width, default_text(f).size());
    }
    for (const auto& f : fields) {
      const std::string allowed = f["allowed"].get<std::string>();
      out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {}{}\n", f["name"].get<std::string>(), width,
                         f["type"].get<std::string>(), type_width, default_text(f), default_width,
                         f["doc"].get<std::string>(), allowed.empty() ? std::string() : fmt::format(" ({})", allowed));
    }
  }
  return out;
}

}  // namespace finfuse::cli
