// A program that uses finfuse as an installed or vendored library: builds a small model through the public API
// from a JSON configuration and runs a forward pass.
#include <finfuse/finfuse.h>

#include <torch/types.h>

#include <cstdio>
#include <exception>

int main() {
  try {
    const finfuse::Config config = finfuse::Config::parse(R"({
      // runtime and model, as a user's run configuration would hold them
      "runtime": {"device": "cpu", "seed": 7, "num_threads": 1, "log_level": "warn"},
      "model": {"in_features": 4, "layers": [16, 2], "activation": "gelu", "norm": "layer", "activate_output": false}
    })", "consumer");
    const finfuse::Runtime runtime = finfuse::apply_runtime(finfuse::RuntimeOptions::from_config(config.child("runtime")));
    finfuse::nn::Mlp model(finfuse::nn::MlpOptions::from_config(config.child("model")));
    config.reject_unknown_keys();
    model->to(runtime.device);
    model->eval();

    torch::NoGradGuard no_grad;
    const torch::Tensor y = model->forward(torch::randn({3, 4}, torch::TensorOptions().device(runtime.device)));
    if (y.size(0) != 3 || y.size(1) != 2 || !torch::isfinite(y).all().item<bool>()) {
      std::fprintf(stderr, "unexpected output %s\n", finfuse::shape_string(y.sizes()).c_str());
      return 1;
    }
    std::printf("finfuse %s: forward pass gave %s, %lld parameters\n", finfuse::version(),
                finfuse::shape_string(y.sizes()).c_str(), static_cast<long long>(model->parameter_count()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer failed: %s\n", e.what());
    return 1;
  }
}
