// Every fusion layer with one, two and three modalities, with absent modalities, from JSON, with its inspection
// values; configuration errors at their JSON path.
#include "finfuse/fusion/fusion.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"

#include "support/cuda.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace finfuse::fusion {
namespace {

const std::vector<FusionModality> kModalities = {{"price", 8, true}, {"text", 6, true}, {"numeric", 5, false}};

std::vector<FusionModality> first(std::size_t n) { return {kModalities.begin(), kModalities.begin() + n}; }

FusionInput make_input(const std::vector<FusionModality>& modalities, std::int64_t batch, bool with_graph = false) {
  FusionInput input;
  for (std::size_t m = 0; m < modalities.size(); ++m) {
    ModalityFeatures f;
    f.pooled = torch::randn({batch, modalities[m].size});
    // Every third sample lacks the second modality; the rest have everything.
    f.present = torch::ones({batch}, torch::kBool);
    if (m == 1) {
      f.present.slice(0, 0, batch, 3).fill_(false);
    }
    if (modalities[m].has_tokens) {
      f.tokens = torch::randn({batch, 4, modalities[m].size});
      f.token_mask = torch::ones({batch, 4}, torch::kBool);
      f.token_mask.slice(1, 2, 4).fill_(false);
      f.token_mask.logical_and_(f.present.unsqueeze(1));
    }
    input.modalities.push_back(f);
  }
  if (with_graph) {
    input.edge_index = torch::tensor({0, 1, 2, 3, 1, 0, 3, 2}).view({2, 4});
    input.edge_weight = torch::ones({4});
  }
  input.day = torch::full({batch}, 16440, torch::kInt32);  // one decision day
  return input;
}

// The samples of `input` in the order `perm` (the graph and the days are the caller's).
FusionInput permute(const FusionInput& input, const torch::Tensor& perm) {
  auto permuted = input;
  for (auto& m : permuted.modalities) {
    m.pooled = m.pooled.index_select(0, perm);
    m.present = m.present.index_select(0, perm);
    m.tokens = m.tokens.defined() ? m.tokens.index_select(0, perm) : m.tokens;
    m.token_mask = m.token_mask.defined() ? m.token_mask.index_select(0, perm) : m.token_mask;
  }
  return permuted;
}

std::shared_ptr<Fusion> build(const std::string& json, const std::vector<FusionModality>& modalities) {
  return make_fusion(Config::parse(json), modalities);
}

struct Case {
  std::string name;
  std::string json;
  std::size_t min_modalities;
  bool graph;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class EveryFusion : public ::testing::TestWithParam<Case> {};

TEST_P(EveryFusion, FusesOneTwoAndThreeModalitiesWithGaps) {
  const auto& c = GetParam();
  seed_everything(11);
  for (std::size_t n = c.min_modalities; n <= kModalities.size(); ++n) {
    SCOPED_TRACE(n);
    const auto fusion = build(c.json, first(n));
    fusion->eval();
    const auto input = make_input(first(n), 6, c.graph);
    const auto out = fusion->fuse(input);
    ASSERT_EQ(out.fused.sizes(), (std::vector<std::int64_t>{6, fusion->output_size()}));
    EXPECT_TRUE(torch::isfinite(out.fused).all().item<bool>());
    // Gradients reach every parameter.
    fusion->train();
    fusion->zero_grad();
    auto trainable = input;
    for (auto& m : trainable.modalities) {
      m.pooled = m.pooled.clone().requires_grad_();
    }
    fusion->fuse(trainable).fused.pow(2).sum().backward();
    EXPECT_TRUE(trainable.modalities[0].pooled.grad().defined());
    for (const auto& p : fusion->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
    }
    // The resolved options rebuild the same layer.
    const auto again = make_fusion(Config(fusion->options_json()), first(n));
    EXPECT_EQ(again->options_json(), fusion->options_json());
    EXPECT_EQ(again->parameter_count(), fusion->parameter_count());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fusion, EveryFusion,
    ::testing::Values(Case{"concat", R"({"type": "concat"})", 1, false},
                      Case{"concat_projected", R"({"type": "concat", "layer_norm": true, "projection": 4})", 1, false},
                      Case{"gated", R"({"type": "gated", "hidden": 7})", 1, false},
                      Case{"gated_sigmoid", R"({"type": "gated", "gate": "sigmoid"})", 1, false},
                      Case{"attention", R"({"type": "attention", "hidden": 8, "heads": 2, "layers": 2})", 1, false},
                      Case{"cross_attention", R"({"type": "cross_attention", "query": "price", "context": "text",
                                                  "hidden": 8, "heads": 2})", 2, false},
                      Case{"bilinear", R"({"type": "bilinear", "hidden": 5})", 2, false},
                      Case{"graph_sage", R"({"type": "graph", "hidden": 6, "layers": 2})", 1, true},
                      Case{"graph_max_pool", R"({"type": "graph", "aggregator": "max_pool"})", 1, true},
                      Case{"graph_gat", R"({"type": "graph", "layer": "gat", "heads": 2, "hidden": 6,
                                            "entity": {"type": "gated", "hidden": 4}})", 1, true},
                      Case{"cross_attention_day", R"({"type": "cross_attention", "query": "price", "context": "text",
                                                      "hidden": 8, "heads": 2, "neighbours": "day"})", 2, false},
                      Case{"cross_attention_graph", R"({"type": "cross_attention", "query": "price",
                                                        "context": "text", "hidden": 8, "heads": 2,
                                                        "neighbours": "graph"})", 2, true},
                      Case{"cross_section_mean", R"({"type": "cross_section", "hidden": 8, "heads": 2})", 1, false},
                      Case{"cross_section_market", R"({"type": "cross_section", "market": "price", "combine": "both",
                                                       "hidden": 8, "heads": 2, "layers": 2,
                                                       "entity": {"type": "gated", "hidden": 4}})", 2, false},
                      Case{"cross_section_add", R"({"type": "cross_section", "market": "mean", "combine": "add",
                                                    "skip": false, "hidden": 6, "heads": 3})", 1, false},
                      Case{"cross_section_graph", R"({"type": "cross_section", "market": "none", "hidden": 8,
                                                      "heads": 2, "entity": {"type": "graph", "hidden": 6}})", 1, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(GatedFusion, GatesSumToOneAcrossModalities) {
  const auto fusion = build(R"({"type": "gated", "hidden": 4})", first(3));
  const auto out = fusion->fuse(make_input(first(3), 5));
  ASSERT_EQ(out.inspection.at("gates").sizes(), (std::vector<std::int64_t>{5, 3}));
  EXPECT_TRUE(torch::allclose(out.inspection.at("gates").sum(1), torch::ones({5})));
  EXPECT_EQ(out.inspection.at("gate_values").sizes(), (std::vector<std::int64_t>{5, 3, 4}));
}

TEST(AttentionFusion, AbsentModalitiesGetNoAttention) {
  const auto fusion = build(R"({"type": "attention", "hidden": 8, "heads": 2, "dropout": 0.0})", first(3));
  const auto input = make_input(first(3), 6);
  const auto attention = fusion->fuse(input).inspection.at("attention");
  ASSERT_EQ(attention.sizes(), (std::vector<std::int64_t>{6, 4}));
  EXPECT_TRUE(torch::allclose(attention.sum(1), torch::ones({6})));
  // Samples 0 and 3 lack "text" (token 2: after the fusion token and "price").
  EXPECT_EQ(attention[0][2].item<float>(), 0.0F);
  EXPECT_EQ(attention[3][2].item<float>(), 0.0F);
  EXPECT_GT(attention[1][2].item<float>(), 0.0F);
  // An absent modality's values do not matter.
  auto changed = input;
  changed.modalities[1].pooled = changed.modalities[1].pooled.clone();
  changed.modalities[1].pooled[0].fill_(100.0F);
  EXPECT_TRUE(torch::allclose(fusion->fuse(changed).fused[0], fusion->fuse(input).fused[0]));
}

TEST(CrossAttentionFusion, PriceAttendsOverTheTextTokens) {
  const auto fusion = build(R"({"type": "cross_attention", "query": "price", "context": "text", "hidden": 8,
                                "heads": 2, "dropout": 0.0})",
                            first(3));
  const auto input = make_input(first(3), 6);
  const auto out = fusion->fuse(input);
  const auto attention = out.inspection.at("attention");
  ASSERT_EQ(attention.sizes(), (std::vector<std::int64_t>{6, 4, 4}));
  // Padding (tokens 2, 3) is never attended; samples without text attend to nothing and get the "no context" vector.
  EXPECT_EQ(attention.slice(2, 2, 4).abs().sum().item<float>(), 0.0F);
  EXPECT_EQ(attention[0].abs().sum().item<float>(), 0.0F);
  EXPECT_TRUE(torch::allclose(attention[1].sum(-1), torch::ones({4})));
  EXPECT_TRUE(torch::allclose(out.fused[0].slice(0, 0, 8), out.fused[3].slice(0, 0, 8)));
  EXPECT_EQ(fusion->output_size(), 8 + 8 + 6 + 5);
}

TEST(GraphFusion, NeedsTheBatchGraphAndIsPermutationEquivariant) {
  seed_everything(5);
  const auto fusion = build(R"({"type": "graph", "layer": "gat", "heads": 2, "hidden": 4})", first(2));
  fusion->eval();
  EXPECT_THROW(fusion->fuse(make_input(first(2), 4)), Error);
  const auto input = make_input(first(2), 4, true);
  const auto out = fusion->fuse(input);
  ASSERT_EQ(out.inspection.at("edge_attention").size(0), 4 + 4);
  // Relabel the samples: the outputs follow.
  const auto perm = torch::tensor({2, 0, 3, 1});
  const auto inverse = torch::tensor({1, 3, 0, 2});
  auto permuted = permute(input, perm);
  permuted.edge_index = inverse.index_select(0, input.edge_index.flatten()).view({2, -1});
  EXPECT_TRUE(torch::allclose(fusion->fuse(permuted).fused, out.fused.index_select(0, perm), 1e-5, 1e-6));
}

TEST(CrossAttentionFusion, NeighboursTextsByDayOrGraph) {
  seed_everything(7);
  const std::string options = R"({"type": "cross_attention", "query": "price", "context": "text", "hidden": 8,
                                  "heads": 2, "dropout": 0.0, "neighbours": "%"})";
  const auto with = [&](const std::string& neighbours) {
    auto json = options;
    json.replace(json.find('%'), 1, neighbours);
    auto fusion = build(json, first(2));
    fusion->eval();
    return fusion;
  };
  // Samples 0 and 3 lack text; 1 and 2 have two real tokens each. Edges 1 -> 0 and 2 -> 1: sample 0 sees sample 1's
  // texts, sample 1 its own and sample 2's, sample 2 its own only.
  auto input = make_input(first(2), 4, true);
  input.edge_index = torch::tensor({1, 2, 0, 1}).view({2, 2});
  input.edge_weight = torch::ones({2});
  const auto graph = with("graph");
  EXPECT_TRUE(graph->uses_graph());
  EXPECT_TRUE(graph->cross_sectional());
  const auto out = graph->fuse(input);
  const auto attention = out.inspection.at("attention");
  ASSERT_EQ(attention.sizes(), (std::vector<std::int64_t>{4, 4, 16}));
  EXPECT_TRUE(torch::allclose(attention[0].slice(1, 4, 6).sum(-1), torch::ones({4})));
  EXPECT_TRUE(torch::allclose(attention[1].slice(1, 4, 6).sum(-1) + attention[1].slice(1, 8, 10).sum(-1),
                              torch::ones({4})));
  EXPECT_GT(attention[1].slice(1, 8, 10).sum().item<float>(), 0.0F);
  EXPECT_TRUE(torch::allclose(attention[2].slice(1, 8, 10).sum(-1), torch::ones({4})));
  // Changing a sample's text moves those that see it and no other.
  auto changed = input;
  changed.modalities[1].tokens = input.modalities[1].tokens.clone();
  changed.modalities[1].tokens[2].fill_(5.0F);
  const auto moved = graph->fuse(changed).fused;
  EXPECT_TRUE(torch::allclose(moved[0], out.fused[0]));
  EXPECT_FALSE(torch::allclose(moved[1], out.fused[1]));
  // Without the graph: an error that says what to configure.
  auto no_graph = input;
  no_graph.edge_index = torch::Tensor();
  EXPECT_THROW(graph->fuse(no_graph), Error);
  // "day": every sample of the same day, none of another day's.
  const auto day = with("day");
  EXPECT_FALSE(day->uses_graph());
  EXPECT_TRUE(day->cross_sectional());
  auto two_days = input;
  two_days.day = torch::tensor({16440, 16440, 16441, 16441}, torch::kInt32);
  const auto by_day = day->fuse(two_days).inspection.at("attention");
  EXPECT_EQ(by_day[0].slice(1, 8, 16).abs().sum().item<float>(), 0.0F);
  EXPECT_TRUE(torch::allclose(by_day[3].slice(1, 8, 16).sum(-1), torch::ones({4})));
  EXPECT_GT(by_day[3].slice(1, 8, 10).sum().item<float>(), 0.0F);
}

TEST(CrossSectionFusion, StocksSeeTheirDayAndTheMarketButNoOtherDay) {
  seed_everything(9);
  const auto fusion = build(R"({"type": "cross_section", "market": "numeric", "hidden": 8, "heads": 2,
                                "dropout": 0.0})",
                            first(3));
  fusion->eval();
  EXPECT_TRUE(fusion->cross_sectional());
  EXPECT_FALSE(fusion->uses_graph());
  // The per-entity fusion reads price and text; numeric is the market.
  EXPECT_EQ(fusion->output_size(), 8 + 8 + 6);
  auto input = make_input(first(3), 5);
  input.modalities[2].present = torch::tensor({1, 1, 0, 1, 1}, torch::kBool);
  const auto row = input.modalities[2].pooled[0].clone();
  input.modalities[2].pooled.copy_(row.unsqueeze(0).expand({5, 5}));
  const auto out = fusion->fuse(input);
  ASSERT_EQ(out.inspection.at("stock_attention").sizes(), (std::vector<std::int64_t>{5, 6}));
  EXPECT_TRUE(torch::allclose(out.inspection.at("stock_attention").sum(1), torch::ones({5})));
  // The market row of a sample without the modality does not count.
  auto absent = input;
  absent.modalities[2].pooled = input.modalities[2].pooled.clone();
  absent.modalities[2].pooled[2].fill_(100.0F);
  EXPECT_TRUE(torch::allclose(fusion->fuse(absent).fused, out.fused));
  // Relabelling the stocks relabels the outputs; moving one stock moves the others.
  const auto perm = torch::tensor({3, 0, 4, 1, 2});
  auto permuted = permute(input, perm);
  EXPECT_TRUE(torch::allclose(fusion->fuse(permuted).fused, out.fused.index_select(0, perm), 1e-5, 1e-6));
  auto moved = input;
  moved.modalities[0].pooled = input.modalities[0].pooled.clone();
  moved.modalities[0].pooled[4].mul_(-4.0F);
  EXPECT_FALSE(torch::allclose(fusion->fuse(moved).fused[0], out.fused[0]));
  // Two days in a batch, or no days: refused.
  auto mixed = input;
  mixed.day = torch::tensor({16440, 16440, 16440, 16441, 16441}, torch::kInt32);
  try {
    fusion->fuse(mixed);
    FAIL() << "a batch of two days was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one decision day per batch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2015-01-05 to 2015-01-06"), std::string::npos) << e.what();
  }
  auto undated = input;
  undated.day = torch::Tensor();
  EXPECT_THROW(fusion->fuse(undated), Error);
}

TEST(CrossSectionFusion, SameResultsOnTheGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  for (const auto* json : {R"({"type": "cross_section", "market": "numeric", "combine": "both", "hidden": 8,
                               "heads": 2})",
                           R"({"type": "cross_section", "hidden": 8, "heads": 2,
                               "entity": {"type": "cross_attention", "query": "price", "context": "text",
                                          "hidden": 8, "heads": 2, "neighbours": "graph"}})"}) {
    SCOPED_TRACE(json);
    seed_everything(12);
    const auto fusion = build(json, first(3));
    fusion->eval();
    const auto input = make_input(first(3), 4, true);
    const auto expected = fusion->fuse(input).fused;
    const torch::Device gpu(torch::kCUDA, 0);
    fusion->to(gpu);
    auto on_gpu = input;
    for (auto& m : on_gpu.modalities) {
      m.pooled = m.pooled.to(gpu);
      m.present = m.present.to(gpu);
      m.tokens = m.tokens.defined() ? m.tokens.to(gpu) : m.tokens;
      m.token_mask = m.token_mask.defined() ? m.token_mask.to(gpu) : m.token_mask;
    }
    on_gpu.edge_index = input.edge_index.to(gpu);
    on_gpu.edge_weight = input.edge_weight.to(gpu);
    on_gpu.day = input.day.to(gpu);
    EXPECT_TRUE(torch::allclose(fusion->fuse(on_gpu).fused.cpu(), expected, 1e-4, 1e-5));
  }
}

TEST(CrossAttentionFusion, ImageTokensMayBeNarrowerOrWiderThanThePooledVector) {
  // A CNN's feature-map positions carry its channels (here 5), its pooled vector a projection (8).
  const std::vector<FusionModality> modalities = {{"price", 6, false, 0}, {"chart", 8, true, 5}};
  const auto fusion = build(R"({"type": "cross_attention", "query": "price", "context": "chart", "hidden": 4,
                                "heads": 2})",
                            modalities);
  FusionInput input;
  input.modalities.push_back({torch::randn({3, 6}), {}, {}, torch::ones({3}, torch::kBool)});
  input.modalities.push_back({torch::randn({3, 8}), torch::randn({3, 12, 5}), torch::ones({3, 12}, torch::kBool),
                              torch::ones({3}, torch::kBool)});
  const auto out = fusion->fuse(input);
  EXPECT_EQ(out.fused.sizes(), (std::vector<std::int64_t>{3, 4 + 6 + 8}));
  EXPECT_EQ(out.inspection.at("attention").sizes(), (std::vector<std::int64_t>{3, 1, 12}));
  input.modalities[1].tokens = torch::randn({3, 12, 8});
  EXPECT_THROW(fusion->fuse(input), ShapeError);
}

TEST(Fusion, ConfigurationErrorsNameTheirPath) {
  const auto message = [](const std::string& json, std::size_t n) {
    try {
      build(json, first(n));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"type": "gatd"})", 2).find("did you mean 'gated'"), std::string::npos);
  EXPECT_NE(message(R"({"type": "gated", "hiden": 3})", 2).find("/hiden"), std::string::npos);
  EXPECT_NE(message(R"({"type": "bilinear"})", 1).find("needs two modalities"), std::string::npos);
  EXPECT_NE(message(R"({"type": "bilinear", "modalities": ["price", "price"]})", 2).find("/modalities"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_attention", "query": "price", "context": "tweets"})", 2)
                .find("no modality 'tweets'"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "attention", "hidden": 10, "heads": 3})", 2).find("/heads"), std::string::npos);
  EXPECT_NE(message(R"({"type": "graph", "entity": {"type": "graph"}})", 2).find("/entity/type"), std::string::npos);
  EXPECT_NE(message(R"({"type": "graph", "entity": {"type": "concat", "bad": 1}})", 2).find("/entity/bad"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "graph", "layers": 3})", 2).find("/layers"), std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_section", "market": "prices"})", 2).find("/market"), std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_section", "market": "price"})", 1).find("/market: 'price' is the only"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_section", "market": "none", "combine": "add"})", 1).find("/combine"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_section", "entity": {"type": "cross_section"}})", 1).find("/entity/type"),
            std::string::npos);
  EXPECT_NE(message(R"({"type": "cross_attention", "query": "price", "context": "text", "neighbours": "all"})", 2)
                .find("/neighbours"),
            std::string::npos);
}

TEST(Fusion, ShapeMismatchesNameTheModality) {
  const auto fusion = build(R"({"type": "concat"})", first(2));
  auto input = make_input(first(2), 3);
  input.modalities[1].pooled = torch::randn({3, 7});
  try {
    fusion->fuse(input);
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("'text' expected pooled [B, 6], got [3, 7]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace finfuse::fusion
