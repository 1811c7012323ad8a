// CMCL's paraphrase filter (tasks/unimo_paraphrases): a paraphrase the vocabulary
// reads as mostly [UNK] pieces is not used as a positive, a readable one is, and the
// counts say why each was dropped.
#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/tasks/unimo_paraphrases.h"
#include "cotrain/tasks/unimo_task.h"
#include "cotrain/text/wordpiece.h"
#include "support/support.h"

using namespace cotrain;

namespace {
std::unique_ptr<text::WordPieceTokenizer> tiny_english_vocab(const std::string& name) {
  const std::string dir = cotrain::testing::scratch_dir(name);
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const char* t : {"red", "heart", "love", "big", "grinning", "face", "smiling", "with", "eyes", ":", "flag",
                        "japan", "##s"})
    vocab += std::string(t) + "\n";
  cotrain::testing::write_file(dir + "/vocab.txt", vocab);
  return text::WordPieceTokenizer::from_file(dir + "/vocab.txt", true);
}
}  // namespace

TEST(UnimoParaphrases, UnknownFractionCountsUnkPieces) {
  auto tok = tiny_english_vocab("unimo-paraphrases-fraction");
  EXPECT_DOUBLE_EQ(tasks::unknown_piece_fraction(*tok, "red heart"), 0.0);
  // "旗" and "日本" are CJK: one piece per character, none in the vocabulary.
  EXPECT_DOUBLE_EQ(tasks::unknown_piece_fraction(*tok, "flag: 日本"), 2.0 / 4.0);
  EXPECT_DOUBLE_EQ(tasks::unknown_piece_fraction(*tok, "旗: 日本"), 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(tasks::unknown_piece_fraction(*tok, ""), 1.0) << "nothing to read counts as unknown";
}

TEST(UnimoParaphrases, DropsUnkHeavyAndTheCaptionKeepsReadableOnes) {
  auto tok = tiny_english_vocab("unimo-paraphrases-filter");
  tasks::ParaphraseCounts counts;
  const std::vector<std::string> given = {"旗: 日本", "big red hearts", "Red Heart", "флаг japan", "love heart"};
  const auto kept = tasks::usable_paraphrases(*tok, "red heart", given, 0.1, counts);
  EXPECT_EQ(kept, (std::vector<std::string>{"big red hearts", "love heart"}));
  EXPECT_EQ(counts.given, 5);
  EXPECT_EQ(counts.kept, 2);
  EXPECT_EQ(counts.unknown, 2);  // the Chinese label and the half-Cyrillic one
  EXPECT_EQ(counts.same, 1);     // the caption again, in other case
  // The bound is inclusive and configurable: at 0.5 "флаг japan" (1 of 2 unknown) stays.
  tasks::ParaphraseCounts loose;
  const auto more = tasks::usable_paraphrases(*tok, "red heart", given, 0.5, loose);
  EXPECT_EQ(more, (std::vector<std::string>{"big red hearts", "флаг japan", "love heart"}));
  EXPECT_EQ(loose.unknown, 1);
  // Counts accumulate over captions.
  tasks::usable_paraphrases(*tok, "grinning face", {"smiling face with big eyes"}, 0.1, counts);
  EXPECT_EQ(counts.given, 6);
  EXPECT_EQ(counts.kept, 3);
}

TEST(UnimoParaphrases, MaxUnknownMustBeAShare) {
  UnimoConfig u;
  u.paraphrase_max_unknown = 1.5;
  EXPECT_THROW(tasks::validate_unimo_config(u), Error);
  u.paraphrase_max_unknown = -0.1;
  EXPECT_THROW(tasks::validate_unimo_config(u), Error);
  u.paraphrase_max_unknown = 1.0;
  EXPECT_NO_THROW(tasks::validate_unimo_config(u));
}
