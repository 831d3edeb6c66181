// Modalities behind the Modality interface: a modality defined here, outside the library, is registered by name, built
// with preprocessing fitted on the training samples only, collated, described for encoders, stored in the fitted state
// and the dataset cache, and its options are checked with JSON paths; the built-ins are registered the same way.
#include "finfuse/core/check.h"
#include "finfuse/data/exchange_calendar.h"
#include "finfuse/data/modalities/price.h"
#include "finfuse/data/modalities/text.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/samples.h"
#include "finfuse/data/splits.h"
#include "finfuse/models/multimodal_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

namespace finfuse::data {
namespace {

using ::testing::HasSubstr;

// The high-low range of the last `days` bars over the last close, divided by its mean over the training samples
// (fitted state "true_range": {"mean": ...}); absent for samples with fewer than `days` bars of history.
class TrueRangeModality : public Modality {
 public:
  explicit TrueRangeModality(const DatasetOptions& options) : Modality("true_range") {
    const Config section = options.section("true_range");
    days_ = section.get<std::int64_t>("days", days_, Range::closed(2, 250));
    section.reject_unknown_keys();
  }

  void build(const ModalityContext& context) override {
    FINFUSE_CHECK(context.sources.prices != nullptr, "the 'true_range' modality needs a price panel");
    const auto n = context.size();
    values_.assign(n, 0.0f);
    present_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Sample& s = context.sample(i);
      if (s.last_bar + 1 < days_) {
        continue;
      }
      const PriceSeries& series = context.sources.prices->series(context.entity(i));
      const auto first = static_cast<std::size_t>(s.last_bar + 1 - days_);
      const auto last = static_cast<std::size_t>(s.last_bar);
      const double high = *std::max_element(series.high.begin() + first, series.high.begin() + last + 1);
      const double low = *std::min_element(series.low.begin() + first, series.low.begin() + last + 1);
      values_[i] = static_cast<float>((high - low) / series.close[last]);
      present_[i] = 1;
    }
    if (context.fitted != nullptr) {
      mean_ = context.fitted->state().child("true_range").get<double>("mean", Range::positive());
    } else {
      double sum = 0.0;
      std::int64_t count = 0;
      for (auto i : context.train) {
        if (present_[i] != 0) {
          sum += values_[i];
          ++count;
        }
      }
      FINFUSE_CHECK(count > 0, "no training sample has ", days_, " bars of history");
      mean_ = sum / static_cast<double>(count);
    }
    for (auto& v : values_) {
      v = static_cast<float>(v / mean_);
    }
  }
  std::vector<ModalitySpec> specs() const override { return {ModalitySpec(name(), {1})}; }
  void collate(const std::vector<std::size_t>& indices, Batch& batch) const override {
    const auto b = static_cast<std::int64_t>(indices.size());
    batch.modalities[name()] =
        ModalityBatch{gather_rows(values_.data(), 1, indices, {b, 1}), torch::Tensor(), gather_presence(&present_, indices)};
  }
  double coverage() const override { return fraction_present(present_); }
  Json fitted_state() const override { return Json{{"true_range", {{"mean", mean_}}}}; }
  void save(BinaryWriter& out) const override {
    out.vec(values_);
    out.vec(present_);
    out.pod(mean_);
  }
  void load(BinaryReader& in, const SampleList& samples) override {
    values_ = in.vec<float>();
    present_ = in.vec<std::uint8_t>();
    mean_ = in.pod<double>();
    if (values_.size() != samples.size() || present_.size() != samples.size()) {
      in.inconsistent("true ranges");
    }
  }

  double mean() const { return mean_; }

 private:
  std::int64_t days_ = 5;
  std::vector<float> values_;
  std::vector<std::uint8_t> present_;
  double mean_ = 1.0;
};

void register_true_range() {
  static std::once_flag once;
  std::call_once(once, [] {
    modality_registry().add("true_range", [](const DatasetOptions& options) -> std::shared_ptr<Modality> {
      return std::make_shared<TrueRangeModality>(options);
    });
  });
}

// Two symbols on 40 NYSE sessions with a range that grows with the bar index.
class ModalityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_true_range();
    const ExchangeCalendar nyse;
    Date day = Date::from_ymd(2016, 3, 7);
    std::vector<Date> days;
    while (days.size() < 40) {
      if (nyse.is_session(day)) {
        days.push_back(day);
      }
      day = day + 1;
    }
    for (const std::string symbol : {"X", "Y"}) {
      PriceSeries series;
      series.symbol = symbol;
      series.dates = days;
      for (std::size_t i = 0; i < days.size(); ++i) {
        const double p = (symbol == "X" ? 20.0 : 80.0) + static_cast<double>(i % 5);
        const double spread = 0.1 * static_cast<double>(i + 1);
        series.open.push_back(p);
        series.high.push_back(p + spread);
        series.low.push_back(p - spread);
        series.close.push_back(p);
        series.adj_close.push_back(p);
        series.volume.push_back(1000.0);
      }
      prices_.add(series);
    }
    AssemblyOptions assembly;
    assembly.price_window = 2;
    assembly.label.kind = "return";
    set_ = assemble_samples(prices_, assembly);
    split_ = chronological_split(set_.samples, days[25], days[32]);
  }

  DataSources sources() const { return DataSources{&prices_, nullptr, {}}; }

  DatasetOptions options(std::int64_t days) const {
    return DatasetOptions::from_config(
        Config(Json{{"modalities", {"price", "true_range"}}, {"true_range", {{"days", days}}}}, "dataset.json"));
  }

  // The unscaled range of sample i, from the prices themselves.
  double raw_range(const MultimodalDataset& ds, std::size_t i, std::int64_t days) const {
    const Sample& s = ds.sample(i);
    const PriceSeries& series = prices_.series(ds.entities()[static_cast<std::size_t>(s.entity)]);
    double high = -1e300;
    double low = 1e300;
    for (auto bar = s.last_bar + 1 - days; bar <= s.last_bar; ++bar) {
      high = std::max(high, static_cast<double>(series.high[static_cast<std::size_t>(bar)]));
      low = std::min(low, static_cast<double>(series.low[static_cast<std::size_t>(bar)]));
    }
    return (high - low) / series.close[static_cast<std::size_t>(s.last_bar)];
  }

  PricePanel prices_;
  SampleSet set_;
  Split split_;
};

TEST_F(ModalityTest, BuiltInsAreRegisteredLikeAnyOther) {
  const auto names = modality_registry().names();
  for (const char* builtin : {"price", "text", "numeric", "chart", "image"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), builtin), names.end()) << builtin;
    EXPECT_TRUE(is_builtin_modality(builtin));
  }
  EXPECT_FALSE(is_builtin_modality("true_range"));
  EXPECT_EQ(modality_registry().create("price", DatasetOptions())->name(), "price");
}

TEST_F(ModalityTest, UserModalityIsBuiltWithPreprocessingFittedOnTrainingSamplesOnly) {
  const std::int64_t days = 4;
  const auto ds = MultimodalDataset::build(set_, sources(), options(days), split_.train);
  // The mean over the training samples that have the history, computed here from the prices.
  double sum = 0.0;
  int count = 0;
  for (auto i : split_.train) {
    if (ds.sample(i).last_bar + 1 >= days) {
      sum += raw_range(ds, i, days);
      ++count;
    }
  }
  ASSERT_GT(count, 0);
  const double mean = sum / count;
  const auto& modality = ds.modality<TrueRangeModality>("true_range");
  EXPECT_NEAR(modality.mean(), mean, 1e-6 * mean);  // the ranges are stored as floats
  // Validation and test samples (later, with wider ranges) did not move the fitted mean.
  double all = 0.0;
  int all_count = 0;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    if (ds.sample(i).last_bar + 1 >= days) {
      all += raw_range(ds, i, days);
      ++all_count;
    }
  }
  EXPECT_GT(all / all_count, mean * 1.05);

  std::vector<std::size_t> indices(ds.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    indices[i] = i;
  }
  const Batch batch = ds.collate(indices);
  const auto& entry = batch.modalities.at("true_range");
  ASSERT_EQ(entry.values.sizes(), (std::vector<std::int64_t>{static_cast<std::int64_t>(ds.size()), 1}));
  std::size_t absent = 0;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const bool has = ds.sample(i).last_bar + 1 >= days;
    EXPECT_EQ(entry.present[static_cast<std::int64_t>(i)].item<bool>(), has) << i;
    if (has) {
      EXPECT_NEAR(entry.values[static_cast<std::int64_t>(i)][0].item<float>(), raw_range(ds, i, days) / mean, 1e-5);
    } else {
      ++absent;
    }
  }
  EXPECT_GT(absent, 0u);
  EXPECT_NEAR(ds.coverage("true_range"), 1.0 - static_cast<double>(absent) / static_cast<double>(ds.size()), 1e-12);
  EXPECT_EQ(ds.coverage("price"), 1.0);

  // Described for encoders next to the built-ins, in name order.
  const auto specs = models::modality_specs(ds);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "price");
  EXPECT_EQ(specs[1].name, "true_range");
  EXPECT_EQ(specs[1].shape, (std::vector<std::int64_t>{1}));
}

TEST_F(ModalityTest, FittedStateIsStoredAndAppliedUnchangedToNewData) {
  const auto trained = MultimodalDataset::build(set_, sources(), options(3), split_.train);
  const Json state = trained.fitted().to_json();
  ASSERT_TRUE(state.contains("true_range"));
  EXPECT_NEAR(state["true_range"]["mean"].get<double>(), trained.modality<TrueRangeModality>("true_range").mean(),
              1e-12);

  // A model's state with another mean: applying it scales by that mean and fits nothing.
  Json other = state;
  other["true_range"]["mean"] = 0.5;
  const auto fitted = FittedPreprocessing::from_json(Config(other, "preprocessing.json"));
  const auto applied = MultimodalDataset::build(set_, sources(), options(3), fitted);
  EXPECT_EQ(applied.modality<TrueRangeModality>("true_range").mean(), 0.5);
  const auto last = trained.size() - 1;
  EXPECT_NEAR(applied.collate({last}).modalities.at("true_range").values.item<float>(),
              trained.collate({last}).modalities.at("true_range").values.item<float>() *
                  trained.modality<TrueRangeModality>("true_range").mean() / 0.5,
              1e-5);

  // State the modality does not find is its own error; a key no modality owns is rejected when read.
  Json missing = state;
  missing["true_range"] = Json::object();
  EXPECT_THROW(MultimodalDataset::build(set_, sources(), options(3),
                                        FittedPreprocessing::from_json(Config(missing, "preprocessing.json"))),
               ConfigError);
  Json unknown = state;
  unknown["true_rnage"] = Json::object();
  try {
    (void)FittedPreprocessing::from_json(Config(unknown, "preprocessing.json"));
    FAIL() << "an unknown key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/true_rnage");
    EXPECT_THAT(e.what(), HasSubstr("registered modality"));
  }
}

TEST_F(ModalityTest, CacheRoundTripKeepsEveryModalitysInputs) {
  const auto ds = MultimodalDataset::build(set_, sources(), options(5), split_.train);
  const std::string bytes = ds.serialize();
  const auto back = MultimodalDataset::deserialize(bytes, "cache.bin");
  std::vector<std::size_t> indices = {0, 3, 7, ds.size() - 1};
  const Batch a = ds.collate(indices);
  const Batch b = back.collate(indices);
  for (const char* name : {"price", "true_range"}) {
    EXPECT_TRUE(torch::equal(a.modalities.at(name).values, b.modalities.at(name).values)) << name;
    EXPECT_TRUE(torch::equal(a.modalities.at(name).present, b.modalities.at(name).present)) << name;
  }
  EXPECT_EQ(back.fitted().to_json(), ds.fitted().to_json());
  // A modality's bytes cut short are the cache file's error, not an overrun.
  EXPECT_THROW(MultimodalDataset::deserialize(std::string_view(bytes).substr(0, bytes.size() - 200), "cache.bin"),
               DataError);
}

TEST_F(ModalityTest, StreamedBytesEqualTheCollectedOnes) {
  const auto ds = MultimodalDataset::build(set_, sources(), options(5), split_.train);
  const std::string whole = ds.serialize();
  // Handed on in pieces of at most 64 bytes, except arrays as large as that, which go on whole.
  std::string streamed;
  std::size_t pieces = 0, largest = 0;
  BinaryWriter w(
      [&](std::string_view piece) {
        streamed.append(piece);
        ++pieces;
        largest = std::max(largest, piece.size());
      },
      64);
  ds.serialize(w);
  EXPECT_LT(streamed.size(), whole.size());  // the tail is still buffered
  w.flush();
  EXPECT_EQ(streamed, whole);
  EXPECT_EQ(w.written(), whole.size());
  EXPECT_GT(pieces, 10u);
  EXPECT_GT(largest, 64u);
  EXPECT_TRUE(w.take().empty());
}

TEST(BinaryIo, ArraysStartAlignedAndAreReadInPlaceOrCopied) {
  BinaryWriter w;
  w.pod<std::uint8_t>(1);  // the array after it needs padding
  const std::vector<double> values = {1.5, -2.0, 3.25};
  w.vec(values);
  w.vec(std::vector<std::int32_t>{});
  const std::string bytes = w.take();
  // u8, count (8 bytes), padding length (1 byte), padding to a multiple of 8, the values.
  ASSERT_EQ(bytes.size(), 1 + 8 + 1 + 6 + 3 * sizeof(double) + 8 + 1 + 7);
  // Without an owner the values are copied; with one that keeps aligned bytes alive, they are read in place.
  const auto kept = std::make_shared<const std::string>(bytes);
  for (const bool owned : {false, true}) {
    BinaryReader r(*kept, "a.bin", owned ? kept : nullptr);
    EXPECT_EQ(r.pod<std::uint8_t>(), 1);
    const SharedArray<double> read = r.array<double>();
    EXPECT_EQ(read.to_vector(), values);
    EXPECT_EQ(read.is_view(), owned);
    if (owned) {
      EXPECT_EQ(reinterpret_cast<const char*>(read.data()), kept->data() + 16);
    }
    EXPECT_TRUE(r.array<std::int32_t>().empty());
    EXPECT_TRUE(r.done());
  }
  // Bytes that lie misaligned in memory are copied.
  auto shifted_bytes = std::make_shared<std::string>(1, ' ');
  *shifted_bytes += bytes;
  const std::shared_ptr<const std::string> shifted = shifted_bytes;
  BinaryReader off(std::string_view(*shifted).substr(1), "a.bin", shifted);
  off.pod<std::uint8_t>();
  const SharedArray<double> copied = off.array<double>();
  EXPECT_FALSE(copied.is_view());
  EXPECT_EQ(copied.to_vector(), values);
  // A damaged padding length is a DataError naming the source.
  std::string damaged = bytes;
  damaged[9] = 8;
  BinaryReader bad(damaged, "a.bin");
  bad.pod<std::uint8_t>();
  try {
    bad.array<double>();
    FAIL() << "a padding of 8 bytes was accepted";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a.bin"));
    EXPECT_THAT(e.what(), HasSubstr("padding"));
  }
}

TEST_F(ModalityTest, OptionsAreCheckedWithJsonPaths) {
  try {
    (void)options(1);
    FAIL() << "days 1 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/true_range/days");
  }
  try {
    (void)DatasetOptions::from_config(Config(Json{{"modalities", {"price", "true_rnage"}}}));
    FAIL() << "an unknown modality was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.pointer(), "/modalities/1");
    EXPECT_THAT(e.what(), HasSubstr("did you mean 'true_range'"));
  }
  // A section for a modality that is not listed is an unknown key, as any other.
  EXPECT_THROW((void)DatasetOptions::from_config(Config(Json{{"modalities", {"price"}}, {"true_range", {{"days", 3}}}})),
               ConfigError);
  // The options round-trip through JSON, the user modality's section included.
  const auto o = options(7);
  EXPECT_EQ(DatasetOptions::from_config(Config(o.to_json())).to_json(), o.to_json());
  EXPECT_EQ(o.to_json()["true_range"]["days"], 7);
}

// A price window is a view: the modality keeps each bar once (two series of 40 bars, 5 values of 4 bytes each under
// "returns") and a row per entity, whatever the window's length, and a collated window is price_window()'s.
TEST_F(ModalityTest, PriceWindowsAreViewsOfBarsKeptOnce) {
  for (const std::int64_t window : {2, 10}) {
    AssemblyOptions assembly;
    assembly.price_window = window;
    assembly.label.kind = "return";
    const SampleSet set = assemble_samples(prices_, assembly);
    const std::vector<std::size_t> all = [&] {
      std::vector<std::size_t> v(set.samples.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] = i;
      }
      return v;
    }();
    const auto ds = MultimodalDataset::build(
        set, sources(), DatasetOptions::from_config(Config(Json{{"modalities", {"price"}}})), all);
    const auto& price = ds.modality<PriceModality>("price");
    EXPECT_EQ(price.bytes(), 2 * 40 * 5 * sizeof(float) + 2 * sizeof(std::int32_t))
        << "window " << window;
    std::vector<std::size_t> rows(ds.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      rows[i] = i;
    }
    const Batch batch = ds.collate(rows);
    const torch::Tensor windows = batch.modalities.at("price").values;
    ASSERT_EQ(windows.sizes(), (std::vector<std::int64_t>{static_cast<std::int64_t>(ds.size()), window, 5}));
    for (std::size_t i = 0; i < ds.size(); ++i) {
      const Sample& s = ds.sample(i);
      const auto expected =
          price_window(prices_.series(ds.entities()[static_cast<std::size_t>(s.entity)]), s.last_bar, window, {});
      const torch::Tensor row = windows[static_cast<std::int64_t>(i)].contiguous();
      ASSERT_EQ(std::memcmp(row.data_ptr<float>(), expected.data(), expected.size() * sizeof(float)), 0)
          << "sample " << i << ", window " << window;
    }
    // Loaded for samples whose windows leave an entity's bars (the last bar beyond them, or too close to the first
    // for the window): refused, naming the entity, though each entity's bounds are checked rather than each sample.
    BinaryWriter out;
    price.save(out);
    const std::string bytes = out.take();
    const auto load = [&](const SampleList& samples) {
      BinaryReader in(bytes, "cache.bin");
      PriceModality back(ds.options());
      back.load(in, samples);
    };
    EXPECT_NO_THROW(load(set.samples));
    for (const std::int32_t last : {40, static_cast<std::int32_t>(window) - 2}) {
      auto records = set.samples.to_vector();
      records[records.size() / 2].last_bar = last;
      const SampleList moved(records);
      ASSERT_TRUE(moved.last_bars_in_stretches());
      try {
        load(moved);
        ADD_FAILURE() << "a window ending at bar " << last << " was loaded";
      } catch (const DataError& e) {
        EXPECT_THAT(e.what(), HasSubstr(fmt::format("price windows of entity {}", records[records.size() / 2].entity)));
      }
    }
  }
}

TEST_F(ModalityTest, TypedAccessNamesWhatTheDatasetHas) {
  const auto ds = MultimodalDataset::build(set_, sources(), options(3), split_.train);
  EXPECT_EQ(ds.modality<PriceModality>("price").name(), "price");
  try {
    (void)ds.modality<TextModality>("text");
    FAIL() << "a modality that was not built was found";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no modality 'text'; it has 'price', 'true_range'"));
  }
  try {
    (void)ds.modality<TextModality>("price");
    FAIL() << "a modality was returned as a class it is not";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("modality 'price' is a finfuse::data::PriceModality, not a "
                                    "finfuse::data::TextModality"));
  }
  EXPECT_EQ(ds.find_modality("chart"), nullptr);
  EXPECT_FALSE(ds.tokenizer().has_value());
}

}  // namespace
}  // namespace finfuse::data
