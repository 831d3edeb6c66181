// Timestamped texts per entity (news, tweets), read from JSON Lines or Parquet, for as-of text windows: the texts an
// entity had before a cutoff, newest first.
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/bad_records.h"
#include "finfuse/data/encoding.h"
#include "finfuse/data/time.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse::data {

/// A text and its publication time. The corpus keeps the bytes of all its texts in a few large blocks; the records it
/// returns view them, and stay valid while the corpus lives. add() copies the text it is given.
struct TextRecord {
  Timestamp time;
  std::string_view text;
};

/// How a JSON Lines text file is laid out.
struct TextJsonlOptions {
#define FINFUSE_TEXT_JSONL_FIELDS(F)                                                                              \
  F(std::string, layout, "flat", ::finfuse::FieldRule::one_of({"flat", "nested"}),                                \
    "flat: one text per line; nested: one entity-day per line with a list of texts, as StockNet's tweets")       \
  F(std::string, entity_field, "symbol", {}, "the entity's field")                                                \
  F(std::string, time_field, "created_at", {},                                                                    \
    "the publication time's field: ISO 8601 with an offset, Twitter's format, or @unix_seconds")                  \
  F(std::string, text_field, "text", {}, "the text's field")                                                      \
  F(std::string, list_field, "tweets", {}, "nested: the list of texts")                                           \
  F(EncodingPolicy, encoding, EncodingPolicy::require_utf8, {}, "input that is not valid UTF-8: rejected, or read as Latin-1") \
  F(ErrorMode, errors, ErrorMode::strict, {}, "malformed lines: stop at the first (strict) or skip and count them (lenient)") \
  F(std::int64_t, max_line_bytes, std::int64_t{64} << 20, ::finfuse::Range::positive(),                           \
    "a longer line is refused before it is parsed")                                                               \
  F(bool, hold_texts, true, {},                                                                                   \
    "dataset builds: hold every text in memory; false holds their times only and reads the file again to fit the " \
    "vocabulary and encode the texts (three more reads, for corpora too large to hold; text_layout per_text)")
  FINFUSE_FIELDS(TextJsonlOptions, FINFUSE_TEXT_JSONL_FIELDS)
#undef FINFUSE_TEXT_JSONL_FIELDS

  /// The layout of StockNet's preprocessed tweets.
  static TextJsonlOptions stocknet();
};


struct TextLoadReport {
  std::int64_t lines = 0;
  std::int64_t texts = 0;
  std::int64_t bad_records = 0;
  bool converted_from_latin1 = false;
};

class TextCorpus {
 public:
  TextCorpus() = default;
  /// A copy holds its own copies of the texts.
  TextCorpus(const TextCorpus& other);
  TextCorpus& operator=(const TextCorpus& other);
  TextCorpus(TextCorpus&&) = default;
  TextCorpus& operator=(TextCorpus&&) = default;
  ~TextCorpus() = default;

  /// Reads a JSON Lines file. A line that is not valid JSON, lacks a field, has an unparseable time, or a text that
  /// is not a string or is empty is a DataError (file, line, field); lenient mode skips such lines whole.
  static TextCorpus load_jsonl(const std::filesystem::path& path, const TextJsonlOptions& options = {});
  /// Reads texts from a Parquet file (data/parquet.h), one text per row (layout "flat"): the entity, time and text
  /// columns named by the options; times are Parquet timestamps or text in the formats above. The same checks and
  /// messages as load_jsonl(), naming the row.
  static TextCorpus load_parquet(const std::filesystem::path& path, const TextJsonlOptions& options = {});
  /// load_parquet() for a .parquet or .pq file, load_jsonl() for anything else.
  static TextCorpus load(const std::filesystem::path& path, const TextJsonlOptions& options = {});
  /// Reads the texts' entities and publication times only, not their bytes, from either kind of file, with the same
  /// checks, messages and report as load(): texts() gives records with an empty text, in time order, and
  /// for_each_text() reads the texts again. For builds that should not hold every text at once.
  static TextCorpus load_times(const std::filesystem::path& path, const TextJsonlOptions& options = {});
  /// Whether the records hold their texts (false after load_times()).
  bool holds_texts() const { return !times_only_; }

  /// A text read again by for_each_text(): its entity, that entity's records (texts(entity)), its place among them.
  struct PlacedText {
    std::string_view entity;
    const std::vector<TextRecord>* records = nullptr;
    std::size_t place = 0;
    std::string_view text;
  };
  /// Reads the file of load_times() again, in file order, calling `visit` with its texts a block at a time (the views
  /// valid during the call). IoError when the file no longer holds the texts it held (its size, time, a text's
  /// entity or time, the number of texts or of bad records); finfuse::Error for a corpus that holds its texts.
  void for_each_text(const std::function<void(const std::vector<PlacedText>&)>& visit) const;
  /// For a corpus read by load_times(), once its reader has what it needs from the times (the text windows): lets
  /// them go (24 bytes a text). texts() is then empty for every entity, and the windows are empty too (size() still
  /// counts the texts); for_each_text()
  /// still places every text as before (PlacedText::records names its entity's emptied records, PlacedText::place is
  /// its place among them as it was), and tells a changed file by a digest of the texts' entities and times in file
  /// order, taken when they were first read, instead of each text's time (the IoError then comes at the end of the
  /// reading). finfuse::Error for a corpus that holds its texts.
  void release_times();
  /// Whether release_times() was called.
  bool times_released() const { return times_released_; }

  /// Adds a copy of a text; call finalize() before querying.
  void add(const std::string& entity, TextRecord record);
  /// Sorts every entity's texts by time (stable, so equal times keep file order).
  void finalize();

  std::vector<std::string> entities() const;
  /// All texts of `entity` in time order (empty for an unknown entity).
  const std::vector<TextRecord>& texts(const std::string& entity) const;
  std::int64_t size() const;

  /// The texts of `entity` with start <= time < cutoff, newest first, at most `max_count` (0 = no cap).
  std::vector<const TextRecord*> window(const std::string& entity, Timestamp start, Timestamp cutoff,
                                        std::size_t max_count = 0) const;

  /// Where a window lies among one entity's texts: [first, last) in texts(entity), the newest at last - 1.
  struct Span {
    std::size_t first = 0;
    std::size_t last = 0;
    std::size_t size() const { return last - first; }
  };
  /// The window of window() as places in `texts` (one entity's texts, in time order), without allocating: the texts
  /// with start <= time < cutoff, the newest `max_count` of them (0 = no cap).
  static Span window_span(const std::vector<TextRecord>& texts, Timestamp start, Timestamp cutoff,
                          std::size_t max_count = 0);

  const TextLoadReport& report() const { return report_; }

 private:
  /// The end of a load: sorts (unless the records were made in order: finalized_), logs what was read (`unit`: "line"
  /// or "row") and the bad records skipped.
  void finish(const std::string& file, const char* unit, const BadRecordLog& bad);
  /// A copy of `text` in the corpus's blocks.
  std::string_view keep(std::string_view text);
  /// load_parquet() or load_jsonl().
  static TextCorpus load_whole(const std::filesystem::path& path, const TextJsonlOptions& options, bool parquet);
  /// The records of `entity`, added when it has none.
  std::vector<TextRecord>& records_of(std::string_view entity);

  std::map<std::string, std::vector<TextRecord>, std::less<>> texts_;
  /// The texts' bytes, one after another in blocks that never move (a text longer than a block gets its own).
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t block_size_ = 0;
  std::size_t block_used_ = 0;
  bool finalized_ = true;
  TextLoadReport report_;
  // load_times(): the file and options to read the texts again, and the place in texts(entity) of each text in file
  // order; the file's size and time when it was read.
  bool times_only_ = false;
  std::filesystem::path source_;
  TextJsonlOptions options_;
  std::vector<std::int32_t> place_of_;
  /// A digest of the texts' entities and times in file order, and each entity's number of texts once its records
  /// are let go (release_times()).
  std::uint64_t digest_ = 0;
  bool times_released_ = false;
  std::map<std::string, std::size_t, std::less<>> released_sizes_;
  std::uintmax_t source_bytes_ = 0;
  std::filesystem::file_time_type source_time_;
};

}  // namespace finfuse::data
