// The exceptions finfuse throws. Every error derives from finfuse::Error, and its message says where the
// problem is (file and record, JSON path, tensor shapes) and what was expected. The library never exits.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace finfuse {

/// Base of every exception thrown by finfuse.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A configuration value is missing, malformed, out of range or unknown.
/// `pointer()` is the RFC 6901 JSON pointer of the offending key ("" for the document root) and
/// `source()` the file it came from, when known.
class ConfigError : public Error {
 public:
  ConfigError(std::string pointer, std::string reason, std::string source = {});

  const std::string& pointer() const noexcept { return pointer_; }
  const std::string& reason() const noexcept { return reason_; }
  const std::string& source() const noexcept { return source_; }

 private:
  std::string pointer_;
  std::string reason_;
  std::string source_;
};

/// A data record cannot be used: malformed, non-finite, inconsistent. `record()` is the 1-based line or
/// record number (0 when the problem concerns the whole file) and `field()` the column or field name
/// (empty when not specific to one).
class DataError : public Error {
 public:
  DataError(std::string file, std::int64_t record, std::string field, std::string reason);

  const std::string& file() const noexcept { return file_; }
  std::int64_t record() const noexcept { return record_; }
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_;
  std::int64_t record_;
  std::string field_;
  std::string reason_;
};

/// A tensor does not have the shape a component expects. The message names the component and both shapes.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A name is not registered in a registry, or is registered twice.
class RegistryError : public Error {
 public:
  using Error::Error;
};

/// A file cannot be opened, read or written.
class IoError : public Error {
 public:
  IoError(std::string path, std::string reason);

  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// Ranks of a distributed job cannot work together: a rendezvous timed out, a rank died or the network failed.
/// Raised on every surviving rank; the message names this rank, the operation and what the transport reported.
class DistributedError : public Error {
 public:
  using Error::Error;
};

}  // namespace finfuse
