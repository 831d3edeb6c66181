// Mixed precision on LibTorch's autocast and loss-scaling kernels: autocast scopes cast and restore, the loss scaler
// against a hand computation, and bfloat16 training on the CPU against the same training in float32.
#include "training/mixed_precision.h"

#include "finfuse/core/error.h"
#include "finfuse/core/random.h"
#include "finfuse/training/trainer.h"
#include "support/credit_dataset.h"
#include "support/cuda.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/version.h>

#include <limits>

namespace finfuse::training {
namespace {

constexpr bool kCpuLossScalingKernels = TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3);

TEST(MixedPrecision, DtypeByDevice) {
  const c10::Device cpu(c10::DeviceType::CPU);
  const c10::Device cuda(c10::DeviceType::CUDA, 0);  // only named, never used
  EXPECT_EQ(amp_dtype_for("auto", cpu), c10::ScalarType::BFloat16);
  EXPECT_EQ(amp_dtype_for("auto", cuda), c10::ScalarType::Half);
  EXPECT_EQ(amp_dtype_for("bfloat16", cuda), c10::ScalarType::BFloat16);
  EXPECT_EQ(amp_dtype_for("float16", cuda), c10::ScalarType::Half);
  if (kCpuLossScalingKernels) {
    EXPECT_EQ(amp_dtype_for("float16", cpu), c10::ScalarType::Half);
  } else {
    try {
      amp_dtype_for("float16", cpu);
      FAIL() << "float16 autocast on the CPU before LibTorch 2.3";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("/amp_dtype"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(amp_dtype_for("float8", cpu), ConfigError);
}

TEST(MixedPrecision, AutocastScopesCastAndRestore) {
  torch::manual_seed(3);
  const auto a = torch::randn({16, 32});
  const auto b = torch::randn({32, 8});
  const auto exact = torch::mm(a, b);
  {
    AutocastScope outer(c10::DeviceType::CPU, c10::ScalarType::BFloat16);
    const auto low = torch::mm(a, b);
    EXPECT_EQ(low.scalar_type(), c10::ScalarType::BFloat16);
    // bfloat16 keeps 8 significant bits: each product's inputs are rounded to a relative 2^-9.
    const double scale = exact.abs().max().item<double>();
    EXPECT_LT((low.to(torch::kFloat) - exact).abs().max().item<double>(), 0.05 * scale);
    EXPECT_GT((low.to(torch::kFloat) - exact).abs().max().item<double>(), 0.0) << "autocast did not cast";
    {
      AutocastScope inner(c10::DeviceType::CPU, c10::ScalarType::BFloat16);
      EXPECT_EQ(torch::mm(a, b).scalar_type(), c10::ScalarType::BFloat16);
    }
    EXPECT_EQ(torch::mm(a, b).scalar_type(), c10::ScalarType::BFloat16) << "the inner scope ended the outer one";
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), c10::ScalarType::Float) << "autocast still on after its scope";
  EXPECT_TRUE(torch::equal(torch::mm(a, b), exact));
}

// The scaler against a hand computation, on the device where this LibTorch has the kernels.
void check_loss_scaler(const c10::Device& device) {
  const auto options = torch::TensorOptions().device(device);
  GradScaler scaler(8.0, 0, 2.0, 0.5, /*growth_interval=*/2);
  auto g1 = torch::tensor({2.0F, -4.0F}, options);
  auto g2 = torch::tensor({8.0F}, options);
  ASSERT_TRUE(scaler.unscale({g1, g2, torch::Tensor()}));
  EXPECT_TRUE(torch::allclose(g1.cpu(), torch::tensor({0.25F, -0.5F})));
  EXPECT_TRUE(torch::allclose(g2.cpu(), torch::tensor({1.0F})));
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.scale(), 8.0);
  EXPECT_EQ(scaler.growth_tracker(), 1);
  scaler.update(false);  // two finite steps in a row: the scale doubles and the count starts again
  EXPECT_DOUBLE_EQ(scaler.scale(), 16.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  auto bad = torch::tensor({1.0F, std::numeric_limits<float>::infinity()}, options);
  EXPECT_FALSE(scaler.unscale({g1, bad}));
  scaler.update(true);  // an overflow halves it
  EXPECT_DOUBLE_EQ(scaler.scale(), 8.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  auto nan = torch::tensor({std::numeric_limits<float>::quiet_NaN()}, options);
  EXPECT_FALSE(scaler.unscale({nan}));
}

TEST(MixedPrecision, LossScalerByHand) {
  if (!kCpuLossScalingKernels) {
    GTEST_SKIP() << "LibTorch " << TORCH_VERSION << " has the loss-scaling kernels for CUDA only (the "
                 << "LossScalerByHand_CUDA test checks them there)";
  }
  check_loss_scaler(c10::Device(c10::DeviceType::CPU));
}

TEST(MixedPrecision, LossScalerByHand_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  check_loss_scaler(c10::Device(c10::DeviceType::CUDA, 0));
}

class MixedPrecisionTraining : public finfuse::testing::CreditDatasetTest {
 protected:
  MixedPrecisionTraining() : CreditDatasetTest("finfuse_amp", 17) {}

  FitResult fit(bool amp, const c10::Device& device, Trainer** keep = nullptr) {
    seed_everything(5);
    models::MultimodalModel model(
        Config(Json{{"encoders", {{"numeric", {{"type", "mlp"}, {"layers", {32, 32}}, {"dropout", 0.0}}}}},
                    {"heads", {{"default", {{"type", "classification"}}}}}}),
        models::modality_specs(*dataset_), label_context(*dataset_, train_));
    auto config = Json::parse(R"({"epochs": 4, "batch_size": 32, "batching": "sequential", "progress": "none",
                                  "optimizer": {"type": "adam", "lr": 0.01}})");
    config["amp"] = amp;
    trainer_ = std::make_unique<Trainer>(TrainerOptions::from_config(Config(config)), model, dataset_, train_, valid_,
                                         device);
    if (keep != nullptr) {
      *keep = trainer_.get();
    }
    return trainer_->fit();
  }
  std::unique_ptr<Trainer> trainer_;
};

TEST_F(MixedPrecisionTraining, CpuBfloat16FollowsFloat32) {
  const c10::Device cpu(c10::DeviceType::CPU);
  const auto exact = fit(false, cpu);
  const auto mixed = fit(true, cpu);
  ASSERT_EQ(exact.step_losses.size(), mixed.step_losses.size());
  // The first step starts from the same weights: only bfloat16's rounding (8 significant bits) separates the losses.
  EXPECT_NEAR(mixed.step_losses.front(), exact.step_losses.front(), 0.02 * exact.step_losses.front());
  EXPECT_NE(mixed.step_losses.front(), exact.step_losses.front()) << "bfloat16 autocast changed nothing";
  // Over four epochs the two runs drift apart a little but learn the same thing.
  const auto& e = exact.history.back().values;
  const auto& m = mixed.history.back().values;
  EXPECT_NEAR(m.at("train.loss"), e.at("train.loss"), 0.1 * e.at("train.loss"));
  EXPECT_GT(m.at("valid.accuracy"), 0.8);
  EXPECT_NEAR(m.at("valid.roc_auc"), e.at("valid.roc_auc"), 0.03);
  // The weights stay float32 (autocast casts the operations, not the parameters).
  for (const auto& p : trainer_->model()->parameters()) {
    EXPECT_EQ(p.scalar_type(), c10::ScalarType::Float);
  }
}

TEST_F(MixedPrecisionTraining, Float16WithLossScalingOnGpu_CUDA) {
  FINFUSE_REQUIRE_CUDA();
  const c10::Device cuda(c10::DeviceType::CUDA, 0);
  const auto exact = fit(false, cuda);
  Trainer* trainer = nullptr;
  const auto mixed = fit(true, cuda, &trainer);
  EXPECT_GT(mixed.history.back().values.at("valid.accuracy"), 0.8);
  EXPECT_NEAR(mixed.history.back().values.at("valid.roc_auc"), exact.history.back().values.at("valid.roc_auc"), 0.03);
  EXPECT_GT(mixed.history.back().values.at("gpu_peak_memory_mb"), 0.0);
  EXPECT_GT(trainer->state().loss_scale, 0.0);
  EXPECT_TRUE(trainer->model()->parameters().front().is_cuda());
}

}  // namespace
}  // namespace finfuse::training
