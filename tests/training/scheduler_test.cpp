// Learning-rate schedules: factors checked by hand, typed construction, the registry and checkpoint state.
#include "finfuse/training/scheduler.h"

#include "finfuse/core/error.h"
#include "finfuse/training/optimizer.h"

#include <gtest/gtest.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <string>

namespace finfuse::training {
namespace {

TEST(Schedulers, FactorsByHand) {
  auto p = torch::zeros({1}, torch::requires_grad());
  const auto run = [&](const std::string& json, std::int64_t total, int steps, int epochs) {
    torch::optim::SGD sgd({p}, torch::optim::SGDOptions(0.1));
    LrScheduler s(Config::parse(json), sgd, total);
    for (int e = 0; e < epochs; ++e) {
      s.end_epoch(std::nan(""), false);
    }
    for (int i = 0; i < steps; ++i) {
      s.step();
    }
    EXPECT_NEAR(learning_rates(sgd)[0], 0.1 * s.factor(), 1e-15);
    return s.factor();
  };
  EXPECT_NEAR(run(R"({"type": "step", "step_size": 2, "gamma": 0.5})", 10, 0, 5), 0.25, 1e-12);
  EXPECT_NEAR(run(R"({"type": "multi_step", "milestones": [3, 1], "gamma": 0.1})", 10, 0, 3), 0.01, 1e-12);
  EXPECT_NEAR(run(R"({"type": "exponential", "gamma": 0.9})", 10, 0, 2), 0.81, 1e-12);
  // Cosine with 4 warm-up steps over 104: step 1 of warm-up is 2/5; halfway through the rest the factor is 1/2.
  EXPECT_NEAR(run(R"({"type": "cosine", "warmup_steps": 4})", 104, 1, 0), 2.0 / 5.0, 1e-12);
  EXPECT_NEAR(run(R"({"type": "cosine", "warmup_steps": 4})", 104, 54, 0), 0.5, 1e-12);
  EXPECT_NEAR(run(R"({"type": "cosine", "warmup_steps": 4, "min_factor": 0.1})", 104, 104, 0), 0.1, 1e-12);
  // One-cycle: lr / 25 at the start, lr at 30% of the run, lr / 25 / 1e4 at its last step (as PyTorch's OneCycleLR).
  EXPECT_NEAR(run(R"({"type": "one_cycle"})", 100, 0, 0), 1.0 / 25.0, 1e-12);
  EXPECT_NEAR(run(R"({"type": "one_cycle"})", 100, 29, 0), 1.0, 1e-12);
  EXPECT_NEAR(run(R"({"type": "one_cycle"})", 100, 99, 0), 1.0 / 25.0 / 1e4, 1e-12);
  // Reduce on plateau: two epochs without improvement beyond patience 1 cut the rate by 10x.
  torch::optim::SGD sgd({p}, torch::optim::SGDOptions(0.1));
  LrScheduler plateau(Config::parse(R"({"type": "reduce_on_plateau", "patience": 1})"), sgd, 10);
  for (const double loss : {1.0, 0.9, 0.95, 0.92}) {
    plateau.end_epoch(loss, false);
  }
  EXPECT_NEAR(plateau.factor(), 0.1, 1e-12);
  torch::optim::SGD other({p}, torch::optim::SGDOptions(0.1));
  LrScheduler restored(Config::parse(R"({"type": "reduce_on_plateau", "patience": 1})"), other, 10);
  restored.load_state(plateau.state());
  EXPECT_NEAR(learning_rates(other)[0], 0.01, 1e-15);
  EXPECT_THROW(LrScheduler(Config::parse(R"({"type": "cosin"})"), sgd, 10), ConfigError);
}

TEST(Schedulers, TypedOptionsBuildTheSameScheduleAsConfiguration) {
  auto p = torch::zeros({1}, torch::requires_grad());
  torch::optim::SGD a({p}, torch::optim::SGDOptions(0.1));
  torch::optim::SGD b({p}, torch::optim::SGDOptions(0.1));
  LrScheduler typed(std::make_unique<CosineSchedule>(CosineScheduleOptions().warmup_steps(4).min_factor(0.1)), a, 104);
  LrScheduler configured(Config(typed.options_json()), b, 104);
  EXPECT_EQ(typed.type(), "cosine");
  EXPECT_EQ(configured.options_json(), typed.options_json());
  for (int i = 0; i < 60; ++i) {
    typed.step();
    configured.step();
    ASSERT_EQ(typed.factor(), configured.factor()) << "step " << i + 1;
  }
  // Every built-in kind writes options its registry reads back to the same options.
  for (const auto& json : {R"({"type": "constant"})", R"({"type": "step", "step_size": 3})",
                           R"({"type": "multi_step", "milestones": [5, 2]})", R"({"type": "exponential", "gamma": 0.5})",
                           R"({"type": "one_cycle", "pct_start": 0.25})",
                           R"({"type": "reduce_on_plateau", "cooldown": 2})"}) {
    const auto first = make_schedule(Config::parse(json))->options_json();
    EXPECT_EQ(make_schedule(Config(first))->options_json(), first) << json;
  }
  EXPECT_EQ(make_schedule(Config::parse(R"({"type": "multi_step", "milestones": [5, 2]})"))->options_json()["milestones"],
            Json::parse("[2, 5]"));
}

TEST(Schedulers, ConfigurationErrorsNameTheField) {
  const auto error = [](const std::string& json) {
    try {
      make_schedule(Config::parse(json));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(R"({"type": "step"})").find("/step_size"), std::string::npos);
  EXPECT_NE(error(R"({"type": "step", "step_size": 0})").find("/step_size"), std::string::npos);
  EXPECT_NE(error(R"({"type": "exponential"})").find("/gamma"), std::string::npos);
  EXPECT_NE(error(R"({"type": "multi_step", "milestones": []})").find("/milestones"), std::string::npos);
  EXPECT_NE(error(R"({"type": "multi_step", "milestones": [3, -1]})").find("/milestones/1"), std::string::npos);
  EXPECT_NE(error(R"({"type": "cosine", "min_factor": 2})").find("/min_factor"), std::string::npos);
  EXPECT_NE(error(R"({"type": "constant", "gamma": 0.1})").find("/gamma"), std::string::npos);
  const auto unknown = error(R"({"type": "cosin"})");
  EXPECT_NE(unknown.find("/type"), std::string::npos);
  EXPECT_NE(unknown.find("cosine"), std::string::npos) << unknown;
}

// A schedule of one's own: halves the rate every `every` steps; registered by name and restored from its state.
class HalvingSchedule : public Schedule {
 public:
  explicit HalvingSchedule(std::int64_t every) : every_(every) {}
  double factor(const ScheduleProgress& progress) const override {
    return std::pow(0.5, static_cast<double>(progress.steps / every_));
  }
  Json options_json() const override { return Json{{"type", "test_halving"}, {"every", every_}}; }

 private:
  std::int64_t every_;
};

TEST(Schedulers, UserScheduleRegistersAndResumes) {
  if (!scheduler_registry().contains("test_halving")) {
    scheduler_registry().add("test_halving", [](const Config& options) -> std::unique_ptr<Schedule> {
      auto schedule = std::make_unique<HalvingSchedule>(options.get<std::int64_t>("every", Range::positive()));
      options.reject_unknown_keys();
      return schedule;
    });
  }
  auto p = torch::zeros({1}, torch::requires_grad());
  torch::optim::SGD sgd({p}, torch::optim::SGDOptions(0.8));
  LrScheduler s(Config::parse(R"({"type": "test_halving", "every": 2})"), sgd, 100);
  for (int i = 0; i < 5; ++i) {
    s.step();
  }
  EXPECT_NEAR(learning_rates(sgd)[0], 0.2, 1e-15);
  torch::optim::SGD other({p}, torch::optim::SGDOptions(0.8));
  LrScheduler resumed(std::make_unique<HalvingSchedule>(2), other, 100);
  resumed.load_state(s.state());
  resumed.step();
  EXPECT_NEAR(learning_rates(other)[0], 0.1, 1e-15);
  // A state saved for another kind is refused.
  LrScheduler cosine(std::make_unique<CosineSchedule>(), other, 100);
  EXPECT_THROW(cosine.load_state(s.state()), Error);
}

}  // namespace
}  // namespace finfuse::training
