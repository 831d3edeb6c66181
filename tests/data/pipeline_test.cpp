#include "finfuse/data/pipeline.h"

#include "finfuse/core/file.h"
#include "finfuse/data/modalities/price.h"
#include "finfuse/data/synthetic_universe.h"
#include "finfuse/training/run_config.h"

#include "support/shared_data.h"

#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <optional>

namespace finfuse::data {
namespace {

std::string config_error(const std::string& text) {
  try {
    DataConfig::from_config(Config::parse(text, "data.json"), "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataConfig, PathsAndErrors) {
  ::setenv("FINFUSE_PIPELINE_TEST_DIR", "/data/sets", 1);
  const DataConfig c = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "${FINFUSE_PIPELINE_TEST_DIR}/prices.csv", "errors": "lenient"},
    "texts": {"path": "tweets.jsonl", "layout": "nested"},
    "split": {"valid_start": "2015-08-01", "test_start": "2015-10-01"}
  })"), "/base/configs");
  EXPECT_EQ(c.prices->path.string(), "/data/sets/prices.csv");
  EXPECT_EQ(c.texts->path.string(), "/base/configs/tweets.jsonl");
  EXPECT_EQ(c.prices->options.errors, ErrorMode::lenient);
  EXPECT_EQ(c.texts->options.layout, "nested");
  EXPECT_EQ(DataConfig::from_config(Config(c.to_json()), "/elsewhere").to_json(), c.to_json());
  // A WordPiece vocabulary is a path too: "${VAR}" expanded, relative ones anchored, and an input of the cache key.
  const DataConfig v = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "p.csv"}, "split": {"kind": "random"},
    "dataset": {"tokenizer": {"kind": "wordpiece", "vocab_file": "${FINFUSE_PIPELINE_TEST_DIR}/vocab.txt"}}
  })"), "/base");
  EXPECT_EQ(v.dataset.tokenizer.vocab_file, "/data/sets/vocab.txt");
  EXPECT_EQ(v.input_files(), (std::vector<std::filesystem::path>{"/base/p.csv", "/data/sets/vocab.txt"}));
  const DataConfig r = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "p.csv"}, "split": {"kind": "random"},
    "dataset": {"tokenizer": {"kind": "wordpiece", "vocab_file": "bert/vocab.txt"}}
  })"), "/base");
  EXPECT_EQ(r.dataset.tokenizer.vocab_file, "/base/bert/vocab.txt");

  EXPECT_EQ(config_error(R"({"prices": {"path": "${FINFUSE_NOT_SET_ANYWHERE}/p.csv"}})"),
            "data.json: /prices/path: the path \"${FINFUSE_NOT_SET_ANYWHERE}/p.csv\" uses ${FINFUSE_NOT_SET_ANYWHERE}, "
            "which is not set in the environment");
  EXPECT_EQ(config_error(R"({"split": {"valid_start": "2015-08-01", "test_start": "2015-10-01"}})"),
            "data.json: /prices: samples come from a price panel unless samples_from_table names a static table");
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv"}, "split": {"kind": "chronological"}})"),
            "data.json: /split/valid_start: required for a chronological split (a date \"YYYY-MM-DD\")");
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv"}, "samples_from_table": "credit", "split": {"kind": "random"}})"),
            "data.json: /samples_from_table: 'credit' is not a static table under /tables");
  EXPECT_EQ(config_error(R"({"tables": {"credit": {"kind": "static"}}, "samples_from_table": "credit"})"),
            "data.json: /tables/credit/path: required key is missing");
  EXPECT_EQ(config_error(R"({"tables": [], "samples_from_table": "credit"})"),
            "data.json: /tables: expected an object of named tables, {\"<name>\": {\"path\": ...}}");
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv"}, "graph": {"path": "g.csv", "format": "sectors"}})").rfind(
                "data.json: /graph/format: ", 0),
            0u);
  EXPECT_EQ(config_error(R"({"prices": {"path": "p.csv", "colums": {}}})").rfind(
                "data.json: /prices/colums: unknown key 'colums' (did you mean 'columns'?)", 0),
            0u);
}

TEST(DataConfig, TablesAndGraph) {
  const DataConfig c = DataConfig::from_config(Config::parse(R"({
    "tables": {"macro": {"path": "/data/macro.csv", "kind": "global"},
               "credit": {"path": "sets/../credit.csv", "kind": "static", "label_column": "y"}},
    "graph": {"path": "sectors.tsv", "format": "sector_table"},
    "samples_from_table": "credit",
    "split": {"kind": "random"}
  })"), "/base");
  ASSERT_EQ(c.tables.size(), 2u);
  EXPECT_EQ(c.tables[0].name, "credit");  // in name order
  EXPECT_EQ(c.tables[0].path.string(), "/base/credit.csv");
  EXPECT_EQ(c.tables[0].options.label_column, "y");
  EXPECT_EQ(c.tables[1].name, "macro");
  EXPECT_EQ(c.tables[1].path.string(), "/data/macro.csv");
  EXPECT_EQ(c.tables[1].options.kind, "global");
  ASSERT_TRUE(c.graph.has_value());
  EXPECT_EQ(c.graph->path.string(), "/base/sectors.tsv");
  EXPECT_EQ(c.graph->options.format, "sector_table");
  EXPECT_FALSE(c.prices.has_value());
  EXPECT_EQ(c.input_files(), (std::vector<std::filesystem::path>{"/base/credit.csv", "/data/macro.csv",
                                                                  "/base/sectors.tsv"}));
  const Json written = c.to_json();
  EXPECT_EQ(written["tables"]["credit"]["path"], "/base/credit.csv");
  EXPECT_EQ(written["tables"]["credit"]["label_column"], "y");
  EXPECT_EQ(written["graph"]["format"], "sector_table");
  EXPECT_TRUE(written["prices"].is_null());
  EXPECT_EQ(DataConfig::from_config(Config(written), "/elsewhere").to_json(), written);

  // The reference lists a source's path first, then its reader's fields.
  const auto& fields = PriceSource::fields();
  ASSERT_GT(fields.size(), 1u);
  EXPECT_EQ(fields[0].name, "path");
  EXPECT_EQ(fields[0].type, "path");
  EXPECT_EQ(fields.size(), 1 + PriceCsvOptions::fields().size());
}

// A build with texts reads them only once the modalities that read bars are built and the panel is gone, so that it
// never holds both; its dataset is the one built with every source held at once (here with the modalities built in
// the reverse order).
TEST(DataPipelineStages, TextsAreReadAfterThePanelGoesAndTheDatasetIsTheSame) {
  const auto dir = ::finfuse::testing::unique_temp_dir("finfuse_pipeline_stages");
  generate_universe(UniverseOptions().stocks(8).years(0.3).sectors(2).peers(1).seed(5), dir);
  const DataConfig config = training::RunConfig::load(dir / "run.json").data;
  ASSERT_TRUE(config.texts.has_value());
  ASSERT_TRUE(config.dataset.uses("text"));
  ASSERT_TRUE(config.dataset.uses("price"));
  DataConfig streamed = config;
  streamed.texts->options.hold_texts = false;  // the texts read again from the file: the same dataset
  const DataPipeline pipeline = DataPipeline::build(streamed);
  EXPECT_EQ(pipeline.prices(), nullptr);
  const Json summary = pipeline.summary();
  EXPECT_GT(summary["sources"]["texts"]["texts"].get<std::int64_t>(), 0);
  EXPECT_GT(summary["sources"]["prices"]["rows"].get<std::int64_t>(), 0);

  const PricePanel prices =
      sessions_only(PricePanel::load(config.prices->path, config.prices->options), config.assembly.market);
  const TextCorpus texts = TextCorpus::load(config.texts->path, config.texts->options);
  std::optional<RelationGraph> graph;
  if (config.graph) {
    graph.emplace(RelationGraph::load(config.graph->path, config.graph->options));
  }
  DataSources sources;
  sources.prices = &prices;
  sources.texts = &texts;
  sources.graph = graph ? &*graph : nullptr;
  MultimodalDataset::Builder builder(pipeline.samples(), config.dataset, pipeline.split().train);
  const auto& names = config.dataset.modalities;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    EXPECT_FALSE(builder.has(*it));
    builder.add(*it, sources);
    EXPECT_TRUE(builder.has(*it));
  }
  EXPECT_THROW(builder.add(names.front(), sources), Error);
  EXPECT_THROW(builder.add("no_such_modality", sources), Error);
  const MultimodalDataset at_once = builder.finish(sources);
  EXPECT_THROW((void)builder.finish(sources), Error);

  const MultimodalDataset& staged = *pipeline.dataset();
  ASSERT_EQ(staged.size(), at_once.size());
  std::vector<std::size_t> all(staged.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  const Batch a = staged.collate(all);
  const Batch b = at_once.collate(all);
  ASSERT_EQ(a.modalities.size(), b.modalities.size());
  for (const auto& [name, entry] : a.modalities) {
    SCOPED_TRACE(name);
    const ModalityBatch& other = b.modalities.at(name);
    EXPECT_TRUE(torch::equal(entry.values, other.values));
    EXPECT_TRUE(torch::equal(entry.present, other.present));
    EXPECT_EQ(entry.mask.defined(), other.mask.defined());
    if (entry.mask.defined()) {
      EXPECT_TRUE(torch::equal(entry.mask, other.mask));
    }
  }
  EXPECT_TRUE(torch::equal(a.target, b.target));
  EXPECT_GT(staged.coverage("text"), 0.0);
  // The staged build kept the texts' times only and read the texts again from the file: the same vocabulary, token
  // ids and rows, byte for byte, as a staged build that holds them.
  ASSERT_TRUE(staged.tokenizer().has_value());
  EXPECT_EQ(staged.tokenizer()->tokens(), at_once.tokenizer()->tokens());
  EXPECT_EQ(staged.serialize(), at_once.serialize());
  const DataPipeline held = DataPipeline::build(config);
  EXPECT_EQ(held.dataset()->serialize(), staged.serialize());
  // Texts joined per sample must be held.
  DataConfig joined = streamed;
  joined.dataset.text_layout = "concat";
  try {
    (void)DataPipeline::build(joined);
    ADD_FAILURE() << "a joined layout was built without holding the texts";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hold_texts false needs dataset.text_layout"), std::string::npos) << e.what();
  }

  // A price modality that may release the panel takes out the series of every entity with samples as it makes the
  // same bars; a panel to release other than the sources' is refused.
  PricePanel spent = prices;
  DataSources releasing = sources;
  releasing.prices = &spent;
  releasing.prices_to_release = &spent;
  MultimodalDataset::Builder released(pipeline.samples(), config.dataset, pipeline.split().train);
  for (const auto& name : names) {
    released.add(name, name == "price" ? releasing : sources);
  }
  for (const auto& entity : pipeline.samples().entities) {
    EXPECT_FALSE(spent.contains(entity)) << entity;
  }
  EXPECT_TRUE(prices.contains(pipeline.samples().entities.front()));
  EXPECT_EQ(released.finish(sources).serialize(), at_once.serialize());
  PricePanel other = prices;
  releasing.prices_to_release = &other;
  MultimodalDataset::Builder mismatched(pipeline.samples(), config.dataset, pipeline.split().train);
  EXPECT_THROW(mismatched.add("price", releasing), Error);
  EXPECT_EQ(other.size(), prices.size());

  // The modalities built so far written to a file and read back in place from it: the same dataset. The file is
  // gone once mapped; a builder with nothing built has nothing to write; one that cannot write keeps its modalities.
  MultimodalDataset::Builder spilled(pipeline.samples(), config.dataset, pipeline.split().train);
  const auto spill_file = dir / "spill.bin";
  EXPECT_EQ(spilled.spill(spill_file), nullptr);
  EXPECT_FALSE(std::filesystem::exists(spill_file));
  spilled.add("price", sources);
  EXPECT_THROW((void)spilled.spill(dir / "no_such_folder" / "spill.bin"), IoError);
  const auto mapped = spilled.spill(spill_file);
  ASSERT_NE(mapped, nullptr);
  EXPECT_GT(mapped->size(), pipeline.samples().samples.size());  // a bar window's worth a sample at least
  EXPECT_FALSE(std::filesystem::exists(spill_file));
  const std::string_view spilled_bytes = mapped->bytes();
  EXPECT_TRUE(mapped->contains(spilled_bytes));
  EXPECT_TRUE(mapped->contains(spilled_bytes.substr(7, 100)));
  EXPECT_FALSE(mapped->contains(std::string_view(spilled_bytes.data() + 1, spilled_bytes.size())));
  for (const auto& name : names) {
    if (name != "price") {
      spilled.add(name, sources);
    }
  }
  EXPECT_EQ(spilled.finish(sources).serialize(), at_once.serialize());

  // Built into a dataset file (the bars written out before the texts are read, then the file from them): the same
  // dataset, held texts or not, and the same again reopened.
  const auto cache_dir = dir / "cache";
  for (const DataConfig* c : {static_cast<const DataConfig*>(&streamed), &config}) {
    std::filesystem::remove_all(cache_dir);
    const DataPipeline built = DataPipeline::build(*c, cache_dir);
    EXPECT_FALSE(built.from_cache());
    EXPECT_EQ(built.dataset()->serialize(), staged.serialize());
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(cache_dir), std::filesystem::directory_iterator()), 1)
        << "the spill file is left behind";
    const DataPipeline reopened = DataPipeline::build(*c, cache_dir);
    EXPECT_TRUE(reopened.from_cache());
    EXPECT_EQ(reopened.dataset()->serialize(), staged.serialize());
  }

  // An unfinished builder refuses to give its dataset.
  MultimodalDataset::Builder partial(pipeline.samples(), config.dataset, pipeline.split().train);
  partial.add("price", sources);
  EXPECT_THROW((void)partial.finish(sources), Error);

  // Without a text modality the panel stays for prices() where data.keep_prices asks, and only there; the dataset is
  // the same either way.
  DataConfig prices_only = config;
  prices_only.dataset.modalities = {"price"};
  const DataPipeline let_go = DataPipeline::build(prices_only);
  EXPECT_EQ(let_go.prices(), nullptr);
  prices_only.keep_prices = true;
  const DataPipeline kept = DataPipeline::build(prices_only);
  ASSERT_NE(kept.prices(), nullptr);
  EXPECT_EQ(kept.prices()->rows(), summary["sources"]["prices"]["rows"].get<std::int64_t>());
  EXPECT_EQ(let_go.dataset()->serialize(), kept.dataset()->serialize());
  std::filesystem::remove_all(dir);
}

// Arrays of the bars written out before the texts are read that are large enough to go to the dataset file on their
// own (not through the writer's buffer), in slices of 4 MB whose pages are let go: the file holds the same dataset.
TEST(DataPipelineStages, ADatasetFileWrittenFromLargeSpilledArraysHoldsTheSameDataset) {
  const auto dir = ::finfuse::testing::unique_temp_dir("finfuse_pipeline_spill");
  generate_universe(UniverseOptions().stocks(300).years(4).sectors(4).peers(2).texts_per_day(0.02).seed(9), dir);
  const DataConfig config = training::RunConfig::load(dir / "run.json").data;
  const DataPipeline in_memory = DataPipeline::build(config);
  const DataPipeline built = DataPipeline::build(config, dir / "cache");
  const DataPipeline reopened = DataPipeline::build(config, dir / "cache");
  ASSERT_FALSE(built.from_cache());
  ASSERT_TRUE(reopened.from_cache());
  const auto& price = in_memory.dataset()->modality<PriceModality>("price");
  BinaryWriter price_bytes;
  price.save(price_bytes);
  EXPECT_GT(price_bytes.written(), std::uint64_t{5} << 20);  // its bars' arrays each over the writer's 1 MB
  const std::string expected = in_memory.dataset()->serialize();
  EXPECT_EQ(built.dataset()->serialize(), expected);
  EXPECT_EQ(reopened.dataset()->serialize(), expected);
  EXPECT_EQ(reopened.summary(), in_memory.summary());
  std::filesystem::remove_all(dir);
}

TEST(DataPipelineRealData, StockNetPriceAndTweets) {
  FINFUSE_REQUIRE_SHARED_DATA(dir, "stocknet");
  ::setenv("FINFUSE_DATA_DIR", ::finfuse::testing::shared_data_dir().c_str(), 1);
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "${FINFUSE_DATA_DIR}/stocknet/prices.csv"},
    "texts": {"path": "${FINFUSE_DATA_DIR}/stocknet/tweets.jsonl", "layout": "nested"},
    "assembly": {"price_window": 5, "start": "2014-01-01", "end": "2015-12-31",
                 "label": {"up_threshold": 0.0055, "down_threshold": -0.005}},
    "split": {"valid_start": "2015-08-01", "test_start": "2015-10-01", "test_end": "2016-01-01"},
    "dataset": {"modalities": ["price", "text"], "max_texts": 5, "tokenizer": {"max_length": 16}}
  })"), ".");
  const DataPipeline pipeline = DataPipeline::build(config);
  const Json summary = pipeline.summary();
  EXPECT_EQ(summary["splits"]["train"]["samples"], 20341);
  EXPECT_EQ(summary["splits"]["valid"]["samples"], 2555);
  EXPECT_EQ(summary["splits"]["test"]["samples"], 3720);
  EXPECT_EQ(summary["splits"]["test"]["last_day"], "2015-12-31");
  EXPECT_EQ(summary["sources"]["prices"]["missing_rows"], 3);
  const double text_coverage = summary["coverage"]["text"].get<double>();
  EXPECT_GT(text_coverage, 0.5);
  EXPECT_LT(text_coverage, 1.0);
  const auto& classes = summary["splits"]["train"]["classes"];
  EXPECT_EQ(classes["0"].get<std::int64_t>() + classes["1"].get<std::int64_t>(), 20341);
  std::printf("%s\n", summary.dump(2).c_str());
}

TEST(DataPipelineRealData, CreditTableStratified) {
  FINFUSE_REQUIRE_SHARED_DATA(dir, "credit/taiwan_default.csv");
  ::setenv("FINFUSE_DATA_DIR", ::finfuse::testing::shared_data_dir().c_str(), 1);
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "tables": {"credit": {"path": "${FINFUSE_DATA_DIR}/credit/taiwan_default.csv", "kind": "static",
                          "entity_column": "ID", "categorical": ["SEX", "EDUCATION", "MARRIAGE"],
                          "label_column": "defaulted"}},
    "samples_from_table": "credit",
    "split": {"kind": "stratified", "valid_fraction": 0.1, "test_fraction": 0.2, "seed": 7},
    "dataset": {"modalities": ["numeric"], "numeric": {"scale": "robust", "clip": "winsorize"}}
  })"), ".");
  const DataPipeline pipeline = DataPipeline::build(config);
  const Json summary = pipeline.summary();
  EXPECT_EQ(summary["splits"]["test"]["samples"], 6000);
  const auto& test = summary["splits"]["test"]["classes"];
  EXPECT_NEAR(test["1"].get<double>() / 6000.0, 0.2212, 0.001);
  const Batch batch = pipeline.dataset()->collate({0, 1});
  EXPECT_EQ(batch.modalities.at("numeric").values.size(1), 20);
  EXPECT_EQ(batch.modalities.at("categorical").values.size(1), 3);
}

TEST(DataPipelineRealData, PhraseBankLatin1Sentences) {
  FINFUSE_REQUIRE_SHARED_DATA(dir, "phrasebank/Sentences_AllAgree.txt");
  ::setenv("FINFUSE_DATA_DIR", ::finfuse::testing::shared_data_dir().c_str(), 1);
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "tables": {"pb": {"path": "${FINFUSE_DATA_DIR}/phrasebank/Sentences_AllAgree.txt", "kind": "static",
                      "entity_column": "", "text_columns": ["sentence"], "label_column": "sentiment",
                      "label_classes": ["negative", "neutral", "positive"],
                      "csv": {"delimiter": "@", "quote": "", "header": false, "column_names": ["sentence", "sentiment"],
                              "encoding": "latin1_fallback"}}},
    "samples_from_table": "pb",
    "split": {"kind": "stratified", "valid_fraction": 0.16, "test_fraction": 0.2, "seed": 7},
    "dataset": {"modalities": ["text"], "text_table": {"table": "pb", "column": "sentence"}, "text_layout": "concat",
                "tokenizer": {"max_length": 64, "min_frequency": 1}}
  })"), ".");
  const DataPipeline pipeline = DataPipeline::build(config);
  const Json summary = pipeline.summary();
  EXPECT_EQ(summary["samples"], 2264);
  const auto count = [&](const char* split, const char* label) {
    return summary["splits"][split]["classes"].value(label, std::int64_t{0});
  };
  std::int64_t negative = 0, neutral = 0, positive = 0;
  for (const char* split : {"train", "valid", "test"}) {
    negative += count(split, "0");
    neutral += count(split, "1");
    positive += count(split, "2");
  }
  // The published class counts of the all-agree subset.
  EXPECT_EQ(negative, 303);
  EXPECT_EQ(neutral, 1391);
  EXPECT_EQ(positive, 570);
  EXPECT_NEAR(static_cast<double>(summary["splits"]["test"]["samples"].get<std::int64_t>()), 453, 2);
  EXPECT_DOUBLE_EQ(summary["coverage"]["text"].get<double>(), 1.0);
  const Batch batch = pipeline.dataset()->collate({0, 1});
  EXPECT_EQ(batch.modalities.at("text").values.sizes(), (std::vector<std::int64_t>{2, 64}));
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST(DataPipeline, TextFromAStaticTableVocabularyFromTrainingRowsOnly) {
  const auto dir = ::finfuse::testing::unique_temp_dir("finfuse_text_table");
  {
    std::ofstream out(dir / "sentences.txt");
    for (int i = 0; i < 60; ++i) {
      const char* label = i % 3 == 0 ? "negative" : (i % 3 == 1 ? "neutral" : "positive");
      const char* word = i % 3 == 0 ? "fell" : (i % 3 == 1 ? "was" : "rose");
      out << "sales " << word << " in quarter q" << i << " .@" << label << "\n";
    }
  }
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "tables": {"s": {"path": "sentences.txt", "kind": "static", "entity_column": "", "text_columns": ["text"],
                     "label_column": "label", "label_classes": ["negative", "neutral", "positive"],
                     "csv": {"delimiter": "@", "quote": "", "header": false, "column_names": ["text", "label"]}}},
    "samples_from_table": "s",
    "split": {"kind": "stratified", "valid_fraction": 0.2, "test_fraction": 0.2, "seed": 3},
    "dataset": {"modalities": ["text"], "text_table": {"table": "s", "column": "text"}, "text_layout": "concat",
                "tokenizer": {"max_length": 8, "min_frequency": 1}}
  })"), dir);
  const DataPipeline pipeline = DataPipeline::build(config);
  const auto& split = pipeline.split();
  EXPECT_EQ(split.train.size() + split.valid.size() + split.test.size(), 60u);
  const auto& dataset = *pipeline.dataset();
  const auto tokenizer = dataset.fitted().tokenizer();
  ASSERT_TRUE(tokenizer.has_value());
  // Every sentence's own token "q<i>" is known exactly when the sentence is in the training split.
  for (const auto* part : {&split.train, &split.test}) {
    for (const auto i : *part) {
      const auto& entity = dataset.entities()[static_cast<std::size_t>(dataset.sample(i).entity)];
      const int line = std::stoi(entity.substr(5));
      const auto ids = tokenizer->encode(fmt::format("q{}", line - 1));
      ASSERT_EQ(ids.size(), 1u);
      EXPECT_EQ(ids[0] != tokenizer->unk_id(), part == &split.train) << entity;
      // The sample's label is its sentence's class.
      EXPECT_FLOAT_EQ(dataset.sample(i).target, static_cast<float>((line - 1) % 3));
    }
  }
  const Batch batch = dataset.collate({split.test.front()});
  EXPECT_TRUE(batch.modalities.at("text").present.item<bool>());

  // The text column must be one of the table's text columns.
  auto wrong = config;
  wrong.dataset.text_table.column = "label";
  try {
    DataPipeline::build(wrong);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("column 'label' of table 's' is not one of its text_columns 'text'"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

// A vendor's file with a row on Good Friday 2024 (whose close is far off the others): the pipeline leaves the row out
// before assembly, so no window, label or decision contains it, and says how many it left out.
TEST(DataPipeline, BarsOnDaysWithoutASessionAreLeftOut) {
  const auto dir = ::finfuse::testing::unique_temp_dir("finfuse_pipeline_sessions_test");
  std::filesystem::create_directories(dir);
  {
    std::ofstream prices(dir / "prices.csv");
    prices << "symbol,date,open,high,low,close,adj_close,volume\n";
    int i = 0;
    for (Date day = Date::from_ymd(2024, 2, 26); day <= Date::from_ymd(2024, 4, 26); day = day + 1) {
      if (day.weekday() == 0 || day.weekday() == 6) {
        continue;
      }
      const bool good_friday = day == Date::from_ymd(2024, 3, 29);
      const double p = good_friday ? 1000.0 : 100.0 + (i++ % 7);
      prices << "A," << day.to_string() << ',' << p << ',' << p + 1 << ',' << p - 1 << ',' << p << ',' << p
             << ",1000\n";
    }
  }
  const DataConfig config = DataConfig::from_config(Config::parse(R"({
    "prices": {"path": "prices.csv"},
    "assembly": {"price_window": 3, "label": {"kind": "return"}},
    "split": {"valid_start": "2024-04-08", "test_start": "2024-04-16"},
    "dataset": {"modalities": ["price"]},
    "keep_prices": true
  })"), dir);
  const DataPipeline pipeline = DataPipeline::build(config);
  EXPECT_EQ(pipeline.summary()["assembly"]["off_calendar"], 1);
  const PriceSeries& a = pipeline.prices()->series("A");
  EXPECT_EQ(std::count(a.dates.begin(), a.dates.end(), Date::from_ymd(2024, 3, 29)), 0);
  EXPECT_EQ(std::count(a.close.begin(), a.close.end(), 1000.0), 0);
  bool monday = false;
  for (const Sample& s : pipeline.samples().samples) {
    EXPECT_NE(s.day, Date::from_ymd(2024, 3, 29));
    EXPECT_LT(std::abs(s.forward_return), 0.07) << s.day.to_string() << ": a return from or to Good Friday's row";
    if (s.day == Date::from_ymd(2024, 4, 1)) {
      monday = true;
      EXPECT_EQ(a.dates[static_cast<std::size_t>(s.last_bar)], Date::from_ymd(2024, 3, 28));
    }
  }
  EXPECT_TRUE(monday);
  // Taking the data's dates as sessions keeps the row.
  DataConfig plain = config;
  plain.assembly.market.calendar.exchange("none");
  const DataPipeline kept = DataPipeline::build(plain);
  EXPECT_EQ(kept.summary()["assembly"]["off_calendar"], 0);
  EXPECT_EQ(kept.prices()->rows(), pipeline.prices()->rows() + 1);
  std::filesystem::remove_all(dir);
}

class PipelineCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::finfuse::testing::unique_temp_dir("finfuse_pipeline_cache_test");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream prices(dir_ / "prices.csv");
    prices << "symbol,date,open,high,low,close,adj_close,volume\n";
    Date day = Date::from_ymd(2015, 1, 5);
    for (int i = 0; i < 40; ++i, day = day + 1) {
      for (const char* symbol : {"A", "B"}) {
        const double p = 100 + (i % 5) * (symbol[0] == 'A' ? 1.0 : -0.7) + i * 0.1;
        prices << symbol << ',' << day.to_string() << ',' << p << ',' << p + 1 << ',' << p - 1 << ',' << p << ','
               << p << ",1000\n";
      }
    }
    prices.close();
    config_ = DataConfig::from_config(Config::parse(R"({
      "prices": {"path": "prices.csv"},
      "assembly": {"price_window": 3, "label": {"kind": "return"}},
      "split": {"valid_start": "2015-01-30", "test_start": "2015-02-05"},
      "dataset": {"modalities": ["price", "chart"], "chart": {"days": 5}}
    })"), dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path cache_file() const {
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "cache")) {
      return entry.path();
    }
    return {};
  }

  std::filesystem::path dir_;
  DataConfig config_;
};

TEST_F(PipelineCacheTest, SecondBuildLoadsTheSameData) {
  const DataPipeline first = DataPipeline::build(config_, dir_ / "cache");
  EXPECT_FALSE(first.from_cache());
  ASSERT_FALSE(cache_file().empty());
  const DataPipeline second = DataPipeline::build(config_, dir_ / "cache");
  EXPECT_TRUE(second.from_cache());
  EXPECT_EQ(second.summary(), first.summary());
  EXPECT_EQ(second.split().test, first.split().test);
  const std::vector<std::size_t> some = {0, 3, 7};
  const Batch a = first.dataset()->collate(some);
  const Batch b = second.dataset()->collate(some);
  EXPECT_TRUE(torch::equal(a.modalities.at("price").values, b.modalities.at("price").values));
  EXPECT_TRUE(torch::equal(a.modalities.at("chart").values, b.modalities.at("chart").values));
  EXPECT_TRUE(torch::equal(a.target, b.target));
  // One copy of the sample records, shared by the pipeline and its dataset, built or reopened; reopened, they and
  // the modalities' arrays are read in place from the mapped file.
  for (const DataPipeline* p : {&first, &second}) {
    EXPECT_TRUE(p->samples().samples.shares(p->dataset()->samples()));
    ASSERT_EQ(p->samples().samples.size(), first.samples().samples.size());
  }
  // The build that wrote the file goes on with the file's arrays too; without a cache, with its own.
  for (const DataPipeline* p : {&first, &second}) {
    EXPECT_TRUE(p->samples().samples.is_view());
    EXPECT_TRUE(p->dataset()->modality<PriceModality>("price").bars().is_view());
  }
  EXPECT_EQ(first.prices(), nullptr);
  EXPECT_EQ(second.prices(), nullptr);
  DataConfig keeping = config_;
  keeping.keep_prices = true;  // not with a cache file
  EXPECT_EQ(DataPipeline::build(keeping, dir_ / "cache").prices(), nullptr);
  const DataPipeline uncached = DataPipeline::build(keeping);
  EXPECT_NE(uncached.prices(), nullptr);
  EXPECT_FALSE(uncached.samples().samples.is_view());
  EXPECT_FALSE(uncached.dataset()->modality<PriceModality>("price").bars().is_view());
  for (std::size_t i = 0; i < first.samples().samples.size(); ++i) {
    EXPECT_EQ(first.samples().samples[i].day, second.samples().samples[i].day);
    EXPECT_EQ(first.samples().samples[i].target, second.samples().samples[i].target);
  }
}

// A bundle stores the relation graph (bundle_source), so a pipeline reopened from the cache has it as a built one does.
TEST_F(PipelineCacheTest, TheRelationGraphIsThereWhenReopened) {
  std::ofstream(dir_ / "graph.csv") << "source,target\nA,B\n";
  config_.graph = GraphSource{};
  config_.graph->path = dir_ / "graph.csv";
  const DataPipeline first = DataPipeline::build(config_, dir_ / "cache");
  const DataPipeline second = DataPipeline::build(config_, dir_ / "cache");
  ASSERT_TRUE(second.from_cache());
  for (const DataPipeline* p : {&first, &second}) {
    ASSERT_NE(p->graph(), nullptr);
    EXPECT_EQ(p->graph()->edges().size(), 2u);  // undirected: both directions
  }
}

TEST_F(PipelineCacheTest, DatasetBytesWithoutSamplesNeedTheirCount) {
  const DataPipeline built = DataPipeline::build(config_);
  const auto& records = built.samples().samples;
  const std::string bytes = built.dataset()->serialize(/*with_samples=*/false);
  // The samples' fifteen arrays, each with its length and at most an alignment's padding, and the bytes saying how
  // entities and targets are kept, in place of their count.
  const std::size_t difference = built.dataset()->serialize().size() - bytes.size();
  EXPECT_GE(difference, records.bytes() + 14 * sizeof(std::uint64_t) + 2);
  EXPECT_LE(difference, records.bytes() + 14 * sizeof(std::uint64_t) + 2 + 15 * BinaryWriter::kAlignment);
  const auto restored = MultimodalDataset::deserialize(bytes, "x.ffcache", records);
  EXPECT_TRUE(restored.samples().shares(records));
  EXPECT_TRUE(torch::equal(restored.collate({0, 5}).modalities.at("price").values,
                           built.dataset()->collate({0, 5}).modalities.at("price").values));
  // Without the samples, or with another number of them: a DataError naming the source.
  EXPECT_THROW(MultimodalDataset::deserialize(bytes, "x.ffcache"), DataError);
  std::vector<Sample> all = records.to_vector();
  all.pop_back();
  const SampleList fewer(all);
  try {
    MultimodalDataset::deserialize(bytes, "x.ffcache", fewer);
    ADD_FAILURE() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("x.ffcache"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fmt::format("built on {} samples", records.size())), std::string::npos)
        << e.what();
  }
}

TEST_F(PipelineCacheTest, ChangedInputsOrDamageMeanARebuild) {
  DataPipeline::build(config_, dir_ / "cache");
  const std::string key = DataPipeline::cache_key(config_);
  // A flipped byte in the payload (the middle of the file) or in the trailer (the header and its length, at the
  // end): detected by the checksum (CacheCheck::checksum) or the trailer's checks, reported, rebuilt.
  for (const char* where : {"middle", "end - 10", "end - 40"}) {
    {
      const auto size = static_cast<std::streamoff>(std::filesystem::file_size(cache_file()));
      const std::streamoff position = where[0] == 'm' ? size / 2 : size - std::atoi(where + 6);
      std::fstream file(cache_file(), std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(position);
      file.put('\x7f');
    }
    EXPECT_FALSE(DataPipeline::build(config_, dir_ / "cache", CacheCheck::checksum).from_cache()) << where;
    EXPECT_TRUE(DataPipeline::build(config_, dir_ / "cache", CacheCheck::checksum).from_cache()) << where;
  }
  // An input touched without a change is hashed again and the file reopened.
  std::filesystem::last_write_time(dir_ / "prices.csv", std::filesystem::file_time_type::clock::now());
  EXPECT_TRUE(DataPipeline::build(config_, dir_ / "cache").from_cache());
  // A truncated file: the same.
  std::filesystem::resize_file(cache_file(), 100);
  EXPECT_FALSE(DataPipeline::build(config_, dir_ / "cache").from_cache());
  // A changed input file changes the key.
  std::ofstream(dir_ / "prices.csv", std::ios::app) << "C,2015-01-05,1,1,1,1,1,1\n";
  EXPECT_NE(DataPipeline::cache_key(config_), key);
  EXPECT_FALSE(DataPipeline::build(config_, dir_ / "cache").from_cache());
}

// Reopening hashes an input again only when its size or modification time changed, or when it was modified less than
// two seconds before it was hashed (a second change within the time's resolution would not show).
TEST_F(PipelineCacheTest, InputsAreHashedAgainOnlyWhenTheirSizeOrTimeChanged) {
  const auto prices = dir_ / "prices.csv";
  std::string text;
  {
    std::ifstream in(prices);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // An edit of the same size that restores the time: taken for the unchanged file (an input edited so is not seen).
  const auto edit_keeping_size = [&](const std::filesystem::file_time_type when) {
    std::string edited = text;
    edited[edited.find("1000")] = '2';
    std::ofstream(prices, std::ios::trunc) << edited;
    std::filesystem::last_write_time(prices, when);
  };
  // Written just now: hashed again at every open, so even an edit that restores the time is seen.
  DataPipeline::build(config_, dir_ / "cache");
  edit_keeping_size(std::filesystem::last_write_time(prices));
  EXPECT_FALSE(DataPipeline::build(config_, dir_ / "cache").from_cache());
  // An hour old when hashed: trusted while its size and time are unchanged; an edit that moves the time is seen.
  std::ofstream(prices, std::ios::trunc) << text;
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
  std::filesystem::last_write_time(prices, old);
  EXPECT_FALSE(DataPipeline::build(config_, dir_ / "cache").from_cache());
  EXPECT_TRUE(DataPipeline::build(config_, dir_ / "cache").from_cache());
  edit_keeping_size(old);
  EXPECT_TRUE(DataPipeline::build(config_, dir_ / "cache").from_cache());
  edit_keeping_size(old + std::chrono::seconds(1));
  EXPECT_FALSE(DataPipeline::build(config_, dir_ / "cache").from_cache());
}

TEST(MultimodalDatasetBytes, TruncationIsADataError) {
  EXPECT_THROW(MultimodalDataset::deserialize("", "x.ffcache"), Error);
  EXPECT_THROW(MultimodalDataset::deserialize(std::string(64, '\xff'), "x.ffcache"), DataError);
}

}  // namespace
}  // namespace finfuse::data
