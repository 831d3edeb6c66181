#include "finfuse/data/text_corpus.h"

#include "data/text_line.h"
#include "support/shared_data.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <algorithm>
#include <optional>
#include <sstream>

namespace finfuse::data {
namespace {

class TextCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("finfuse_text_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text) {
    const auto path = dir_ / "texts.jsonl";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(TextCorpusTest, FlatLayoutSortedPerEntity) {
  const auto path = write(
      R"({"symbol": "AAPL", "created_at": "2014-01-02T15:00:00Z", "text": "second"})" "\n"
      R"({"symbol": "AAPL", "created_at": "2014-01-02T09:00:00Z", "text": "first"})" "\r\n"
      "\n"
      R"({"symbol": "MSFT", "created_at": "@1388653200", "text": "other"})" "\n");
  const TextCorpus corpus = TextCorpus::load_jsonl(path);
  EXPECT_EQ(corpus.entities(), (std::vector<std::string>{"AAPL", "MSFT"}));
  ASSERT_EQ(corpus.texts("AAPL").size(), 2u);
  EXPECT_EQ(corpus.texts("AAPL")[0].text, "first");
  EXPECT_EQ(corpus.size(), 3);
  EXPECT_TRUE(corpus.texts("NONE").empty());
}

TEST_F(TextCorpusTest, NestedLayout) {
  const auto path = write(
      R"({"symbol": "AAPL", "date": "2014-01-02", "tweets": [{"created_at": "Thu Jan 02 14:00:00 +0000 2014", "user": "1", "text": "$ aapl up"}, {"created_at": "Thu Jan 02 13:00:00 +0000 2014", "user": "2", "text": "$ aapl down"}]})"
      "\n");
  const TextCorpus corpus = TextCorpus::load_jsonl(path, TextJsonlOptions::stocknet());
  ASSERT_EQ(corpus.texts("AAPL").size(), 2u);
  EXPECT_EQ(corpus.texts("AAPL")[0].text, "$ aapl down");
  EXPECT_EQ(corpus.texts("AAPL")[1].time, *parse_timestamp("2014-01-02T14:00:00Z"));
}

TEST_F(TextCorpusTest, WindowIsHalfOpenNewestFirstAndCapped) {
  TextCorpus corpus;
  for (int hour = 0; hour < 6; ++hour) {
    corpus.add("X", TextRecord{Timestamp::at(Date::from_ymd(2014, 1, 2), hour * 3600), fmt::format("h{}", hour)});
  }
  corpus.finalize();
  const auto day = Date::from_ymd(2014, 1, 2);
  const auto texts = corpus.window("X", Timestamp::at(day, 3600), Timestamp::at(day, 4 * 3600));
  ASSERT_EQ(texts.size(), 3u);  // 01:00, 02:00, 03:00; 04:00 is at the cutoff and excluded
  EXPECT_EQ(texts[0]->text, "h3");
  EXPECT_EQ(texts[2]->text, "h1");
  const auto capped = corpus.window("X", Timestamp::at(day), Timestamp::at(day, 24 * 3600), 2);
  ASSERT_EQ(capped.size(), 2u);
  EXPECT_EQ(capped[0]->text, "h5");
  EXPECT_TRUE(corpus.window("Y", Timestamp::at(day), Timestamp::at(day + 1)).empty());
  // The same windows as places among the entity's texts.
  const auto& all = corpus.texts("X");
  const auto span = TextCorpus::window_span(all, Timestamp::at(day, 3600), Timestamp::at(day, 4 * 3600));
  EXPECT_EQ(span.first, 1u);
  EXPECT_EQ(span.last, 4u);
  const auto capped_span = TextCorpus::window_span(all, Timestamp::at(day), Timestamp::at(day, 24 * 3600), 2);
  EXPECT_EQ(capped_span.first, 4u);
  EXPECT_EQ(capped_span.last, 6u);
  EXPECT_EQ(TextCorpus::window_span(all, Timestamp::at(day, 3600), Timestamp::at(day, 4 * 3600), 5).size(), 3u);
  EXPECT_EQ(TextCorpus::window_span(all, Timestamp::at(day, 4 * 3600), Timestamp::at(day, 3600)).size(), 0u);
  EXPECT_EQ(TextCorpus::window_span(all, Timestamp::at(day, 2 * 3600), Timestamp::at(day, 2 * 3600)).size(), 0u);
  EXPECT_EQ(TextCorpus::window_span({}, Timestamp::at(day), Timestamp::at(day + 1)).size(), 0u);
  corpus.add("X", TextRecord{Timestamp::at(day), "late"});
  EXPECT_THROW(corpus.window("X", Timestamp::at(day), Timestamp::at(day + 1)), Error);
}

TEST_F(TextCorpusTest, BadLinesNameFileLineAndField) {
  struct Case {
    std::string line;
    std::string field;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"symbol": "A", "created_at": "2014-01-02", "text": "ok")", "", "invalid JSON"},
      {R"(["not", "an", "object"])", "", "expected a JSON object"},
      {R"({"created_at": "2014-01-02", "text": "x"})", "symbol", "missing field"},
      {R"({"symbol": "A", "created_at": "yesterday", "text": "x"})", "created_at", "expected a timestamp"},
      {R"({"symbol": "A", "created_at": "2014-01-02", "text": 5})", "text", "expected a string, got number 5"},
      {R"({"symbol": "", "created_at": "2014-01-02", "text": "x"})", "symbol", "the entity is empty"},
      {R"({"symbol": "A", "created_at": "2014-01-02", "text": " \t "})", "text", "the text is empty"},
  };
  for (const auto& c : cases) {
    const auto path = write(R"({"symbol": "A", "created_at": "2014-01-01", "text": "fine"})" "\n" + c.line + "\n");
    try {
      TextCorpus::load_jsonl(path);
      ADD_FAILURE() << "accepted: " << c.line;
    } catch (const DataError& e) {
      EXPECT_EQ(e.record(), 2) << c.line;
      EXPECT_EQ(e.field(), c.field) << c.line;
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
  const auto nested = write(R"({"symbol": "A", "tweets": [{"created_at": "2014-01-02", "text": "a"}, {"text": "b"}]})" "\n");
  try {
    TextCorpus::load_jsonl(nested, TextJsonlOptions::stocknet());
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "tweets/1/created_at");
  }
}

TEST_F(TextCorpusTest, LenientModeSkipsWholeBadLines) {
  const auto path = write(
      R"({"symbol": "A", "tweets": [{"created_at": "2014-01-02", "text": "kept"}]})" "\n"
      R"({"symbol": "A", "tweets": [{"created_at": "2014-01-03", "text": "dropped"}, {"text": "no time"}]})" "\n"
      "{broken\n");
  TextJsonlOptions options = TextJsonlOptions::stocknet();
  options.errors = ErrorMode::lenient;
  const TextCorpus corpus = TextCorpus::load_jsonl(path, options);
  EXPECT_EQ(corpus.size(), 1);
  EXPECT_EQ(corpus.report().bad_records, 2);
  EXPECT_EQ(corpus.report().texts, 1);
}

TEST_F(TextCorpusTest, ManyLinesKeepFileOrderAndTheFirstErrorWins) {
  // 10,000 lines are parsed in blocks on several threads; the texts of an entity with equal times keep file order,
  // and with bad lines in two blocks strict mode reports the earlier one, lenient mode skips both.
  std::string text;
  for (int i = 1; i <= 10000; ++i) {
    if (i == 9000 || i == 5000) {
      text += "{\"symbol\": \"A\", \"created_at\": \"2015-01-01T00:00:00Z\"}\n";  // no text
      continue;
    }
    text += fmt::format("{{\"symbol\": \"{}\", \"created_at\": \"2015-01-01T00:00:00Z\", \"text\": \"t{}\"}}\n",
                        i % 2 == 0 ? "A" : "B", i);
  }
  const auto path = write(text);
  try {
    TextCorpus::load_jsonl(path);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 5000);
    EXPECT_EQ(e.field(), "text");
  }
  TextJsonlOptions lenient;
  lenient.errors = ErrorMode::lenient;
  const TextCorpus corpus = TextCorpus::load_jsonl(path, lenient);
  EXPECT_EQ(corpus.report().bad_records, 2);
  EXPECT_EQ(corpus.size(), 9998);
  const auto& a = corpus.texts("A");
  ASSERT_EQ(a.size(), 4998u);
  EXPECT_EQ(a.front().text, "t2");
  EXPECT_EQ(a.back().text, "t10000");
  for (std::size_t k = 1; k < a.size(); ++k) {
    ASSERT_LT(std::stoi(std::string(a[k - 1].text.substr(1))), std::stoi(std::string(a[k].text.substr(1))));
  }
}

TEST_F(TextCorpusTest, EncodingPolicy) {
  const auto path = write("{\"symbol\": \"A\", \"created_at\": \"2014-01-02\", \"text\": \"caf\xE9\"}\n");
  EXPECT_THROW(TextCorpus::load_jsonl(path), DataError);
  TextJsonlOptions options;
  options.encoding = EncodingPolicy::latin1_fallback;
  const TextCorpus corpus = TextCorpus::load_jsonl(path, options);
  EXPECT_EQ(corpus.texts("A")[0].text, "caf\xC3\xA9");
  EXPECT_TRUE(corpus.report().converted_from_latin1);
  EXPECT_EQ(TextJsonlOptions::from_config(Config(options.to_json())).to_json(), options.to_json());
  EXPECT_THROW(TextJsonlOptions::from_config(Config::parse(R"({"layout": "nestd"})")), ConfigError);
}

TEST_F(TextCorpusTest, TimesOnlyCorpusHasTheSameRecordsAndReadsItsTextsAgainInPlace) {
  // 9,000 texts of three entities in several blocks, out of time order, equal times among them, a nested line, a bad
  // line skipped in lenient mode: load_times() keeps load()'s times in the same order, and for_each_text() gives
  // every text once with the place load() gives it.
  std::string lines;
  for (int i = 0; i < 3000; ++i) {
    lines += fmt::format(R"({{"symbol": "S{}", "tweets": [{{"created_at": "@{}", "text": "text {}"}}, {{"created_at": "@{}", "text": "twin {}"}}]}})"
                         "\n",
                         i % 3, 1400000000 + (i * 7919) % 1000, i, 1400000000 + (i * 7919) % 1000, i);
    if (i == 1500) {
      lines += "{broken\n";
    }
    lines += fmt::format(R"({{"symbol": "S{}", "tweets": [{{"created_at": "@{}", "text": "more {}"}}]}})" "\n", i % 2,
                         1400000000 + i % 17, i);
  }
  const auto path = write(lines);
  TextJsonlOptions options = TextJsonlOptions::stocknet();
  options.errors = ErrorMode::lenient;
  const TextCorpus full = TextCorpus::load(path, options);
  const TextCorpus times = TextCorpus::load_times(path, options);
  EXPECT_TRUE(full.holds_texts());
  EXPECT_FALSE(times.holds_texts());
  EXPECT_EQ(times.size(), 9000);
  EXPECT_EQ(times.report().texts, full.report().texts);
  EXPECT_EQ(times.report().bad_records, 1);
  ASSERT_EQ(times.entities(), full.entities());
  std::map<std::string, std::vector<int>> seen;
  for (const auto& entity : full.entities()) {
    ASSERT_EQ(times.texts(entity).size(), full.texts(entity).size());
    for (std::size_t k = 0; k < full.texts(entity).size(); ++k) {
      EXPECT_EQ(times.texts(entity)[k].time, full.texts(entity)[k].time);
      EXPECT_TRUE(times.texts(entity)[k].text.empty());
    }
    seen[entity].assign(full.texts(entity).size(), 0);
  }
  std::size_t blocks = 0;
  times.for_each_text([&](const std::vector<TextCorpus::PlacedText>& block) {
    ++blocks;
    for (const auto& placed : block) {
      const std::string entity(placed.entity);
      ASSERT_EQ(placed.records, &times.texts(entity));
      ASSERT_LT(placed.place, full.texts(entity).size());
      EXPECT_EQ(full.texts(entity)[placed.place].text, placed.text) << entity << " " << placed.place;
      ++seen[entity][placed.place];
    }
  });
  EXPECT_GT(blocks, 1u);
  for (const auto& [entity, counts] : seen) {
    EXPECT_EQ(std::count(counts.begin(), counts.end(), 1), static_cast<std::ptrdiff_t>(counts.size())) << entity;
  }
  // The windows of both are the same places.
  for (const auto& entity : full.entities()) {
    const auto a = TextCorpus::window_span(full.texts(entity), Timestamp(1400000100), Timestamp(1400000500), 3);
    const auto b = TextCorpus::window_span(times.texts(entity), Timestamp(1400000100), Timestamp(1400000500), 3);
    EXPECT_EQ(a.first, b.first);
    EXPECT_EQ(a.last, b.last);
  }
  // Once the times are let go, the texts are placed as before, by their entity's (emptied) records.
  TextCorpus released = times;
  EXPECT_FALSE(released.times_released());
  released.release_times();
  EXPECT_TRUE(released.times_released());
  EXPECT_EQ(released.size(), 9000);
  std::map<std::string, std::vector<std::size_t>> places;
  times.for_each_text([&](const std::vector<TextCorpus::PlacedText>& block) {
    for (const auto& placed : block) {
      places[std::string(placed.entity)].push_back(placed.place);
    }
  });
  std::map<std::string, std::vector<std::size_t>> places_released;
  released.for_each_text([&](const std::vector<TextCorpus::PlacedText>& block) {
    for (const auto& placed : block) {
      const std::string entity(placed.entity);
      ASSERT_EQ(placed.records, &released.texts(entity));
      EXPECT_EQ(full.texts(entity)[placed.place].text, placed.text) << entity << " " << placed.place;
      places_released[entity].push_back(placed.place);
    }
  });
  EXPECT_EQ(places_released, places);
  for (const auto& entity : full.entities()) {
    EXPECT_TRUE(released.texts(entity).empty()) << entity;
  }
  TextCorpus holding = full;
  EXPECT_THROW(holding.release_times(), Error);

  // A corpus that holds its texts is not read again; a file that changed is refused by name.
  EXPECT_THROW(full.for_each_text([](const std::vector<TextCorpus::PlacedText>&) {}), Error);
  std::ofstream(path, std::ios::binary | std::ios::app)
      << R"({"symbol": "S0", "tweets": [{"created_at": "@1400000001", "text": "late"}]})" "\n";
  try {
    times.for_each_text([](const std::vector<TextCorpus::PlacedText>&) {});
    ADD_FAILURE() << "a changed file was read";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("changed since its texts' times were read"), std::string::npos) << e.what();
  }
}

TEST_F(TextCorpusTest, AChangedTimeIsToldWithTheTimesLetGo) {
  // The same size and modification time, one time changed: each text's time tells it while the times are held, the
  // digest of the entities and times in file order once they are let go.
  std::string lines;
  for (int i = 0; i < 50; ++i) {
    lines += fmt::format(R"({{"symbol": "S{}", "created_at": "@{}", "text": "text {}"}})" "\n", i % 4, 1400000000 + i, i);
  }
  const auto path = write(lines);
  const TextCorpus held = TextCorpus::load_times(path);
  TextCorpus released = TextCorpus::load_times(path);
  released.release_times();
  std::size_t read = 0;
  released.for_each_text([&](const std::vector<TextCorpus::PlacedText>& block) { read += block.size(); });
  EXPECT_EQ(read, 50U);
  const auto written = std::filesystem::last_write_time(path);
  std::string changed = lines;
  changed.replace(changed.find("@1400000030"), 11, "@1400000031");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << changed;
  std::filesystem::last_write_time(path, written);
  for (const TextCorpus* corpus : {&held, static_cast<const TextCorpus*>(&released)}) {
    try {
      corpus->for_each_text([](const std::vector<TextCorpus::PlacedText>&) {});
      ADD_FAILURE() << "a changed file was read, times released: " << corpus->times_released();
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(corpus->times_released() ? "entities or times are not the ones they were"
                                                                    : "text 31 of entity 'S2' is not the one it was"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(TextCorpusStorage, TextsOutliveTheirSourcesAndCopiesHoldTheirOwn) {
  // Enough texts to fill several of the corpus's blocks, one longer than a block, and texts added out of time order.
  std::vector<std::string> expected;
  std::optional<TextCorpus> original(std::in_place);
  const Date day = Date::from_ymd(2014, 1, 2);
  for (int i = 0; i < 30000; ++i) {
    std::string text = fmt::format("text {} {}", i, std::string(static_cast<std::size_t>(i % 97), 'x'));
    if (i == 12345) {
      text.assign(std::size_t{3} << 20, 'L');
    }
    original->add(i % 2 == 0 ? "A" : "B", TextRecord{Timestamp::at(day, 30000 - i), text});
    expected.push_back(std::move(text));
  }
  original->finalize();
  TextCorpus copy = *original;
  original.reset();
  ASSERT_EQ(copy.size(), 30000);
  for (const std::string entity : {"A", "B"}) {
    const auto& texts = copy.texts(entity);
    ASSERT_EQ(texts.size(), 15000u);
    for (std::size_t k = 0; k < texts.size(); ++k) {
      const int i = 30000 - static_cast<int>(texts[k].time.seconds() - Timestamp::at(day).seconds());
      EXPECT_EQ(texts[k].text, expected[static_cast<std::size_t>(i)]) << entity << " " << k;
      EXPECT_EQ(i % 2 == 0 ? "A" : "B", entity);
    }
  }
  TextCorpus assigned;
  assigned = copy;
  copy = TextCorpus();
  EXPECT_EQ(assigned.window("A", Timestamp::at(day), Timestamp::at(day, 3)).at(0)->text, expected[29998]);
  EXPECT_EQ(assigned.texts("B")[15000 - 1 - 12345 / 2].text.size(), std::size_t{3} << 20);
}

TEST_F(TextCorpusTest, AUtf8ByteOrderMarkIsSkippedAndOthersAreRefusedInEveryMode) {
  const std::string line = R"({"symbol": "A", "created_at": "2014-01-02", "text": "up"})";
  EXPECT_EQ(TextCorpus::load_jsonl(write("\xEF\xBB\xBF" + line + "\n")).texts("A")[0].text, "up");
  TextJsonlOptions lenient;
  lenient.errors = ErrorMode::lenient;
  for (const std::string& head : {std::string("\xFF\xFE", 2), std::string("\xFE\xFF", 2), std::string("\xFF\xFE\0\0", 4)}) {
    try {
      TextCorpus::load_jsonl(write(head + line + "\n"), lenient);
      ADD_FAILURE() << "accepted a byte order mark of " << head.size() << " bytes";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(head.size() == 4 ? "is UTF-32 encoded (byte order mark); convert it to UTF-8"
                                                             : "is UTF-16 encoded (byte order mark); convert it to UTF-8"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(TextCorpusRealData, StockNetTweets) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "stocknet/tweets.jsonl");
  const TextCorpus corpus = TextCorpus::load_jsonl(path, TextJsonlOptions::stocknet());
  EXPECT_EQ(corpus.report().bad_records, 0);
  EXPECT_EQ(corpus.report().texts, 106338);
  EXPECT_EQ(corpus.entities().size(), 87u);
  const auto& aapl = corpus.texts("AAPL");
  ASSERT_FALSE(aapl.empty());
  EXPECT_GE(aapl.front().time, *parse_timestamp("2013-12-31T00:00:00Z"));
  EXPECT_LT(aapl.back().time, *parse_timestamp("2016-01-01T00:00:00Z"));
}

// The fast path (simdjson) must read a line exactly as the reference path (nlohmann_json) does, or leave it to it.
void expect_same_as_reference(const std::string& raw, const TextJsonlOptions& options, std::int64_t line) {
  const auto fast = internal::parse_text_line_fast(raw, options);
  const auto reference = internal::parse_text_line_reference(raw, 0, line, "texts.jsonl", options);
  if (!fast) {
    return;
  }
  ASSERT_FALSE(reference.error) << "line " << line << ": the fast path accepted what the reference refuses: " << raw;
  ASSERT_EQ(fast->entity, reference.entity) << "line " << line;
  ASSERT_EQ(fast->texts.size(), reference.texts.size()) << "line " << line;
  for (std::size_t i = 0; i < fast->texts.size(); ++i) {
    ASSERT_EQ(fast->texts[i].time, reference.texts[i].time) << "line " << line << ", text " << i;
    ASSERT_EQ(fast->texts[i].text, reference.texts[i].text) << "line " << line << ", text " << i;
  }
  ASSERT_FALSE(fast->converted);
}

TEST(TextLineFastPath, AgreesWithTheReferenceOrLeavesTheLineToIt) {
  TextJsonlOptions flat;
  TextJsonlOptions nested = TextJsonlOptions::stocknet();
  const std::vector<std::string> flat_lines = {
      R"({"symbol": "AAPL", "created_at": "2014-01-02T15:00:00Z", "text": "plain"})",
      R"({"symbol":"A","created_at":1388653200,"text":"integer time"})",
      R"({"symbol": "A", "created_at": "@1388653200", "text": "esc\"apes \\ \n \u00e9 \ud83d\ude00 \/"})",
      R"({"sym\u0062ol": "A", "created_at": "2014-01-02", "text": "escaped key"})",
      "{\"symbol\": \"\u00c5\", \"created_at\": \"2014-01-02\", \"text\": \"caf\u00e9 \u65e5\u672c\"}",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "x", "extra": {"deep": [1, 2.5e300, null, true]}})",
      R"(  {"symbol": "A", "created_at": "2014-01-02", "text": "spaces around"}   )",
      // Refused or left to the reference path:
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "   "})",
      R"({"symbol": "", "created_at": "2014-01-02", "text": "empty entity"})",
      R"({"symbol": "A", "created_at": "yesterday", "text": "bad time"})",
      R"({"symbol": "A", "created_at": 1.5, "text": "float time"})",
      R"({"symbol": "A", "created_at": 18446744073709551615, "text": "unsigned time"})",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "dup", "text": "dup"})",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "x", "o": {"k": 1, "k": 2}})",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "x", "big": 1e999})",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "x", "big": 123456789012345678901234567890})",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": 5})",
      R"({"symbol": "A", "created_at": "2014-01-02"})",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "trailing"} x)",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "truncated)",
      R"(["symbol", "A"])",
      "{\"symbol\": \"A\", \"created_at\": \"2014-01-02\", \"text\": \"caf\xE9\"}",
      "{\"symbol\": \"A\", \"created_at\": \"2014-01-02\", \"text\": \"tab\there\"}",
      R"({"symbol": "A", "created_at": "2014-01-02", "text": "lone \ud83d surrogate"})",
  };
  std::int64_t line = 0;
  std::int64_t accepted = 0;
  for (const auto& raw : flat_lines) {
    ++line;
    expect_same_as_reference(raw, flat, line);
    accepted += internal::parse_text_line_fast(raw, flat).has_value() ? 1 : 0;
  }
  EXPECT_EQ(accepted, 7) << "the first seven lines are valid and must take the fast path";

  const std::vector<std::string> nested_lines = {
      R"({"symbol": "A", "date": "2014-01-02", "tweets": [{"created_at": "Wed Jan 01 03:59:03 +0000 2014", "text": "a"}, {"created_at": "Wed Jan 01 01:52:31 +0000 2014", "text": "b"}]})",
      R"({"symbol": "A", "tweets": []})",
      R"({"symbol": "A", "tweets": [{"created_at": "Wed Jan 01 03:59:03 +0000 2014", "text": "a"}, 7]})",
      R"({"symbol": "A", "tweets": {"created_at": "Wed Jan 01 03:59:03 +0000 2014", "text": "a"}})",
      R"({"symbol": "A", "tweets": [{"created_at": "Wed Jan 01 03:59:03 +0000 2014", "text": "a", "user": "1", "user": "2"}]})",
  };
  for (const auto& raw : nested_lines) {
    ++line;
    expect_same_as_reference(raw, nested, line);
  }
  ASSERT_TRUE(internal::parse_text_line_fast(nested_lines[0], nested).has_value());
  EXPECT_FALSE(internal::parse_text_line_fast(nested_lines[2], nested).has_value());
  EXPECT_FALSE(internal::parse_text_line_fast(nested_lines[4], nested).has_value());

  // Nesting deeper than simdjson's 1,024 levels is left to the reference path, which reads it.
  const std::string deep = R"({"symbol": "A", "created_at": "2014-01-02", "text": "deep", "d": )" +
                           std::string(2000, '[') + std::string(2000, ']') + "}";
  EXPECT_FALSE(internal::parse_text_line_fast(deep, flat).has_value());
  EXPECT_FALSE(internal::parse_text_line(deep, 0, 1, "texts.jsonl", flat).error);
}

TEST(TextLineFastPath, AgreesWithTheReferenceOnEveryStockNetLine) {
  FINFUSE_REQUIRE_SHARED_DATA(path, "stocknet/tweets.jsonl");
  std::ifstream in(path, std::ios::binary);
  std::string raw;
  std::int64_t line = 0;
  std::int64_t fast = 0;
  const auto options = TextJsonlOptions::stocknet();
  while (std::getline(in, raw)) {
    ++line;
    expect_same_as_reference(raw, options, line);
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
    fast += internal::parse_text_line_fast(raw, options).has_value() ? 1 : 0;
  }
  EXPECT_EQ(fast, line) << "every StockNet line is valid and must take the fast path";
}

}  // namespace
}  // namespace finfuse::data
