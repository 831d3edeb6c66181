// Reading whole input files with the errors finfuse promises: the path and what is wrong, never a crash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace finfuse {

/// IoError unless `path` exists ("no such file") and is not a directory ("is a directory, expected <what>"): the
/// messages of read_file(), MappedFile and the readers that read a file a block at a time.
void require_file(const std::filesystem::path& path, std::string_view what);

/// The size of `path` in bytes after require_file(). IoError when it cannot be determined; DataError when it has more
/// than `max_bytes` bytes (negative: no limit), naming the limit `limit_name`: the checks read_file() and the readers
/// that read a file a block at a time make before reading anything.
std::uintmax_t checked_file_size(const std::filesystem::path& path, std::string_view what, std::int64_t max_bytes = -1,
                                 std::string_view limit_name = {});

/// The contents of `path`. IoError when it is missing ("no such file"), a directory ("is a directory, expected
/// <what>") or unreadable; DataError when it has more than `max_bytes` bytes (negative: no limit), naming the limit
/// `limit_name`, before anything is read.
std::string read_file(const std::filesystem::path& path, std::string_view what = "a file", std::int64_t max_bytes = -1,
                      std::string_view limit_name = {});

/// A file's contents mapped read-only into memory instead of read into a string: the pages come from the page cache
/// as they are touched, are shared by every process that maps the same file, and count as the file's rather than as
/// the process's own memory. IoError as read_file() (and when the mapping fails); an empty file maps to no bytes.
/// Movable, not copyable; unmapped when destroyed. The file must not be truncated while mapped.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const std::filesystem::path& path, std::string_view what = "a file");
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  /// Whether `part` lies within bytes().
  bool contains(std::string_view part) const {
    const auto at = reinterpret_cast<std::uintptr_t>(part.data());
    const auto base = reinterpret_cast<std::uintptr_t>(data_);
    return data_ != nullptr && at >= base && part.size() <= size_ && at - base <= size_ - part.size();
  }
  /// Lets the process's resident pages of `part` (within bytes(), else nothing happens) go: they stop counting as its
  /// memory and are read again from the page cache or the file when touched. The bytes do not change.
  void drop_pages(std::string_view part) const noexcept;

 private:
  void release() noexcept;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Writes `bytes` to `path` so that a reader (or a crash at any instant) sees either the old file or the whole new
/// one: a temporary file in the same folder is written, flushed to disk, then renamed over `path`, and the folder
/// entry is flushed. IoError naming the path on any failure (the temporary file is removed).
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Moves a completely written `temporary` over `path` the same way (for files written by other code, such as a
/// LibTorch archive): flush, rename, flush the folder.
void commit_file(const std::filesystem::path& temporary, const std::filesystem::path& path);

/// Writes `payload` atomically behind a header holding its size and SHA-256 ("finfuse-sealed-1"), so that
/// read_sealed_file() can tell a complete, undamaged file from a truncated or corrupted one before anything parses the
/// payload (checkpoints: LibTorch's archive reader is not made for damaged input).
void write_sealed_file(const std::filesystem::path& path, std::string_view payload);

/// The payload of a sealed file. DataError naming the file when the header is malformed, the size differs or the
/// checksum does not match; IoError as read_file(). A file without the header (written before sealing existed) is
/// returned whole, unverified, when `accept_unsealed` is set.
std::string read_sealed_file(const std::filesystem::path& path, std::string_view what, bool accept_unsealed = true);

/// A temporary name next to `path`, unique to this process and call.
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

}  // namespace finfuse
