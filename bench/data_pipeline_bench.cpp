// Times finfuse's data pipeline on the real StockNet data: parsing prices and tweets, point-in-time assembly, the
// dataset build (price windows, tokenised tweet windows) and batch collation. Prints a Markdown table.
//
//   finfuse_bench_data [DATA_DIR] [--repeat N] [--lines]
//
// --lines prints "step seconds" lines for parse_prices, parse_tweets, assemble, build and total instead (the format of
// bench/python/data_bench.py, the same work in pandas; bench/compare_data.sh runs both).
// DATA_DIR defaults to $FINFUSE_DATA_DIR or ../shared/data next to the source tree. FINFUSE_BENCH_TOKENIZER=wordpiece
// times a learnt 8,000-piece WordPiece vocabulary instead of the word vocabulary.
#include <finfuse/core/logging.h>
#include <finfuse/core/runtime.h>
#include <finfuse/data/multimodal_dataset.h>
#include <finfuse/data/pipeline.h>
#include <finfuse/data/sampler.h>
#include <finfuse/data/splits.h>

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/optim/adam.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  namespace fd = finfuse::data;
  std::filesystem::path data_dir;
  int repeat = 3;
  bool lines = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--lines") {
      lines = true;
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      data_dir = arg;
    }
  }
  if (data_dir.empty()) {
    const char* env = std::getenv("FINFUSE_DATA_DIR");
    data_dir = env != nullptr ? std::filesystem::path(env)
                              : std::filesystem::path(FINFUSE_SOURCE_DIR).parent_path() / "shared" / "data";
  }
  const auto stocknet = data_dir / "stocknet";
  if (!std::filesystem::exists(stocknet / "prices.csv") || !std::filesystem::exists(stocknet / "tweets.jsonl")) {
    std::fprintf(stderr, "StockNet data not found under %s (pass the data directory or set FINFUSE_DATA_DIR)\n",
                 stocknet.c_str());
    return 2;
  }
  // As a finfuse program runs: every core this process may use (or OMP_NUM_THREADS), warnings only.
  finfuse::apply_runtime(finfuse::RuntimeOptions().device("cpu").log_level("warn"));

  std::map<std::string, std::vector<double>> timings;
  std::size_t samples = 0;
  std::size_t batches = 0;
  std::uintmax_t cache_bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    auto start = Clock::now();
    const fd::PricePanel prices = fd::PricePanel::load_csv(stocknet / "prices.csv");
    timings["parse prices (108,592 rows)"].push_back(seconds_since(start));

    start = Clock::now();
    const fd::TextCorpus tweets = fd::TextCorpus::load_jsonl(stocknet / "tweets.jsonl", fd::TextJsonlOptions::stocknet());
    timings["parse tweets (106,338 texts)"].push_back(seconds_since(start));

    start = Clock::now();
    fd::AssemblyOptions assembly;
    assembly.price_window = 5;
    assembly.start = "2014-01-01";
    assembly.end = "2015-12-31";
    assembly.label.up_threshold = 0.0055;
    assembly.label.down_threshold = -0.005;
    const fd::SampleSet set = fd::assemble_samples(fd::sessions_only(prices, assembly.market), assembly);
    const fd::Split split = fd::chronological_split(set.samples, fd::Date::from_ymd(2015, 8, 1),
                                                    fd::Date::from_ymd(2015, 10, 1), fd::Date::from_ymd(2016, 1, 1));
    timings["assemble samples + split"].push_back(seconds_since(start));
    samples = set.samples.size();

    start = Clock::now();
    fd::DatasetOptions options;
    options.modalities = {"price", "text"};
    options.max_texts = 10;
    options.tokenizer.max_length = 32;
    if (const char* kind = std::getenv("FINFUSE_BENCH_TOKENIZER")) {
      options.tokenizer.kind = kind;
      options.tokenizer.max_vocab = 8000;
    }
    const auto dataset = fd::MultimodalDataset::build(set, fd::DataSources{&prices, &tweets, {}}, options, split.train);
    timings["build dataset (windows, vocabulary, tokens)"].push_back(seconds_since(start));

    const fd::ShuffledSampler sampler(split.train, 64, 1);
    const auto plan = sampler.batches(0);
    batches = plan.size();
    start = Clock::now();
    for (const auto& batch : plan) {
      const auto collated = dataset.collate(batch);
      (void)collated;
    }
    timings["collate one epoch (batch 64)"].push_back(seconds_since(start));

    // A training step of a small stand-in model on the same batches (price LSTM + mean of tweet-token embeddings ->
    // linear), to put collation in proportion.
    torch::manual_seed(0);
    torch::nn::LSTM lstm(torch::nn::LSTMOptions(5, 32).batch_first(true));
    torch::nn::Embedding embedding(dataset.tokenizer()->vocab_size(), 32);
    torch::nn::Linear head(64, 1);
    std::vector<torch::Tensor> parameters = lstm->parameters();
    for (const auto& group : {embedding->parameters(), head->parameters()}) {
      parameters.insert(parameters.end(), group.begin(), group.end());
    }
    torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(1e-3));
    const std::size_t steps = std::min<std::size_t>(plan.size(), 60);
    std::vector<fd::Batch> ready;
    for (std::size_t k = 0; k < steps; ++k) {
      ready.push_back(dataset.collate(plan[k]));
    }
    start = Clock::now();
    for (const auto& batch : ready) {
      optimizer.zero_grad();
      const auto price = std::get<0>(lstm->forward(batch.modalities.at("price").values)).select(1, -1);
      const auto& text = batch.modalities.at("text");
      const auto mask = text.mask.to(torch::kFloat32).unsqueeze(-1);
      const auto tokens = (embedding->forward(text.values) * mask).sum({1, 2}) / mask.sum({1, 2}).clamp_min(1.0);
      const auto logits = head->forward(torch::cat({price, tokens}, 1)).squeeze(1);
      const auto loss = torch::binary_cross_entropy_with_logits(logits, batch.target);
      loss.backward();
      optimizer.step();
    }
    timings["training step of the stand-in model (batch 64)"].push_back(seconds_since(start) / static_cast<double>(steps));

    // The same pipeline from its configuration, with the on-disk cache: a first build writes it, a second loads it.
    const auto cache = std::filesystem::temp_directory_path() / "finfuse_bench_data_cache";
    std::filesystem::remove_all(cache);
    const auto config = fd::DataConfig::from_config(
        finfuse::Config(finfuse::Json{
            {"prices", {{"path", (stocknet / "prices.csv").string()}}},
            {"texts", {{"path", (stocknet / "tweets.jsonl").string()}, {"layout", "nested"}}},
            {"assembly", assembly.to_json()},
            {"split", {{"valid_start", "2015-08-01"}, {"test_start", "2015-10-01"}, {"test_end", "2016-01-01"}}},
            {"dataset", options.to_json()}}),
        ".");
    start = Clock::now();
    fd::DataPipeline::build(config, cache);
    timings["pipeline, first run (builds and writes the cache)"].push_back(seconds_since(start));
    start = Clock::now();
    const auto cached = fd::DataPipeline::build(config, cache);
    timings["pipeline, second run (loads the cache)"].push_back(seconds_since(start));
    if (!cached.from_cache()) {
      std::fprintf(stderr, "the second run did not use the cache\n");
      return 1;
    }
    for (const auto& entry : std::filesystem::directory_iterator(cache)) {
      cache_bytes = entry.file_size();
    }
    std::filesystem::remove_all(cache);
  }

  if (lines) {
    const std::vector<std::pair<const char*, const char*>> steps = {
        {"parse_prices", "parse prices (108,592 rows)"},
        {"parse_tweets", "parse tweets (106,338 texts)"},
        {"assemble", "assemble samples + split"},
        {"build", "build dataset (windows, vocabulary, tokens)"}};
    double sum = 0;
    for (const auto& [name, step] : steps) {
      sum += median(timings[step]);
      std::printf("%s %.4f\n", name, median(timings[step]));
    }
    std::printf("total %.4f\nsamples %zu\n", sum, samples);
    return 0;
  }
  double total = 0;
  std::printf("| step | median of %d runs |\n| --- | ---: |\n", repeat);
  for (const auto* step : {"parse prices (108,592 rows)", "parse tweets (106,338 texts)", "assemble samples + split",
                           "build dataset (windows, vocabulary, tokens)"}) {
    const double t = median(timings[step]);
    total += t;
    std::printf("| %s | %.3f s |\n", step, t);
  }
  std::printf("| **parse + assemble + build, total** | **%.3f s** |\n", total);
  const double epoch = median(timings["collate one epoch (batch 64)"]);
  std::printf("| collate one epoch (batch 64, %zu batches) | %.3f s (%.2f ms per batch) |\n", batches, epoch,
              1000.0 * epoch / static_cast<double>(batches));
  const double step_time = median(timings["training step of the stand-in model (batch 64)"]);
  std::printf("| training step, small stand-in model (price LSTM + tweet embeddings, batch 64) | %.2f ms |\n",
              1000.0 * step_time);
  std::printf("| collation per batch as a share of that training step | %.1f%% |\n",
              100.0 * epoch / static_cast<double>(batches) / step_time);
  for (const auto* step : {"pipeline, first run (builds and writes the cache)", "pipeline, second run (loads the cache)"}) {
    std::printf("| %s | %.3f s |\n", step, median(timings[step]));
  }
  std::printf("\n%zu samples; cache file %.1f MB\n", samples, static_cast<double>(cache_bytes) / 1e6);
  return 0;
}
