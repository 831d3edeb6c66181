// Domain pre-training of a text encoder: masked-language modelling (BERT's recipe) of the BERT-style encoder on a
// text corpus, then the encoder's weights and its WordPiece vocabulary for runs to start from.
//
//   {"texts": {"path": "stocknet/tweets.jsonl", "layout": "nested"},
//    "until": "2015-08-01",                     only texts published before this instant (the training period)
//    "tokenizer": {"kind": "wordpiece", "max_vocab": 8000, "max_length": 32, "add_special_tokens": true},
//    "encoder": {"type": "transformer", "hidden": 128, "layers": 2, "heads": 4, "intermediate": 256},
//    "epochs": 3, "batch_size": 64, "optimizer": {"type": "adamw", "lr": 5e-4}}
//
// The vocabulary is learnt from the corpus's training texts (before `until`, held-out ones excluded; the WordPiece
// vocabularies finfuse learns hold [MASK], and one is added to a given vocab_file without it); 15% of the real tokens of
// each text are chosen, of which 80% become [MASK], 10% a random token and 10% stay, and the encoder with a
// prediction head learns the chosen tokens back. A held-out part of the texts scores the masked-token loss and
// accuracy after every epoch. The output folder holds vocab.txt, encoder.pt (the encoder's weights under
// "encoders.<modality>.", for a run's "warm_start"), the same encoder as a Hugging Face BERT model folder
// (config.json, tokenizer_config.json, model.safetensors: a run's text encoder takes it with "pretrained":
// {"path": <folder>, "format": "huggingface"}, and transformers' BertModel.from_pretrained reads it), pretrain.json
// (the options, the corpus and every epoch's figures) and use.json (the tokenizer, encoder, pretrained source and
// warm_start a run takes to start from it).
#pragma once

#include "finfuse/core/config.h"
#include "finfuse/core/options.h"
#include "finfuse/data/pipeline.h"
#include "finfuse/data/tokenizer.h"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace finfuse::training {

struct PretrainOptions {
#define FINFUSE_PRETRAIN_FIELDS(F)                                                                                   \
  F(data::TextSource, texts, {}, ::finfuse::FieldRule::required(), "the text corpus (JSON Lines, as data.texts)")   \
  F(std::string, until, "", {},                                                                                     \
    "only texts published before this instant (\"YYYY-MM-DD\" or a time stamp; empty: every text)")                 \
  F(data::TokenizerOptions, tokenizer, {}, {},                                                                      \
    "the WordPiece tokenizer (learnt from the corpus unless vocab_file names one, which gains [MASK] if it lacks it)") \
  F(::finfuse::Json, encoder, (::finfuse::Json{{"type", "transformer"}}), {},                                       \
    "the BERT-style encoder's options (type \"transformer\")")                                                      \
  F(std::string, modality, "text", {}, "the modality whose encoder the weights are for (encoders.<modality>.*)")   \
  F(double, mask_probability, 0.15, ::finfuse::Range::half_open(0, 1),                                             \
    "share of a text's real tokens predicted (> 0)")                                                                \
  F(std::int64_t, epochs, 3, ::finfuse::Range::positive(), "passes over the corpus")                               \
  F(std::int64_t, batch_size, 64, ::finfuse::Range::positive(), "texts per optimisation step")                     \
  F(::finfuse::Json, optimizer, (::finfuse::Json{{"type", "adamw"}, {"lr", 5e-4}, {"weight_decay", 0.01}}), {},    \
    "the optimizer's options (registry optimizer)")                                                                 \
  F(::finfuse::Json, scheduler, (::finfuse::Json{{"type", "cosine"}, {"warmup_steps", 100}}), {},                  \
    "the learning-rate schedule (registry scheduler)")                                                              \
  F(double, clip_norm, 1.0, ::finfuse::Range::non_negative(), "gradient clipping by global norm (0: off)")         \
  F(double, valid_fraction, 0.05, ::finfuse::Range::half_open(0, 1), "texts held out to score the masked tokens")  \
  F(bool, deduplicate, true, {}, "train on each distinct text once")                                               \
  F(std::int64_t, max_texts, 0, ::finfuse::Range::non_negative(), "use at most this many texts (0: all)")          \
  F(std::uint64_t, seed, 1, {}, "seed of the held-out split, the masks, dropout and initialisation")               \
  F(std::string, device, "auto", {}, "auto, cpu, cuda or cuda:N")                                                   \
  F(std::int64_t, log_every, 100, ::finfuse::Range::positive(), "optimisation steps between progress log lines")
  FINFUSE_OPTIONS(PretrainOptions, FINFUSE_PRETRAIN_FIELDS)
#undef FINFUSE_PRETRAIN_FIELDS

 public:
  /// until is an instant; some tokens are masked; the encoder is a transformer; the tokenizer is WordPiece.
  void validate(const Config& config) const;
};

/// Which tokens masked-language modelling predicts and what the encoder sees in their place.
struct MaskingRule {
  double probability = 0.15;
  std::int64_t mask_id = 0;
  /// Random replacements are drawn from [random_low, random_high).
  std::int64_t random_low = 0;
  std::int64_t random_high = 0;
  /// Ids never chosen (padding, [CLS], [SEP]).
  std::vector<std::int64_t> special_ids;
};

struct MaskedTokens {
  /// [S, T] the ids the encoder reads.
  torch::Tensor input;
  /// [S, T] the original id where a token is predicted, -100 elsewhere.
  torch::Tensor labels;
};

/// BERT's masking of [S, T] ids with a [S, T] mask (true = real token), drawing from LibTorch's default generator:
/// each real, non-special token is chosen with `probability`; a chosen token becomes mask_id (80%), a random id
/// (10%) or stays (10%).
MaskedTokens mask_tokens(const torch::Tensor& ids, const torch::Tensor& mask, const MaskingRule& rule);

struct PretrainEpoch {
  std::int64_t epoch = 0;
  double train_loss = 0.0;
  /// The held-out texts' masked-token loss and accuracy (the same masks every epoch).
  double valid_loss = 0.0;
  double valid_accuracy = 0.0;
  double seconds = 0.0;
};

struct PretrainResult {
  /// Texts read, dropped as published at or after `until`, dropped as duplicates, trained on and held out.
  std::int64_t texts_read = 0;
  std::int64_t texts_after_until = 0;
  std::int64_t duplicates = 0;
  std::int64_t train_texts = 0;
  std::int64_t valid_texts = 0;
  std::int64_t vocab_size = 0;
  std::int64_t parameters = 0;
  std::vector<PretrainEpoch> epochs;
  std::filesystem::path vocab_file;
  std::filesystem::path weights_file;
  /// What a run configuration takes to start its text encoder from this: {"tokenizer", "encoder", "pretrained",
  /// "warm_start"}.
  Json use;

  Json to_json() const;
};

/// Pre-trains as `options` say and writes vocab.txt, encoder.pt, pretrain.json and use.json to `out_dir`.
PretrainResult pretrain(const PretrainOptions& options, const std::filesystem::path& out_dir);

}  // namespace finfuse::training
