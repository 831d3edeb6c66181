// Masked-language pre-training: BERT's masking proportions, special tokens never chosen; on a generated corpus whose
// words follow from their context the held-out masked tokens are learnt, texts from `until` on are left out (a word
// only they use never enters the vocabulary), and a run's text encoder starts from the saved weights.
#include "finfuse/training/pretrain.h"

#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/random.h"
#include "finfuse/data/time.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/training/warm_start.h"

#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

namespace finfuse::training {
namespace {

TEST(MaskTokens, BertProportionsAndNoSpecialToken) {
  seed_everything(3);
  const std::int64_t rows = 400;
  const std::int64_t length = 50;
  // [CLS] = 2 first, [SEP] = 3 at position 40, padding (0) after it; regular ids 4..99.
  auto ids = torch::randint(4, 100, {rows, length}, torch::kInt64);
  ids.select(1, 0).fill_(2);
  ids.select(1, 40).fill_(3);
  ids.slice(1, 41, length).fill_(0);
  auto mask = torch::ones({rows, length}, torch::kBool);
  mask.slice(1, 41, length).fill_(false);
  MaskingRule rule;
  rule.mask_id = 100;
  rule.random_low = 4;
  rule.random_high = 100;
  rule.special_ids = {0, 2, 3};
  const auto masked = mask_tokens(ids, mask, rule);
  const auto chosen = masked.labels.ne(-100);
  const double candidates = static_cast<double>(rows * 39);
  const double count = chosen.sum().item<double>();
  EXPECT_NEAR(count / candidates, 0.15, 0.01);
  // Never [CLS], [SEP] or padding.
  EXPECT_EQ(chosen.select(1, 0).sum().item<std::int64_t>(), 0);
  EXPECT_EQ(chosen.slice(1, 40, length).sum().item<std::int64_t>(), 0);
  // Labels are the original ids; 80% of the chosen read [MASK], 10% stay, 10% another token.
  EXPECT_TRUE(torch::equal(masked.labels.index({chosen}), ids.index({chosen})));
  const auto input = masked.input.index({chosen});
  const auto original = ids.index({chosen});
  const double as_mask = input.eq(100).sum().item<double>() / count;
  const double unchanged = input.eq(original).sum().item<double>() / count;
  EXPECT_NEAR(as_mask, 0.8, 0.02);
  // A random replacement equals the original one time in 96, so "unchanged" is 10% plus a little.
  EXPECT_NEAR(unchanged, 0.1 + 0.1 / 96.0, 0.015);
  EXPECT_TRUE(torch::equal(masked.input.index({chosen.logical_not()}), ids.index({chosen.logical_not()})));
  EXPECT_GE(masked.input.min().item<std::int64_t>(), 0);
  EXPECT_LE(masked.input.max().item<std::int64_t>(), 100);
}

class PretrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = finfuse::testing::unique_temp_dir("finfuse_pretrain");
    std::filesystem::create_directories(dir_);
    // Headlines whose verb follows from the adjective after it (and the other way round); from 2015-06-01 on, the
    // texts also speak of a zebra.
    std::mt19937_64 rng(9);
    const std::vector<std::string> tickers = {"$aapl", "$msft", "$ibm", "$xom", "$ge", "$jnj", "$pfe", "$ko"};
    const std::vector<std::string> nouns = {"demand", "earnings", "sales", "guidance", "margins"};
    std::ofstream out(dir_ / "texts.jsonl");
    data::Date day = data::Date::from_ymd(2015, 1, 1);
    for (int i = 0; i < 900; ++i) {
      const bool up = rng() % 2 == 0;
      const bool late = i >= 800;
      if (i % 8 == 0) {
        day = day + 1;
      }
      const auto when = late ? data::Date::from_ymd(2015, 6, 1) + (i - 800) : day;
      std::ostringstream text;
      text << tickers[rng() % tickers.size()] << " shares " << (up ? "rise" : "fall") << " on "
           << (up ? "strong" : "weak") << " " << nouns[rng() % nouns.size()] << (late ? " zebra" : "");
      out << R"({"symbol": "X", "created_at": ")" << when.to_string() << R"(T14:00:00Z", "text": ")" << text.str()
          << "\"}\n";
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  PretrainOptions options() const {
    auto o = PretrainOptions::from_config(Config::parse(R"({
      "texts": {"path": "texts.jsonl"},
      "until": "2015-06-01",
      "tokenizer": {"kind": "wordpiece", "max_vocab": 200, "max_length": 12, "add_special_tokens": true},
      "encoder": {"type": "transformer", "hidden": 32, "layers": 1, "heads": 2, "intermediate": 64,
                  "max_positions": 16, "dropout": 0.0},
      "epochs": 8, "batch_size": 32, "optimizer": {"type": "adamw", "lr": 0.003},
      "scheduler": {"type": "constant"}, "deduplicate": false, "valid_fraction": 0.2, "log_every": 1000})",
                                                        "pretrain.json"));
    o.texts().path = dir_ / o.texts().path;
    return o;
  }

  std::filesystem::path dir_;
};

TEST_F(PretrainTest, LearnsMaskedTokensFromTheTextsBeforeUntil) {
  const auto result = pretrain(options(), dir_ / "out");
  EXPECT_EQ(result.texts_read, 900);
  EXPECT_EQ(result.texts_after_until, 100);
  EXPECT_EQ(result.train_texts + result.valid_texts, 800);
  EXPECT_EQ(result.valid_texts, 160);
  // The vocabulary comes from the texts before `until`: no zebra; [MASK] last.
  std::istringstream vocab(read_file(result.vocab_file));
  std::vector<std::string> tokens;
  for (std::string line; std::getline(vocab, line);) {
    tokens.push_back(line);
  }
  EXPECT_EQ(static_cast<std::int64_t>(tokens.size()), result.vocab_size);
  EXPECT_NE(std::find(tokens.begin(), tokens.end(), "[MASK]"), tokens.end());
  EXPECT_EQ(std::find(tokens.begin(), tokens.end(), "zebra"), tokens.end());
  EXPECT_NE(std::find(tokens.begin(), tokens.end(), "strong"), tokens.end());
  // The masked tokens are learnt: the held-out loss falls well below guessing among the vocabulary, and most held-out
  // masked tokens come back (the verb and the adjective follow from each other, the frame words from their place).
  ASSERT_EQ(result.epochs.size(), 8U);
  EXPECT_LT(result.epochs.back().valid_loss, result.epochs.front().valid_loss);
  EXPECT_LT(result.epochs.back().valid_loss, 0.5 * std::log(static_cast<double>(result.vocab_size)));
  EXPECT_GT(result.epochs.back().valid_accuracy, result.epochs.front().valid_accuracy + 0.08);
  EXPECT_GT(result.epochs.back().valid_accuracy, 0.75);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "pretrain.json"));

  // A run's text encoder starts from the weights: tokenizer and encoder as use.json says.
  const auto use = Json::parse(read_file(dir_ / "out" / "use.json"));
  EXPECT_EQ(use["tokenizer"]["vocab_file"], result.vocab_file.string());
  EXPECT_EQ(use["warm_start"]["params"], Json::array({"encoders.text.*"}));
  seed_everything(1);
  Json model_config = {{"encoders", {{"text", use["encoder"]}}},
                       {"heads", {{"direction", {{"type", "classification"}}}}}};
  const std::vector<data::ModalitySpec> specs = {data::ModalitySpec("text", {12}, result.vocab_size)};
  models::MultimodalModel model(Config(model_config), specs);
  const auto before = model->named_parameters()["encoders.text.embeddings.word_embeddings.weight"].clone();
  const auto report = warm_start(*model, WarmStartOptions::from_config(Config(use["warm_start"])));
  EXPECT_EQ(report.kind, "weights");
  EXPECT_TRUE(report.kept.empty());
  EXPECT_FALSE(report.loaded.empty());
  for (const auto& name : report.loaded) {
    EXPECT_EQ(name.rfind("encoders.text.", 0), 0U) << name;
  }
  EXPECT_FALSE(torch::equal(before, model->named_parameters()["encoders.text.embeddings.word_embeddings.weight"]));
}

TEST_F(PretrainTest, OptionErrorsNameTheirPath) {
  const auto message = [](const std::string& json) {
    try {
      PretrainOptions::from_config(Config::parse(json, "pretrain.json"));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"texts": {"path": "t.jsonl"}, "until": "June"})").find("/until"), std::string::npos);
  EXPECT_NE(message(R"({"texts": {"path": "t.jsonl"}, "encoder": {"type": "rnn"}})").find("/encoder"),
            std::string::npos);
  EXPECT_NE(message(R"({"texts": {"path": "t.jsonl"}, "tokenizer": {"kind": "word"}})").find("/tokenizer/kind"),
            std::string::npos);
  EXPECT_NE(message(R"({"until": "2015-01-01"})").find("/texts"), std::string::npos);
  EXPECT_NE(message(R"({"texts": {"path": "t.jsonl"}, "mask_probability": 0})").find("/mask_probability: must be > 0"),
            std::string::npos);
  // Texts that all come after `until`: an error naming the file.
  auto o = options();
  o.until("2014-01-01");
  try {
    pretrain(o, dir_ / "none");
    FAIL() << "pre-trained on nothing";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no text to pre-train on before 2014-01-01"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace finfuse::training
