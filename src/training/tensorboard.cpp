// TensorBoard event files by hand: protocol-buffer wire format (varints, length-delimited fields, fixed 32/64-bit
// values) and TFRecord framing with masked CRC-32C.
#include "finfuse/training/tensorboard.h"

#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include <unistd.h>

namespace finfuse::training {
namespace {

// Protocol buffers: a field is its key (number << 3 | wire type) then its value.
void varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void key(std::string& out, int field, int wire) { varint(out, (static_cast<std::uint64_t>(field) << 3) | wire); }

void bytes_field(std::string& out, int field, const std::string& value) {
  key(out, field, 2);
  varint(out, value.size());
  out += value;
}

void varint_field(std::string& out, int field, std::uint64_t value) {
  key(out, field, 0);
  varint(out, value);
}

template <typename T>
void fixed_field(std::string& out, int field, T value) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "fixed32 or fixed64");
  key(out, field, sizeof(T) == 4 ? 5 : 1);
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));  // little-endian hosts, as protocol buffers are
  out.append(raw, sizeof(T));
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event{wall_time = 1, step = 2, summary = 5}.
std::string event(double wall_time, std::int64_t step, const std::string& summary) {
  std::string out;
  fixed_field(out, 1, wall_time);
  if (step != 0) {
    varint_field(out, 2, static_cast<std::uint64_t>(step));
  }
  bytes_field(out, 5, summary);
  return out;
}

// google.protobuf.Value{number_value = 2, string_value = 3, bool_value = 4}.
std::string value_message(const Json& value) {
  std::string out;
  if (value.is_boolean()) {
    varint_field(out, 4, value.get<bool>() ? 1 : 0);
  } else if (value.is_number()) {
    fixed_field(out, 2, value.get<double>());
  } else if (value.is_string()) {
    bytes_field(out, 3, value.get<std::string>());
  } else {
    bytes_field(out, 3, value.dump());
  }
  return out;
}

std::uint32_t masked(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8U; }

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
      }
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFU;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    crc = table[(crc ^ p[i]) & 0xFFU] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFU;
}

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw IoError(dir.string(), fmt::format("cannot create the TensorBoard folder: {}", ec.message()));
  }
  const auto seconds = static_cast<std::int64_t>(now_seconds());
  const auto stem = fmt::format("events.out.tfevents.{}.{}.{}", seconds, host_name(), static_cast<long>(getpid()));
  for (int n = 0;; ++n) {
    file_ = dir / fmt::format("{}.{}", stem, n);
    if (!std::filesystem::exists(file_, ec)) {
      break;
    }
  }
  out_ = std::fopen(file_.string().c_str(), "wb");
  if (out_ == nullptr) {
    throw IoError(file_.string(), fmt::format("cannot open for writing: {}", std::strerror(errno)));
  }
  std::string first;
  fixed_field(first, 1, now_seconds());
  bytes_field(first, 3, "brain.Event:2");  // file_version
  write_event(first);
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  try {
    flush();
  } catch (...) {  // a destructor reports nothing; flush() has thrown before where it could
  }
  if (out_ != nullptr) {
    std::fclose(out_);
  }
}

void TensorBoardWriter::write_event(const std::string& payload) {
  char header[12];
  const std::uint64_t length = payload.size();
  std::memcpy(header, &length, 8);
  const std::uint32_t length_crc = masked(crc32c(header, 8));
  std::memcpy(header + 8, &length_crc, 4);
  buffer_.append(header, 12);
  buffer_ += payload;
  const std::uint32_t data_crc = masked(crc32c(payload.data(), payload.size()));
  buffer_.append(reinterpret_cast<const char*>(&data_crc), 4);
  ++records_;
  if (buffer_.size() > (1U << 16)) {
    flush();
  }
}

void TensorBoardWriter::flush() {
  if (buffer_.empty() || out_ == nullptr) {
    return;
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size() || std::fflush(out_) != 0) {
    throw IoError(file_.string(), fmt::format("cannot write: {}", std::strerror(errno)));
  }
  buffer_.clear();
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, std::int64_t step,
                                   std::optional<double> wall_time) {
  std::string summary_value;
  bytes_field(summary_value, 1, tag);
  fixed_field(summary_value, 2, static_cast<float>(value));  // simple_value
  std::string summary;
  bytes_field(summary, 1, summary_value);
  write_event(event(wall_time ? *wall_time : now_seconds(), step, summary));
}

// Summary.Value{tag = 1, metadata = 9 {plugin_data = 1 {plugin_name = 1 "hparams", content = 2}}, tensor = 8}.
void TensorBoardWriter::add_hparams(const std::string& tag, const std::string& plugin_data) {
  std::string content;
  varint_field(content, 1, 0);  // HParamsPluginData.version (0; a zero is written out, as the reference does not)
  content += plugin_data;
  std::string plugin;
  bytes_field(plugin, 1, "hparams");
  bytes_field(plugin, 2, content);
  std::string metadata;
  bytes_field(metadata, 1, plugin);
  std::string summary_value;
  bytes_field(summary_value, 1, tag);
  bytes_field(summary_value, 9, metadata);
  // The plugin's null tensor: TensorProto{dtype DT_FLOAT, tensor_shape {dim {}}}.
  bytes_field(summary_value, 8, std::string("\x08\x01\x12\x02\x12\x00", 6));
  std::string summary;
  bytes_field(summary, 1, summary_value);
  write_event(event(now_seconds(), 0, summary));
}

void TensorBoardWriter::add_hparams_experiment(const std::vector<HParamInfo>& hparams,
                                               const std::vector<std::string>& metrics) {
  std::string experiment;
  for (const auto& h : hparams) {
    // HParamInfo{name = 1, type = 4: DATA_TYPE_STRING 1, BOOL 2, FLOAT64 3}.
    std::string info;
    bytes_field(info, 1, h.name);
    varint_field(info, 4, h.type == "string" ? 1 : h.type == "bool" ? 2 : 3);
    bytes_field(experiment, 4, info);
  }
  for (const auto& m : metrics) {
    // MetricInfo{name = 1 MetricName{group = 1, tag = 2}}.
    std::string name;
    bytes_field(name, 2, m);
    std::string info;
    bytes_field(info, 1, name);
    bytes_field(experiment, 5, info);
  }
  fixed_field(experiment, 3, now_seconds());  // time_created_secs
  std::string data;
  bytes_field(data, 2, experiment);  // HParamsPluginData.experiment
  add_hparams("_hparams_/experiment", data);
}

void TensorBoardWriter::add_session_start(const std::map<std::string, Json>& hparams, const std::string& group) {
  std::string start;
  for (const auto& [name, value] : hparams) {
    std::string entry;  // map<string, Value> entry {key = 1, value = 2}
    bytes_field(entry, 1, name);
    bytes_field(entry, 2, value_message(value));
    bytes_field(start, 1, entry);
  }
  if (!group.empty()) {
    bytes_field(start, 4, group);
  }
  fixed_field(start, 5, now_seconds());  // start_time_secs
  std::string data;
  bytes_field(data, 3, start);  // HParamsPluginData.session_start_info
  add_hparams("_hparams_/session_start_info", data);
}

void TensorBoardWriter::add_session_end(bool success) {
  std::string end;
  varint_field(end, 1, success ? 1 : 2);  // STATUS_SUCCESS, STATUS_FAILURE
  fixed_field(end, 2, now_seconds());
  std::string data;
  bytes_field(data, 4, end);  // HParamsPluginData.session_end_info
  add_hparams("_hparams_/session_end_info", data);
}

std::map<std::string, Json> flatten_hparams(const Json& config, const std::string& prefix) {
  std::map<std::string, Json> out;
  if (config.is_object()) {
    for (const auto& [k, v] : config.items()) {
      const auto name = prefix.empty() ? k : prefix + "/" + k;
      if (v.is_object()) {
        const auto inner = flatten_hparams(v, name);
        out.insert(inner.begin(), inner.end());
      } else if (v.is_number() || v.is_boolean() || v.is_string()) {
        out.emplace(name, v);
      } else if (v.is_array() && !v.empty()) {
        out.emplace(name, v.dump());
      }
    }
  }
  return out;
}

void write_hparams_experiment(const std::filesystem::path& dir, const std::vector<HParamsRun>& runs) {
  std::map<std::string, std::string> types;
  std::set<std::string> metrics;
  for (const auto& run : runs) {
    for (const auto& [name, value] : run.hparams) {
      const std::string type = value.is_boolean() ? "bool" : value.is_number() ? "number" : "string";
      const auto it = types.emplace(name, type).first;
      if (it->second != type) {
        it->second = "string";
      }
    }
    for (const auto& [name, value] : run.valid) {
      metrics.insert("final/valid." + name);
    }
    for (const auto& [name, value] : run.test) {
      metrics.insert("final/test." + name);
    }
  }
  std::vector<HParamInfo> infos;
  for (const auto& [name, type] : types) {
    infos.push_back(HParamInfo{name, type});
  }
  TensorBoardWriter writer(dir);
  writer.add_hparams_experiment(infos, {metrics.begin(), metrics.end()});
}

void write_hparams_run(const std::filesystem::path& dir, const HParamsRun& run) {
  TensorBoardWriter writer(dir);
  writer.add_session_start(run.hparams, "");
  for (const auto& [name, value] : run.valid) {
    writer.add_scalar("final/valid." + name, value, run.step);
  }
  for (const auto& [name, value] : run.test) {
    writer.add_scalar("final/test." + name, value, run.step);
  }
  writer.add_session_end(true);
}

}  // namespace finfuse::training
