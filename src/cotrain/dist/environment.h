// Where this process stands in a multi-process run, read from the environment that
// launchers set: torchrun and `cotrain launch` (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT), Open MPI's mpirun (OMPI_COMM_WORLD_*), Slurm's srun
// (SLURM_PROCID, SLURM_STEP_NUM_TASKS / SLURM_NTASKS, SLURM_LOCALID). No LibTorch here.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace cotrain::dist {

struct Rendezvous {
  int64_t rank = 0;
  int64_t world_size = 1;  // 1: a single process, no process group at all
  int64_t local_rank = 0;  // rank among the processes of this machine
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  std::string source = "none";  // which convention gave the values (torchrun, mpi, slurm)
};

// Reads the variables through `get` (nullptr when unset; std::getenv by default).
// RANK/WORLD_SIZE win over MPI's, which win over Slurm's. A value that is not a
// number, or a rank outside [0, world), is a cotrain::Error naming the variable.
Rendezvous rendezvous_from_environment(const std::function<const char*(const char*)>& get = nullptr);

}  // namespace cotrain::dist
