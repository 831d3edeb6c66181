#include "finfuse/training/slurm.h"

#include "finfuse/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <initializer_list>

extern char** environ;

namespace finfuse::training {

namespace {

// A decimal integer of the whole text, or nothing.
std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t out = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return out;
}

// Splits at every comma.
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(',', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) {
      return parts;
    }
    start = end + 1;
  }
}

// Splits at commas outside brackets.
std::vector<std::string> split_top_level(const std::string& text, const std::string& list) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '[') {
      ++depth;
    } else if (c == ']') {
      if (--depth < 0) {
        throw DistributedError(fmt::format("SLURM host list '{}': ']' without '[' at position {}", list, i));
      }
    }
    if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (depth != 0) {
    throw DistributedError(fmt::format("SLURM host list '{}': '[' without ']'", list));
  }
  parts.push_back(current);
  return parts;
}

// The numbers of one bracket group ("01-03,7") as strings, zero-padded like their first bound.
std::vector<std::string> expand_ranges(const std::string& group, const std::string& list) {
  std::vector<std::string> out;
  for (const auto& item : split_commas(group)) {
    const auto dash = item.find('-');
    const std::string low_text = item.substr(0, dash);
    const std::string high_text = dash == std::string::npos ? low_text : item.substr(dash + 1);
    const auto low = parse_integer(low_text);
    const auto high = parse_integer(high_text);
    if (!low || !high || *low < 0 || *high < *low) {
      throw DistributedError(
          fmt::format("SLURM host list '{}': '{}' is not a number or an increasing range like 01-04", list, item));
    }
    if (*high - *low >= 100000) {
      throw DistributedError(fmt::format("SLURM host list '{}': the range '{}' names too many hosts", list, item));
    }
    const std::size_t width = low_text.size();
    for (std::int64_t k = *low; k <= *high; ++k) {
      out.push_back(fmt::format("{:0{}d}", k, width));
    }
  }
  return out;
}

// One name with any number of bracket groups, multiplied out in order.
void expand_name(const std::string& name, const std::string& prefix, const std::string& list,
                 std::vector<std::string>& out) {
  const auto open = name.find('[');
  if (open == std::string::npos) {
    if (out.size() >= 1000000) {
      throw DistributedError(fmt::format("SLURM host list '{}' names more than a million hosts", list));
    }
    out.push_back(prefix + name);
    return;
  }
  const auto close = name.find(']', open);
  if (close == std::string::npos) {
    throw DistributedError(fmt::format("SLURM host list '{}': '[' without ']'", list));
  }
  const std::string head = prefix + name.substr(0, open);
  const std::string rest = name.substr(close + 1);
  for (const auto& number : expand_ranges(name.substr(open + 1, close - open - 1), list)) {
    expand_name(rest, head + number, list, out);
  }
}

// A required integer variable >= `least`.
std::int64_t integer_of(const std::map<std::string, std::string>& variables, std::initializer_list<const char*> names,
                        std::int64_t least) {
  for (const char* name : names) {
    const auto it = variables.find(name);
    if (it == variables.end() || it->second.empty()) {
      continue;
    }
    const auto value = parse_integer(it->second);
    if (!value || *value < least) {
      throw DistributedError(fmt::format("SLURM: {}='{}' is not an integer >= {}", name, it->second, least));
    }
    return *value;
  }
  throw DistributedError(fmt::format("SLURM: {} is not set (an srun job step sets it)", *names.begin()));
}

std::optional<std::string> text_of(const std::map<std::string, std::string>& variables,
                                   std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto it = variables.find(name);
    if (it != variables.end() && !it->second.empty()) {
      return it->second;
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> expand_hostlist(const std::string& list) {
  std::vector<std::string> hosts;
  for (const auto& name : split_top_level(list, list)) {
    if (name.empty() || name.front() == '[') {
      throw DistributedError(fmt::format("SLURM host list '{}': an empty host name", list));
    }
    expand_name(name, "", list, hosts);
  }
  return hosts;
}

std::vector<std::int64_t> expand_tasks_per_node(const std::string& text) {
  std::vector<std::int64_t> out;
  for (const auto& item : split_commas(text)) {
    std::optional<std::int64_t> tasks;
    std::optional<std::int64_t> repeat = 1;
    if (const auto paren = item.find("(x"); paren != std::string::npos && item.back() == ')') {
      tasks = parse_integer(item.substr(0, paren));
      repeat = parse_integer(item.substr(paren + 2, item.size() - paren - 3));
    } else {
      tasks = parse_integer(item);
    }
    if (!tasks || !repeat || *tasks < 1 || *repeat < 1 || *repeat > 1000000) {
      throw DistributedError(
          fmt::format("SLURM tasks per node '{}': '{}' is not a count like 2 or 2(x3)", text, item));
    }
    out.insert(out.end(), static_cast<std::size_t>(*repeat), *tasks);
  }
  return out;
}

std::optional<SlurmStep> SlurmStep::from(const std::map<std::string, std::string>& variables) {
  if (!text_of(variables, {"SLURM_STEP_NUM_TASKS"})) {
    return std::nullopt;
  }
  SlurmStep step;
  step.world_size = integer_of(variables, {"SLURM_STEP_NUM_TASKS"}, 1);
  step.rank = integer_of(variables, {"SLURM_PROCID"}, 0);
  if (step.rank >= step.world_size) {
    throw DistributedError(fmt::format("SLURM: SLURM_PROCID={} is not below SLURM_STEP_NUM_TASKS={}", step.rank,
                                       step.world_size));
  }
  step.local_rank = integer_of(variables, {"SLURM_LOCALID"}, 0);
  step.node = integer_of(variables, {"SLURM_NODEID"}, 0);
  step.job_id = text_of(variables, {"SLURM_JOB_ID", "SLURM_JOBID"}).value_or("");

  const auto nodelist = text_of(variables, {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST"});
  if (nodelist) {
    step.nodes = expand_hostlist(*nodelist);
    if (step.node >= static_cast<std::int64_t>(step.nodes.size())) {
      throw DistributedError(fmt::format("SLURM: SLURM_NODEID={} is not below the {} node(s) of '{}'", step.node,
                                         step.nodes.size(), *nodelist));
    }
  }
  if (const auto per_node = text_of(variables, {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"})) {
    const auto counts = expand_tasks_per_node(*per_node);
    if (step.node >= static_cast<std::int64_t>(counts.size())) {
      throw DistributedError(fmt::format("SLURM: SLURM_NODEID={} is not below the {} node(s) of tasks per node '{}'",
                                         step.node, counts.size(), *per_node));
    }
    std::int64_t total = 0;
    for (const auto c : counts) {
      total += c;
    }
    if (total != step.world_size) {
      throw DistributedError(fmt::format("SLURM: tasks per node '{}' add up to {}, not SLURM_STEP_NUM_TASKS={}",
                                         *per_node, total, step.world_size));
    }
    step.local_world_size = counts[static_cast<std::size_t>(step.node)];
  } else {
    // Without the layout: the tasks spread evenly over the nodes, as srun's default block distribution does.
    const auto nodes = std::max<std::int64_t>(static_cast<std::int64_t>(step.nodes.size()), 1);
    step.local_world_size = (step.world_size + nodes - 1) / nodes;
  }
  if (step.local_rank >= step.local_world_size) {
    throw DistributedError(fmt::format("SLURM: SLURM_LOCALID={} is not below the node's {} task(s)", step.local_rank,
                                       step.local_world_size));
  }

  if (const auto addr = text_of(variables, {"MASTER_ADDR"})) {
    step.master_addr = *addr;
  } else if (!step.nodes.empty()) {
    step.master_addr = step.nodes.front();
  } else if (step.world_size > 1) {
    throw DistributedError("SLURM: neither SLURM_STEP_NODELIST nor SLURM_JOB_NODELIST names the nodes, and "
                           "MASTER_ADDR is not set: no host for the rendezvous");
  } else {
    step.master_addr = "127.0.0.1";
  }
  if (text_of(variables, {"MASTER_PORT"})) {
    step.master_port = integer_of(variables, {"MASTER_PORT"}, 1);
  } else {
    const auto job = parse_integer(step.job_id);
    if (!job && step.world_size > 1) {
      throw DistributedError(fmt::format("SLURM: SLURM_JOB_ID='{}' is not a number and MASTER_PORT is not set: no "
                                         "port for the rendezvous",
                                         step.job_id));
    }
    step.master_port = 15000 + (job ? *job % 20000 : 0);
  }
  if (step.master_port > 65535) {
    throw DistributedError(fmt::format("SLURM: MASTER_PORT={} is not a TCP port", step.master_port));
  }
  return step;
}

std::optional<SlurmStep> SlurmStep::from_environment() {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    const std::string name = text.substr(0, eq);
    if (name.rfind("SLURM", 0) == 0 || name == "MASTER_ADDR" || name == "MASTER_PORT") {
      variables.emplace(name, text.substr(eq + 1));
    }
  }
  return from(variables);
}

}  // namespace finfuse::training
