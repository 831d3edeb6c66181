#include "launch.h"

#include "finfuse/core/error.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/runtime.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

extern char** environ;

namespace finfuse::cli {

namespace {

volatile sig_atomic_t g_forward_signal = 0;

void remember_signal(int signal) { g_forward_signal = signal; }

// A TCP port nobody listens on right now (the kernel's choice for port 0).
std::int64_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw Error(fmt::format("launch: cannot open a socket to find a free port: {}", std::strerror(errno)));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw Error("launch: cannot find a free port: " + reason);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exited with code {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  }
  return "ended";
}

int exit_code(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return 1;
}

}  // namespace

int launch(const LaunchOptions& options, const std::vector<std::string>& command) {
  if (command.empty()) {
    throw Error("launch: no command to run (finfuse launch --nproc N -- PROGRAM ARGS...)");
  }
  if (options.nproc < 1 || options.nnodes < 1 || options.node_rank < 0 || options.node_rank >= options.nnodes) {
    throw Error(fmt::format("launch: --nproc {} --nnodes {} --node-rank {}: expected nproc >= 1 and 0 <= node-rank < "
                            "nnodes",
                            options.nproc, options.nnodes, options.node_rank));
  }
  std::int64_t port = options.master_port;
  if (port == 0) {
    if (options.nnodes > 1) {
      throw Error("launch: a job over several machines needs --master-port (the same on every machine)");
    }
    port = free_port();
  }
  const std::int64_t world = options.nproc * options.nnodes;
  // Threads: the cores this machine gives us, divided among the local ranks, unless the user chose.
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const std::int64_t threads = std::max<std::int64_t>(1, available_cores() / options.nproc);

  std::vector<std::string> inherited;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    static const char* kOwn[] = {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=",
                                 "MASTER_PORT=", "GROUP_RANK="};
    if (std::none_of(std::begin(kOwn), std::end(kOwn), [&](const char* k) { return entry.rfind(k, 0) == 0; })) {
      inherited.push_back(entry);
    }
  }
  if (omp == nullptr) {
    inherited.push_back(fmt::format("OMP_NUM_THREADS={}", threads));
  }
  logger()->info("launch: {} process(es) on this machine, ranks {}-{} of {}, rendezvous at {}:{}, {} thread(s) each",
                 options.nproc, options.node_rank * options.nproc, (options.node_rank + 1) * options.nproc - 1, world,
                 options.master_addr, port, omp != nullptr ? std::string(omp) : std::to_string(threads));

  struct sigaction forward{};
  forward.sa_handler = remember_signal;
  sigemptyset(&forward.sa_mask);
  struct sigaction old_int{};
  struct sigaction old_term{};
  ::sigaction(SIGINT, &forward, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);

  std::map<pid_t, std::int64_t> running;  // pid -> rank
  const auto stop_all = [&](int signal) {
    for (const auto& [pid, rank] : running) {
      ::kill(pid, signal);
    }
  };
  std::vector<char*> argv;
  for (const auto& a : command) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  for (std::int64_t local = 0; local < options.nproc; ++local) {
    const std::int64_t rank = options.node_rank * options.nproc + local;
    std::vector<std::string> env = inherited;
    env.push_back(fmt::format("RANK={}", rank));
    env.push_back(fmt::format("WORLD_SIZE={}", world));
    env.push_back(fmt::format("LOCAL_RANK={}", local));
    env.push_back(fmt::format("LOCAL_WORLD_SIZE={}", options.nproc));
    env.push_back(fmt::format("GROUP_RANK={}", options.node_rank));
    env.push_back(fmt::format("MASTER_ADDR={}", options.master_addr));
    env.push_back(fmt::format("MASTER_PORT={}", port));
    std::vector<char*> envp;
    for (auto& e : env) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int error = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
    if (error != 0) {
      stop_all(SIGTERM);
      for (const auto& [p, r] : running) {
        ::waitpid(p, nullptr, 0);
      }
      throw Error(fmt::format("launch: cannot start '{}' for rank {}: {}", command.front(), rank, std::strerror(error)));
    }
    running[pid] = rank;
  }

  int result = 0;
  std::int64_t failed_rank = -1;
  std::chrono::steady_clock::time_point failed_at;
  bool terminated = false;
  int forwarded = 0;
  while (!running.empty()) {
    if (g_forward_signal != 0 && forwarded != g_forward_signal) {
      forwarded = g_forward_signal;
      logger()->warn("launch: received signal {}; passing it on to every rank", forwarded);
      stop_all(forwarded);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      const auto it = running.find(pid);
      if (it == running.end()) {
        continue;
      }
      const std::int64_t rank = it->second;
      running.erase(it);
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && failed_rank < 0) {
        failed_rank = rank;
        failed_at = std::chrono::steady_clock::now();
        result = exit_code(status);
        logger()->error("launch: rank {} {}; the other ranks are stopping", rank, describe_status(status));
      } else if (!ok) {
        logger()->info("launch: rank {} {}", rank, describe_status(status));
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) {
      break;
    }
    if (failed_rank >= 0 && !running.empty()) {
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - failed_at).count();
      if (!terminated && waited > options.grace_seconds) {
        logger()->warn("launch: {} rank(s) still running {:.0f} s after rank {} failed; terminating them",
                       running.size(), waited, failed_rank);
        stop_all(SIGTERM);
        terminated = true;
      } else if (terminated && waited > options.grace_seconds + 10.0) {
        stop_all(SIGKILL);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (result == 0 && forwarded != 0) {
    result = 128 + forwarded;
  }
  if (result == 0) {
    logger()->info("launch: all {} rank(s) finished", options.nproc);
  }
  return result;
}

}  // namespace finfuse::cli
