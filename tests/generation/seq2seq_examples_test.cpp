// Seq2seq examples: fragment choice (coverage, fragments of the drawn lengths), the
// row layouts (hand-written), and refused batch JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/tasks/unimo_seq2seq_batch.h"

using namespace cotrain;
using namespace cotrain::tasks;

namespace {

std::vector<int64_t> runs_of(const std::vector<bool>& t) {
  std::vector<int64_t> runs;
  int64_t run = 0;
  for (bool b : t) {
    if (b) ++run;
    else if (run) {
      runs.push_back(run);
      run = 0;
    }
  }
  if (run) runs.push_back(run);
  return runs;
}

TEST(Seq2seqExamples, FragmentsCoverAQuarter) {
  Rng rng(3);
  FragmentOptions o;  // 0.25, U[4, 32]
  int64_t long_runs = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t n = 1 + rng.below(300);
    auto t = choose_target_fragments(n, o, rng);
    ASSERT_EQ(static_cast<int64_t>(t.size()), n);
    int64_t covered = 0;
    for (bool b : t) covered += b;
    EXPECT_EQ(covered, std::max<int64_t>(1, std::llround(0.25 * static_cast<double>(n)))) << "n " << n;
    for (int64_t r : runs_of(t)) long_runs += r >= 4;
  }
  EXPECT_GT(long_runs, 100);  // fragments of U[4, 32] tokens, not single tokens
  // Short texts: the budget cuts the fragment (3 tokens -> 1 target token).
  auto t = choose_target_fragments(3, o, rng);
  EXPECT_EQ(runs_of(t), std::vector<int64_t>{1});
  // A 100-token text with fragments of exactly 5: 25 tokens in 5 fragments (or fewer
  // runs where two fragments touch).
  FragmentOptions five{0.25, 5, 5};
  auto f = choose_target_fragments(100, five, rng);
  int64_t covered = 0;
  for (int64_t r : runs_of(f)) {
    covered += r;
    EXPECT_EQ(r % 5, 0);
  }
  EXPECT_EQ(covered, 25);
}

TEST(Seq2seqExamples, RowLayouts) {
  // tokens 10 11 12 13 with 11 12 the target: [CLS] 10 13 [SEP] 11 12; [SEP] predicts
  // 11, 11 predicts 12, 12 predicts the end token.
  Seq2seqRow r = text_seq2seq_row({10, 11, 12, 13}, {false, true, true, false}, 1, 2);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{1, 10, 13, 2, 11, 12}));
  EXPECT_EQ(r.target, (std::vector<int64_t>{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(r.labels, (std::vector<int64_t>{-100, -100, -100, 11, 12, 2}));
  Seq2seqRow c = caption_row({10, 11}, 1, 2);
  EXPECT_EQ(c.ids, (std::vector<int64_t>{1, 10, 11}));
  EXPECT_EQ(c.target, (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(c.labels, (std::vector<int64_t>{10, 11, 2}));
  Seq2seqTextPart p = make_seq2seq_part({r, c}, 0);
  EXPECT_EQ(p.input_ids.size(1), 6);
  EXPECT_EQ(p.labels[1][3].item<int64_t>(), -100);
  EXPECT_EQ(p.attention_mask[1].sum().item<int64_t>(), 3);
}

TEST(Seq2seqExamples, RefusesBadBatches) {
  Seq2seqBatch b;
  b.text = make_seq2seq_part({caption_row({10, 11}, 1, 2)}, 0);
  nlohmann::json j = seq2seq_batch_to_json(b);
  EXPECT_NO_THROW(seq2seq_batch_from_json(j, 20));
  EXPECT_THROW(seq2seq_batch_from_json(j, 11), Error);  // id 11 outside a vocabulary of 11
  nlohmann::json wrong = j;
  wrong["text"]["target"]["shape"] = {3};
  wrong["text"]["target"]["data"] = {1, 1, 1};
  EXPECT_THROW(seq2seq_batch_from_json(wrong, 20), Error);
  nlohmann::json empty = {{"task", "unimo-seq2seq"}};
  EXPECT_THROW(seq2seq_batch_from_json(empty, 20), Error);
  EXPECT_THROW(seq2seq_batch_from_json({{"task", "unimo"}}, 20), Error);
}

}  // namespace
