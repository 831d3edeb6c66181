// finfuse's own spdlog logger, named "finfuse", separate from the application's default logger. Its level
// comes from configuration (RuntimeOptions::log_level) and the FINFUSE_LOG_LEVEL environment variable.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace finfuse {

/// The library's logger. Created on first use with a colour stderr sink and the level from
/// FINFUSE_LOG_LEVEL (default "info"), unless the application installed its own with set_logger().
std::shared_ptr<spdlog::logger> logger();

/// Replaces the library's logger, e.g. to route finfuse's messages into the application's sinks.
void set_logger(std::shared_ptr<spdlog::logger> logger);

/// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off"; case-insensitive.
/// Throws finfuse::Error naming the valid levels otherwise.
spdlog::level::level_enum parse_log_level(std::string_view level);

/// Sets the library logger's level.
void set_log_level(spdlog::level::level_enum level);

/// The level FINFUSE_LOG_LEVEL asks for, or nothing when it is unset or empty. Throws for an invalid value.
std::optional<spdlog::level::level_enum> log_level_from_environment();

}  // namespace finfuse
