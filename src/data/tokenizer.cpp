// Tokenizers at work: splitting, WordPiece encoding into ids, batches, decoding, and the vocabulary as JSON and
// vocab.txt. Training is in tokenizer_training.cpp.
#include "finfuse/data/tokenizer.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"

#include "word_splitter.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <limits>
#include <unordered_map>

namespace finfuse::data {

using namespace detail;

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> words;
  visit_words(text, options_, [&](std::string_view word) {
    words.emplace_back(word);
    return true;
  });
  return words;
}
Tokenizer Tokenizer::load_wordpiece(const TokenizerOptions& options) {
  const std::filesystem::path path = options.vocab_file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw IoError(path.string(), "no such file (WordPiece vocabulary)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError(path.string(), "cannot open for reading");
  }
  Tokenizer tokenizer;
  tokenizer.options_ = options;
  tokenizer.options_.kind = "wordpiece";
  std::unordered_map<std::string, std::int64_t> seen;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (number == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      line.erase(0, 3);
    }
    if (line.empty()) {
      throw DataError(path.string(), number, "", "empty token in the vocabulary");
    }
    if (!seen.emplace(line, number).second) {
      throw DataError(path.string(), number, "",
                      fmt::format("duplicate token '{}' (first at line {})", line, seen[line]));
    }
    tokenizer.tokens_.push_back(line);
  }
  tokenizer.index_vocabulary(path.string());
  return tokenizer;
}

void Tokenizer::save_vocab(const std::filesystem::path& path) const {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    for (const auto& token : tokens_) {
      out << token << '\n';
    }
    out.flush();
    if (!out) {
      throw IoError(tmp.string(), "cannot write the vocabulary");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    throw IoError(path.string(), "cannot move the vocabulary into place: " + ec.message());
  }
}

void Tokenizer::index_vocabulary(const std::string& where) {
  FINFUSE_CHECK(tokens_.size() < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                "a vocabulary of ", tokens_.size(), " tokens is too large");
  std::size_t capacity = 16;
  while (capacity < tokens_.size() * 2) {
    capacity *= 2;
  }
  slots_.assign(capacity, Slot{});
  const auto mask = capacity - 1;
  for (std::size_t id = 0; id < tokens_.size(); ++id) {
    const auto h = hash_word(tokens_[id]);
    auto i = static_cast<std::size_t>(h) & mask;
    while (slots_[i].id >= 0) {
      i = (i + 1) & mask;
    }
    slots_[i] = Slot{static_cast<std::int32_t>(id), static_cast<std::uint32_t>(h >> 32)};
  }
  const auto require = [&](const char* token) {
    const auto id = find(token);
    if (id < 0) {
      throw DataError(where, 0, "", fmt::format("the vocabulary has no {} token", token));
    }
    return id;
  };
  pad_id_ = require(kPad);
  unk_id_ = require(kUnk);
  if (options_.add_special_tokens) {
    cls_id_ = require(kCls);
    sep_id_ = require(kSep);
  }
}

std::int64_t Tokenizer::find(std::string_view token) const {
  if (slots_.empty()) {
    return -1;
  }
  const auto mask = slots_.size() - 1;
  const auto h = hash_word(token);
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (auto i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
    const auto& slot = slots_[i];
    if (slot.id < 0) {
      return -1;
    }
    if (slot.tag == tag && std::string_view(tokens_[static_cast<std::size_t>(slot.id)]) == token) {
      return slot.id;
    }
  }
}

std::int64_t Tokenizer::id_of(std::string_view token) const {
  const auto id = find(token);
  return id < 0 ? unk_id_ : id;
}

std::size_t Tokenizer::wordpiece(std::string_view word, std::int32_t* out, std::size_t budget) const {
  if (budget == 0) {
    return 0;
  }
  std::array<std::size_t, kMaxWordPieceChars + 1> offsets;  // byte offsets of the code points, plus the size
  std::size_t chars = 0;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) {
      if (chars == kMaxWordPieceChars) {
        out[0] = static_cast<std::int32_t>(unk_id_);  // BERT leaves very long words unknown
        return 1;
      }
      offsets[chars++] = i;
    }
  }
  offsets[chars] = word.size();
  std::array<std::int32_t, kMaxWordPieceChars> pieces;
  std::size_t count = 0;
  std::size_t start = 0;
  std::string candidate;
  while (start < chars) {
    std::size_t end = chars;
    std::int64_t found = -1;
    while (end > start) {
      candidate = start > 0 ? "##" : "";
      candidate.append(word.substr(offsets[start], offsets[end] - offsets[start]));
      found = find(candidate);
      if (found >= 0) {
        break;
      }
      --end;
    }
    if (found < 0) {
      out[0] = static_cast<std::int32_t>(unk_id_);  // one unknown piece makes the whole word unknown, as in BERT
      return 1;
    }
    pieces[count++] = static_cast<std::int32_t>(found);
    start = end;
  }
  count = std::min(count, budget);
  std::copy_n(pieces.begin(), count, out);
  return count;
}

std::int64_t Tokenizer::encode_into(std::string_view text, std::int32_t* out) const {
  const bool specials = options_.add_special_tokens;
  const auto budget = static_cast<std::size_t>(options_.max_length - (specials ? 2 : 0));
  std::size_t n = 0;
  if (specials) {
    *out++ = static_cast<std::int32_t>(cls_id_);
  }
  const bool wordpieces = options_.kind == "wordpiece";
  visit_words(text, options_, [&](std::string_view word) {
    if (n >= budget) {
      return false;
    }
    if (wordpieces) {
      n += wordpiece(word, out + n, budget - n);
    } else {
      out[n++] = static_cast<std::int32_t>(id_of(word));
    }
    return true;
  });
  if (specials) {
    out[n] = static_cast<std::int32_t>(sep_id_);
  }
  return static_cast<std::int64_t>(n) + (specials ? 2 : 0);
}

std::vector<std::int32_t> Tokenizer::all_ids(std::string_view text) const {
  std::vector<std::int32_t> ids;
  std::array<std::int32_t, kMaxWordPieceChars> pieces;
  const bool wordpieces = options_.kind == "wordpiece";
  visit_words(text, options_, [&](std::string_view word) {
    if (wordpieces) {
      const auto n = wordpiece(word, pieces.data(), pieces.size());
      ids.insert(ids.end(), pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(n));
    } else {
      ids.push_back(static_cast<std::int32_t>(id_of(word)));
    }
    return true;
  });
  return ids;
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second) const {
  const bool specials = options_.add_special_tokens;
  const auto room = static_cast<std::size_t>(std::max<std::int64_t>(0, options_.max_length - (specials ? 3 : 0)));
  auto a = all_ids(first);
  auto b = all_ids(second);
  if (a.size() + b.size() > room) {
    // Hugging Face's longest-first rule (tokenizers, utils/truncation.rs), in terms of the shorter (n1) and the
    // longer (n2) text.
    const bool swapped = a.size() > b.size();
    std::size_t n1 = swapped ? b.size() : a.size();
    std::size_t n2 = n1 > room ? n1 : std::max(n1, room - n1);
    if (n1 + n2 > room) {
      n1 = room / 2;
      n2 = n1 + room % 2;
    }
    a.resize(std::min(a.size(), swapped ? n2 : n1));
    b.resize(std::min(b.size(), swapped ? n1 : n2));
  }
  Encoding encoding;
  const auto add = [&](std::int64_t id, std::int64_t type) {
    encoding.ids.push_back(id);
    encoding.types.push_back(type);
  };
  if (specials) {
    add(cls_id_, 0);
  }
  for (const auto id : a) {
    add(id, 0);
  }
  if (specials) {
    add(sep_id_, 0);
  }
  for (const auto id : b) {
    add(id, 1);
  }
  if (specials) {
    add(sep_id_, 1);
  }
  return encoding;
}

std::vector<std::int64_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(options_.max_length));
  ids.resize(static_cast<std::size_t>(encode_into(text, ids.data())));
  return std::vector<std::int64_t>(ids.begin(), ids.end());
}

EncodedBatch Tokenizer::encode_batch(const std::vector<std::string>& texts) const {
  EncodedBatch batch;
  batch.batch = static_cast<std::int64_t>(texts.size());
  batch.length = options_.max_length;
  batch.ids.assign(static_cast<std::size_t>(batch.batch * batch.length), pad_id_);
  batch.mask.assign(batch.ids.size(), 0);
  for (std::size_t b = 0; b < texts.size(); ++b) {
    const auto ids = encode(texts[b]);
    const auto row = b * static_cast<std::size_t>(batch.length);
    std::copy(ids.begin(), ids.end(), batch.ids.begin() + static_cast<std::ptrdiff_t>(row));
    std::fill_n(batch.mask.begin() + static_cast<std::ptrdiff_t>(row), ids.size(), 1);
  }
  return batch;
}

std::vector<std::string> Tokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::vector<std::string> out;
  for (auto id : ids) {
    FINFUSE_CHECK(id >= 0 && id < vocab_size(), "Tokenizer::decode: id ", id, " is outside the vocabulary of ",
                  vocab_size());
    out.push_back(tokens_[static_cast<std::size_t>(id)]);
  }
  return out;
}

Json Tokenizer::to_json() const { return Json{{"options", options_.to_json()}, {"tokens", tokens_}}; }

Tokenizer Tokenizer::from_json(const Config& state) {
  Tokenizer tokenizer;
  tokenizer.options_ = TokenizerOptions::from_config(state.child("options"));
  // Tokenizers saved before "normalization" existed normalised ASCII only: they keep doing so, so that a bundle's
  // served ids stay those it was trained with.
  if (!state.child("options").contains("normalization")) {
    tokenizer.options_.normalization = "ascii";
  }
  tokenizer.tokens_ = state.get<std::vector<std::string>>("tokens");
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < tokenizer.tokens_.size(); ++i) {
    if (!seen.emplace(tokenizer.tokens_[i], i).second) {
      state.child("tokens")[i].fail(fmt::format("duplicate token '{}'", tokenizer.tokens_[i]));
    }
  }
  try {
    tokenizer.index_vocabulary(state.source());
  } catch (const DataError& e) {
    state.fail_at("tokens", e.reason());
  }
  state.reject_unknown_keys();
  return tokenizer;
}

void TokenizerOptions::validate(const Config& config) const {
  if (add_special_tokens && max_length < 3) {
    config.fail_at("max_length", "must be >= 3 to hold [CLS], a token and [SEP]");
  }
}

}  // namespace finfuse::data
