// SLURM job steps as distributed jobs: `srun finfuse train ...` starts one task per rank, and each task finds its
// place in the job from the variables srun sets, as torchrun's are read otherwise (training/distributed.h):
//
//   SLURM_PROCID               the rank                      SLURM_STEP_NUM_TASKS    the world size
//   SLURM_LOCALID              the rank on this node         SLURM_STEP_TASKS_PER_NODE  tasks per node ("2(x3),1")
//   SLURM_NODEID               this node's index             SLURM_STEP_NODELIST     the nodes ("node[01-04]")
//   SLURM_JOB_ID               the job, for the port
//
// The rendezvous is the first host of the node list on port 15000 + (job id mod 20000), the same in every task;
// MASTER_ADDR and MASTER_PORT override them. Only an srun step counts (SLURM_STEP_NUM_TASKS set): a batch script's own
// shell, which also carries SLURM_PROCID and SLURM_NTASKS, is a single process.
//
//   auto step = SlurmStep::from_environment();   // nothing outside an srun step
//   expand_hostlist("gpu[01-02,7],login");       // {"gpu01", "gpu02", "gpu7", "login"}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace finfuse::training {

/// A SLURM host list in its compact form ("node[01-03,7],gpu-a[1-2]-b[1-2]") as host names in order: bracketed
/// ranges keep the width of their first bound's zero padding, and several bracket groups in one name multiply out.
/// Throws DistributedError naming the list and the position for an unbalanced bracket, an empty name or a range that
/// runs backwards.
std::vector<std::string> expand_hostlist(const std::string& list);

/// SLURM's tasks per node ("2(x3),1") as one count per node ({2, 2, 2, 1}). Throws DistributedError for malformed
/// text.
std::vector<std::int64_t> expand_tasks_per_node(const std::string& text);

/// One task of an srun job step.
struct SlurmStep {
  std::int64_t rank = 0;
  std::int64_t world_size = 1;
  std::int64_t local_rank = 0;
  std::int64_t local_world_size = 1;
  std::int64_t node = 0;
  /// The step's hosts, expanded; nodes[node] is this task's host.
  std::vector<std::string> nodes;
  std::string job_id;
  /// The rendezvous: MASTER_ADDR, or the first host of the node list; MASTER_PORT, or 15000 + (job id mod 20000).
  std::string master_addr;
  std::int64_t master_port = 0;

  /// The step described by `variables` (name -> value, as in the environment), or nothing when they describe no
  /// srun step (SLURM_STEP_NUM_TASKS unset). Throws DistributedError naming the variable for a value that is missing,
  /// not a number or inconsistent with the others.
  static std::optional<SlurmStep> from(const std::map<std::string, std::string>& variables);
  /// The same from this process's environment.
  static std::optional<SlurmStep> from_environment();
};

}  // namespace finfuse::training
