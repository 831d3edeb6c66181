// finfuse quickstart: an end-to-end training run on generated borrower data.
//
// The default process is known, so the run can be judged against the Bayes-optimal classifier on the very same
// draws: features follow a factor model, the log-odds of default are linear in the features plus an interaction
// and a curvature term that a linear scorecard cannot represent, and labels are drawn from those probabilities.
// Standardisation is fitted on the training split only. Writes metrics.json and history.csv with --out.
#include <finfuse/finfuse.h>

#include <torch/nn/functional/loss.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

struct DataOptions {
  std::int64_t samples = 24000;
  std::int64_t features = 12;
  std::int64_t factors = 2;
  double test_fraction = 0.25;
  double interaction = 1.5;

  static DataOptions from_config(const finfuse::Config& c) {
    DataOptions o;
    o.samples = c.get<std::int64_t>("samples", o.samples, finfuse::Range::at_least(100));
    o.features = c.get<std::int64_t>("features", o.features, finfuse::Range::at_least(3));
    o.factors = c.get<std::int64_t>("factors", o.factors, finfuse::Range::non_negative());
    o.test_fraction = c.get<double>("test_fraction", o.test_fraction, finfuse::Range::closed(0.05, 0.95));
    o.interaction = c.get<double>("interaction", o.interaction);
    c.reject_unknown_keys();
    return o;
  }
};

struct TrainingOptions {
  std::int64_t epochs = 12;
  std::int64_t batch_size = 256;
  double learning_rate = 3e-3;
  double weight_decay = 1e-4;

  static TrainingOptions from_config(const finfuse::Config& c) {
    TrainingOptions o;
    o.epochs = c.get<std::int64_t>("epochs", o.epochs, finfuse::Range::positive());
    o.batch_size = c.get<std::int64_t>("batch_size", o.batch_size, finfuse::Range::positive());
    o.learning_rate = c.get<double>("learning_rate", o.learning_rate, finfuse::Range::positive());
    o.weight_decay = c.get<double>("weight_decay", o.weight_decay, finfuse::Range::non_negative());
    c.reject_unknown_keys();
    return o;
  }
};

struct Split {
  torch::Tensor x;
  torch::Tensor y;
  torch::Tensor p;  // true default probability
};

// Draws borrowers from the generating process. Uses LibTorch's generator, seeded by apply_runtime().
std::pair<Split, Split> make_data(const DataOptions& o) {
  const auto n = o.samples;
  const auto d = o.features;
  const auto loadings = torch::randn({o.factors, d}) * 0.6;
  const auto factors = torch::randn({n, o.factors});
  auto x = (o.factors > 0 ? factors.matmul(loadings) : torch::zeros({n, d})) + torch::randn({n, d});
  // Heterogeneous raw scales, as real features have (incomes, utilisation ratios, counts).
  x = x * torch::logspace(-1, 2, d) + torch::linspace(-5, 5, d);

  const auto z = (x - torch::linspace(-5, 5, d)) / torch::logspace(-1, 2, d);  // the unscaled signal
  const auto weights = torch::randn({d}) * 0.8;
  auto logit = z.matmul(weights) - 1.0;
  logit = logit + o.interaction * z.select(1, 0) * z.select(1, 1) - 0.5 * z.select(1, 2).pow(2);
  const auto p = torch::sigmoid(logit);
  const auto y = torch::bernoulli(p);

  const auto test_n = static_cast<std::int64_t>(static_cast<double>(n) * o.test_fraction);
  const auto train_n = n - test_n;
  Split train{x.slice(0, 0, train_n), y.slice(0, 0, train_n), p.slice(0, 0, train_n)};
  Split test{x.slice(0, train_n), y.slice(0, train_n), p.slice(0, train_n)};
  return {train, test};
}

struct Scores {
  double log_loss;
  double accuracy;
};

Scores score(const torch::Tensor& logits, const torch::Tensor& y) {
  const double loss = torch::binary_cross_entropy_with_logits(logits, y).item<double>();
  const double accuracy = ((logits > 0).to(torch::kFloat) == y).to(torch::kFloat).mean().item<double>();
  return {loss, accuracy};
}

void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw finfuse::IoError(tmp, "cannot open for writing");
    }
    out << text;
    out.flush();
    if (!out) {
      throw finfuse::IoError(tmp, "write failed");
    }
  }
  std::filesystem::rename(tmp, path);
}

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: finfuse_quickstart [--config FILE] [--epochs N] [--out DIR]\n"
               "  --config FILE  run configuration (default: %s)\n"
               "  --epochs N     override training.epochs\n"
               "  --out DIR      write metrics.json and history.csv to DIR\n",
               FINFUSE_QUICKSTART_CONFIG);
}

int run(int argc, char** argv) {
  std::string config_path = FINFUSE_QUICKSTART_CONFIG;
  std::optional<std::int64_t> epochs_override;
  std::optional<std::filesystem::path> out_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw finfuse::Error(fmt::format("{} needs a value", arg));
      }
      return argv[++i];
    };
    if (arg == "--config") {
      config_path = value();
    } else if (arg == "--epochs") {
      const std::string v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n <= 0) {
        throw finfuse::Error(fmt::format("--epochs: expected a positive integer, got '{}'", v));
      }
      epochs_override = n;
    } else if (arg == "--out") {
      out_dir = value();
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      throw finfuse::Error(fmt::format("unknown argument '{}'", arg));
    }
  }

  const finfuse::Config config = finfuse::Config::load(config_path);
  const auto runtime_options = finfuse::RuntimeOptions::from_config(config.section("runtime"));
  const auto data_options = DataOptions::from_config(config.child("data"));
  const auto model_options = finfuse::nn::MlpOptions::from_config(config.child("model"));
  auto training = TrainingOptions::from_config(config.child("training"));
  config.reject_unknown_keys();
  if (model_options.in_features() != data_options.features) {
    config.child("model").fail_at("in_features", fmt::format("must equal /data/features ({}), got {}",
                                                             data_options.features, model_options.in_features()));
  }
  if (model_options.layers().back() != 1) {
    config.child("model").fail_at("layers", "the last layer must have width 1 (the default logit)");
  }
  if (epochs_override) {
    training.epochs = *epochs_override;
  }

  const finfuse::Runtime runtime = finfuse::apply_runtime(runtime_options);
  auto log = finfuse::logger();
  auto [train, test] = make_data(data_options);

  // Preprocessing is fitted on the training split only and then applied to both.
  const auto mean = train.x.mean(0);
  const auto stdev = train.x.std(0).clamp_min(1e-8);
  const auto device = runtime.device;
  const auto x_train = ((train.x - mean) / stdev).to(device);
  const auto y_train = train.y.to(device);
  const auto x_test = ((test.x - mean) / stdev).to(device);
  const auto y_test = test.y.to(device);

  finfuse::nn::Mlp model(model_options);
  model->to(device);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(training.learning_rate)
                                                         .weight_decay(training.weight_decay));
  std::ostringstream description;
  model->pretty_print(description);
  log->info("{} training / {} test borrowers, default rate {:.1f}%; model {} ({} parameters)", x_train.size(0),
            x_test.size(0), 100.0 * train.y.mean().item<double>(), description.str(), model->parameter_count());

  // The best any classifier can do on these test draws: predict with the true probabilities.
  const auto bayes = score(torch::logit(test.p.clamp(1e-7, 1 - 1e-7)), test.y);
  const double base_rate = train.y.mean().item<double>();
  const auto constant = score(torch::full_like(test.y, std::log(base_rate / (1 - base_rate))), test.y);

  std::string history = "epoch,train_loss,test_loss,test_accuracy,samples_per_second\n";
  Scores final_scores{};
  const auto n = x_train.size(0);
  for (std::int64_t epoch = 1; epoch <= training.epochs; ++epoch) {
    model->train();
    const auto start = std::chrono::steady_clock::now();
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong).device(device));
    double loss_sum = 0.0;
    for (std::int64_t begin = 0; begin < n; begin += training.batch_size) {
      const auto index = order.slice(0, begin, std::min(n, begin + training.batch_size));
      if (index.size(0) < 2) {
        continue;  // a lone leftover sample says little and breaks batch statistics
      }
      optimizer.zero_grad();
      const auto logits = model->forward(x_train.index_select(0, index)).squeeze(1);
      const auto loss = torch::binary_cross_entropy_with_logits(logits, y_train.index_select(0, index));
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(index.size(0));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    model->eval();
    torch::NoGradGuard no_grad;
    final_scores = score(model->forward(x_test).squeeze(1), y_test);
    const double train_loss = loss_sum / static_cast<double>(n);
    log->info("epoch {:>3}/{}  train loss {:.4f}  test loss {:.4f}  test accuracy {:.2f}%  {:.0f} samples/s", epoch,
              training.epochs, train_loss, final_scores.log_loss, 100.0 * final_scores.accuracy,
              static_cast<double>(n) / seconds);
    history += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.1f}\n", epoch, train_loss, final_scores.log_loss,
                           final_scores.accuracy, static_cast<double>(n) / seconds);
  }

  std::printf("\n%-28s %10s %10s\n", "test split", "log loss", "accuracy");
  std::printf("%-28s %10.4f %9.2f%%\n", "constant (base rate)", constant.log_loss, 100.0 * constant.accuracy);
  std::printf("%-28s %10.4f %9.2f%%\n", "finfuse MLP", final_scores.log_loss, 100.0 * final_scores.accuracy);
  std::printf("%-28s %10.4f %9.2f%%\n", "Bayes-optimal (true p)", bayes.log_loss, 100.0 * bayes.accuracy);
  const double captured = (constant.log_loss - final_scores.log_loss) / (constant.log_loss - bayes.log_loss);
  std::printf("the MLP captures %.1f%% of the log-loss improvement that is possible over the base rate\n",
              100.0 * captured);

  if (out_dir) {
    std::filesystem::create_directories(*out_dir);
    const finfuse::Json metrics = {
        {"finfuse_version", finfuse::version()},
        {"config", {{"runtime", runtime_options.to_json()}, {"model", model_options.to_json()}}},
        {"test", {{"log_loss", final_scores.log_loss}, {"accuracy", final_scores.accuracy}}},
        {"bayes_optimal", {{"log_loss", bayes.log_loss}, {"accuracy", bayes.accuracy}}},
        {"base_rate", {{"log_loss", constant.log_loss}, {"accuracy", constant.accuracy}}},
        {"captured_improvement", captured}};
    write_atomically(*out_dir / "metrics.json", metrics.dump(2) + "\n");
    write_atomically(*out_dir / "history.csv", history);
    log->info("wrote {} and {}", (*out_dir / "metrics.json").string(), (*out_dir / "history.csv").string());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const finfuse::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected error: %s\n", e.what());
    return 1;
  }
}
