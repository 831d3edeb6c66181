// "Did you mean ...?" suggestions for misspelt names: config keys, registry entries, choices.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finfuse {

/// Edit distance between two strings where insertions, deletions, substitutions and transpositions of two
/// adjacent characters cost 1 (optimal string alignment distance).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a plausible misspelling (at most a third of
/// the word's length in edits, and at least 1 edit allowed), or nothing. Ties go to the earlier candidate.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" -- ready to append to an error message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// "'a', 'b', 'c'" -- a list of names for an error message.
std::string quoted_list(const std::vector<std::string>& names);

}  // namespace finfuse
