// The fused kernels split their work with at::parallel_for, which LibTorch defines
// inline over OpenMP: compiled without -fopenmp it runs everything on the calling
// thread, silently (the MLM step was ~20% slower for it). This checks that the
// kernels' library really gets the threads it is given.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include "cotrain/nn/fast_paths.h"

namespace cotrain::nn {
namespace {

TEST(KernelThreads, ParallelForInTheKernelsUsesEveryThread) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  EXPECT_EQ(kernel_threads(), 2);
  at::set_num_threads(1);
  EXPECT_EQ(kernel_threads(), 1);
  at::set_num_threads(before);
}

}  // namespace
}  // namespace cotrain::nn
