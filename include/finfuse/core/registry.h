// Registry: name -> factory for a pluggable family (encoders, fusion, heads, losses, optimizers, schedulers,
// metrics, callbacks). A family's built-ins are registered by one function, run once under std::call_once the
// first time the registry is used, so registration is safe with static linking and never depends on static
// initialisation order. Users add their own components with add().
#pragma once

#include "finfuse/core/error.h"
#include "finfuse/core/options.h"
#include "finfuse/core/suggest.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace finfuse {

template <typename Signature>
class Registry;

/// Registry<Product(Args...)>: factories taking Args... and returning Product (typically a module holder or a
/// std::shared_ptr to an abstract base).
template <typename Product, typename... Args>
class Registry<Product(Args...)> {
 public:
  using Factory = std::function<Product(Args...)>;
  using Builtins = std::function<void(Registry&)>;

  /// `family` names the registry in error messages ("encoder", "loss"); `builtins` registers the built-in
  /// components and runs once, before the registry is first used.
  explicit Registry(std::string family, Builtins builtins = {})
      : family_(std::move(family)), builtins_(std::move(builtins)) {}

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  const std::string& family() const noexcept { return family_; }

  /// Registers `factory` under `name`. Throws RegistryError for an empty or already registered name.
  void add(const std::string& name, Factory factory) {
    ensure_builtins();
    if (name.empty()) {
      throw RegistryError("cannot register a " + family_ + " with an empty name");
    }
    if (!factory) {
      throw RegistryError("cannot register " + family_ + " '" + name + "' without a factory");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!factories_.emplace(name, std::move(factory)).second) {
      throw RegistryError(family_ + " '" + name + "' is already registered");
    }
  }

  /// Registers `factory` under `name` with the fields its options declare (Options::fields() of a FINFUSE_OPTIONS
  /// struct), so that tools can describe the component (`finfuse options`).
  void add(const std::string& name, Factory factory, std::vector<FieldInfo> fields) {
    add(name, std::move(factory));
    std::lock_guard<std::mutex> lock(mutex_);
    fields_[name] = std::move(fields);
  }

  /// The fields `name` was registered with; nullopt when it was registered without them.
  std::optional<std::vector<FieldInfo>> fields(const std::string& name) const {
    ensure_builtins();
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = fields_.find(name);
    if (it == fields_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  bool contains(const std::string& name) const {
    ensure_builtins();
    std::lock_guard<std::mutex> lock(mutex_);
    return factories_.count(name) != 0;
  }

  /// Registered names, sorted.
  std::vector<std::string> names() const {
    ensure_builtins();
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    out.reserve(factories_.size());
    for (const auto& entry : factories_) {
      out.push_back(entry.first);
    }
    return out;
  }

  /// Creates the component registered as `name`. An unknown name throws RegistryError listing the known ones.
  Product create(const std::string& name, Args... args) const {
    Factory factory = find(name);
    return factory(std::forward<Args>(args)...);
  }

 private:
  Factory find(const std::string& name) const {
    ensure_builtins();
    std::vector<std::string> known;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = factories_.find(name);
      if (it != factories_.end()) {
        return it->second;
      }
    }
    known = names();
    throw RegistryError("unknown " + family_ + " '" + name + "'" + did_you_mean(name, known) +
                        "; registered: " + quoted_list(known));
  }

  void ensure_builtins() const {
    if (!builtins_) {
      return;
    }
    // The built-in registration function itself calls add(): let it through without re-entering call_once.
    if (registering_thread_ == std::this_thread::get_id()) {
      return;
    }
    std::call_once(builtins_once_, [this] {
      registering_thread_ = std::this_thread::get_id();
      try {
        builtins_(const_cast<Registry&>(*this));
      } catch (...) {
        registering_thread_ = std::thread::id();
        throw;
      }
      registering_thread_ = std::thread::id();
    });
  }

  std::string family_;
  Builtins builtins_;
  mutable std::once_flag builtins_once_;
  mutable std::atomic<std::thread::id> registering_thread_{};
  mutable std::mutex mutex_;
  std::map<std::string, Factory> factories_;
  std::map<std::string, std::vector<FieldInfo>> fields_;
};

}  // namespace finfuse
