// Rendezvous from the environment (dist/environment.h): torchrun's variables win over
// MPI's, which win over Slurm's; nothing set is a world of one; bad values are errors
// that name the variable.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cotrain/core/error.h"
#include "cotrain/dist/environment.h"

using cotrain::dist::Rendezvous;
using cotrain::dist::rendezvous_from_environment;

namespace {

Rendezvous from(const std::map<std::string, std::string>& env) {
  return rendezvous_from_environment([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& env) {
  try {
    from(env);
  } catch (const cotrain::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DistEnvironment, NothingSetIsOneProcess) {
  const Rendezvous r = from({});
  EXPECT_EQ(r.world_size, 1);
  EXPECT_EQ(r.rank, 0);
  EXPECT_EQ(r.source, "none");
}

TEST(DistEnvironment, TorchrunVariables) {
  const Rendezvous r = from({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"},
                             {"MASTER_PORT", "29511"}, {"SLURM_PROCID", "5"}, {"SLURM_STEP_NUM_TASKS", "6"}});
  EXPECT_EQ(r.rank, 3);
  EXPECT_EQ(r.world_size, 8);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.master_addr, "node7");
  EXPECT_EQ(r.master_port, 29511);
  EXPECT_EQ(r.source, "torchrun");
}

TEST(DistEnvironment, MpiThenSlurmFallbacks) {
  const Rendezvous mpi = from({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}, {"SLURM_PROCID", "1"},
                               {"SLURM_STEP_NUM_TASKS", "4"}});
  EXPECT_EQ(mpi.source, "mpi");
  EXPECT_EQ(mpi.rank, 2);
  EXPECT_EQ(mpi.local_rank, 0);
  const Rendezvous slurm = from({{"SLURM_PROCID", "1"}, {"SLURM_STEP_NUM_TASKS", "4"}, {"SLURM_LOCALID", "1"}});
  EXPECT_EQ(slurm.source, "slurm");
  EXPECT_EQ(slurm.rank, 1);
  EXPECT_EQ(slurm.world_size, 4);
  EXPECT_EQ(slurm.master_port, 29500);  // the default when MASTER_PORT is unset
  // A batch script without srun: SLURM_PROCID alone does not make a group.
  EXPECT_EQ(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}}).world_size, 1);
}

TEST(DistEnvironment, BadValuesNameTheVariable) {
  EXPECT_NE(error_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK='x'"), std::string::npos);
  EXPECT_NE(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("outside [0, 2)"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}}).find("RANK is not"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "0"}}).find("at least 1"), std::string::npos);
  EXPECT_NE(error_of({{"MASTER_PORT", "70000"}}).find("MASTER_PORT"), std::string::npos);
}
