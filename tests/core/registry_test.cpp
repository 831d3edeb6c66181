#include "finfuse/core/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

namespace finfuse {
namespace {

struct Loss {
  virtual ~Loss() = default;
  virtual double scale() const = 0;
};

struct Scaled : Loss {
  explicit Scaled(double s) : s_(s) {}
  double scale() const override { return s_; }
  double s_;
};

using LossRegistry = Registry<std::shared_ptr<Loss>(double)>;

TEST(Registry, BuiltinsRunOnceOnFirstUse) {
  std::atomic<int> runs{0};
  LossRegistry registry("loss", [&](LossRegistry& r) {
    ++runs;
    r.add("mse", [](double s) { return std::make_shared<Scaled>(s); });
    r.add("huber", [](double s) { return std::make_shared<Scaled>(2 * s); });
  });
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"huber", "mse"}));
  EXPECT_DOUBLE_EQ(registry.create("huber", 1.5)->scale(), 3.0);
  EXPECT_TRUE(registry.contains("mse"));
  EXPECT_EQ(runs.load(), 1);
}

TEST(Registry, UsersAddTheirOwnAfterTheBuiltins) {
  LossRegistry registry("loss", [](LossRegistry& r) { r.add("mse", [](double s) { return std::make_shared<Scaled>(s); }); });
  registry.add("custom", [](double s) { return std::make_shared<Scaled>(-s); });
  EXPECT_DOUBLE_EQ(registry.create("custom", 2.0)->scale(), -2.0);
  // A user registering a built-in's name is told so, even before the registry was otherwise used.
  LossRegistry fresh("loss", [](LossRegistry& r) { r.add("mse", [](double s) { return std::make_shared<Scaled>(s); }); });
  EXPECT_THROW(fresh.add("mse", [](double s) { return std::make_shared<Scaled>(s); }), RegistryError);
}

TEST(Registry, DuplicateAndEmptyNamesThrow) {
  LossRegistry registry("loss");
  registry.add("a", [](double s) { return std::make_shared<Scaled>(s); });
  try {
    registry.add("a", [](double s) { return std::make_shared<Scaled>(s); });
    FAIL();
  } catch (const RegistryError& e) {
    EXPECT_STREQ(e.what(), "loss 'a' is already registered");
  }
  EXPECT_THROW(registry.add("", [](double s) { return std::make_shared<Scaled>(s); }), RegistryError);
  EXPECT_THROW(registry.add("null", nullptr), RegistryError);
}

TEST(Registry, UnknownNameListsKnownNamesWithSuggestion) {
  LossRegistry registry("loss", [](LossRegistry& r) {
    r.add("mse", [](double s) { return std::make_shared<Scaled>(s); });
    r.add("huber", [](double s) { return std::make_shared<Scaled>(s); });
  });
  try {
    registry.create("hubber", 1.0);
    FAIL();
  } catch (const RegistryError& e) {
    EXPECT_STREQ(e.what(), "unknown loss 'hubber' (did you mean 'huber'?); registered: 'huber', 'mse'");
  }
}

TEST(Registry, BuiltinFailureSurfacesAsException) {
  LossRegistry registry("loss", [](LossRegistry& r) {
    r.add("x", [](double s) { return std::make_shared<Scaled>(s); });
    r.add("x", [](double s) { return std::make_shared<Scaled>(s); });
  });
  EXPECT_THROW(registry.names(), RegistryError);
}

TEST(Registry, ConcurrentFirstUseRegistersBuiltinsOnce) {
  std::atomic<int> runs{0};
  LossRegistry registry("loss", [&](LossRegistry& r) {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r.add("mse", [](double s) { return std::make_shared<Scaled>(s); });
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (registry.create("mse", 1.0)->scale() == 1.0) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(ok.load(), 800);
}

}  // namespace
}  // namespace finfuse
