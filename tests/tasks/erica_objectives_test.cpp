// The contrastive objectives on numbers worked out by hand: the positive counts once
// in the denominator (the reference implementation counted it twice), and malformed
// examples are refused.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/objectives/entity_discrimination.h"
#include "cotrain/objectives/relation_discrimination.h"

using namespace cotrain;
using namespace cotrain::objectives;

TEST(EricaObjectives, InfoNceCountsThePositiveOnce) {
  // Unit vectors at known angles (after normalisation): cos to the query 1, 0, -1, 0.6.
  at::Tensor e = at::tensor({1.0, 0.0, 0.0, 2.0, -3.0, 0.0, 0.6, 0.8}, at::kDouble).view({4, 2});
  e = at::cat({at::tensor({5.0, 0.0}, at::kDouble).view({1, 2}), e});  // row 0: the query (norm 5)
  const double tau = 0.5;
  // query 0, positive 4 (cos 0.6), negatives 2 (cos 0) and 3 (cos -1); row 1 (cos 1) left out.
  at::Tensor loss = entity_discrimination_loss(e, {{0, 4, {2, 4, 3}}}, tau);
  const double expected = -std::log(std::exp(0.6 / tau) / (std::exp(0.6 / tau) + std::exp(0.0) + std::exp(-1.0 / tau)));
  EXPECT_NEAR(loss.item<double>(), expected, 1e-12);
  // The reference bug would add exp(s+/tau) a second time.
  const double buggy =
      -std::log(std::exp(0.6 / tau) / (2 * std::exp(0.6 / tau) + std::exp(0.0) + std::exp(-1.0 / tau)));
  EXPECT_GT(std::abs(loss.item<double>() - buggy), 0.1);
  // No negatives: -log 1 = 0. Two examples: the mean.
  EXPECT_NEAR(entity_discrimination_loss(e, {{0, 4, {4}}}, tau).item<double>(), 0.0, 1e-12);
  at::Tensor two = entity_discrimination_loss(e, {{0, 4, {2, 4, 3}}, {0, 4, {4}}}, tau);
  EXPECT_NEAR(two.item<double>(), expected / 2, 1e-12);

  EXPECT_THROW(entity_discrimination_loss(e, {{0, 4, {0, 4}}}, tau), cotrain::Error);  // query a candidate
  EXPECT_THROW(entity_discrimination_loss(e, {{0, 4, {2, 3}}}, tau), cotrain::Error);  // positive missing
  EXPECT_THROW(entity_discrimination_loss(e, {{0, 4, {4, 9}}}, tau), cotrain::Error);  // out of range
}

TEST(EricaObjectives, RelationRepresentationsAndLoss) {
  at::Tensor e = at::tensor({1.0, 0.0, 0.0, 1.0, 1.0, 1.0}, at::kDouble).view({3, 2});
  at::Tensor r = relation_representations(e, {0, 1, 2}, {1, 0, 0});
  EXPECT_TRUE(at::equal(r, at::tensor({1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0}, at::kDouble).view({3, 4})));
  // cos(r0, r1) = 0, cos(r0, r2) = 1/sqrt(2) * ... computed directly.
  auto cos = [&](int a, int b) { return (r[a] * r[b]).sum().item<double>() / (r[a].norm().item<double>() * r[b].norm().item<double>()); };
  const double tau = 0.05;
  at::Tensor loss = relation_discrimination_loss(r, {{0, 2, {1}}, {2, 0, {1}}}, tau);
  auto term = [&](int a, int p, int n) {
    return -std::log(std::exp(cos(a, p) / tau) / (std::exp(cos(a, p) / tau) + std::exp(cos(a, n) / tau)));
  };
  EXPECT_NEAR(loss.item<double>(), (term(0, 2, 1) + term(2, 0, 1)) / 2, 1e-9);
  EXPECT_THROW(relation_representations(e, {0}, {3}), cotrain::Error);
  EXPECT_THROW(relation_discrimination_loss(r, {{1, 1, {0}}}, tau), cotrain::Error);
  EXPECT_EQ(relation_discrimination_loss(r, {}, tau).item<double>(), 0.0);
}
