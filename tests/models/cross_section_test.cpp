// Cross-sectional models end to end on a small panel the test writes: the market modality's windows end with each
// sample's own and ignore the future; a cross-section model's predictions for a day do not change when every later
// bar (the stocks' and the index's) is rewritten, and a batch that mixes decision days is refused; the trainer asks
// for one-day batches; a bundle's predictor serves one day's cross-section at a time, as the model saw it.
#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/io/bundle.h"
#include "finfuse/io/predictor.h"
#include "finfuse/models/multimodal_model.h"
#include "finfuse/training/trainer.h"

#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace finfuse::models {
namespace {

const data::Date kFirst = data::Date::from_ymd(2015, 1, 5);
constexpr int kDays = 70;
const std::vector<std::string> kSymbols = {"A", "B", "C", "D", "E", "F"};

class CrossSectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::finfuse::testing::unique_temp_dir("finfuse_cross_section_test");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write(-1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the panel and the index; from day `jump` on (when not negative) every price is three times higher.
  void write(int jump) const {
    const auto price = [&](int day, double base, double wiggle) {
      const double p = base + 3.0 * std::sin(day * wiggle) + 0.05 * day;
      return jump >= 0 && day >= jump ? 3.0 * p : p;
    };
    std::ofstream prices(dir_ / "prices.csv");
    prices << "symbol,date,open,high,low,close,adj_close,volume\n";
    for (int d = 0; d < kDays; ++d) {
      for (std::size_t s = 0; s < kSymbols.size(); ++s) {
        if (kSymbols[s] == "F" && d == 30) {
          continue;  // F does not trade on day 30
        }
        const double p = price(d, 50.0 + 10.0 * static_cast<double>(s), 0.3 + 0.11 * static_cast<double>(s));
        prices << kSymbols[s] << ',' << (kFirst + d).to_string() << ',' << p * 0.99 << ',' << p * 1.02 << ','
               << p * 0.97 << ',' << p << ',' << p << ',' << 1000 + 10 * d << "\n";
      }
    }
    // The index has no symbol column and starts earlier.
    std::ofstream market(dir_ / "market.csv");
    market << "date,open,high,low,close,adj_close,volume\n";
    for (int d = -10; d < kDays; ++d) {
      const double p = price(d, 2000.0, 0.2);
      market << (kFirst + d).to_string() << ',' << p * 0.995 << ',' << p * 1.01 << ',' << p * 0.98 << ',' << p << ','
             << p << ',' << 5000 + d << "\n";
    }
  }

  data::DataConfig config() const {
    return data::DataConfig::from_config(Config::parse(R"({
      "prices": {"path": "prices.csv"},
      "market": {"path": "market.csv"},
      "assembly": {"price_window": 5, "label": {"kind": "direction"},
                   "market": {"calendar": {"exchange": "none"}}},
      "split": {"valid_start": "2015-02-20", "test_start": "2015-03-01"},
      "dataset": {"modalities": ["price", "market"], "price": {"normalize": "technical"}}
    })"), dir_);
  }

  // Samples of decision day `day` (days after kFirst).
  static std::vector<std::size_t> day_samples(const data::DataPipeline& pipeline, int day) {
    std::vector<std::size_t> out;
    const auto& samples = pipeline.samples().samples;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (samples[i].day == kFirst + day) {
        out.push_back(i);
      }
    }
    return out;
  }

  static std::size_t sample_of(const data::DataPipeline& pipeline, const std::string& symbol, int day) {
    for (const auto i : day_samples(pipeline, day)) {
      if (pipeline.samples().entities[static_cast<std::size_t>(pipeline.samples().samples[i].entity)] == symbol) {
        return i;
      }
    }
    ADD_FAILURE() << "no sample of " << symbol << " on day " << day;
    return 0;
  }

  std::filesystem::path dir_;
};

TEST_F(CrossSectionTest, MarketWindowsEndWithTheSampleAndIgnoreTheFuture) {
  const auto before = data::DataPipeline::build(config());
  auto market_options = data::PriceCsvOptions();
  market_options.default_symbol = "index";
  const auto market = data::PricePanel::load_csv(dir_ / "market.csv", market_options).series("index");
  const data::PriceWindowOptions window_options = config().dataset.price;
  // F did not trade on day 30: its sample of day 31 ends on day 29, and so does its market window, while the others'
  // end on day 30.
  for (const auto& [symbol, last] : std::vector<std::pair<std::string, int>>{{"F", 29}, {"A", 30}}) {
    const auto batch = before.dataset()->collate({sample_of(before, symbol, 31)});
    const auto& m = batch.modalities.at("market");
    ASSERT_EQ(m.values.sizes(), (std::vector<std::int64_t>{1, 5, 11}));
    EXPECT_TRUE(m.present.all().item<bool>());
    const auto expected = data::price_window(market, static_cast<std::int64_t>(*market.index_of(kFirst + last)), 5,
                                             window_options);
    EXPECT_TRUE(torch::allclose(m.values.flatten(), torch::tensor(expected))) << symbol;
  }
  // A jump from day 40 on, in the stocks and the index: nothing decided before day 40's open changes.
  write(40);
  const auto after = data::DataPipeline::build(config());
  ASSERT_EQ(after.samples().samples.size(), before.samples().samples.size());
  for (const int day : {20, 39, 40}) {
    const auto a = before.dataset()->collate(day_samples(before, day));
    const auto b = after.dataset()->collate(day_samples(after, day));
    EXPECT_TRUE(torch::equal(a.modalities.at("market").values, b.modalities.at("market").values)) << day;
    EXPECT_TRUE(torch::equal(a.modalities.at("price").values, b.modalities.at("price").values)) << day;
  }
  const auto a = before.dataset()->collate(day_samples(before, 42));
  const auto b = after.dataset()->collate(day_samples(after, 42));
  EXPECT_FALSE(torch::equal(a.modalities.at("market").values, b.modalities.at("market").values));
}

TEST_F(CrossSectionTest, MarketSourceErrors) {
  auto c = config();
  c.market.reset();
  EXPECT_THROW(
      {
        try {
          data::DataPipeline::build(c);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("set data.market"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
  c.market = c.prices;  // six instruments
  try {
    data::DataPipeline::build(c);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("a market index file holds one instrument, this one 6"), std::string::npos)
        << e.what();
  }
}

TEST_F(CrossSectionTest, PredictionsOfADayIgnoreLaterBarsAndMixedDaysAreRefused) {
  const std::vector<std::string> fusions = {
      R"({"type": "cross_section", "market": "market", "combine": "both", "beta": 0.5, "hidden": 8, "heads": 2,
          "layers": 2, "feedforward": 16})",
      R"({"type": "cross_section", "market": "mean", "hidden": 8, "heads": 2,
          "entity": {"type": "cross_attention", "query": "price", "context": "market", "hidden": 8, "heads": 2,
                     "neighbours": "day"}})"};
  const auto before = data::DataPipeline::build(config());
  write(36);
  const auto after = data::DataPipeline::build(config());
  for (const auto& fusion : fusions) {
    SCOPED_TRACE(fusion);
    seed_everything(3);
    auto model_config = Json::parse(R"({
      "encoders": {"price": {"type": "rnn", "hidden": 8}, "market": {"type": "rnn", "hidden": 8}},
      "heads": {"direction": {"type": "classification", "classes": 2}}})");
    model_config["fusion"] = Json::parse(fusion);
    MultimodalModel model(Config(model_config), modality_specs(*before.dataset()));
    EXPECT_TRUE(model->fusion().cross_sectional());
    model->eval();
    torch::NoGradGuard no_grad;
    const auto predict = [&](const data::DataPipeline& p, int day) {
      return model->forward(p.dataset()->collate(day_samples(p, day))).predictions.at("direction");
    };
    // Decided at day 36's open, with bars up to day 35: the same whatever happened from day 36 on.
    EXPECT_TRUE(torch::equal(predict(before, 36), predict(after, 36)));
    EXPECT_TRUE(torch::equal(predict(before, 30), predict(after, 30)));
    EXPECT_FALSE(torch::equal(predict(before, 38), predict(after, 38)));
    // Each stock sees the others: changing one stock's window changes another's prediction.
    auto batch = before.dataset()->collate(day_samples(before, 30));
    const auto base = model->forward(batch).predictions.at("direction");
    batch.modalities.at("price").values[0].mul_(-3.0);
    const auto moved = model->forward(batch).predictions.at("direction");
    EXPECT_FALSE(torch::allclose(base[1], moved[1]));
    // Two decision days in one batch would let day 30 see day 31's inputs.
    auto mixed = day_samples(before, 30);
    mixed.push_back(day_samples(before, 31).front());
    try {
      model->forward(before.dataset()->collate(mixed));
      ADD_FAILURE() << "a batch of two days was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("one decision day per batch"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("2015-02-04 to 2015-02-05"), std::string::npos) << e.what();
    }
  }
}

TEST_F(CrossSectionTest, TrainsOnOneDayBatchesOnly) {
  const auto pipeline = data::DataPipeline::build(config());
  seed_everything(4);
  const auto model_config = Json::parse(R"({
    "encoders": {"price": {"type": "rnn", "hidden": 8}, "market": {"type": "rnn", "hidden": 8}},
    "fusion": {"type": "cross_section", "market": "market", "hidden": 8, "heads": 2},
    "heads": {"direction": {"type": "classification", "classes": 2}}})");
  const auto make = [&] { return MultimodalModel(Config(model_config), modality_specs(*pipeline.dataset())); };
  auto options = training::TrainerOptions().epochs(2).progress("none");
  try {
    training::Trainer(options, make(), pipeline.dataset(), pipeline.split().train, pipeline.split().valid);
    ADD_FAILURE() << "shuffled batches were accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/batching: the fusion layer (cross_section)"), std::string::npos)
        << e.what();
  }
  options.batching("cross_sectional");
  training::Trainer trainer(options, make(), pipeline.dataset(), pipeline.split().train, pipeline.split().valid);
  const auto result = trainer.fit();
  ASSERT_EQ(result.history.size(), 2u);
  EXPECT_TRUE(std::isfinite(result.history.back().values.at("train.loss")));
  EXPECT_TRUE(std::isfinite(result.history.back().values.at("valid.accuracy")));

  // The bundle's predictor reads the index too and predicts day by day: the same probabilities as the model on each
  // day's cross-section, and the last day's stocks although their label is not known yet.
  io::BundleSource source;
  source.model = trainer.model();
  source.modalities = modality_specs(*pipeline.dataset());
  source.preprocessing = pipeline.dataset()->fitted();
  source.entities = pipeline.dataset()->entities();
  source.data = config().to_json();
  io::write_bundle(dir_ / "bundle", source);
  const io::Predictor predictor(dir_ / "bundle");
  const auto table = predictor.predict(predictor.training_data());
  const auto& rows = table.rows.at("direction");
  std::size_t last_day = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    last_day += table.date[i] == (kFirst + (kDays - 1)).to_string() ? 1 : 0;
  }
  EXPECT_EQ(last_day, kSymbols.size());
  auto model = trainer.model();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto day = kFirst + 45;
  const auto probabilities =
      torch::softmax(model->forward(pipeline.dataset()->collate(day_samples(pipeline, 45))).predictions.at("direction"), 1);
  std::int64_t compared = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table.date[i] != day.to_string()) {
      continue;
    }
    const auto it = std::find(kSymbols.begin(), kSymbols.end(), table.entity[i]);
    const auto k = static_cast<std::int64_t>(std::distance(kSymbols.begin(), it));
    EXPECT_NEAR(rows.probability(i, 1), probabilities[k][1].item<double>(), 1e-6) << table.entity[i];
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<std::int64_t>(kSymbols.size()));
}

}  // namespace
}  // namespace finfuse::models
