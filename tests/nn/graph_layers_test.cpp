// GraphSAGE and GAT: hand-computed small graphs, a reference computed edge by edge in Python, permutation
// equivariance, isolated nodes and self-loops, bad edge lists.
#include "finfuse/nn/graph_layers.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/encoders/pretrained.h"
#include "support/parity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace finfuse::nn {
namespace {

void set(torch::nn::Module& module, const std::string& name, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.named_parameters()) {
    if (p.key() == name) {
      p.value().copy_(value);
      return;
    }
  }
  FAIL() << "no parameter " << name;
}

torch::Tensor edges(std::initializer_list<std::pair<std::int64_t, std::int64_t>> list) {
  std::vector<std::int64_t> source;
  std::vector<std::int64_t> target;
  for (const auto& [s, t] : list) {
    source.push_back(s);
    target.push_back(t);
  }
  return torch::stack({torch::tensor(source), torch::tensor(target)});
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double tolerance = 1e-5) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  const double error = (actual - expected).abs().max().item<double>();
  EXPECT_LT(error, tolerance) << "actual\n" << actual << "\nexpected\n" << expected;
}

class GraphByHand : public ::testing::Test {
 protected:
  // Node 2 hears from 0 and 1, node 0 from 2, node 1 from nobody.
  const torch::Tensor x = torch::tensor({{1.0F, 0.0F}, {0.0F, 1.0F}, {2.0F, 2.0F}});
  const torch::Tensor edge_index = edges({{0, 2}, {1, 2}, {2, 0}});
  const torch::Tensor eye = torch::eye(2);
};

TEST_F(GraphByHand, SageMeanAveragesIncomingNeighbours) {
  SageConv sage(2, 2, "mean");
  set(*sage, "self.weight", eye);
  set(*sage, "self.bias", torch::zeros({2}));
  set(*sage, "neighbour.weight", eye);
  expect_close(sage->forward(x, edge_index), torch::tensor({{3.0F, 2.0F}, {0.0F, 1.0F}, {2.5F, 2.5F}}));
  // Weighted: node 2's mean is (1 * [1, 0] + 3 * [0, 1]) / 4.
  expect_close(sage->forward(x, edge_index, torch::tensor({1.0F, 3.0F, 1.0F})),
               torch::tensor({{3.0F, 2.0F}, {0.0F, 1.0F}, {2.25F, 2.75F}}));
}

TEST_F(GraphByHand, SageMaxPoolTakesTheElementwiseMaximum) {
  SageConv sage(2, 2, "max_pool");
  set(*sage, "self.weight", eye);
  set(*sage, "self.bias", torch::zeros({2}));
  set(*sage, "neighbour.weight", eye);
  set(*sage, "pool.weight", eye);
  set(*sage, "pool.bias", torch::tensor({0.0F, -0.5F}));
  // Pooled rows: relu([1, -0.5]) = [1, 0], relu([0, 0.5]) = [0, 0.5], relu([2, 1.5]) = [2, 1.5].
  expect_close(sage->forward(x, edge_index), torch::tensor({{3.0F, 1.5F}, {0.0F, 1.0F}, {3.0F, 2.5F}}));
}

TEST_F(GraphByHand, GatSoftmaxOverIncomingEdgesAndASelfLoop) {
  GatConv gat(1, 1, 1);
  set(*gat, "linear.weight", torch::ones({1, 1}));
  set(*gat, "attention_source", torch::ones({1, 1}));
  set(*gat, "attention_target", torch::zeros({1, 1}));
  // Node 1 hears from 0 (logit z_0 = 1) and itself (logit z_1 = 2); node 0 only from itself.
  const auto out = gat->forward_with_attention(torch::tensor({{1.0F}, {2.0F}}), edges({{0, 1}}));
  const double a = std::exp(1.0) / (std::exp(1.0) + std::exp(2.0));
  expect_close(out.output, torch::tensor({{1.0F}, {static_cast<float>(a * 1.0 + (1.0 - a) * 2.0)}}));
  EXPECT_EQ(out.edges.size(1), 3);
  // A self-loop already in the input changes nothing.
  expect_close(gat->forward(torch::tensor({{1.0F}, {2.0F}}), edges({{0, 1}, {1, 1}})), out.output);
}

TEST(GraphLayers, PermutationEquivariant) {
  seed_everything(3);
  const std::int64_t n = 9;
  const auto x = torch::randn({n, 4});
  const auto edge_index = torch::randint(0, n, {2, 20}, torch::kInt64);
  const auto weight = torch::rand({20}) + 0.1;
  const auto perm = torch::randperm(n, torch::kInt64);
  const auto inverse = torch::empty_like(perm).scatter_(0, perm, torch::arange(n, torch::kInt64));
  // Node k of the permuted graph is node perm[k] of the original.
  const auto px = x.index_select(0, perm);
  const auto pedges = inverse.index_select(0, edge_index.flatten()).view({2, -1});
  SageConv mean(4, 3, "mean");
  SageConv max_pool(4, 3, "max_pool");
  GatConv gat(4, 2, 3);
  gat->eval();
  expect_close(mean->forward(px, pedges, weight), mean->forward(x, edge_index, weight).index_select(0, perm));
  expect_close(max_pool->forward(px, pedges), max_pool->forward(x, edge_index).index_select(0, perm));
  expect_close(gat->forward(px, pedges), gat->forward(x, edge_index).index_select(0, perm));
}

TEST(GraphLayers, GradientsReachEveryParameter) {
  seed_everything(4);
  const auto x = torch::randn({6, 4}, torch::requires_grad());
  const auto edge_index = torch::randint(0, 6, {2, 12}, torch::kInt64);
  for (const std::string aggregator : {"mean", "max_pool"}) {
    SageConv sage(4, 3, aggregator);
    sage->forward(x, edge_index).pow(2).sum().backward();
    for (const auto& p : sage->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << aggregator << " " << p.key();
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>());
    }
  }
  GatConv gat(4, 2, 3);
  gat->forward(x, edge_index).pow(2).sum().backward();
  for (const auto& p : gat->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(GraphLayers, EmptyGraphsAndBadEdges) {
  SageConv sage(2, 2);
  GatConv gat(2, 1, 2);
  const auto x = torch::randn({3, 2});
  const auto none = torch::zeros({2, 0}, torch::kInt64);
  EXPECT_EQ(sage->forward(x, none).sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(gat->forward(x, none).sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_THROW(sage->forward(x, edges({{0, 3}})), ShapeError);
  EXPECT_THROW(sage->forward(x, edges({{-1, 0}})), ShapeError);
  EXPECT_THROW(sage->forward(x, torch::zeros({3, 1}, torch::kInt64)), ShapeError);
  EXPECT_THROW(sage->forward(x, edges({{0, 1}}), torch::tensor({-1.0F})), Error);
  EXPECT_THROW(sage->forward(x, edges({{0, 1}}), torch::tensor({1.0F, 2.0F})), ShapeError);
  EXPECT_THROW(sage->forward(torch::randn({3, 5}), none), ShapeError);
}

TEST(Parity, GraphLayersMatchAnEdgeByEdgeReference) {
  FINFUSE_REQUIRE_PARITY_FILES("graph_reference.pth");
  const auto reference = encoders::read_weights(testing::parity_dir() / "graph_reference.pth");
  const auto subset = [&](const std::string& prefix) {
    encoders::TensorMap out;
    for (const auto& [name, tensor] : reference) {
      if (name.rfind(prefix, 0) == 0) {
        out.emplace(name.substr(prefix.size()), tensor);
      }
    }
    return out;
  };
  const auto& x = reference.at("x");
  const auto& edge_index = reference.at("edge_index");
  SageConv mean(5, 4, "mean");
  SageConv max_pool(5, 4, "max_pool");
  GatConv gat(5, 2, 3);
  encoders::load_weights(*mean, subset("sage_mean."));
  encoders::load_weights(*max_pool, subset("sage_max."));
  encoders::load_weights(*gat, subset("gat."));
  gat->eval();
  expect_close(mean->forward(x, edge_index, reference.at("edge_weight")), reference.at("expected.sage_mean"));
  expect_close(max_pool->forward(x, edge_index), reference.at("expected.sage_max"));
  expect_close(gat->forward(x, edge_index), reference.at("expected.gat"));
}

}  // namespace
}  // namespace finfuse::nn
