#include "finfuse/data/csv.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

namespace finfuse::data {
namespace {

std::vector<std::vector<std::string>> read_all(CsvReader& reader, std::vector<std::int64_t>* lines = nullptr) {
  std::vector<std::vector<std::string>> rows;
  CsvRecord record;
  while (reader.next(record)) {
    rows.emplace_back(record.fields.begin(), record.fields.end());
    if (lines != nullptr) {
      lines->push_back(record.line);
    }
  }
  return rows;
}

TEST(Csv, QuotedFieldsEscapesAndLineNumbers) {
  auto reader = CsvReader::from_string(
      "id,text,value\r\n"
      "1,plain,2.5\r\n"
      "\r\n"
      "2,\"with, comma\",3\n"
      "3,\"say \"\"hi\"\"\",4\n"
      "4,\"two\nlines\",5\n"
      "5,,\n",
      "t.csv");
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"id", "text", "value"}));
  std::vector<std::int64_t> lines;
  const auto rows = read_all(reader, &lines);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "plain", "2.5"}));
  EXPECT_EQ(rows[1][1], "with, comma");
  EXPECT_EQ(rows[2][1], "say \"hi\"");
  EXPECT_EQ(rows[3][1], "two\nlines");
  EXPECT_EQ(rows[4], (std::vector<std::string>{"5", "", ""}));
  EXPECT_EQ(lines, (std::vector<std::int64_t>{2, 4, 5, 6, 8}));
}

TEST(Csv, NoTrailingNewlineAndTrailingDelimiter) {
  auto reader = CsvReader::from_string("a,b\n1,", "t.csv");
  const auto rows = read_all(reader);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", ""}));
}

TEST(Csv, ByteOrderMarkIsRemovedFromTheHeader) {
  auto reader = CsvReader::from_string("\xEF\xBB\xBFsymbol,date\nA,2014-01-02\n", "bom.csv");
  EXPECT_EQ(reader.require_column("symbol"), 0u);
}

TEST(Csv, OtherDelimiters) {
  CsvOptions options;
  options.delimiter = ';';
  auto reader = CsvReader::from_string("a;b\n\"x;y\";2\n", "semi.csv", options);
  EXPECT_EQ(read_all(reader)[0], (std::vector<std::string>{"x;y", "2"}));
  const CsvOptions tab = CsvOptions::from_config(Config::parse(R"({"delimiter": "\\t"})"));
  EXPECT_EQ(tab.delimiter, '\t');
  EXPECT_EQ(CsvOptions::from_config(Config(tab.to_json())).delimiter, '\t');
  EXPECT_THROW(CsvOptions::from_config(Config::parse(R"({"delimiter": ";;"})")), ConfigError);
  EXPECT_THROW(CsvOptions::from_config(Config::parse(R"({"delimiter": ",", "quote": ","})")), ConfigError);
}

TEST(Csv, HeaderlessFileWithNamedColumnsAndNoQuoting) {
  // The Financial PhraseBank layout: "sentence@label", no header, quotes are ordinary text.
  const CsvOptions options = CsvOptions::from_config(Config::parse(
      R"({"delimiter": "@", "quote": "", "header": false, "column_names": ["sentence", "sentiment"]})"));
  EXPECT_EQ(options.quote, '\0');
  auto reader = CsvReader::from_string("He said \"up\" , twice .@positive\n\"Flat @neutral\n", "pb.txt", options);
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"sentence", "sentiment"}));
  EXPECT_EQ(reader.require_column("sentiment"), 1u);
  const auto rows = read_all(reader);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"He said \"up\" , twice .", "positive"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"\"Flat ", "neutral"}));
  // The options round-trip, and names only make sense without a header line.
  const CsvOptions again = CsvOptions::from_config(Config(options.to_json()));
  EXPECT_EQ(again.quote, '\0');
  EXPECT_EQ(again.column_names, options.column_names);
  EXPECT_THROW(CsvOptions::from_config(Config::parse(R"({"column_names": ["a"]})")), ConfigError);
  EXPECT_THROW(CsvOptions::from_config(Config::parse(R"({"header": false, "column_names": ["a", "a"]})")),
               ConfigError);
}

TEST(Csv, MissingColumnNamesTheHeaderWithSuggestion) {
  auto reader = CsvReader::from_string("symbol,date,adjclose\n", "p.csv");
  try {
    reader.require_column("adj_close");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.field(), "adj_close");
    EXPECT_STREQ(e.what(), "p.csv:1: field 'adj_close': missing column (did you mean 'adjclose'?); the header has "
                           "'symbol', 'date', 'adjclose'");
  }
}

TEST(Csv, WrongFieldCountNamesTheLine) {
  auto reader = CsvReader::from_string("a,b,c\n1,2,3\n1;2;3\n", "p.csv");
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_NO_THROW(reader.expect_width(record));
  ASSERT_TRUE(reader.next(record));
  try {
    reader.expect_width(record);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 3);
    EXPECT_NE(std::string(e.what()).find("expected 3 fields (one per header column, delimiter ','), got 1"),
              std::string::npos);
  }
}

TEST(Csv, MalformedQuotingIsReportedAndReadingContinues) {
  auto reader = CsvReader::from_string("a,b\n\"x\"y,1\n2,3\n", "q.csv");
  CsvRecord record;
  try {
    reader.next(record);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 2);
    EXPECT_NE(std::string(e.what()).find("unexpected character 'y' after a closing quote"), std::string::npos);
  }
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.line, 3);
  EXPECT_EQ(record[0], "2");

  auto unclosed = CsvReader::from_string("a,b\n1,\"never closed\n2,3\n", "u.csv");
  try {
    unclosed.next(record);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.record(), 2);
    EXPECT_NE(std::string(e.what()).find("not closed before the end of the file"), std::string::npos);
  }
}

TEST(Csv, HugeFieldsAreRefused) {
  CsvOptions options;
  options.max_field_bytes = 8;
  auto reader = CsvReader::from_string("a\n123456789\n\"123456789\"\nok\n", "big.csv", options);
  CsvRecord record;
  EXPECT_THROW(reader.next(record), DataError);
  EXPECT_THROW(reader.next(record), DataError);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record[0], "ok");
}

TEST(Csv, EmptyFileDuplicateColumnsAndEncoding) {
  EXPECT_THROW(CsvReader::from_string("", "e.csv"), DataError);
  EXPECT_THROW(CsvReader::from_string("\n\n", "e.csv"), DataError);
  EXPECT_THROW(CsvReader::from_string("a,b,a\n", "d.csv"), DataError);
  EXPECT_THROW(CsvReader::from_string("name\ncaf\xE9\n", "l.csv"), DataError);
  CsvOptions latin1;
  latin1.encoding = EncodingPolicy::latin1_fallback;
  auto reader = CsvReader::from_string("name\ncaf\xE9\n", "l.csv", latin1);
  EXPECT_TRUE(reader.converted_from_latin1());
  EXPECT_EQ(read_all(reader)[0][0], "caf\xC3\xA9");
}

TEST(Csv, FilesAndLimits) {
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_csv_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "small.csv";
  std::ofstream(path) << "a,b\n1,2\n";
  auto reader = CsvReader::open(path);
  EXPECT_EQ(read_all(reader).size(), 1u);
  CsvOptions tiny;
  tiny.max_file_bytes = 4;
  EXPECT_THROW(CsvReader::open(path, tiny), DataError);
  EXPECT_THROW(CsvReader::open(dir / "absent.csv"), IoError);
  EXPECT_THROW(CsvReader::open(dir), IoError);
  std::filesystem::remove_all(dir);
}

// Everything a reader gives: the header, each record with its line, and each error's message, in order.
std::vector<std::string> transcript(CsvReader& reader) {
  std::vector<std::string> out;
  std::string header;
  for (const auto& name : reader.header()) {
    header += name + "|";
  }
  out.push_back(header);
  CsvRecord record;
  for (;;) {
    try {
      if (!reader.next(record)) {
        break;
      }
      std::string row = std::to_string(record.line) + ":";
      for (const auto field : record.fields) {
        row += std::string(field) + "|";
      }
      out.push_back(row);
    } catch (const DataError& e) {
      out.push_back(std::string("error ") + e.what());
    }
  }
  return out;
}

std::filesystem::path write_temporary(const std::string& name, const std::string& bytes) {
  const auto dir = std::filesystem::temp_directory_path() / "finfuse_csv_blocks";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(Csv, AFileReadInBlocksOfAnySizeGivesWhatTheWholeTextGives) {
  // Records across block ends at every byte: quotes, doubled quotes, line ends in quotes, CRLF, blank lines,
  // multi-byte characters (2, 3 and 4 bytes), errors that skip the rest of a line, a field over the limit and one
  // of exactly the limit before a CRLF, a line end left for the last byte, and a last record without one.
  const std::string text =
      "\xEF\xBB\xBFid,name,note\r\n"
      "1,caf\xC3\xA9,\"a, b\"\r\n"
      "\r\n"
      "\n"
      "2,\xE6\x97\xA5\xE6\x9C\xAC,\"say \"\"hi\"\"\"\n"
      "3,\"two\r\nlines\",\xF0\x9F\x93\x88\n"
      "4,\"x\"y,skipped\n"
      "5,0123456789012345678901234567890123456789,long\n"
      "6,\"01234567890123456789012345678901234567890\",long quoted\n"
      "7,,\n"
      "8,\"quoted at the end\"\r\n"
      "10,0123456789abcdef0123456789abcdef\r\n"  // exactly the limit, then CRLF
      "9,last,";
  CsvOptions options;
  options.max_field_bytes = 32;
  const auto path = write_temporary("blocks.csv", text);
  auto whole = CsvReader::from_string(text, path.string(), options);
  const auto expected = transcript(whole);
  ASSERT_EQ(expected.size(), 11u);  // the header, 7 records and 3 errors
  EXPECT_EQ(expected[0], "id|name|note|");
  EXPECT_EQ(expected[3], "6:3|two\r\nlines|\xF0\x9F\x93\x88|");
  EXPECT_EQ(expected[4], "error " + path.string() + ":8: unexpected character 'y' after a closing quote in field 2");
  EXPECT_EQ(expected[9], "13:10|0123456789abcdef0123456789abcdef|");
  EXPECT_EQ(expected.back(), "14:9|last||");
  for (std::size_t block = 1; block <= 48; ++block) {
    auto reader = CsvReader::open(path, options, block);
    EXPECT_EQ(transcript(reader), expected) << "block of " << block << " bytes";
  }
  auto reader = CsvReader::open(path, options);
  EXPECT_EQ(transcript(reader), expected);
}

TEST(Csv, AnInvalidByteFarIntoAFileIsFoundAsReadAndEndsTheReading) {
  std::string text = "name,value\n";
  for (int i = 0; i < 200; ++i) {
    text += "caf\xC3\xA9," + std::to_string(i) + "\n";
  }
  text += "ok,1\nbad \xE9 byte,2\nafter,3\n";
  std::string whole_error;
  try {
    (void)CsvReader::from_string(text, "late.csv");
  } catch (const DataError& e) {
    whole_error = e.what();
  }
  ASSERT_NE(whole_error.find("late.csv:203"), std::string::npos) << whole_error;
  EXPECT_NE(whole_error.find("byte 0xE9 at column 5"), std::string::npos) << whole_error;
  const auto path = write_temporary("late.csv", text);
  for (const std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{64}, CsvReader::kBlockBytes}) {
    std::int64_t records = 0;
    std::string error;
    BadRecordLog lenient(ErrorMode::lenient);
    std::optional<CsvReader> reader;
    try {
      reader.emplace(CsvReader::open(path, {}, block));  // a file in one block is checked whole when opened
      CsvRecord record;
      while (reader->next(record, lenient)) {
        ++records;
      }
    } catch (const DataError& e) {
      error = e.what();
    }
    // The same message (line, column) as when the text is checked whole; never a bad record to skip.
    ASSERT_NE(error.find("late.csv"), std::string::npos) << block;
    EXPECT_EQ(error.substr(error.find("late.csv")), whole_error.substr(whole_error.find("late.csv"))) << block;
    EXPECT_EQ(lenient.count(), 0) << block;
    EXPECT_LE(records, 201) << block;
    if (reader) {
      CsvRecord record;
      EXPECT_THROW(reader->next(record), DataError) << "the reading stays ended";
    }
  }
}

TEST(Csv, Latin1FallbackDecidesOnTheWholeFileWhateverTheBlock) {
  // Valid UTF-8 up to the last line: a Latin-1 file after all, so the early bytes are Latin-1 too.
  const std::string text = "name\ncaf\xC3\xA9\nna\xEFve\n";
  CsvOptions latin1;
  latin1.encoding = EncodingPolicy::latin1_fallback;
  auto whole = CsvReader::from_string(text, "l.csv", latin1);
  const auto expected = transcript(whole);
  EXPECT_EQ(expected[1], "2:caf\xC3\x83\xC2\xA9|");
  const auto path = write_temporary("latin1.csv", text);
  for (std::size_t block = 1; block <= 20; ++block) {
    auto reader = CsvReader::open(path, latin1, block);
    EXPECT_TRUE(reader.converted_from_latin1());
    EXPECT_EQ(transcript(reader), expected) << block;
  }
  const auto utf8_path = write_temporary("utf8.csv", "name\ncaf\xC3\xA9\n");
  auto utf8 = CsvReader::open(utf8_path, latin1, 4);
  EXPECT_FALSE(utf8.converted_from_latin1());
  EXPECT_EQ(transcript(utf8)[1], "2:caf\xC3\xA9|");
}

TEST(Csv, ByteOrderMarksOfOtherEncodingsAreRefusedInFiles) {
  for (const std::string& head : {std::string("\xFF\xFE", 2), std::string("\xFE\xFF", 2),
                                  std::string("\xFF\xFE\0\0", 4)}) {
    const auto path = write_temporary("utf16.csv", head + std::string("a\0,\0b\0", 6));
    try {
      (void)CsvReader::open(path, {}, 3);
      ADD_FAILURE() << "accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(head.size() == 4 ? "UTF-32" : "UTF-16"), std::string::npos) << e.what();
    }
  }
}

TEST(ParseNumber, Forms) {
  EXPECT_EQ(parse_number("2.5"), 2.5);
  EXPECT_EQ(parse_number(" -1e3 "), -1000.0);
  EXPECT_EQ(parse_number("+7"), 7.0);
  EXPECT_EQ(parse_number("91973000"), 91973000.0);
  EXPECT_EQ(parse_number(""), std::nullopt);
  EXPECT_EQ(parse_number("1,5"), std::nullopt);
  EXPECT_EQ(parse_number("abc"), std::nullopt);
  EXPECT_EQ(parse_number("1.5x"), std::nullopt);
  EXPECT_TRUE(std::isnan(*parse_number("nan")));
  EXPECT_TRUE(std::isinf(*parse_number("-inf")));
  EXPECT_TRUE(std::isinf(*parse_number("1e999")));
  EXPECT_EQ(parse_number("1e-999"), 0.0);
  EXPECT_EQ(parse_integer("42"), 42);
  EXPECT_EQ(parse_integer("4.2"), std::nullopt);
  EXPECT_EQ(parse_integer("99999999999999999999"), std::nullopt);
  EXPECT_EQ(trim("  a b \t"), "a b");
}

}  // namespace
}  // namespace finfuse::data
