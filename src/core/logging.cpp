#include "finfuse/core/logging.h"

#include "finfuse/core/error.h"
#include "finfuse/core/suggest.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace finfuse {
namespace {

std::mutex& logger_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<spdlog::logger>& logger_slot() {
  static std::shared_ptr<spdlog::logger> slot;
  return slot;
}

std::shared_ptr<spdlog::logger> make_default_logger() {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto created = std::make_shared<spdlog::logger>("finfuse", std::move(sink));
  created->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v");
  spdlog::level::level_enum level = spdlog::level::info;
  try {
    if (auto from_env = log_level_from_environment()) {
      level = *from_env;
    }
  } catch (const Error& e) {
    created->warn("{}; logging at 'info'", e.what());
  }
  created->set_level(level);
  created->flush_on(spdlog::level::warn);
  return created;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard<std::mutex> lock(logger_mutex());
  auto& slot = logger_slot();
  if (!slot) {
    slot = make_default_logger();
  }
  return slot;
}

void set_logger(std::shared_ptr<spdlog::logger> replacement) {
  if (!replacement) {
    throw Error("set_logger: the logger must not be null");
  }
  std::lock_guard<std::mutex> lock(logger_mutex());
  logger_slot() = std::move(replacement);
}

spdlog::level::level_enum parse_log_level(std::string_view level) {
  std::string lower(level);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::vector<std::pair<std::string, spdlog::level::level_enum>> levels = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},       {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  std::vector<std::string> names;
  for (const auto& [name, value] : levels) {
    if (name == lower) {
      return value;
    }
    names.push_back(name);
  }
  throw Error(fmt::format("invalid log level '{}'{}; expected one of {}", level, did_you_mean(lower, names),
                          quoted_list(names)));
}

void set_log_level(spdlog::level::level_enum level) { logger()->set_level(level); }

std::optional<spdlog::level::level_enum> log_level_from_environment() {
  const char* value = std::getenv("FINFUSE_LOG_LEVEL");
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  try {
    return parse_log_level(value);
  } catch (const Error& e) {
    throw Error(fmt::format("FINFUSE_LOG_LEVEL: {}", e.what()));
  }
}

}  // namespace finfuse
