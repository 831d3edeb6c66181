// SLURM's compact host lists and tasks per node, and an srun job step's variables read as a distributed job.
#include "finfuse/training/slurm.h"

#include "finfuse/core/error.h"

#include <gtest/gtest.h>

namespace finfuse::training {
namespace {

using Hosts = std::vector<std::string>;

std::string hostlist_error(const std::string& list) {
  try {
    expand_hostlist(list);
  } catch (const DistributedError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SlurmHostlist, ExpandsRangesPaddingAndSeveralGroups) {
  EXPECT_EQ(expand_hostlist("node1"), Hosts({"node1"}));
  EXPECT_EQ(expand_hostlist("node[1-3]"), Hosts({"node1", "node2", "node3"}));
  EXPECT_EQ(expand_hostlist("gpu[01-02,7],login"), Hosts({"gpu01", "gpu02", "gpu7", "login"}));
  EXPECT_EQ(expand_hostlist("n[098-101]"), Hosts({"n098", "n099", "n100", "n101"}));
  EXPECT_EQ(expand_hostlist("rack[1-2]-node[1-2]"), Hosts({"rack1-node1", "rack1-node2", "rack2-node1", "rack2-node2"}));
  EXPECT_EQ(expand_hostlist("a[1,3],b,c[5-6]x"), Hosts({"a1", "a3", "b", "c5x", "c6x"}));
  EXPECT_EQ(expand_hostlist("127.0.0.[1-2]"), Hosts({"127.0.0.1", "127.0.0.2"}));
  EXPECT_NE(hostlist_error("node[1-3").find("'[' without ']'"), std::string::npos);
  EXPECT_NE(hostlist_error("node1-3]").find("']' without '['"), std::string::npos);
  EXPECT_NE(hostlist_error("node[3-1]").find("'3-1' is not a number or an increasing range"), std::string::npos);
  EXPECT_NE(hostlist_error("node[a-b]").find("'a-b'"), std::string::npos);
  EXPECT_NE(hostlist_error("a,,b").find("an empty host name"), std::string::npos);
  EXPECT_NE(hostlist_error("node[0-99999999]").find("too many hosts"), std::string::npos);
  EXPECT_NE(hostlist_error("a[0-9999]b[0-9999]").find("more than a million hosts"), std::string::npos);
}

TEST(SlurmTasksPerNode, ExpandsRepeats) {
  EXPECT_EQ(expand_tasks_per_node("4"), std::vector<std::int64_t>({4}));
  EXPECT_EQ(expand_tasks_per_node("2(x3),1"), std::vector<std::int64_t>({2, 2, 2, 1}));
  EXPECT_EQ(expand_tasks_per_node("1,2(x2)"), std::vector<std::int64_t>({1, 2, 2}));
  EXPECT_THROW(expand_tasks_per_node("2(x)"), DistributedError);
  EXPECT_THROW(expand_tasks_per_node("two"), DistributedError);
  EXPECT_THROW(expand_tasks_per_node("0"), DistributedError);
  EXPECT_THROW(expand_tasks_per_node(""), DistributedError);
}

// The variables of task 3 of `srun -N2 --ntasks-per-node=2` in job 4242.
std::map<std::string, std::string> task3() {
  return {{"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_PROCID", "3"},          {"SLURM_LOCALID", "1"},
          {"SLURM_NODEID", "1"},         {"SLURM_STEP_NODELIST", "gpu[07-08]"}, {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
          {"SLURM_JOB_ID", "4242"},      {"SLURM_NTASKS", "4"}};
}

std::string step_error(const std::map<std::string, std::string>& variables) {
  try {
    SlurmStep::from(variables);
  } catch (const DistributedError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SlurmStep, ReadsAnSrunTaskAndNamesBadVariables) {
  const auto step = SlurmStep::from(task3());
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->rank, 3);
  EXPECT_EQ(step->world_size, 4);
  EXPECT_EQ(step->local_rank, 1);
  EXPECT_EQ(step->local_world_size, 2);
  EXPECT_EQ(step->node, 1);
  EXPECT_EQ(step->nodes, Hosts({"gpu07", "gpu08"}));
  EXPECT_EQ(step->master_addr, "gpu07");
  EXPECT_EQ(step->master_port, 15000 + 4242);

  // A batch script's shell has SLURM_PROCID and SLURM_NTASKS but is no step: a single process.
  auto batch = task3();
  batch.erase("SLURM_STEP_NUM_TASKS");
  EXPECT_FALSE(SlurmStep::from(batch).has_value());
  EXPECT_FALSE(SlurmStep::from({}).has_value());

  // MASTER_ADDR and MASTER_PORT override the node list and the job's port; the job's node list stands in for the
  // step's; uneven tasks per node.
  auto over = task3();
  over["MASTER_ADDR"] = "10.1.2.3";
  over["MASTER_PORT"] = "29400";
  EXPECT_EQ(SlurmStep::from(over)->master_addr, "10.1.2.3");
  EXPECT_EQ(SlurmStep::from(over)->master_port, 29400);
  auto job = task3();
  job.erase("SLURM_STEP_NODELIST");
  job["SLURM_JOB_NODELIST"] = "cpu[1-2]";
  job["SLURM_STEP_TASKS_PER_NODE"] = "3,1";
  job["SLURM_LOCALID"] = "0";
  job["SLURM_JOB_ID"] = "123456";
  EXPECT_EQ(SlurmStep::from(job)->master_addr, "cpu1");
  EXPECT_EQ(SlurmStep::from(job)->local_world_size, 1);
  EXPECT_EQ(SlurmStep::from(job)->master_port, 15000 + 123456 % 20000);

  // Without the tasks per node, the tasks spread evenly over the nodes.
  auto even = task3();
  even.erase("SLURM_STEP_TASKS_PER_NODE");
  EXPECT_EQ(SlurmStep::from(even)->local_world_size, 2);

  auto bad = task3();
  bad["SLURM_PROCID"] = "4";
  EXPECT_NE(step_error(bad).find("SLURM_PROCID=4 is not below SLURM_STEP_NUM_TASKS=4"), std::string::npos);
  bad = task3();
  bad.erase("SLURM_PROCID");
  EXPECT_NE(step_error(bad).find("SLURM_PROCID is not set"), std::string::npos);
  bad = task3();
  bad["SLURM_LOCALID"] = "x";
  EXPECT_NE(step_error(bad).find("SLURM_LOCALID='x' is not an integer"), std::string::npos);
  bad = task3();
  bad["SLURM_NODEID"] = "2";
  EXPECT_NE(step_error(bad).find("SLURM_NODEID=2 is not below the 2 node(s)"), std::string::npos);
  bad = task3();
  bad["SLURM_STEP_TASKS_PER_NODE"] = "2(x3)";
  EXPECT_NE(step_error(bad).find("add up to 6, not SLURM_STEP_NUM_TASKS=4"), std::string::npos);
  bad = task3();
  bad["SLURM_LOCALID"] = "2";
  EXPECT_NE(step_error(bad).find("SLURM_LOCALID=2 is not below the node's 2 task(s)"), std::string::npos);
  bad = task3();
  bad.erase("SLURM_STEP_NODELIST");
  EXPECT_NE(step_error(bad).find("no host for the rendezvous"), std::string::npos);
  bad = task3();
  bad["SLURM_JOB_ID"] = "";
  EXPECT_NE(step_error(bad).find("no port for the rendezvous"), std::string::npos);
  bad = task3();
  bad["MASTER_PORT"] = "70000";
  EXPECT_NE(step_error(bad).find("not a TCP port"), std::string::npos);
}

}  // namespace
}  // namespace finfuse::training
