// The two collectives written here on top of c10d, run by two real processes (this
// test forks its peer): the all-gather with gradient (uneven row counts) and the
// gradient buckets (hook-started sums, a parameter unused on one rank, one unused
// everywhere). Each rank checks its own results against sums written out by hand.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "cotrain/dist/gather.h"
#include "cotrain/dist/grad_buckets.h"
#include "cotrain/dist/process_group.h"

namespace {

using cotrain::dist::world;

// Returns an empty string when every check of this rank passed.
std::string run_rank(int64_t rank, int port) {
  cotrain::dist::Rendezvous r;
  r.rank = rank;
  r.world_size = 2;
  r.master_port = port;
  world().connect(r, std::chrono::seconds(20));
  std::string problems;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) problems += "rank " + std::to_string(rank) + ": " + what + "\n";
  };

  // Gather with gradient: rank 0 has 2 rows, rank 1 has 3; row i of rank k is
  // (10k + i) * [1, 2]. Each rank's loss weights the gathered rows by (rank + 1) *
  // (row + 1), so d(total)/d(row j of the gathered matrix) = (1 + 2) * (j + 1).
  const int64_t n = rank == 0 ? 2 : 3;
  at::Tensor local = (at::arange(n, at::kFloat) + 10.0 * rank).unsqueeze(1) * at::tensor({1.0f, 2.0f});
  local.requires_grad_(true);
  auto gathered = cotrain::dist::all_gather_rows(local);
  check(gathered.all.size(0) == 5 && gathered.offset == (rank == 0 ? 0 : 2), "gathered shape/offset");
  check(at::allclose(gathered.all.select(1, 0), at::tensor({0.f, 1.f, 10.f, 11.f, 12.f})), "gathered values");
  at::Tensor weights = (at::arange(5, at::kFloat) + 1).unsqueeze(1) * static_cast<float>(rank + 1);
  (gathered.all * weights).sum().backward();
  at::Tensor expected = (at::arange(n, at::kFloat) + gathered.offset + 1).unsqueeze(1).expand({n, 2}) * 3.0f;
  check(at::allclose(local.grad(), expected), "gather gradient");

  // Gradient buckets: a [4] used on both ranks, b [3] only on rank 1, c [2] nowhere,
  // d [5] on both; buckets of ~8 bytes, so each parameter is its own bucket.
  at::Tensor a = at::ones({4}).requires_grad_(true), b = at::ones({3}).requires_grad_(true),
             c = at::ones({2}).requires_grad_(true), d = at::ones({5}).requires_grad_(true);
  cotrain::dist::GradientBuckets buckets({a, b, c, d}, 8);
  check(buckets.bucket_count() == 4, "bucket count");
  for (int micro = 0; micro < 2; ++micro) {  // two micro-batches, summed on the second only
    buckets.prepare(micro == 1);
    at::Tensor loss = (a * (rank + 1)).sum() + (d * d * (rank + 1)).sum();
    if (rank == 1) loss = loss + (b * 5).sum();
    loss.backward();
  }
  buckets.finish();
  check(at::allclose(a.grad(), at::full({4}, 2.0f * (1 + 2))), "a: both micro-batches, both ranks");
  check(b.grad().defined() && at::allclose(b.grad(), at::full({3}, 10.0f)), "b: rank 1's gradient on every rank");
  check(!c.grad().defined(), "c: unused everywhere keeps no gradient");
  check(at::allclose(d.grad(), at::full({5}, 2.0f * 2 * (1 + 2))), "d");
  check(buckets.started_during_backward() >= 1, "some bucket started from a hook during backward");
  world().barrier();
  world().disconnect();
  return problems;
}

}  // namespace

TEST(DistCollectives, GatherWithGradientAndBucketsOverTwoProcesses) {
  const int port = 20000 + static_cast<int>(::getpid() % 20000) + 7;
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string problems;
    try {
      problems = run_rank(1, port);
    } catch (const std::exception& e) {
      problems = e.what();
    }
    if (!problems.empty()) std::fprintf(stderr, "%s\n", problems.c_str());
    ::_exit(problems.empty() ? 0 : 1);
  }
  std::string problems;
  try {
    problems = run_rank(0, port);
  } catch (const std::exception& e) {
    problems = e.what();
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(problems.empty()) << problems;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "rank 1 failed (its checks are printed above)";
}
