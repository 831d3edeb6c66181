#include "finfuse/training/distributed.h"

#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/training/slurm.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <map>

namespace finfuse::training {

namespace {

// An integer environment variable, or `fallback` when unset; DistributedError when it is not an integer >= `least`.
std::int64_t env_integer(const char* name, std::optional<std::int64_t> fallback, std::int64_t least) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') {
    if (!fallback) {
      throw DistributedError(fmt::format("distributed: {} is not set (WORLD_SIZE is: a distributed job needs RANK, "
                                         "WORLD_SIZE, MASTER_ADDR and MASTER_PORT, as `finfuse launch` and torchrun "
                                         "set them)",
                                         name));
    }
    return *fallback;
  }
  const std::string value(text);
  std::int64_t out = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (error != std::errc() || end != value.data() + value.size() || out < least) {
    throw DistributedError(fmt::format("distributed: {}='{}' is not an integer >= {}", name, value, least));
  }
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

std::optional<DistributedEnv> DistributedEnv::from_environment() {
  if (std::getenv("WORLD_SIZE") == nullptr) {
    const auto step = SlurmStep::from_environment();
    if (!step || step->world_size == 1) {
      return std::nullopt;
    }
    DistributedEnv env;
    env.rank = step->rank;
    env.world_size = step->world_size;
    env.local_rank = step->local_rank;
    env.local_world_size = step->local_world_size;
    env.master_addr = step->master_addr;
    env.master_port = step->master_port;
    if (!step->nodes.empty()) {
      env.node_addr = step->nodes[static_cast<std::size_t>(step->node)];
    }
    env.source = "SLURM";
    return env;
  }
  DistributedEnv env;
  env.world_size = env_integer("WORLD_SIZE", std::nullopt, 1);
  env.rank = env_integer("RANK", env.world_size == 1 ? std::optional<std::int64_t>(0) : std::nullopt, 0);
  if (env.rank >= env.world_size) {
    throw DistributedError(fmt::format("distributed: RANK={} is not below WORLD_SIZE={}", env.rank, env.world_size));
  }
  env.local_rank = env_integer("LOCAL_RANK", env.rank, 0);
  env.local_world_size = env_integer("LOCAL_WORLD_SIZE", env.world_size, 1);
  if (env.local_rank >= env.local_world_size) {
    throw DistributedError(fmt::format("distributed: LOCAL_RANK={} is not below LOCAL_WORLD_SIZE={}", env.local_rank,
                                       env.local_world_size));
  }
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
    env.master_addr = addr;
  } else if (env.world_size > 1) {
    throw DistributedError("distributed: MASTER_ADDR is not set (the host of rank 0, which runs the rendezvous)");
  }
  env.master_port = env_integer("MASTER_PORT", env.world_size > 1 ? std::nullopt : std::optional<std::int64_t>(29500), 1);
  if (env.master_port > 65535) {
    throw DistributedError(fmt::format("distributed: MASTER_PORT={} is not a TCP port", env.master_port));
  }
  return env;
}

DistributedContext::DistributedContext(DistributedEnv env, DistributedOptions options, std::string backend,
                                       c10::Device device)
    : env_(std::move(env)), options_(std::move(options)), backend_(std::move(backend)), device_(device) {}

DistributedContext::~DistributedContext() = default;

template <typename F>
void DistributedContext::guarded(const std::string& what, F&& collective) {
  ++collectives_;
  try {
    collective();
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    std::string reason = e.what();
    if (const auto cut = reason.find("\nException raised from"); cut != std::string::npos) {
      reason.resize(cut);  // c10's stack trace
    }
    throw DistributedError(fmt::format(
        "distributed: rank {} of {}: {} failed ({} backend, collective #{}): {}. Another rank has died, stopped "
        "answering for {} s, or the network failed; the job cannot continue, and the last checkpoint is left as it "
        "was",
        env_.rank, env_.world_size, what, backend_, collectives_, reason,
        static_cast<double>(options_.timeout().count()) / 1000.0));
  }
}

std::shared_ptr<DistributedContext> DistributedContext::connect(const DistributedEnv& env,
                                                                const DistributedOptions& options,
                                                                const c10::Device& device) {
  std::string backend = options.backend;
  if (backend == "auto") {
#ifdef USE_C10D_NCCL
    backend = device.is_cuda() ? "nccl" : "gloo";
#else
    backend = "gloo";
#endif
  }
#ifndef USE_C10D_NCCL
  if (backend == "nccl") {
    throw DistributedError("distributed: backend 'nccl' was asked for, but this LibTorch was built without NCCL; use "
                           "\"backend\": \"gloo\" (it also reduces CUDA tensors, more slowly)");
  }
#endif
  if (backend == "nccl" && !device.is_cuda()) {
    throw DistributedError("distributed: backend 'nccl' needs a CUDA device; this run uses " + device.str());
  }
  std::shared_ptr<DistributedContext> context(new DistributedContext(env, options, backend, device));
  logger()->info("distributed: rank {} of {} (local {} of {}{}, from {}'s variables), {} backend, rendezvous at {}:{}",
                 env.rank, env.world_size, env.local_rank, env.local_world_size,
                 env.node_addr.empty() ? std::string() : fmt::format(" on {}", env.node_addr), env.source, backend,
                 env.master_addr, env.master_port);
  context->guarded(fmt::format("the rendezvous at {}:{}", env.master_addr, env.master_port), [&] {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(env.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = options.timeout();
    auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    context->store_ = c10::make_intrusive<c10d::PrefixStore>("finfuse", store);
    if (backend == "gloo") {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout());
      if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface != nullptr && *interface != '\0') {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      } else if (!env.node_addr.empty()) {
        // This task's node as the job knows it (a SLURM node list's host).
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.node_addr));
      } else if (is_loopback(env.master_addr)) {
        // Every rank on this machine: loopback, whatever the host name resolves to.
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      context->group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(context->store_, static_cast<int>(env.rank),
                                                                     static_cast<int>(env.world_size), gloo_options);
    } else {
#ifdef USE_C10D_NCCL
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = options.timeout();
      context->group_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(context->store_, static_cast<int>(env.rank),
                                                                     static_cast<int>(env.world_size), nccl_options);
#endif
    }
  });
  context->barrier("the first barrier");
  logger()->info("distributed: all {} ranks connected", env.world_size);
  return context;
}

void DistributedContext::barrier(const std::string& what) {
  guarded("barrier (" + what + ")", [&] {
    c10d::BarrierOptions barrier_options;
    barrier_options.timeout = options_.timeout();
    group_->barrier(barrier_options)->wait(options_.timeout());
  });
}

void DistributedContext::synchronize(const std::vector<torch::Tensor>& parameters) {
  if (env_.world_size == 1) {
    return;
  }
  // Buckets of consecutive parameters of one dtype, about bucket_mb each; the same on every rank, because every
  // rank has the same model. Parameters without a gradient here contribute zeros; a count of the ranks that had one
  // travels along, so that a parameter no rank trained keeps no gradient.
  const auto cap = static_cast<std::int64_t>(options_.bucket_mb * 1024 * 1024);
  struct Bucket {
    std::vector<std::size_t> members;
    std::int64_t elements = 0;
    torch::Tensor flat;
  };
  std::vector<Bucket> buckets;
  std::map<c10::ScalarType, std::size_t> open;  // dtype -> its bucket being filled
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const auto& p = parameters[i];
    const auto bytes = p.numel() * static_cast<std::int64_t>(p.element_size());
    auto it = open.find(p.scalar_type());
    if (it == open.end() || (buckets[it->second].elements > 0 &&
                             (buckets[it->second].elements * static_cast<std::int64_t>(p.element_size()) + bytes) > cap)) {
      buckets.emplace_back();
      it = open.insert_or_assign(p.scalar_type(), buckets.size() - 1).first;
    }
    buckets[it->second].members.push_back(i);
    buckets[it->second].elements += p.numel();
  }
  auto present = torch::zeros({static_cast<std::int64_t>(parameters.size())},
                              torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  {
    auto flags = torch::zeros({static_cast<std::int64_t>(parameters.size())}, torch::kFloat32);
    auto* f = flags.data_ptr<float>();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      f[i] = parameters[i].grad().defined() ? 1.0F : 0.0F;
    }
    present.copy_(flags);
  }
  guarded("the gradient all-reduce", [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& bucket : buckets) {
      const auto& first = parameters[bucket.members.front()];
      bucket.flat = torch::zeros({bucket.elements}, first.options().requires_grad(false));
      std::int64_t offset = 0;
      for (const auto i : bucket.members) {
        const auto& p = parameters[i];
        if (p.grad().defined()) {
          bucket.flat.narrow(0, offset, p.numel()).copy_(p.grad().reshape({-1}));
        }
        offset += p.numel();
      }
      std::vector<torch::Tensor> tensors{bucket.flat};
      works.push_back(group_->allreduce(tensors));
    }
    std::vector<torch::Tensor> flags{present};
    works.push_back(group_->allreduce(flags));
    for (auto& work : works) {
      work->wait(options_.timeout());
    }
  });
  const auto counts = present.cpu();
  const auto* count = counts.data_ptr<float>();
  const double scale = 1.0 / static_cast<double>(env_.world_size);
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets) {
    bucket.flat.mul_(scale);
    std::int64_t offset = 0;
    for (const auto i : bucket.members) {
      auto p = parameters[i];
      if (count[i] > 0.0F) {
        if (!p.grad().defined()) {
          p.mutable_grad() = torch::zeros_like(p);
        }
        p.mutable_grad().copy_(bucket.flat.narrow(0, offset, p.numel()).view_as(p));
      }
      offset += p.numel();
    }
  }
}

double DistributedContext::sum(double value) {
  if (env_.world_size == 1) {
    return value;
  }
  auto tensor = torch::full({1}, value, torch::TensorOptions().dtype(torch::kFloat64).device(device_));
  guarded("a sum over ranks", [&] {
    std::vector<torch::Tensor> tensors{tensor};
    group_->allreduce(tensors)->wait(options_.timeout());
  });
  return tensor.cpu().item<double>();
}

bool DistributedContext::any(bool value) { return sum(value ? 1.0 : 0.0) > 0.0; }

void DistributedContext::broadcast(const std::vector<torch::Tensor>& tensors) {
  if (env_.world_size == 1 || tensors.empty()) {
    return;
  }
  guarded("the broadcast of rank 0's values", [&] {
    torch::NoGradGuard no_grad;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    std::vector<std::vector<torch::Tensor>> held;
    held.reserve(tensors.size());
    for (const auto& t : tensors) {
      held.push_back({t.detach()});
      works.push_back(group_->broadcast(held.back()));
    }
    for (auto& work : works) {
      work->wait(options_.timeout());
    }
  });
}

}  // namespace finfuse::training
