#include "cotrain/dist/environment.h"

#include <cstdlib>

#include "cotrain/core/error.h"

namespace cotrain::dist {
namespace {

int64_t parse_count(const char* name, const char* text) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < 0)
    fail("environment variable {}='{}': expected a non-negative integer", name, text);
  return value;
}

}  // namespace

Rendezvous rendezvous_from_environment(const std::function<const char*(const char*)>& get_fn) {
  auto get = [&](const char* name) -> const char* {
    const char* v = get_fn ? get_fn(name) : std::getenv(name);
    return v && *v ? v : nullptr;
  };
  // One convention at a time: (rank variable, size variable, local-rank variable).
  struct Convention {
    const char *source, *rank, *size, *local;
  };
  const Convention conventions[] = {
      {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK"},
      {"mpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      // srun sets SLURM_STEP_NUM_TASKS for the step's tasks; a batch script alone
      // (no srun) has no step tasks and stays a single process.
      {"slurm", "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"},
  };
  Rendezvous r;
  for (const auto& c : conventions) {
    const char* size = get(c.size);
    if (!size) continue;
    r.world_size = parse_count(c.size, size);
    if (r.world_size < 1) fail("environment variable {}={}: must be at least 1", c.size, size);
    const char* rank = get(c.rank);
    if (!rank && r.world_size > 1) fail("environment variable {} is set ({}) but {} is not", c.size, size, c.rank);
    r.rank = rank ? parse_count(c.rank, rank) : 0;
    if (r.rank >= r.world_size)
      fail("environment variable {}={} is outside [0, {}) ({}={})", c.rank, r.rank, r.world_size, c.size, size);
    const char* local = get(c.local);
    r.local_rank = local ? parse_count(c.local, local) : r.rank;
    r.source = c.source;
    break;
  }
  if (const char* addr = get("MASTER_ADDR")) r.master_addr = addr;
  if (const char* port = get("MASTER_PORT")) {
    r.master_port = parse_count("MASTER_PORT", port);
    if (r.master_port < 1 || r.master_port > 65535) fail("environment variable MASTER_PORT={}: not a TCP port", port);
  }
  return r;
}

}  // namespace cotrain::dist
