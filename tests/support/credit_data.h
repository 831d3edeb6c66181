// A generated credit-style table for tests: `rows` applicants with four standard-normal features, defaulting when a
// noisy linear score of the first three is positive ("id,x1,x2,x3,x4,defaulted").
#pragma once

#include <filesystem>
#include <fstream>
#include <random>

namespace finfuse::testing {

inline void write_credit_csv(const std::filesystem::path& path, unsigned seed, int rows = 400) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::ofstream csv(path);
  csv << "id,x1,x2,x3,x4,defaulted\n";
  for (int i = 0; i < rows; ++i) {
    const double x1 = normal(rng), x2 = normal(rng), x3 = normal(rng), x4 = normal(rng);
    const bool y = x1 - 0.7 * x2 + 0.4 * x3 + 0.3 * normal(rng) > 0.2;
    csv << i << "," << x1 << "," << x2 << "," << x3 << "," << x4 << "," << (y ? 1 : 0) << "\n";
  }
}

}  // namespace finfuse::testing
