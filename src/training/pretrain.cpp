// Masked-language-model pre-training of the BERT-style text encoder on a corpus, and what a run needs to start from
// it.
#include "finfuse/training/pretrain.h"

#include "finfuse/core/check.h"
#include "finfuse/core/device.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/data/text_corpus.h"
#include "finfuse/data/time.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/encoders/transformer_encoder.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/training/scheduler.h"

#include "archive.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <sstream>
#include <unordered_set>

namespace finfuse::training {

namespace {

constexpr const char* kMask = "[MASK]";

std::optional<data::Timestamp> until_instant(const PretrainOptions& options) {
  if (options.until().empty()) {
    return std::nullopt;
  }
  return data::parse_timestamp(options.until());
}

}  // namespace

void PretrainOptions::validate(const Config& config) const {
  if (!until().empty() && !data::parse_timestamp(until())) {
    config.fail_at("until", fmt::format("expected a date \"YYYY-MM-DD\" or a time stamp, got \"{}\"", until()));
  }
  if (mask_probability() <= 0) {
    config.fail_at("mask_probability", fmt::format("must be > 0 (a share of the tokens to predict), got {}",
                                                   mask_probability()));
  }
  if (!encoder().is_object() || encoder().value("type", std::string()) != "transformer") {
    config.fail_at("encoder", "masked-language pre-training is for the BERT-style encoder: {\"type\": \"transformer\", ...}");
  }
  if (tokenizer().kind != "wordpiece") {
    config.child("tokenizer").fail_at("kind", "pre-training learns or reads a WordPiece vocabulary: \"wordpiece\"");
  }
  if (modality().empty()) {
    config.fail_at("modality", "must name the modality the encoder is for");
  }
}

MaskedTokens mask_tokens(const torch::Tensor& ids, const torch::Tensor& mask, const MaskingRule& rule) {
  FINFUSE_CHECK(ids.dim() == 2 && mask.sizes() == ids.sizes(), "mask_tokens: expected ids and mask [S, T]");
  FINFUSE_CHECK(rule.random_high > rule.random_low, "mask_tokens: an empty range of random replacements");
  auto candidates = mask.to(torch::kBool).clone();
  for (const auto id : rule.special_ids) {
    candidates.logical_and_(ids.ne(id));
  }
  const auto chosen = torch::rand(ids.sizes(), torch::TensorOptions().device(ids.device())).lt(rule.probability)
                          .logical_and_(candidates);
  const auto roll = torch::rand(ids.sizes(), torch::TensorOptions().device(ids.device()));
  const auto to_mask = chosen.logical_and(roll.lt(0.8));
  const auto to_random = chosen.logical_and(roll.ge(0.8)).logical_and_(roll.lt(0.9));
  const auto random_ids = torch::randint(rule.random_low, rule.random_high, ids.sizes(), ids.options());
  auto input = torch::where(to_mask, torch::full_like(ids, rule.mask_id), ids);
  input = torch::where(to_random, random_ids, input);
  const auto labels = torch::where(chosen, ids, torch::full_like(ids, -100));
  return MaskedTokens{input, labels};
}

Json PretrainResult::to_json() const {
  Json epoch_list = Json::array();
  for (const auto& e : epochs) {
    epoch_list.push_back(Json{{"epoch", e.epoch},
                              {"train_loss", e.train_loss},
                              {"valid_loss", e.valid_loss},
                              {"valid_accuracy", e.valid_accuracy},
                              {"seconds", e.seconds}});
  }
  return Json{{"texts", {{"read", texts_read},
                         {"after_until", texts_after_until},
                         {"duplicates", duplicates},
                         {"train", train_texts},
                         {"valid", valid_texts}}},
              {"vocab_size", vocab_size},
              {"parameters", parameters},
              {"epochs", epoch_list},
              {"vocab_file", vocab_file.string()},
              {"weights_file", weights_file.string()}};
}

namespace {

// BERT's prediction head: dense, GELU, layer norm, then a score per vocabulary entry.
class MaskedLmHeadImpl : public torch::nn::Module {
 public:
  MaskedLmHeadImpl(std::int64_t hidden, std::int64_t vocab) {
    transform_ = register_module("transform", torch::nn::Linear(hidden, hidden));
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
    decoder_ = register_module("decoder", torch::nn::Linear(hidden, vocab));
  }
  torch::Tensor forward(const torch::Tensor& h) { return decoder_->forward(norm_->forward(torch::gelu(transform_->forward(h)))); }

 private:
  torch::nn::Linear transform_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear decoder_{nullptr};
};

TORCH_MODULE(MaskedLmHead);

struct Corpus {
  std::vector<std::string> train;
  std::vector<std::string> valid;
};

Corpus read_corpus(const PretrainOptions& options, PretrainResult& result) {
  const auto corpus = data::TextCorpus::load(options.texts().path, options.texts().options);
  const auto until = until_instant(options);
  std::vector<std::string> texts;
  std::unordered_set<std::string_view> seen;
  for (const auto& entity : corpus.entities()) {
    for (const auto& record : corpus.texts(entity)) {
      ++result.texts_read;
      if (until && !(record.time < *until)) {
        ++result.texts_after_until;
        continue;
      }
      if (options.deduplicate() && !seen.insert(record.text).second) {
        ++result.duplicates;
        continue;
      }
      texts.emplace_back(record.text);
    }
  }
  FINFUSE_CHECK(!texts.empty(), options.texts().path.string(), ": no text to pre-train on",
                until ? " before " + options.until() : std::string());
  std::mt19937_64 rng(options.seed());
  std::shuffle(texts.begin(), texts.end(), rng);
  if (options.max_texts() > 0 && static_cast<std::int64_t>(texts.size()) > options.max_texts()) {
    texts.resize(static_cast<std::size_t>(options.max_texts()));
  }
  auto held_out = static_cast<std::size_t>(options.valid_fraction() * static_cast<double>(texts.size()));
  if (options.valid_fraction() > 0 && held_out == 0 && texts.size() > 1) {
    held_out = 1;
  }
  Corpus out;
  out.valid.assign(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(held_out));
  out.train.assign(texts.begin() + static_cast<std::ptrdiff_t>(held_out), texts.end());
  FINFUSE_CHECK(!out.train.empty(), "pre-training needs training texts besides the held-out ones");
  return out;
}

// The WordPiece vocabulary of the training texts with [MASK] added (or the given vocabulary, which must have it),
// written to out_dir/vocab.txt and read back from there, so that runs read the very file.
data::Tokenizer make_tokenizer(const PretrainOptions& options, const std::vector<std::string>& train,
                               const std::filesystem::path& out_dir) {
  const auto vocab_file = out_dir / "vocab.txt";
  auto tokenizer_options = options.tokenizer();
  std::vector<std::string> tokens;
  if (tokenizer_options.vocab_file.empty()) {
    tokens = data::Tokenizer::build_wordpiece(tokenizer_options, train).tokens();
  } else {
    tokens = data::Tokenizer::load_wordpiece(tokenizer_options).tokens();
  }
  if (std::find(tokens.begin(), tokens.end(), kMask) == tokens.end()) {
    tokens.emplace_back(kMask);
  }
  std::string text;
  for (const auto& t : tokens) {
    text += t + "\n";
  }
  write_file_atomically(vocab_file, text);
  tokenizer_options.vocab_file = std::filesystem::absolute(vocab_file).string();
  return data::Tokenizer::load_wordpiece(tokenizer_options);
}

struct Encoded {
  torch::Tensor ids;   // [S, T] int64
  torch::Tensor mask;  // [S, T] bool
};

Encoded encode(const data::Tokenizer& tokenizer, const std::vector<std::string>& texts) {
  const auto batch = tokenizer.encode_batch(texts);
  auto ids = torch::tensor(batch.ids, torch::kInt64).view({batch.batch, batch.length});
  auto mask = torch::tensor(batch.mask, torch::kInt64).view({batch.batch, batch.length}).to(torch::kBool);
  // A text with no token left (only characters the vocabulary drops) teaches nothing.
  const auto keep = mask.any(1);
  return Encoded{ids.index({keep}), mask.index({keep})};
}

}  // namespace

PretrainResult pretrain(const PretrainOptions& options, const std::filesystem::path& out_dir) {
  using Clock = std::chrono::steady_clock;
  std::filesystem::create_directories(out_dir);
  PretrainResult result;
  const auto corpus = read_corpus(options, result);
  const auto tokenizer = make_tokenizer(options, corpus.train, out_dir);
  result.vocab_file = std::filesystem::absolute(out_dir / "vocab.txt");
  result.vocab_size = tokenizer.vocab_size();
  const auto train = encode(tokenizer, corpus.train);
  const auto valid = encode(tokenizer, corpus.valid);
  result.train_texts = train.ids.size(0);
  result.valid_texts = valid.ids.size(0);
  logger()->info("pretrain: {} text(s) read, {} at or after {}, {} duplicate(s); {} to train on, {} held out; "
                 "WordPiece vocabulary of {} tokens",
                 result.texts_read, result.texts_after_until, options.until().empty() ? "-" : options.until(),
                 result.duplicates, result.train_texts, result.valid_texts, result.vocab_size);

  const auto device = resolve_device(options.device());
  seed_everything(options.seed());
  const std::int64_t length = train.ids.size(1);
  const data::ModalitySpec spec(options.modality(), {length}, tokenizer.vocab_size());
  const Config encoder_config(options.encoder(), "pretrain options: /encoder");
  auto encoder = std::dynamic_pointer_cast<encoders::TransformerEncoderImpl>(encoders::make_encoder(encoder_config, spec));
  FINFUSE_CHECK(encoder != nullptr, "pretrain: the encoder is not the BERT-style transformer");
  const auto max_positions = encoder->options_json().value("max_positions", std::int64_t{0});
  if (max_positions < length) {
    encoder_config.fail_at("max_positions", fmt::format("must hold the tokenizer's max_length ({}), got {}", length,
                                                        max_positions));
  }
  torch::nn::Module root;
  auto encoders = root.register_module("encoders", std::make_shared<torch::nn::Module>());
  encoders->register_module(options.modality(), encoder);
  auto head = root.register_module("mlm", MaskedLmHead(encoder->output_size(), tokenizer.vocab_size()));
  root.to(device);
  NamedParameters named;
  for (const auto& p : root.named_parameters()) {
    named.emplace_back(p.key(), p.value());
    result.parameters += p.value().numel();
  }
  const auto optimizer = make_optimizer(Config(options.optimizer(), "pretrain options: /optimizer"), named);
  const std::int64_t texts = train.ids.size(0);
  const std::int64_t steps_per_epoch = (texts + options.batch_size() - 1) / options.batch_size();
  LrScheduler scheduler(Config(options.scheduler(), "pretrain options: /scheduler"), *optimizer,
                        steps_per_epoch * options.epochs());

  MaskingRule rule;
  rule.probability = options.mask_probability();
  rule.mask_id = tokenizer.id_of(kMask);
  // Replacements come from the vocabulary's own tokens: not the bracketed specials it starts with ([PAD] [UNK] [CLS]
  // [SEP] [MASK]), nor a [MASK] added at its end.
  const auto& vocabulary = tokenizer.tokens();
  const auto bracketed = [](const std::string& t) { return t.size() > 2 && t.front() == '[' && t.back() == ']'; };
  while (rule.random_low < tokenizer.vocab_size() && bracketed(vocabulary[static_cast<std::size_t>(rule.random_low)])) {
    ++rule.random_low;
  }
  rule.random_high = tokenizer.vocab_size() - (vocabulary.back() == kMask ? 1 : 0);
  rule.special_ids = {tokenizer.pad_id(), tokenizer.id_of("[CLS]"), tokenizer.id_of("[SEP]")};
  FINFUSE_CHECK(rule.random_high > rule.random_low, "pretrain: the vocabulary has no token besides its specials (",
                tokenizer.vocab_size(), " tokens)");
  // The held-out texts' masks are drawn once, so that every epoch is scored on the same task.
  seed_everything(options.seed() + 1);
  const auto held_out = mask_tokens(valid.ids, valid.mask, rule);
  seed_everything(options.seed());

  const auto step_loss = [&](torch::Tensor input, torch::Tensor mask, torch::Tensor labels, torch::Tensor* correct) {
    // Padding after the batch's longest text costs time and changes nothing (it is masked): cut it off.
    const auto longest = mask.any(0).nonzero().max().item<std::int64_t>() + 1;
    input = input.narrow(1, 0, longest);
    mask = mask.narrow(1, 0, longest);
    labels = labels.narrow(1, 0, longest);
    const auto h = encoder->forward_sequence(input.to(device), mask.to(device));
    const auto chosen = labels.to(device).ne(-100);
    const auto logits = head->forward(h.index({chosen}));
    const auto targets = labels.to(device).index({chosen});
    if (correct != nullptr) {
      *correct = logits.argmax(-1).eq(targets).sum();
    }
    return torch::nn::functional::cross_entropy(logits, targets,
                                                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  };

  std::int64_t step = 0;
  for (std::int64_t epoch = 0; epoch < options.epochs(); ++epoch) {
    const auto start = Clock::now();
    root.train();
    const auto order = torch::randperm(texts, torch::kInt64);
    double loss_sum = 0.0;
    double predicted = 0.0;
    for (std::int64_t b = 0; b < steps_per_epoch; ++b) {
      const auto rows = order.slice(0, b * options.batch_size(), std::min(texts, (b + 1) * options.batch_size()));
      const auto ids = train.ids.index_select(0, rows);
      const auto mask = train.mask.index_select(0, rows);
      const auto masked = mask_tokens(ids, mask, rule);
      const auto count = masked.labels.ne(-100).sum().item<std::int64_t>();
      if (count == 0) {
        continue;  // nothing chosen in this batch
      }
      optimizer->zero_grad();
      const auto loss = step_loss(masked.input, mask, masked.labels, nullptr);
      (loss / static_cast<double>(count)).backward();
      if (options.clip_norm() > 0) {
        torch::nn::utils::clip_grad_norm_(root.parameters(), options.clip_norm());
      }
      optimizer->step();
      scheduler.step();
      const double value = loss.item<double>();
      FINFUSE_CHECK(std::isfinite(value), "pretrain: the loss is not finite at epoch ", epoch + 1, ", step ", step + 1);
      loss_sum += value;
      predicted += static_cast<double>(count);
      if (++step % options.log_every() == 0) {
        logger()->info("pretrain: epoch {}/{} step {}/{}: masked-token loss {:.4f}", epoch + 1, options.epochs(),
                       b + 1, steps_per_epoch, loss_sum / std::max(1.0, predicted));
      }
    }
    PretrainEpoch record;
    record.epoch = epoch + 1;
    record.train_loss = loss_sum / std::max(1.0, predicted);
    if (valid.ids.size(0) > 0) {
      root.eval();
      torch::NoGradGuard no_grad;
      double valid_loss = 0.0;
      double correct = 0.0;
      double total = 0.0;
      for (std::int64_t first = 0; first < valid.ids.size(0); first += options.batch_size()) {
        const auto rows = std::min(valid.ids.size(0) - first, options.batch_size());
        torch::Tensor right;
        const auto labels = held_out.labels.narrow(0, first, rows);
        if (labels.ne(-100).sum().item<std::int64_t>() == 0) {
          continue;
        }
        valid_loss +=
            step_loss(held_out.input.narrow(0, first, rows), valid.mask.narrow(0, first, rows), labels, &right)
                .item<double>();
        correct += right.item<double>();
        total += static_cast<double>(labels.ne(-100).sum().item<std::int64_t>());
      }
      record.valid_loss = valid_loss / std::max(1.0, total);
      record.valid_accuracy = correct / std::max(1.0, total);
    }
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    logger()->info("pretrain: epoch {}/{}: train loss {:.4f}, held-out loss {:.4f}, held-out accuracy {:.4f} ({:.1f} s)",
                   record.epoch, options.epochs(), record.train_loss, record.valid_loss, record.valid_accuracy,
                   record.seconds);
    result.epochs.push_back(record);
  }

  root.to(torch::kCPU);
  torch::serialize::OutputArchive archive;
  root.save(archive);
  result.weights_file = std::filesystem::absolute(out_dir / "encoder.pt");
  save_archive(archive, result.weights_file);
  // The same encoder as a Hugging Face model folder: transformers' BertModel reads it, and so does a run's
  // "pretrained": {"format": "huggingface"} (with this tokenizer).
  Json tokenizer_extra = {{"finfuse_normalization", tokenizer.options().normalization}};
  if (tokenizer.options().strip_accents) {
    tokenizer_extra["strip_accents"] = *tokenizer.options().strip_accents;
  }
  encoders::write_huggingface_bert(out_dir, *encoder, tokenizer.tokens(), tokenizer.options().lowercase,
                                   tokenizer_extra);
  auto tokenizer_json = tokenizer.options().to_json();
  result.use = Json{{"tokenizer", tokenizer_json},
                    {"encoder", encoder->options_json()},
                    {"pretrained", {{"path", std::filesystem::absolute(out_dir).string()}, {"format", "huggingface"}}},
                    {"warm_start", {{"path", result.weights_file.string()},
                                    {"params", Json::array({"encoders." + options.modality() + ".*"})}}}};
  Json record = result.to_json();
  record["options"] = options.to_json();
  write_file_atomically(out_dir / "pretrain.json", record.dump(2) + "\n");
  write_file_atomically(out_dir / "use.json", result.use.dump(2) + "\n");
  return result;
}

}  // namespace finfuse::training
