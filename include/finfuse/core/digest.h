// SHA-256 digests (OpenSSL) of data and files: input fingerprints in run manifests, cache keys and integrity checks.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace finfuse {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(const void* data, std::size_t size);
  Sha256& update(std::string_view data) { return update(data.data(), data.size()); }
  /// The digest as 64 lower-case hex characters; the object cannot be updated afterwards.
  std::string hex_digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool finished_ = false;
};

/// SHA-256 of `data` in hex.
std::string sha256_hex(std::string_view data);

/// SHA-256 of a file's contents in hex, read in blocks. IoError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace finfuse
