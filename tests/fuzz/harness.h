// One entry point per parser that reads user files, shared by the libFuzzer targets (tests/fuzz/fuzz_main.cpp, built
// with FINFUSE_BUILD_FUZZERS and clang) and the unit test that replays every stored input (tests/fuzz/replay_test.cpp).
//
// Each entry writes the input to a scratch file, reads it with the parser the way finfuse does, and returns normally
// when the parser accepted it or refused it with a finfuse::Error. Anything else (another exception type, a crash, a
// sanitizer report) is a bug: the entry aborts on a foreign exception so that the fuzzer records the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace finfuse::fuzz {

/// The targets: price_csv, intraday_csv, csv_blocks, numeric_csv, text_jsonl, stocknet_jsonl, edge_list, config_json, vocabulary,
/// bundle_archive, checkpoint, torch_save, torch_save_pickle, safetensors, word_vectors, huggingface_config,
/// exchange_calendar.
const std::vector<std::string>& targets();

/// Runs `target` on the input. Returns true when the parser accepted it, false when it refused it with a
/// finfuse::Error; calls std::abort() for any other exception (with the exception's type and message on stderr).
bool run(const std::string& target, const std::uint8_t* data, std::size_t size);

/// Parses the file at `path` as `target` does, letting every exception through (for tests of the error messages).
void parse_file(const std::string& target, const std::filesystem::path& path);

/// Writes valid inputs of the binary formats (a bundle archive of a small model, a checkpoint of the model the
/// "checkpoint" target loads into) to `dir` as seeds for `target`; does nothing for the text formats, whose seeds
/// are stored under tests/fuzz/corpus/.
void write_binary_seeds(const std::string& target, const std::string& dir);

}  // namespace finfuse::fuzz
