#include "mixed_precision.h"

#include "finfuse/core/check.h"
#include "finfuse/core/error.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <map>

#define FINFUSE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace finfuse::training {

namespace {

#if FINFUSE_TORCH_AT_LEAST(2, 4)
bool autocast_enabled(c10::DeviceType device) { return at::autocast::is_autocast_enabled(device); }
void set_autocast_enabled(c10::DeviceType device, bool enabled) { at::autocast::set_autocast_enabled(device, enabled); }
c10::ScalarType autocast_dtype(c10::DeviceType device) { return at::autocast::get_autocast_dtype(device); }
void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype) { at::autocast::set_autocast_dtype(device, dtype); }
#else
bool autocast_enabled(c10::DeviceType device) {
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_enabled(c10::DeviceType device, bool enabled) {
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
}
c10::ScalarType autocast_dtype(c10::DeviceType device) {
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                         : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype) {
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
}
#endif

void check_autocast_device(c10::DeviceType device) {
  if (device != c10::DeviceType::CUDA && device != c10::DeviceType::CPU) {
    throw Error(fmt::format("mixed precision: autocast on {} devices is not supported (CPU and CUDA are)",
                            c10::DeviceTypeName(device, /*lower_case=*/true)));
  }
}

}  // namespace

c10::ScalarType amp_dtype_for(const std::string& requested, const c10::Device& device) {
  check_autocast_device(device.type());
  if (requested == "auto") {
    return device.is_cuda() ? c10::ScalarType::Half : c10::ScalarType::BFloat16;
  }
  if (requested == "bfloat16") {
    return c10::ScalarType::BFloat16;
  }
  if (requested == "float16") {
#if !FINFUSE_TORCH_AT_LEAST(2, 3)
    if (device.is_cpu()) {
      throw ConfigError("/amp_dtype", fmt::format("float16 autocast on the CPU needs LibTorch 2.3 or newer (this is "
                                                  "{}); use \"bfloat16\" or \"auto\"",
                                                  TORCH_VERSION));
    }
#endif
    return c10::ScalarType::Half;
  }
  throw ConfigError("/amp_dtype", fmt::format("must be \"auto\", \"float16\" or \"bfloat16\", got \"{}\"", requested));
}

AutocastScope::AutocastScope(c10::DeviceType device, c10::ScalarType dtype)
    : device_(device), was_enabled_(false), previous_dtype_(dtype) {
  check_autocast_device(device);
  was_enabled_ = autocast_enabled(device);
  previous_dtype_ = autocast_dtype(device);
  set_autocast_enabled(device, true);
  set_autocast_dtype(device, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (at::autocast::decrement_nesting() == 0) {
    at::autocast::clear_cache();
  }
  set_autocast_dtype(device_, previous_dtype_);
  set_autocast_enabled(device_, was_enabled_);
}

GradScaler::GradScaler(double scale, std::int64_t growth_tracker, double growth_factor, double backoff_factor,
                       std::int64_t growth_interval)
    : scale_(scale),
      growth_tracker_(growth_tracker),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {
  FINFUSE_CHECK(scale > 0.0 && growth_factor > 1.0 && backoff_factor > 0.0 && backoff_factor < 1.0 &&
                    growth_interval > 0,
                "GradScaler: invalid settings");
}

bool GradScaler::unscale(const std::vector<at::Tensor>& gradients) {
  // The kernel takes the gradients of one device and dtype at a time, as GradScaler groups them.
  std::map<std::pair<std::string, c10::ScalarType>, std::vector<at::Tensor>> groups;
  for (const auto& g : gradients) {
    if (g.defined()) {
      groups[{g.device().str(), g.scalar_type()}].push_back(g);
    }
  }
  // One overflow flag per group, read back together: a single synchronisation per step.
  std::vector<at::Tensor> flags;
  for (auto& [key, group] : groups) {
    const auto options = at::TensorOptions().device(group.front().device()).dtype(at::kFloat);
    flags.push_back(at::zeros({1}, options));
    at::_amp_foreach_non_finite_check_and_unscale_(group, flags.back(), at::full({1}, 1.0 / scale_, options));
  }
  double found_inf = 0.0;
  for (const auto& flag : flags) {
    found_inf += flag.item<double>();
  }
  return found_inf == 0.0;
}

void GradScaler::update(bool found_inf) {
  // torch.amp.GradScaler.update()'s rule (_amp_update_scale_), on the host where the overflow flag already is.
  if (found_inf) {
    scale_ *= backoff_factor_;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == growth_interval_) {
    scale_ *= growth_factor_;
    growth_tracker_ = 0;
  }
}

}  // namespace finfuse::training
