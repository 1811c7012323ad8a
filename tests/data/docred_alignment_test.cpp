// Word-to-sub-word alignment with a fake tokenizer that cuts every word into pieces
// of two characters ("Paris" -> "Pa" "ri" "s"), so every expected span can be
// worked out by hand.
#include <gtest/gtest.h>

#include <map>

#include "cotrain/core/error.h"
#include "cotrain/data/alignment.h"
#include "cotrain/data/docred.h"
#include "support/support.h"

namespace data = cotrain::data;
namespace text = cotrain::text;

namespace {

class FakeTokenizer : public text::Tokenizer {
 public:
  FakeTokenizer() {
    specials_ = {0, 1, 2, 3, 4};
    for (const char* p : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) add(p);
  }
  // Pieces of two characters; the word "~" has no piece at all (like a control character).
  std::vector<std::string> pieces(const std::string& word) const {
    std::vector<std::string> out;
    if (word == "~") return out;
    for (size_t i = 0; i < word.size(); i += 2) out.push_back(word.substr(i, 2));
    return out;
  }
  std::vector<std::vector<int64_t>> encode_words(const std::vector<std::string>& words) const override {
    ++calls;
    std::vector<std::vector<int64_t>> out;
    for (const std::string& w : words) {
      out.emplace_back();
      for (const std::string& p : pieces(w)) out.back().push_back(add(p));
    }
    return out;
  }
  int64_t token_to_id(const std::string& token) const override {
    auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }
  int64_t add(const std::string& token) const {
    auto [it, inserted] = vocab_.emplace(token, static_cast<int64_t>(vocab_.size()));
    return it->second;
  }
  std::vector<int64_t> encode(const std::string&) const override { return {}; }
  std::vector<text::Piece> encode_with_offsets(const std::string&) const override { return {}; }
  std::vector<std::string> tokenize(const std::string&) const override { return {}; }
  std::string decode(const std::vector<int64_t>&) const override { return ""; }
  std::string id_to_token(int64_t) const override { return ""; }
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  const text::SpecialIds& specials() const override { return specials_; }
  bool is_special(int64_t id) const override { return id < 5; }
  std::string kind() const override { return "fake"; }
  void save(const std::string&) const override {}

  mutable int calls = 0;

 private:
  mutable std::map<std::string, int64_t> vocab_;
  text::SpecialIds specials_;
};

data::Mention mention(const std::string& name, int64_t sent, int64_t b, int64_t e) { return {name, sent, b, e, "LOC", ""}; }

// Sentence 0: Paris(3 pieces) is(1) the(2) capital(4) of(1) France(3) .(1)  -> positions 0..14
// Sentence 1: The(2) Seine(3) flows(3) through(4) Paris(3) .(1)             -> positions 15..30
data::Document paris() {
  data::Document d;
  d.title = "paris";
  d.sents = {{"Paris", "is", "the", "capital", "of", "France", "."}, {"The", "Seine", "flows", "through", "Paris", "."}};
  d.entities = {{{mention("France", 0, 5, 6)}},
                {{mention("Seine", 1, 1, 2)}},
                {{mention("Paris", 0, 0, 1), mention("Paris", 1, 4, 5)}}};
  d.labels = {{2, 0, "P17", {0}}, {1, 2, "P206", {}}};
  d.na_triples = {{0, 2}, {1, 0}};
  return d;
}

std::vector<std::pair<int64_t, int64_t>> spans(const std::vector<data::AlignedMention>& ms) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& m : ms) out.emplace_back(m.begin, m.end);
  return out;
}

using Spans = std::vector<std::pair<int64_t, int64_t>>;

}  // namespace

TEST(DocredAlignment, SpansAreExactWithoutTruncation) {
  FakeTokenizer tok;
  const data::Document d = paris();
  ASSERT_EQ(data::validate_document(d), "");
  const auto a = data::align_document(d, tok, -1);
  EXPECT_EQ(tok.calls, 1);  // the whole document in one call (BPE: leading spaces as in running text)
  ASSERT_EQ(a.ids.size(), 31u);
  EXPECT_FALSE(a.truncated);
  EXPECT_EQ(a.sentence_starts, (std::vector<int64_t>{0, 15}));
  EXPECT_EQ(a.ids[0], tok.token_to_id("Pa"));
  EXPECT_EQ(a.ids[1], tok.token_to_id("ri"));
  EXPECT_EQ(a.ids[2], tok.token_to_id("s"));
  EXPECT_EQ(a.ids[30], tok.token_to_id("."));
  ASSERT_EQ(a.entities.size(), 3u);
  EXPECT_EQ(spans(a.entities[0]), (Spans{{11, 14}}));
  EXPECT_EQ(spans(a.entities[1]), (Spans{{17, 20}}));
  EXPECT_EQ(spans(a.entities[2]), (Spans{{0, 3}, {27, 30}}));
  EXPECT_EQ(a.entities[2][1].sent_id, 1);
  // The pieces under a span are the pieces of the mention's words.
  EXPECT_EQ(std::vector<int64_t>(a.ids.begin() + 27, a.ids.begin() + 30),
            std::vector<int64_t>(a.ids.begin(), a.ids.begin() + 3));
  EXPECT_EQ(a.entity_map, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(a.labels.size(), 2u);
  EXPECT_EQ(a.dropped_mentions, 0);
  // France (sentence 0) and Seine (sentence 1) never share one; Paris is in both.
  EXPECT_FALSE(data::share_a_sentence(a, 0, 1));
  EXPECT_TRUE(data::share_a_sentence(a, 0, 2));
  EXPECT_TRUE(data::share_a_sentence(a, 2, 1));
}

TEST(DocredAlignment, TruncationDropsMentionsThenEntitiesAndRemapsLabels) {
  FakeTokenizer tok;
  const auto a = data::align_document(paris(), tok, 16);
  EXPECT_TRUE(a.truncated);
  EXPECT_EQ(a.ids.size(), 16u);
  // Seine [17, 20) and the second Paris [27, 30) fall past 16; Seine is left with none.
  EXPECT_EQ(a.dropped_mentions, 2);
  EXPECT_EQ(a.entity_map, (std::vector<int64_t>{0, -1, 1}));
  EXPECT_EQ(a.kept_entities, (std::vector<int64_t>{0, 2}));
  ASSERT_EQ(a.entities.size(), 2u);
  EXPECT_EQ(spans(a.entities[1]), (Spans{{0, 3}}));
  ASSERT_EQ(a.labels.size(), 1u);  // (Paris, France, P17) -> (1, 0); (Seine, Paris) dropped
  EXPECT_EQ(a.labels[0].h, 1);
  EXPECT_EQ(a.labels[0].t, 0);
  EXPECT_EQ(a.labels[0].r, "P17");
  EXPECT_EQ(a.labels[0].evidence, std::vector<int64_t>{0});
  EXPECT_EQ(a.dropped_labels, 1);
  EXPECT_EQ(a.na_triples, (std::vector<std::pair<int64_t, int64_t>>{{0, 1}}));
  EXPECT_EQ(a.dropped_na_triples, 1);
  // Truncation removed Paris's sentence-1 mention: with France it still shares sentence 0.
  EXPECT_TRUE(data::share_a_sentence(a, 0, 1));
}

TEST(DocredAlignment, AMentionThatEndsExactlyAtTheLimitSurvives) {
  FakeTokenizer tok;
  auto a = data::align_document(paris(), tok, 14);  // France is [11, 14)
  EXPECT_EQ(a.entity_map, (std::vector<int64_t>{0, -1, 1}));
  a = data::align_document(paris(), tok, 13);
  EXPECT_EQ(a.entity_map, (std::vector<int64_t>{-1, -1, 0}));
  EXPECT_TRUE(a.labels.empty());
  a = data::align_document(paris(), tok, 0);
  EXPECT_TRUE(a.entities.empty());
  EXPECT_EQ(a.dropped_mentions, 4);
}

TEST(DocredAlignment, MentionOfWordsWithoutPiecesIsDropped) {
  FakeTokenizer tok;
  data::Document d;
  d.sents = {{"a", "~", "bcd"}};
  d.entities = {{{mention("~", 0, 1, 2)}}, {{mention("~ bcd", 0, 1, 3)}}};
  ASSERT_EQ(data::validate_document(d), "");
  const auto a = data::align_document(d, tok, -1);
  EXPECT_EQ(a.ids.size(), 3u);  // a | bc d
  EXPECT_EQ(a.dropped_mentions, 1);
  EXPECT_EQ(a.entity_map, (std::vector<int64_t>{-1, 0}));
  EXPECT_EQ(spans(a.entities[0]), (Spans{{1, 3}}));
}

TEST(DocredAlignment, TokenizedSentsAreLookedUpPieceByPiece) {
  FakeTokenizer tok;
  for (const char* p : {"par", "##is", "is", "fr", "##ance"}) tok.add(p);
  data::Document d;
  d.tokenized_sents = {{{"par", "##is"}, {"is"}}, {{"fr", "##ance", "##zz"}}};
  d.entities = {{{mention("Paris", 0, 0, 1)}}, {{mention("France", 1, 0, 1)}}};
  d.labels = {{0, 1, "P17", {}}};
  ASSERT_EQ(data::validate_document(d), "");
  const auto a = data::align_document(d, tok, -1);
  EXPECT_EQ(tok.calls, 0);
  EXPECT_EQ(a.ids, (std::vector<int64_t>{tok.token_to_id("par"), tok.token_to_id("##is"), tok.token_to_id("is"),
                                          tok.token_to_id("fr"), tok.token_to_id("##ance"), tok.specials().unk}));
  EXPECT_EQ(a.unknown_subwords, 1);
  EXPECT_EQ(spans(a.entities[0]), (Spans{{0, 2}}));
  EXPECT_EQ(spans(a.entities[1]), (Spans{{3, 6}}));
  EXPECT_EQ(a.sentence_starts, (std::vector<int64_t>{0, 3}));
}
