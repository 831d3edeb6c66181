#include "finfuse/core/file.h"

#include "finfuse/core/digest.h"
#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace finfuse {

void require_file(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such file");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError(path.string(), fmt::format("is a directory, expected {}", what));
  }
}

std::uintmax_t checked_file_size(const std::filesystem::path& path, std::string_view what, std::int64_t max_bytes,
                                 std::string_view limit_name) {
  require_file(path, what);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    throw IoError(path.string(), "cannot determine the file size: " + ec.message());
  }
  if (max_bytes >= 0 && size > static_cast<std::uintmax_t>(max_bytes)) {
    throw DataError(path.string(), 0, "",
                    fmt::format("the file has {} bytes, more than the limit of {} ({})", size, max_bytes, limit_name));
  }
  return size;
}

std::string read_file(const std::filesystem::path& path, std::string_view what, std::int64_t max_bytes,
                      std::string_view limit_name) {
  const auto size = checked_file_size(path, what, max_bytes, limit_name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), "cannot open for reading");
  }
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size)) {
    throw IoError(path.string(), "read error");
  }
  return text;
}

MappedFile::MappedFile(const std::filesystem::path& path, std::string_view what) {
  require_file(path, what);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw IoError(path.string(), fmt::format("cannot open for reading: {}", std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw IoError(path.string(), fmt::format("cannot determine the file size: {}", std::strerror(error)));
  }
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ > 0) {
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      size_ = 0;
      throw IoError(path.string(), fmt::format("cannot map the file into memory: {}", std::strerror(error)));
    }
    data_ = static_cast<const char*>(mapped);
  }
  ::close(fd);  // the mapping keeps the file
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void MappedFile::drop_pages(std::string_view part) const noexcept {
  if (part.empty() || !contains(part)) {
    return;
  }
  // The whole pages that `part` touches: a shared mapping of a file only ever reads it, so a page of its neighbours'
  // bytes let go too is read again just the same.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(part.data()) / page * page;
  const auto end = reinterpret_cast<std::uintptr_t>(part.data() + part.size());
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void MappedFile::release() noexcept {
  if (data_ != nullptr) {
    ::munmap(const_cast<char*>(data_), size_);
  }
  data_ = nullptr;
  size_ = 0;
}

namespace {

void sync_path(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) {
    throw IoError(path.string(), fmt::format("cannot open to flush: {}", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  // Some file systems cannot flush a folder; the rename itself is still atomic there.
  if (rc != 0 && !(directory && (saved == EINVAL || saved == EBADF))) {
    throw IoError(path.string(), fmt::format("cannot flush to disk: {}", std::strerror(saved)));
  }
}

}  // namespace

std::filesystem::path temporary_path_for(const std::filesystem::path& path) {
  static std::atomic<std::uint64_t> counter{0};
  return path.parent_path() /
         fmt::format(".{}.tmp-{}-{}", path.filename().string(), ::getpid(), counter.fetch_add(1));
}

void commit_file(const std::filesystem::path& temporary, const std::filesystem::path& path) {
  try {
    sync_path(temporary, false);
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
      throw IoError(path.string(), fmt::format("cannot replace with {}: {}", temporary.string(), ec.message()));
    }
    sync_path(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), true);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const auto temporary = temporary_path_for(path);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError(path.string(), fmt::format("cannot create {}: {}", temporary.string(), std::strerror(errno)));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw IoError(path.string(), fmt::format("cannot write {} bytes (disk full?)", bytes.size()));
    }
  }
  commit_file(temporary, path);
}

namespace {

constexpr std::string_view kSealMagic = "finfuse-sealed-1\n";
// magic, 16 hex digits of size, '\n', 64 hex digits of SHA-256, '\n'
constexpr std::size_t kSealHeader = kSealMagic.size() + 16 + 1 + 64 + 1;

}  // namespace

void write_sealed_file(const std::filesystem::path& path, std::string_view payload) {
  std::string bytes;
  bytes.reserve(kSealHeader + payload.size());
  bytes += kSealMagic;
  bytes += fmt::format("{:016x}\n{}\n", payload.size(), sha256_hex(payload));
  bytes += payload;
  write_file_atomically(path, bytes);
}

std::string read_sealed_file(const std::filesystem::path& path, std::string_view what, bool accept_unsealed) {
  std::string bytes = read_file(path, what);
  const std::string file = path.string();
  if (bytes.compare(0, kSealMagic.size(), kSealMagic) != 0) {
    if (accept_unsealed) {
      return bytes;
    }
    throw DataError(file, 0, "", fmt::format("not {} written by finfuse (no finfuse-sealed header)", what));
  }
  if (bytes.size() < kSealHeader || bytes[kSealMagic.size() + 16] != '\n' || bytes[kSealHeader - 1] != '\n') {
    throw DataError(file, 0, "", "truncated or damaged: the header is incomplete");
  }
  std::uint64_t size = 0;
  const char* digits = bytes.data() + kSealMagic.size();
  const auto [end, error] = std::from_chars(digits, digits + 16, size, 16);
  if (error != std::errc() || end != digits + 16) {
    throw DataError(file, 0, "", "damaged: the size in the header is not a number");
  }
  if (size != bytes.size() - kSealHeader) {
    throw DataError(file, 0, "",
                    fmt::format("truncated or damaged: the header announces {} bytes, the file holds {}", size,
                                bytes.size() - kSealHeader));
  }
  const std::string_view expected(bytes.data() + kSealMagic.size() + 17, 64);
  if (sha256_hex(std::string_view(bytes).substr(kSealHeader)) != expected) {
    throw DataError(file, 0, "", "damaged: its SHA-256 does not match the header");
  }
  bytes.erase(0, kSealHeader);  // in place: a checkpoint may be large
  return bytes;
}

}  // namespace finfuse
