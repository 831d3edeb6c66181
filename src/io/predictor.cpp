#include "finfuse/io/predictor.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/data/csv.h"
#include "finfuse/data/loader.h"
#include "finfuse/data/time.h"

#include <c10/core/InferenceMode.h>

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <sstream>

namespace finfuse::io {

Predictor::Predictor(const std::filesystem::path& bundle, const c10::Device& device)
    : Predictor(read_bundle(bundle), device) {}

Predictor::Predictor(Bundle bundle, const c10::Device& device) : bundle_(std::move(bundle)), device_(device) {
  model_ = bundle_.build_model(device_);
}

data::DataConfig Predictor::training_data() const {
  return data::DataConfig::from_config(Config(bundle_.config.at("data"), (bundle_.source / "config.json").string()),
                                       std::filesystem::current_path());
}

std::map<std::string, torch::Tensor> Predictor::predict(const data::Batch& batch) const {
  c10::InferenceMode guard;
  // Forward passes only read the model (eval mode, no gradients), so concurrent callers share it.
  const auto out = model_.ptr()->forward(batch.to(device_));
  return out.predictions;
}

PredictionTable Predictor::predict(data::DataConfig data) const {
  // A table of new applicants has no label column yet.
  for (auto& table : data.tables) {
    if (!table.options.label_column.empty()) {
      const auto reader = data::CsvReader::open(table.path, table.options.csv);
      if (!reader.find_column(table.options.label_column)) {
        table.options.label_column.clear();
      }
    }
  }
  const auto pipeline = data::DataPipeline::build_for_inference(data, bundle_.preprocessing);
  const auto dataset = pipeline.dataset();
  const auto& indices = pipeline.split().test;
  std::shared_ptr<const data::BatchSampler> sampler;
  if (model_->fusion().cross_sectional()) {
    sampler = std::make_shared<data::CrossSectionalSampler>(dataset->samples(), indices, false, 0, 1);
  } else {
    sampler = std::make_shared<data::SequentialSampler>(indices, 256);
  }
  PredictionTable table;
  table.heads = model_->head_names();
  for (const auto& h : table.heads) {
    table.rows[h].classes = model_->head(h).classes();
  }
  data::DataLoader loader(dataset, sampler, 2);
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const auto predictions = predict(*batch);
    for (const auto& h : table.heads) {
      table.rows[h].append(predictions.at(h).to(torch::kCPU), batch->target, *batch);
    }
    // The rows just appended name their entity and day.
    const auto& rows = table.rows.at(table.heads.front());
    for (std::size_t i = table.entity.size(); i < rows.size(); ++i) {
      table.entity.push_back(dataset->entities()[static_cast<std::size_t>(rows.entity[i])]);
      table.date.push_back(pipeline.samples().timed ? data::Date(rows.day[i]).to_string() : std::string());
    }
  }
  return table;
}

namespace {

// RFC 4180: a field with a delimiter, quote or line break is quoted, its quotes doubled.
std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    return value;
  }
  std::string out = "\"";
  for (const char c : value) {
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return out + "\"";
}

}  // namespace

void PredictionTable::write_csv(const std::filesystem::path& path) const {
  const auto field = [](double v) { return std::isfinite(v) ? fmt::format("{:.10g}", v) : std::string(); };
  std::ostringstream out;
  out << "entity,date,target,forward_return";
  for (const auto& h : heads) {
    const auto& rows = this->rows.at(h);
    if (rows.classes > 0) {
      out << "," << h << ".class";
      for (std::int64_t c = 0; c < rows.classes; ++c) {
        out << "," << h << ".p" << c;
      }
    } else {
      out << "," << h << ".value";
    }
  }
  out << "\n";
  const auto& first = rows.at(heads.front());
  for (std::size_t i = 0; i < size(); ++i) {
    out << csv_field(entity[i]) << "," << date[i] << "," << field(first.target[i]) << ","
        << field(first.forward_return[i]);
    for (const auto& h : heads) {
      const auto& r = rows.at(h);
      if (r.classes > 0) {
        out << "," << r.predicted_class(i);
        for (std::int64_t c = 0; c < r.classes; ++c) {
          out << "," << field(r.probability(i, c));
        }
      } else {
        out << "," << field(r.score[i]);
      }
    }
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

evaluation::PredictionRows read_predictions_csv(const std::filesystem::path& file, std::string& head,
                                                const std::string& task) {
  const std::string path = file.string();
  auto reader = data::CsvReader::open(path);
  const auto& header = reader.header();
  const auto target = reader.require_column("target");
  const auto date = reader.find_column("date");
  const auto entity = reader.find_column("entity");
  const auto forward = reader.find_column("forward_return");
  if (head.empty()) {
    for (const auto& column : header) {
      const auto dot = column.rfind('.');
      if (dot != std::string::npos) {
        head = column.substr(0, dot);
        break;
      }
    }
  }
  std::vector<std::size_t> probability_columns;
  for (std::int64_t c = 0;; ++c) {
    const auto column = reader.find_column(fmt::format("{}.p{}", head, c));
    if (!column) {
      break;
    }
    probability_columns.push_back(*column);
  }
  const auto value = reader.find_column(head + ".value");
  evaluation::PredictionRows rows;
  const bool classification =
      task.empty() || task == "backtest" ? !probability_columns.empty() : task == "classification";
  if (classification && probability_columns.empty()) {
    throw DataError(path, 0, head + ".p0", "classification needs the probability columns <head>.p0, <head>.p1, ...");
  }
  if (!classification && !value) {
    throw DataError(path, 0, head + ".value", "a regression or ranking score needs the column <head>.value");
  }
  rows.classes = classification ? static_cast<std::int64_t>(probability_columns.size()) : 0;
  std::map<std::string, std::int64_t> entities;
  data::CsvRecord record;
  const auto number = [&](std::size_t column, std::int64_t line) {
    const auto field = record[column];
    if (field.empty()) {
      return std::nan("");
    }
    const auto parsed = data::parse_number(field);
    if (!parsed) {
      throw DataError(path, line, header[column], fmt::format("expected a number, got '{}'", field));
    }
    return *parsed;
  };
  while (reader.next(record)) {
    const auto line = record.line;
    std::vector<double> p;
    double score = 0.0;
    for (std::size_t k = 0; k < probability_columns.size() && classification; ++k) {
      p.push_back(number(probability_columns[k], line));
      score += static_cast<double>(k) * p.back();
    }
    if (classification && p.size() == 2) {
      score = p[1];
    }
    if (!classification) {
      score = number(*value, line);
    }
    const double t = number(target, line);
    if (!std::isfinite(t) && task != "backtest") {
      continue;  // not scorable
    }
    std::int32_t day = 0;
    if (date && !record[*date].empty()) {
      day = data::parse_date(record[*date]).value_or(data::Date(0)).days();
    }
    std::int64_t e = static_cast<std::int64_t>(rows.size());
    if (entity) {
      const auto name = std::string(record[*entity]);
      e = entities.emplace(name, static_cast<std::int64_t>(entities.size())).first->second;
    }
    rows.append_row(day, e, t, forward ? number(*forward, line) : std::nan(""), p, score);
  }
  return rows;
}


}  // namespace finfuse::io
