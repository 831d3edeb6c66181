// Correlations over plain vectors, as the IC metrics compute them.
#pragma once

#include <vector>

namespace finfuse::evaluation {

/// Ranks from 1, ties sharing the mean of their positions.
std::vector<double> average_ranks(const std::vector<double>& x);

/// Pearson correlation of two equally long vectors; NaN when either is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace finfuse::evaluation
