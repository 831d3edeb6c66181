#include "finfuse/core/suggest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace finfuse {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::size_t> d((n + 1) * (m + 1));
  const auto at = [m](std::size_t i, std::size_t j) { return i * (m + 1) + j; };
  for (std::size_t i = 0; i <= n; ++i) {
    d[at(i, 0)] = i;
  }
  for (std::size_t j = 0; j <= m; ++j) {
    d[at(0, j)] = j;
  }
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t best = std::min({d[at(i - 1, j)] + 1, d[at(i, j - 1)] + 1, d[at(i - 1, j - 1)] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, d[at(i - 2, j - 2)] + 1);
      }
      d[at(i, j)] = best;
    }
  }
  return d[at(n, m)];
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t budget = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = budget + 1;
  for (const auto& candidate : candidates) {
    // Case differences are the most common slip; they cost nothing extra beyond one edit.
    std::string lower_word(word);
    std::string lower_candidate(candidate);
    std::transform(lower_word.begin(), lower_word.end(), lower_word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::transform(lower_candidate.begin(), lower_candidate.end(), lower_candidate.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::size_t d = edit_distance(lower_word, lower_candidate);
    if (d == 0 && word != candidate) {
      d = 1;
    }
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  if (auto match = closest_match(word, candidates)) {
    return fmt::format(" (did you mean '{}'?)", *match);
  }
  return {};
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) {
      out += ", ";
    }
    out += '\'';
    out += name;
    out += '\'';
  }
  return out.empty() ? std::string("(none)") : out;
}

}  // namespace finfuse
