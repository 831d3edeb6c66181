#include "finfuse/nn/activation.h"

#include <torch/nn/modules/activation.h>
#include <torch/types.h>

#include <gtest/gtest.h>

namespace finfuse::nn {
namespace {

TEST(Activation, BuiltinsMatchTheirDefinitions) {
  const auto x = torch::linspace(-3, 3, 13);
  EXPECT_TRUE(torch::allclose(make_activation("relu").forward(x), torch::clamp_min(x, 0)));
  EXPECT_TRUE(torch::allclose(make_activation("identity").forward(x), x));
  EXPECT_TRUE(torch::allclose(make_activation("tanh").forward(x), torch::tanh(x)));
  EXPECT_TRUE(torch::allclose(make_activation("sigmoid").forward(x), 1 / (1 + torch::exp(-x))));
  EXPECT_TRUE(torch::allclose(make_activation("silu").forward(x), x / (1 + torch::exp(-x))));
  EXPECT_TRUE(torch::allclose(make_activation("leaky_relu").forward(x), torch::where(x > 0, x, 0.01 * x)));
  EXPECT_TRUE(torch::allclose(make_activation("softplus").forward(x), torch::log1p(torch::exp(x))));
  EXPECT_TRUE(torch::allclose(make_activation("elu").forward(x), torch::where(x > 0, x, torch::exp(x) - 1)));
  // Exact GELU: x * Phi(x).
  EXPECT_TRUE(torch::allclose(make_activation("gelu").forward(x), x * 0.5 * (1 + torch::erf(x / std::sqrt(2.0))),
                              1e-5, 1e-6));
}

TEST(Activation, UnknownNameListsChoices) {
  try {
    make_activation("rleu");
    FAIL();
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown activation 'rleu' (did you mean 'relu'?)"), std::string::npos)
        << e.what();
  }
}

TEST(Activation, UsersRegisterTheirOwn) {
  if (!activation_registry().contains("hardtanh_test")) {
    activation_registry().add("hardtanh_test", [] { return torch::nn::AnyModule(torch::nn::Hardtanh()); });
  }
  const auto y = make_activation("hardtanh_test").forward(torch::tensor({-5.0, 0.5, 5.0}));
  EXPECT_TRUE(torch::allclose(y, torch::tensor({-1.0, 0.5, 1.0})));
}

}  // namespace
}  // namespace finfuse::nn
