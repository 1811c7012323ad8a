// Alignment with the real WordPiece tokenizer (a 20-token vocabulary): the pieces
// under every mention span are exactly the mention's word pieces.
#include <gtest/gtest.h>

#include "cotrain/data/alignment.h"
#include "cotrain/text/wordpiece.h"

namespace data = cotrain::data;

TEST(DocredAlignmentWordPiece, SpansCoverExactlyTheMentionPieces) {
  cotrain::text::WordPieceTokenizer tok({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "paris", "is", "the", "capital",
                                         "of", "fr", "##ance", ".", "se", "##ine", "flows", "through", "-", "well",
                                         "known"},
                                        /*lowercase=*/true);
  data::Document d;
  d.sents = {{"Paris", "is", "the", "well-known", "capital", "of", "France", "."},
             {"The", "Seine", "flows", "through", "Paris", "."}};
  d.entities = {{{{"France", 0, 6, 7, "", ""}}}, {{{"Seine", 1, 1, 2, "", ""}}}, {{{"Paris", 1, 4, 5, "", ""}}}};
  ASSERT_EQ(data::validate_document(d), "");
  const auto a = data::align_document(d, tok, -1);
  // paris is the well - known capital of fr ##ance . | the se ##ine flows through paris .
  ASSERT_EQ(a.ids.size(), 18u);
  auto pieces = [&](const data::AlignedMention& m) {
    std::vector<std::string> out;
    for (int64_t i = m.begin; i < m.end; ++i) out.push_back(tok.id_to_token(a.ids[i]));
    return out;
  };
  EXPECT_EQ(pieces(a.entities[0][0]), (std::vector<std::string>{"fr", "##ance"}));
  EXPECT_EQ(pieces(a.entities[1][0]), (std::vector<std::string>{"se", "##ine"}));
  EXPECT_EQ(pieces(a.entities[2][0]), (std::vector<std::string>{"paris"}));
  EXPECT_EQ(a.entities[0][0].begin, 8);  // "well-known" became three pieces
  EXPECT_EQ(a.sentence_starts, (std::vector<int64_t>{0, 11}));
}
