// Mixed precision on LibTorch's own machinery, whatever its version: autocast (the dispatcher casts the operations
// that benefit to a lower precision) and the gradient-scaling kernels that Python's GradScaler runs
// (_amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_). LibTorch 2.4 replaced the per-device autocast
// functions (set_enabled, set_cpu_enabled, set_autocast_gpu_dtype ...) with ones taking the device type; the
// differences are kept here, behind TORCH_VERSION checks.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>
#include <vector>

namespace finfuse::training {

/// The lower precision that mixed precision uses on `device` for `requested` ("auto", "float16" or "bfloat16"):
/// "auto" is float16 on CUDA and bfloat16 on the CPU. Throws ConfigError (path `/amp_dtype`) for a combination this
/// LibTorch cannot autocast (float16 on the CPU before LibTorch 2.3).
c10::ScalarType amp_dtype_for(const std::string& requested, const c10::Device& device);

/// Autocast for one device type while in scope: operations run in `dtype` where autocast's policy says so. Scopes
/// nest; leaving the outermost clears autocast's cast cache, as torch.autocast does.
class AutocastScope {
 public:
  AutocastScope(c10::DeviceType device, c10::ScalarType dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType device_;
  bool was_enabled_;
  c10::ScalarType previous_dtype_;
};

/// Dynamic loss scaling for float16, as torch.cuda.amp.GradScaler: the loss is multiplied by `scale()` before the
/// backward pass; unscale() divides the gradients back and says whether they are all finite; update() halves the scale
/// after an overflow and doubles it after `growth_interval` finite steps in a row. The state (scale, growth tracker)
/// is two numbers that checkpoints keep.
class GradScaler {
 public:
  explicit GradScaler(double scale = 65536.0, std::int64_t growth_tracker = 0, double growth_factor = 2.0,
                      double backoff_factor = 0.5, std::int64_t growth_interval = 2000);

  double scale() const { return scale_; }
  std::int64_t growth_tracker() const { return growth_tracker_; }
  /// Divides every defined gradient in `gradients` by the scale in place; false when any is inf or NaN.
  bool unscale(const std::vector<at::Tensor>& gradients);
  /// Adjusts the scale after a step whose gradients were finite (`found_inf` false) or not.
  void update(bool found_inf);

 private:
  double scale_;
  std::int64_t growth_tracker_;
  double growth_factor_;
  double backoff_factor_;
  std::int64_t growth_interval_;
};

}  // namespace finfuse::training
