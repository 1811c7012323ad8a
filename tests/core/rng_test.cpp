#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/core/rng.h"

using cotrain::Rng;

TEST(Rng, StateRoundTripContinuesTheSameSequence) {
  Rng a(42);
  for (int i = 0; i < 100; ++i) a.uniform();
  Rng b(7);
  b.set_state(a.state());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.below(1000), b.below(1000));
  EXPECT_THROW(b.set_state("not a state"), cotrain::Error);
}

TEST(Rng, DerivedSeedsDiffer) {
  EXPECT_NE(Rng::derive(1, 0), Rng::derive(1, 1));
  EXPECT_NE(Rng::derive(1, 0), Rng::derive(2, 0));
  EXPECT_EQ(Rng::derive(3, 4, 5), Rng::derive(3, 4, 5));
}
