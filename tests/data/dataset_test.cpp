#include "finfuse/data/binary_io.h"
#include "finfuse/data/exchange_calendar.h"
#include "finfuse/data/loader.h"
#include "finfuse/data/modalities/text.h"
#include "finfuse/data/multimodal_dataset.h"
#include "finfuse/data/sampler.h"
#include "finfuse/data/splits.h"
#include "finfuse/models/multimodal_model.h"

#include "support/cuda.h"
#include "support/temp_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

namespace finfuse::data {
namespace {

// Three symbols on 30 NYSE sessions from 2015-01-05, prices following a deterministic zig-zag per symbol; texts on a few
// days; a fundamentals table.
class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ExchangeCalendar nyse;
    Date day = Date::from_ymd(2015, 1, 5);
    std::vector<Date> days;
    while (days.size() < 30) {
      if (nyse.is_session(day)) {
        days.push_back(day);
      }
      day = day + 1;
    }
    const std::vector<std::string> symbols = {"A", "B", "C"};
    for (std::size_t s = 0; s < symbols.size(); ++s) {
      PriceSeries series;
      series.symbol = symbols[s];
      series.dates = days;
      for (std::size_t i = 0; i < days.size(); ++i) {
        const double p = 50.0 + 10.0 * static_cast<double>(s) + ((i + s) % 3 == 0 ? 1.0 : -0.5) * static_cast<double>(i % 4);
        series.open.push_back(p);
        series.high.push_back(p + 1);
        series.low.push_back(p - 1);
        series.close.push_back(p);
        series.adj_close.push_back(p);
        series.volume.push_back(1000.0 + static_cast<double>(i));
      }
      prices_.add(series);
    }
    days_ = days;
    // "early" words appear before the validation period, "future" words only in it.
    texts_.add("A", TextRecord{Timestamp::at(days[3], 12 * 3600), "early news for a"});
    texts_.add("A", TextRecord{Timestamp::at(days[5], 12 * 3600), "early gains"});
    texts_.add("B", TextRecord{Timestamp::at(days[4], 12 * 3600), "early news for b"});
    texts_.add("A", TextRecord{Timestamp::at(days[25], 12 * 3600), "future merger rumour"});
    texts_.finalize();

    dir_ = ::finfuse::testing::unique_temp_dir("finfuse_dataset_test");
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "fundamentals.csv") << "symbol,date,eps\n"
                                             << "A," << days[0].to_string() << ",1\n"
                                             << "A," << days[10].to_string() << ",3\n"
                                             << "B," << days[0].to_string() << ",5\n"
                                             << "A," << days[22].to_string() << ",100\n";
    table_ = NumericTable::load_csv(dir_ / "fundamentals.csv", NumericTableOptions{});

    AssemblyOptions assembly;
    assembly.price_window = 3;
    assembly.label.kind = "return";
    assembly.text.lookback_days = 3;
    set_ = assemble_samples(prices_, assembly);
    split_ = chronological_split(set_.samples, days[20], days[25]);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  DataSources sources() const { return DataSources{&prices_, &texts_, {{"fundamentals", &table_}}}; }

  DatasetOptions all_modalities() const {
    DatasetOptions options;
    options.modalities = {"price", "text", "numeric"};
    options.tokenizer.min_frequency = 1;
    options.tokenizer.max_length = 4;
    options.max_texts = 2;
    options.numeric.scale = "zscore";
    return options;
  }

  PricePanel prices_;
  TextCorpus texts_;
  NumericTable table_;
  std::vector<Date> days_;
  SampleSet set_;
  Split split_;
  std::filesystem::path dir_;
};

TEST_F(DatasetTest, CollatesEveryModalityWithPresence) {
  const auto ds = MultimodalDataset::build(set_, sources(), all_modalities(), split_.train);
  ASSERT_EQ(ds.size(), set_.samples.size());
  const Batch batch = ds.collate({0, 1, 2, 3});
  EXPECT_EQ(batch.size(), 4);
  EXPECT_EQ(batch.modalities.at("price").values.sizes(), (std::vector<std::int64_t>{4, 3, 5}));
  EXPECT_EQ(batch.modalities.at("text").values.sizes(), (std::vector<std::int64_t>{4, 2, 4}));
  EXPECT_EQ(batch.modalities.at("text").values.scalar_type(), torch::kInt64);
  EXPECT_EQ(batch.modalities.at("numeric").values.sizes(), (std::vector<std::int64_t>{4, 1}));
  EXPECT_EQ(batch.target.scalar_type(), torch::kFloat32);
  // The price tensor holds exactly the window of the sample.
  const Sample& s = ds.sample(2);
  const auto expected = price_window(prices_.series(ds.entities()[static_cast<std::size_t>(s.entity)]), s.last_bar, 3,
                                     PriceWindowOptions{});
  const auto actual = batch.modalities.at("price").values[2].flatten();
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_FLOAT_EQ(actual[static_cast<std::int64_t>(k)].item<float>(), expected[k]);
  }
  EXPECT_FLOAT_EQ(batch.target[2].item<float>(), s.target);
  EXPECT_EQ(batch.day[2].item<std::int32_t>(), s.day.days());
  // C has no texts and no fundamentals; A has both once they exist.
  EXPECT_GT(ds.coverage("text"), 0.0);
  EXPECT_LT(ds.coverage("text"), 1.0);
  EXPECT_NEAR(ds.coverage("numeric"), 2.0 / 3.0, 0.05);
  EXPECT_THROW(ds.collate({ds.size()}), Error);
}

TEST_F(DatasetTest, ModelsAreBuiltFromTheDatasetsModalities) {
  const auto ds = MultimodalDataset::build(set_, sources(), all_modalities(), split_.train);
  const auto specs = models::modality_specs(ds);
  ASSERT_EQ(specs.size(), 3U);
  for (const auto& spec : specs) {
    if (spec.name == "text") {
      EXPECT_EQ(spec.shape, (std::vector<std::int64_t>{2, 4}));
      EXPECT_EQ(spec.vocab_size, ds.tokenizer()->vocab_size());
    } else if (spec.name == "price") {
      EXPECT_EQ(spec.shape, (std::vector<std::int64_t>{3, 5}));
    } else {
      EXPECT_EQ(spec.name, "numeric");
      EXPECT_EQ(spec.shape, (std::vector<std::int64_t>{1}));
    }
  }
  models::MultimodalModel model(
      Config::parse(R"({"encoders": {"price": {"type": "rnn", "hidden": 8},
                                     "text": {"type": "rnn", "hidden": 8, "embedding_dim": 8},
                                     "numeric": {"type": "mlp", "layers": [8]}},
                        "fusion": {"type": "attention", "hidden": 8, "heads": 2},
                        "heads": {"label": {"type": "regression"},
                                  "return": {"type": "regression", "target": "forward_return", "weight": 0.5}}})"),
      specs);
  model->set_entity_names(ds.entities());
  const auto indices = ds.usable_only(split_.train);
  const Batch batch = ds.collate(indices);
  for (std::size_t k = 0; k < indices.size(); ++k) {
    EXPECT_FLOAT_EQ(batch.forward_return[static_cast<std::int64_t>(k)].item<float>(),
                    static_cast<float>(ds.sample(indices[k]).forward_return));
  }
  const auto out = model->forward(batch);
  EXPECT_EQ(out.predictions.at("label").sizes(), (std::vector<std::int64_t>{batch.size()}));
  EXPECT_TRUE(std::isfinite(model->loss(out, batch).total.item<double>()));
}

TEST_F(DatasetTest, VocabularyAndScalingSeeTrainingSamplesOnly) {
  const auto ds = MultimodalDataset::build(set_, sources(), all_modalities(), split_.train);
  const Tokenizer& tokenizer = *ds.tokenizer();
  EXPECT_NE(tokenizer.id_of("early"), tokenizer.unk_id());
  EXPECT_EQ(tokenizer.id_of("merger"), tokenizer.unk_id());  // published in the validation period only
  // EPS 100 becomes public after the training period: the scaler's mean comes from the values 1, 3 and 5 as the
  // training samples saw them, never from 100.
  const Json state = ds.numeric_preprocessor()->to_json();
  EXPECT_LT(state["columns"][0]["center"].get<double>(), 6.0);
  for (auto i : split_.test) {
    EXPECT_EQ(ds.sample(i).day >= days_[25], true);
  }
}

TEST_F(DatasetTest, TextWindowsStopAtTheDecision) {
  DatasetOptions options = all_modalities();
  options.modalities = {"text"};
  const auto ds = MultimodalDataset::build(set_, sources(), options, split_.train);
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const Sample& s = ds.sample(i);
    for (const auto* text : texts_.window(ds.entities()[static_cast<std::size_t>(s.entity)], s.text_start(),
                                          s.text_cutoff(), 2)) {
      EXPECT_LT(text->time, s.time());
    }
  }
  options.text_layout = "concat";
  const auto concat = MultimodalDataset::build(set_, sources(), options, split_.train);
  EXPECT_EQ(concat.collate({0}).modalities.at("text").values.sizes(), (std::vector<std::int64_t>{1, 4}));
}

// Every sample's collated ids are the tokenizer's encoding of its window's texts, newest first (per_text) or joined
// by line ends (concat), padded with the pad id and masked; and so are they after the modality is saved and loaded,
// with a vocabulary of 16-bit ids and with one larger than that.
TEST_F(DatasetTest, TextIdsAreTheWindowsTextsEncodedAndSurviveSaving) {
  texts_.add("A", TextRecord{Timestamp::at(days_[6], 12 * 3600), "gains"});
  texts_.add("B", TextRecord{Timestamp::at(days_[6], 13 * 3600), "news news news news news for b"});
  texts_.finalize();
  for (const bool wide : {false, true}) {
    if (wide) {
      // 66,001 words seen once: "zz", the last of them in the vocabulary's order, gets an id over 65,535.
      std::string many = "zz";
      for (int w = 0; w < 66000; ++w) {
        many += fmt::format(" a{}", w);
      }
      texts_.add("C", TextRecord{Timestamp::at(days_[2], 12 * 3600), many});
      texts_.finalize();
    }
    for (const std::string layout : {"per_text", "concat"}) {
      DatasetOptions options = all_modalities();
      options.modalities = {"text"};
      options.text_layout = layout;
      options.tokenizer.max_length = 5;
      options.tokenizer.max_vocab = 70000;
      const auto ds = MultimodalDataset::build(set_, sources(), options, split_.train);
      const TextModality& built = ds.modality<TextModality>("text");
      BinaryWriter writer;
      built.save(writer);
      const std::string bytes = writer.take();
      BinaryReader reader(bytes, "text.bin");
      TextModality loaded(options);
      loaded.load(reader, ds.samples());
      const Tokenizer& tokenizer = *ds.tokenizer();
      ASSERT_EQ(tokenizer.vocab_size() > 65536, wide);
      const auto pad = static_cast<std::int64_t>(tokenizer.pad_id());
      std::int64_t texts_seen = 0;
      std::int64_t largest_id = 0;
      for (std::size_t i = 0; i < ds.size(); ++i) {
        const Sample& s = ds.sample(i);
        const auto window = texts_.window(ds.entities()[static_cast<std::size_t>(s.entity)], s.text_start(),
                                          s.text_cutoff(), 2);
        texts_seen += static_cast<std::int64_t>(window.size());
        std::vector<std::vector<std::int64_t>> rows;
        if (layout == "per_text") {
          for (const auto* text : window) {
            rows.push_back(tokenizer.encode(text->text));
          }
          rows.resize(2);
        } else {
          std::string joined;
          for (const auto* text : window) {
            joined += std::string(text->text) + "\n";
          }
          rows.push_back(window.empty() ? std::vector<std::int64_t>{} : tokenizer.encode(joined));
        }
        std::vector<std::int64_t> ids;
        std::vector<std::int64_t> mask;
        for (const auto& row : rows) {
          ASSERT_LE(row.size(), 5u);
          for (std::size_t k = 0; k < 5; ++k) {
            ids.push_back(k < row.size() ? row[k] : pad);
            mask.push_back(k < row.size() ? 1 : 0);
          }
        }
        for (const Modality* modality : {static_cast<const Modality*>(&built), static_cast<const Modality*>(&loaded)}) {
          Batch batch;
          modality->collate({i}, batch);
          const auto& text = batch.modalities.at("text");
          const auto got = text.values.flatten();
          const auto got_mask = text.mask.flatten().to(torch::kInt64);
          largest_id = std::max(largest_id, got.max().item<std::int64_t>());
          EXPECT_EQ(std::vector<std::int64_t>(got.data_ptr<std::int64_t>(), got.data_ptr<std::int64_t>() + got.numel()),
                    ids)
              << layout << " sample " << i;
          EXPECT_EQ(std::vector<std::int64_t>(got_mask.data_ptr<std::int64_t>(),
                                              got_mask.data_ptr<std::int64_t>() + got_mask.numel()),
                    mask)
              << layout << " sample " << i;
          EXPECT_EQ(text.present.item<bool>(), !window.empty());
        }
      }
      EXPECT_GT(texts_seen, 10);
      EXPECT_EQ(largest_id > 65535, wide) << layout;
    }
  }
}

TEST_F(DatasetTest, MissingSourcesAndOptions) {
  DataSources none;
  none.prices = &prices_;
  DatasetOptions options = all_modalities();
  EXPECT_THROW(MultimodalDataset::build(set_, none, options, split_.train), Error);
  options.numeric.impute = "none";
  EXPECT_THROW(MultimodalDataset::build(set_, sources(), options, split_.train), Error);
  EXPECT_THROW(DatasetOptions::from_config(Config::parse(R"({"modalities": ["price", "audio"]})")), ConfigError);
  EXPECT_THROW(DatasetOptions::from_config(Config::parse(R"({"modalities": ["price", "price"]})")), ConfigError);
  EXPECT_EQ(DatasetOptions::from_config(Config()).modalities, std::vector<std::string>{"price"});
  EXPECT_EQ(DatasetOptions::from_config(Config(all_modalities().to_json())).to_json(), all_modalities().to_json());
}

TEST_F(DatasetTest, SamplersCoverShuffleAndShard) {
  const auto& samples = set_.samples;
  const ShuffledSampler shuffled(split_.train, 8, 42);
  const auto e0 = shuffled.batches(0);
  const auto e1 = shuffled.batches(1);
  EXPECT_EQ(e0, shuffled.batches(0));
  EXPECT_NE(e0, e1);
  std::multiset<std::size_t> seen;
  for (const auto& b : e0) {
    seen.insert(b.begin(), b.end());
  }
  EXPECT_EQ(seen, std::multiset<std::size_t>(split_.train.begin(), split_.train.end()));
  EXPECT_EQ(ShuffledSampler(split_.train, 8, 42, true).batches(0).back().size(), 8u);

  const CrossSectionalSampler daily(samples, split_.train, false, 1);
  for (const auto& b : daily.batches(0)) {
    ASSERT_EQ(b.size(), 3u);  // every symbol on that day
    EXPECT_EQ(samples[b[0]].day, samples[b[2]].day);
  }

  auto inner = std::make_shared<ShuffledSampler>(split_.train, 5, 3);
  const DistributedSampler rank0(inner, 0, 2);
  const DistributedSampler rank1(inner, 1, 2);
  EXPECT_EQ(rank0.batches(4).size(), rank1.batches(4).size());
  std::set<std::size_t> r0;
  for (const auto& b : rank0.batches(4)) {
    r0.insert(b.begin(), b.end());
  }
  std::size_t overlap = 0;
  for (const auto& b : rank1.batches(4)) {
    for (auto i : b) {
      overlap += r0.count(i);
    }
  }
  // Disjoint except for the batch repeated to even out the counts.
  EXPECT_LE(overlap, 5u);
  EXPECT_THROW(DistributedSampler(inner, 2, 2), Error);
}

TEST(ClassBalancedSampler, DrawsClassesEvenly) {
  std::vector<Sample> samples(1000);
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i].target = i < 100 ? 1.0f : 0.0f;  // 10% positives
    indices.push_back(i);
  }
  const ClassBalancedSampler sampler(samples, indices, 100, 9);
  double positives = 0;
  double total = 0;
  for (const auto& b : sampler.batches(0)) {
    for (auto i : b) {
      positives += samples[i].target;
      ++total;
    }
  }
  EXPECT_EQ(total, 1000);
  EXPECT_NEAR(positives / total, 0.5, 0.06);
  samples[0].target = 0.5f;
  EXPECT_THROW(ClassBalancedSampler(samples, indices, 10, 1), Error);
}

TEST_F(DatasetTest, LoaderPrefetchesInOrderAndResumes) {
  auto ds = std::make_shared<const MultimodalDataset>(
      MultimodalDataset::build(set_, sources(), all_modalities(), split_.train));
  auto sampler = std::make_shared<const ShuffledSampler>(split_.train, 4, 5);
  for (std::int64_t prefetch : {0, 1, 3}) {
    DataLoader loader(ds, sampler, prefetch);
    loader.start_epoch(2);
    const auto plan = sampler->batches(2);
    ASSERT_EQ(loader.batches_in_epoch(), static_cast<std::int64_t>(plan.size()));
    std::size_t k = 0;
    while (auto batch = loader.next()) {
      const Batch expected = ds->collate(plan[k++]);
      EXPECT_TRUE(torch::equal(batch->target, expected.target));
      EXPECT_TRUE(torch::equal(batch->modalities.at("price").values, expected.modalities.at("price").values));
    }
    EXPECT_EQ(k, plan.size());
    // Resuming in the middle of an epoch continues with the same batches.
    loader.start_epoch(2, 3);
    const auto resumed = loader.next();
    ASSERT_TRUE(resumed.has_value());
    EXPECT_TRUE(torch::equal(resumed->target, ds->collate(plan[3]).target));
  }
}

// For a GPU the loader's thread pins each batch and copies it on a stream of its own; the batches arrive on the GPU,
// equal to the CPU collation, whatever the prefetch depth, and stay valid while later copies run.
TEST_F(DatasetTest, LoaderCopiesBatchesToTheGpuAhead_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  auto ds = std::make_shared<const MultimodalDataset>(
      MultimodalDataset::build(set_, sources(), all_modalities(), split_.train));
  auto sampler = std::make_shared<const ShuffledSampler>(split_.train, 4, 5);
  const c10::Device gpu(c10::DeviceType::CUDA, 0);
  for (std::int64_t prefetch : {0, 1, 3}) {
    DataLoader loader(ds, sampler, prefetch, gpu);
    loader.start_epoch(1);
    const auto plan = sampler->batches(1);
    std::vector<Batch> received;
    while (auto batch = loader.next()) {
      received.push_back(std::move(*batch));
    }
    ASSERT_EQ(received.size(), plan.size());
    for (std::size_t k = 0; k < plan.size(); ++k) {
      const Batch expected = ds->collate(plan[k]);
      ASSERT_TRUE(received[k].target.is_cuda());
      EXPECT_TRUE(torch::equal(received[k].target.cpu(), expected.target));
      for (const auto& [name, modality] : expected.modalities) {
        const auto& got = received[k].modalities.at(name);
        EXPECT_TRUE(got.values.is_cuda()) << name;
        EXPECT_TRUE(torch::equal(got.values.cpu(), modality.values)) << name << ", batch " << k;
        EXPECT_TRUE(torch::equal(got.present.cpu(), modality.present)) << name;
      }
    }
  }
}

TEST(Batch, PinnedCopiesArePageLocked_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  Batch batch;
  batch.target = torch::arange(4).to(torch::kFloat);
  batch.modalities["price"] = ModalityBatch{torch::randn({4, 3}), torch::Tensor(), torch::ones({4}, torch::kBool)};
  const Batch pinned = batch.pinned();
  EXPECT_TRUE(pinned.target.is_pinned());
  EXPECT_TRUE(pinned.modalities.at("price").values.is_pinned());
  EXPECT_FALSE(pinned.modalities.at("price").mask.defined());
  EXPECT_TRUE(torch::equal(pinned.target, batch.target));
}

class BadSampler : public BatchSampler {
 public:
  std::vector<std::vector<std::size_t>> batches(std::int64_t) const override { return {{0}, {1000000}}; }
};

TEST_F(DatasetTest, LoaderForwardsCollationErrors) {
  auto ds = std::make_shared<const MultimodalDataset>(
      MultimodalDataset::build(set_, sources(), all_modalities(), split_.train));
  DataLoader loader(ds, std::make_shared<BadSampler>(), 2);
  loader.start_epoch(0);
  EXPECT_TRUE(loader.next().has_value());
  EXPECT_THROW(loader.next(), Error);
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST_F(DatasetTest, ChartModalityAndForwardFill) {
  // A second fundamentals table whose latest row lacks the value: forward fill takes the previous one.
  std::ofstream(dir_ / "ratios.csv") << "symbol,date,pe\n"
                                     << "A," << days_[0].to_string() << ",12\n"
                                     << "A," << days_[2].to_string() << ",\n";
  const NumericTable ratios = NumericTable::load_csv(dir_ / "ratios.csv", NumericTableOptions{});
  DatasetOptions options;
  options.modalities = {"chart", "numeric"};
  options.chart.days = 5;
  options.numeric.scale = "none";
  DataSources sources_with_ratios{&prices_, nullptr, {{"ratios", &ratios}}};
  const auto ds = MultimodalDataset::build(set_, sources_with_ratios, options, split_.train);
  // Samples of A after day 3 see pe 12 carried forward from day 0.
  std::size_t checked = 0;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    if (ds.entities()[static_cast<std::size_t>(ds.sample(i).entity)] == "A" && ds.sample(i).day > days_[4]) {
      EXPECT_FLOAT_EQ(ds.collate({i}).modalities.at("numeric").values[0][0].item<float>(), 12.0f);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
  const Batch batch = ds.collate({0, 10});
  EXPECT_EQ(batch.modalities.at("chart").values.sizes(), (std::vector<std::int64_t>{2, 1, 32, 15}));
  EXPECT_GT(batch.modalities.at("chart").values.max().item<float>(), 0.99f);
  // The first samples (window 3 bars) lack the 5 bars a chart needs.
  EXPECT_FALSE(batch.modalities.at("chart").present[0].item<bool>());
  EXPECT_LT(ds.coverage("chart"), 1.0);
  // Without forward fill every sample's as-of row is the one with the empty value: nothing to fit on.
  options.forward_fill = false;
  EXPECT_THROW(MultimodalDataset::build(set_, sources_with_ratios, options, split_.train), Error);
}

TEST_F(DatasetTest, StaticTableSamplesWithCategories) {
  std::ofstream(dir_ / "credit.csv") << "id,limit,sex,education,defaulted\n"
                                     << "1,20000,2,university,1\n2,120000,1,graduate,0\n3,90000,2,university,0\n"
                                     << "4,50000,1,high school,1\n5,70000,2,other,0\n";
  NumericTableOptions table_options;
  table_options.kind = "static";
  table_options.entity_column = "id";
  table_options.categorical = {"sex", "education"};
  table_options.label_column = "defaulted";
  const NumericTable credit = NumericTable::load_csv(dir_ / "credit.csv", table_options);
  const SampleSet set = static_samples(credit);
  EXPECT_FALSE(set.timed);
  ASSERT_EQ(set.samples.size(), 5u);
  EXPECT_FLOAT_EQ(set.samples[3].target, 1.0f);
  DatasetOptions options;
  options.modalities = {"numeric"};
  const std::vector<std::size_t> train = {0, 1, 2};
  const auto ds = MultimodalDataset::build(set, DataSources{nullptr, nullptr, {{"credit", &credit}}}, options, train);
  const Batch batch = ds.collate({0, 3, 4});
  EXPECT_EQ(batch.modalities.at("numeric").values.sizes(), (std::vector<std::int64_t>{3, 1}));
  const auto ids = batch.modalities.at("categorical").values;
  EXPECT_EQ(ids.sizes(), (std::vector<std::int64_t>{3, 2}));
  // Training saw education "graduate" and "university" only: "high school" and "other" are unknown (0).
  EXPECT_EQ(ids[0][1].item<std::int64_t>(), 2);
  EXPECT_EQ(ids[1][1].item<std::int64_t>(), 0);
  EXPECT_EQ(ids[2][1].item<std::int64_t>(), 0);
  EXPECT_EQ(ds.category_encoder()->cardinality(1), 3);
  EXPECT_EQ(CategoryEncoder::from_json(Config(ds.category_encoder()->to_json())).to_json(),
            ds.category_encoder()->to_json());
  // Time-based modalities make no sense without decision times.
  options.modalities = {"price"};
  EXPECT_THROW(MultimodalDataset::build(set, DataSources{&prices_, nullptr, {}}, options, train), Error);
  EXPECT_THROW(static_samples(table_), Error);
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST_F(DatasetTest, ImagesFromAPathColumn) {
  // Three applications with scanned documents: two images of different sizes, one file missing.
  const auto make = [](std::int64_t h, std::int64_t w, std::uint8_t value) {
    Image image;
    image.height = h;
    image.width = w;
    image.channels = 1;
    image.pixels.assign(static_cast<std::size_t>(h * w), value);
    return image;
  };
  std::filesystem::create_directories(dir_ / "scans");
  save_png(make(8, 8, 255), dir_ / "scans" / "a.png");
  save_png(make(16, 4, 0), dir_ / "scans" / "b.png");
  std::ofstream(dir_ / "applications.csv") << "id,income,scan,defaulted\n1,10,scans/a.png,0\n2,20,scans/b.png,1\n"
                                           << "3,30,scans/missing.png,0\n";
  NumericTableOptions table_options;
  table_options.kind = "static";
  table_options.entity_column = "id";
  table_options.path_columns = {"scan"};
  table_options.label_column = "defaulted";
  const NumericTable table = NumericTable::load_csv(dir_ / "applications.csv", table_options);
  EXPECT_EQ(table.columns(), std::vector<std::string>{"income"});
  const SampleSet set = static_samples(table);
  DatasetOptions options;
  options.modalities = {"image", "numeric"};
  options.image.table = "apps";
  options.image.column = "scan";
  options.image.channels = 1;
  options.image.height = 4;
  options.image.width = 4;
  const DataSources sources{nullptr, nullptr, {{"apps", &table}}};
  try {
    MultimodalDataset::build(set, sources, options, {0, 1});
    FAIL() << "a missing image file was accepted";
  } catch (const DataError& e) {
    EXPECT_EQ(e.file(), (dir_ / "applications.csv").string());
    EXPECT_EQ(e.record(), 4);
    EXPECT_EQ(e.field(), "scan");
    EXPECT_NE(std::string(e.what()).find("missing.png: no such image file"), std::string::npos) << e.what();
  }
  options.image.on_missing = "absent";
  const auto ds = MultimodalDataset::build(set, sources, options, {0, 1});
  const Batch batch = ds.collate({0, 1, 2});
  const auto images = batch.modalities.at("image");
  EXPECT_EQ(images.values.sizes(), (std::vector<std::int64_t>{3, 1, 4, 4}));
  EXPECT_FLOAT_EQ(images.values[0].min().item<float>(), 1.0f);  // resized white stays white
  EXPECT_FLOAT_EQ(images.values[1].max().item<float>(), 0.0f);
  EXPECT_TRUE(images.present[1].item<bool>());
  EXPECT_FALSE(images.present[2].item<bool>());
  EXPECT_NEAR(ds.coverage("image"), 2.0 / 3.0, 1e-9);
  const auto restored = MultimodalDataset::deserialize(ds.serialize(), "bytes");
  EXPECT_TRUE(torch::equal(restored.collate({0, 1, 2}).modalities.at("image").values, images.values));
  EXPECT_THROW(DatasetOptions::from_config(Config::parse(R"({"modalities": ["image"]})")), ConfigError);
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST_F(DatasetTest, CrossSectionalRankOfFundamentals) {
  DatasetOptions options;
  options.modalities = {"numeric"};
  options.cross_section = "rank";
  options.numeric.scale = "none";
  const auto ds = MultimodalDataset::build(set_, sources(), options, split_.train);
  // On a day where A (eps 3) and B (eps 5) both have rows and C has none, A ranks 0 and B ranks 1.
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const Sample& s = ds.sample(i);
    if (s.day == days_[15]) {
      const float v = ds.collate({i}).modalities.at("numeric").values[0][0].item<float>();
      const std::string& entity = ds.entities()[static_cast<std::size_t>(s.entity)];
      if (entity == "A") {
        EXPECT_FLOAT_EQ(v, 0.0f);
      } else if (entity == "B") {
        EXPECT_FLOAT_EQ(v, 1.0f);
      }
    }
  }
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST_F(DatasetTest, DropLeavesOutSamplesWithMissingValues) {
  DatasetOptions options;
  options.modalities = {"numeric"};
  options.numeric.impute = "drop";
  const auto ds = MultimodalDataset::build(set_, sources(), options, split_.train);
  std::vector<std::size_t> all(ds.size());
  std::iota(all.begin(), all.end(), 0);
  const auto usable = ds.usable_only(all);
  ASSERT_FALSE(usable.empty());
  EXPECT_LT(usable.size(), all.size());
  for (std::size_t i = 0; i < ds.size(); ++i) {
    // C has no fundamentals at all: every one of its samples is left out.
    if (ds.entities()[static_cast<std::size_t>(ds.sample(i).entity)] == "C") {
      EXPECT_FALSE(ds.usable(i));
      EXPECT_THROW(ds.collate({i}), Error);
    }
  }
  EXPECT_FALSE(torch::isnan(ds.collate(usable).modalities.at("numeric").values).any().item<bool>());
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

TEST_F(DatasetTest, CrossSectionalBatchesCarryTheGraphAsOfTheirDay) {
  RelationGraph graph;
  graph.add(Edge{"A", "B", "supplier", 0.5f, std::nullopt, days_[10], std::nullopt});  // ends on day 10
  graph.add(Edge{"B", "C", "peer", 1.0f, std::nullopt, std::nullopt, std::nullopt});
  DataSources with_graph = sources();
  with_graph.graph = &graph;
  DatasetOptions options;
  options.graph.kind = "edges";
  const auto ds = MultimodalDataset::build(set_, with_graph, options, split_.train);
  const CrossSectionalSampler daily(set_.samples, split_.train, false, 1);
  const auto days = daily.batches(0);
  const Batch early = ds.collate(days.front());  // before day 10: both edges
  ASSERT_TRUE(early.edge_index.defined());
  EXPECT_EQ(early.edge_index.size(1), 2);
  const Batch late = ds.collate(days.back());  // after day 10: only B-C
  ASSERT_EQ(late.edge_index.size(1), 1);
  // Positions refer to the batch: B and C sit at the positions of their samples.
  const auto source = late.edge_index[0][0].item<std::int64_t>();
  const auto target = late.edge_index[1][0].item<std::int64_t>();
  EXPECT_EQ(late.entity[source].item<std::int64_t>(), 1);
  EXPECT_EQ(late.entity[target].item<std::int64_t>(), 2);
  EXPECT_FLOAT_EQ(late.edge_weight[0].item<float>(), 1.0f);
  // A batch mixing days has no single graph.
  EXPECT_FALSE(ds.collate({days[0][0], days[1][0]}).edge_index.defined());
  const auto restored = MultimodalDataset::deserialize(ds.serialize(), "bytes");
  EXPECT_TRUE(torch::equal(restored.collate(days.back()).edge_index, late.edge_index));

  options.graph.kind = "correlation";
  options.graph.lookback = 5;
  options.graph.threshold = 0.0;
  const auto correlated = MultimodalDataset::build(set_, sources(), options, split_.train);
  const Batch batch = correlated.collate(days.back());
  ASSERT_TRUE(batch.edge_index.defined());
  EXPECT_EQ(batch.edge_index.size(1), 6);  // every ordered pair of three symbols
  options.graph.kind = "edges";
  EXPECT_THROW(MultimodalDataset::build(set_, sources(), options, split_.train), Error);
}

}  // namespace
}  // namespace finfuse::data

namespace finfuse::data {
namespace {

// The lookahead guard covers every source: a text, a table row and a graph edge published one second after a
// sample's decision instant are left out of that sample, and the same published at the instant itself are in.
TEST_F(DatasetTest, EveryInputPublishedOneSecondAfterTheDecisionIsLeftOut) {
  const Date day = days_[15];
  std::size_t index = set_.samples.size();
  for (std::size_t i = 0; i < set_.samples.size(); ++i) {
    if (set_.samples[i].entity == 0 && set_.samples[i].day == day) {  // entity 0: "A"
      index = i;
    }
  }
  ASSERT_LT(index, set_.samples.size());
  const Sample& sample = set_.samples[index];
  const Timestamp t = sample.time();  // day 15's open
  ASSERT_EQ(sample.text_cutoff(), t);

  // Text: one second after the decision is out of the window, at the decision (exclusive cut-off) too, one second
  // before is in.
  TextCorpus texts;
  texts.add("A", TextRecord{t + 1, "after"});
  texts.add("A", TextRecord{t, "at"});
  texts.add("A", TextRecord{Timestamp(t.seconds() - 1), "before"});
  texts.finalize();
  std::set<std::string> seen;
  for (const auto* text : texts.window("A", sample.text_start(), sample.text_cutoff(), 10)) {
    seen.emplace(text->text);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"before"}));

  // Table: a row published one second after the decision is not joined; the one before it is.
  std::ofstream(dir_ / "timed.csv") << "symbol,date,available,eps\n"
                                    << "A," << days_[0].to_string() << "," << days_[0].to_string() << ",1\n"
                                    << "A," << day.to_string() << "," << (t + 1).to_string() << ",999\n"
                                    << "B," << day.to_string() << "," << t.to_string() << ",7\n";
  NumericTableOptions table_options;
  table_options.available_column = "available";
  const auto timed = NumericTable::load_csv(dir_ / "timed.csv", table_options);
  DatasetOptions numeric;
  numeric.modalities = {"numeric"};
  numeric.numeric.scale = "none";
  const auto ds = MultimodalDataset::build(set_, DataSources{&prices_, nullptr, {{"timed", &timed}}}, numeric,
                                           split_.train);
  const auto value = [&](std::size_t i) { return ds.collate({i}).modalities.at("numeric").values[0][0].item<float>(); };
  EXPECT_EQ(value(index), 1.0f) << "the row published one second after the decision was joined";
  for (std::size_t i = 0; i < set_.samples.size(); ++i) {
    if (set_.samples[i].entity == 1 && set_.samples[i].day == day) {
      EXPECT_EQ(value(i), 7.0f) << "a row published at the decision instant is known";
    }
    if (set_.samples[i].entity == 0 && days_[15] < set_.samples[i].day) {
      EXPECT_EQ(value(i), 999.0f) << "from the next decision on, the row is known";
    }
  }

  // Graph: an edge published one second after the decision is not in the day's graph; one published at it is (edges
  // added by hand are directed).
  RelationGraph graph;
  graph.add(Edge{"A", "B", "supplier", 1.0f, std::nullopt, std::nullopt, t + 1});
  graph.add(Edge{"B", "C", "peer", 1.0f, std::nullopt, std::nullopt, t});
  DataSources with_graph = sources();
  with_graph.graph = &graph;
  DatasetOptions options;
  options.graph.kind = "edges";
  const auto graphed = MultimodalDataset::build(set_, with_graph, options, split_.train);
  std::vector<std::size_t> of_day;
  for (std::size_t i = 0; i < set_.samples.size(); ++i) {
    if (set_.samples[i].day == day) {
      of_day.push_back(i);
    }
  }
  const Batch batch = graphed.collate(of_day);
  ASSERT_TRUE(batch.edge_index.defined());
  ASSERT_EQ(batch.edge_index.size(1), 1) << "only B-C";
  EXPECT_EQ(batch.entity[batch.edge_index[0][0].item<std::int64_t>()].item<std::int64_t>(), 1);
  EXPECT_EQ(batch.entity[batch.edge_index[1][0].item<std::int64_t>()].item<std::int64_t>(), 2);
}

}  // namespace
}  // namespace finfuse::data
