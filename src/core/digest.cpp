#include "finfuse/core/digest.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <fstream>
#include <vector>

namespace finfuse {

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  FINFUSE_CHECK(state_->context != nullptr && EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr) == 1,
                "cannot initialise SHA-256 (OpenSSL)");
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->context); }

Sha256& Sha256::update(const void* data, std::size_t size) {
  FINFUSE_CHECK(!finished_, "Sha256::update after hex_digest");
  FINFUSE_CHECK(EVP_DigestUpdate(state_->context, data, size) == 1, "SHA-256 update failed (OpenSSL)");
  return *this;
}

std::string Sha256::hex_digest() {
  FINFUSE_CHECK(!finished_, "Sha256::hex_digest called twice");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  FINFUSE_CHECK(EVP_DigestFinal_ex(state_->context, digest, &length) == 1, "SHA-256 final failed (OpenSSL)");
  finished_ = true;
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

std::string sha256_hex(std::string_view data) { return Sha256().update(data).hex_digest(); }

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), "cannot open for reading");
  }
  Sha256 hash;
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    if (in.gcount() > 0) {
      hash.update(block.data(), static_cast<std::size_t>(in.gcount()));
    }
  }
  if (in.bad()) {
    throw IoError(path.string(), "read error");
  }
  return hash.hex_digest();
}

}  // namespace finfuse
