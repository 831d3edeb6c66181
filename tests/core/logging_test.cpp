#include "finfuse/core/logging.h"

#include "finfuse/core/error.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace finfuse {
namespace {

TEST(Logging, ParsesLevels) {
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("WARN"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  try {
    parse_log_level("verbose");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid log level 'verbose'"), std::string::npos);
  }
  try {
    parse_log_level("inof");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'info'?"), std::string::npos) << e.what();
  }
}

TEST(Logging, LibraryLoggerIsNotTheDefaultLogger) {
  EXPECT_EQ(logger()->name(), "finfuse");
  EXPECT_NE(logger().get(), spdlog::default_logger().get());
}

TEST(Logging, ApplicationCanRouteMessagesAndSetTheLevel) {
  const auto previous = logger();
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  set_logger(std::make_shared<spdlog::logger>("finfuse", sink));
  set_log_level(spdlog::level::warn);
  logger()->info("hidden message");
  logger()->warn("visible message");
  logger()->flush();
  EXPECT_EQ(captured.str().find("hidden message"), std::string::npos);
  EXPECT_NE(captured.str().find("visible message"), std::string::npos);
  EXPECT_THROW(set_logger(nullptr), Error);
  set_logger(previous);
}

TEST(Logging, EnvironmentLevel) {
  ::setenv("FINFUSE_LOG_LEVEL", "error", 1);
  EXPECT_EQ(log_level_from_environment(), spdlog::level::err);
  ::setenv("FINFUSE_LOG_LEVEL", "loud", 1);
  EXPECT_THROW(log_level_from_environment(), Error);
  ::setenv("FINFUSE_LOG_LEVEL", "", 1);
  EXPECT_EQ(log_level_from_environment(), std::nullopt);
  ::unsetenv("FINFUSE_LOG_LEVEL");
  EXPECT_EQ(log_level_from_environment(), std::nullopt);
}

}  // namespace
}  // namespace finfuse
