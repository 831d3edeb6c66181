#include "finfuse/data/bad_records.h"

#include "finfuse/core/logging.h"

#include <fmt/format.h>

namespace finfuse::data {

ErrorMode parse_error_mode(std::string_view name) {
  if (name == "strict") {
    return ErrorMode::strict;
  }
  if (name == "lenient") {
    return ErrorMode::lenient;
  }
  throw Error(fmt::format("invalid error mode '{}': expected 'strict' or 'lenient'", name));
}

std::string to_string(ErrorMode mode) { return mode == ErrorMode::strict ? "strict" : "lenient"; }

void BadRecordLog::add(const DataError& error) {
  if (mode_ == ErrorMode::strict) {
    throw error;
  }
  ++count_;
  if (examples_.size() < keep_) {
    examples_.push_back(error);
  }
}

void BadRecordLog::log_summary(std::string_view what) const {
  if (count_ == 0) {
    return;
  }
  auto log = logger();
  log->warn("{} bad record(s) skipped in {} (lenient mode); the first {}:", count_, what, examples_.size());
  for (const auto& example : examples_) {
    log->warn("  {}", example.what());
  }
}

}  // namespace finfuse::data
