// WordPiece (cased and uncased) and byte-level BPE against the independent Python
// reference tests/reference/tokenizers_ref.py, on varied hand-picked text plus
// seeded random strings. The vocabularies are made by the reference: a small
// WordPiece vocabulary with emoji withheld (so [UNK] occurs) and a byte-level BPE
// trained on its small multilingual corpus. Ids and token strings must match exactly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cotrain/text/bpe.h"
#include "cotrain/text/tokenizer.h"
#include "cotrain/text/wordpiece.h"
#include "support/support.h"
#include "text_test_util.h"

namespace cotrain::text {
namespace {

using testing::read_file;
using testing::run_reference;
using testing::scratch_dir;
using testing::write_file;

// Inputs every tokenizer must agree on with the reference.
std::vector<std::string> varied_inputs() {
  return {
      "",
      " ",
      "\n",
      "Hello, world!",
      "The quick brown fox jumps over the lazy dog.",
      "It's what they'd say: we're sure you'll see, I'm sure. DON'T SHOUT 'quoted'",
      "unbelievable tokenization, running runners",
      u8"Café crème brûlée, naïve Zürich, São Paulo, Ångström, straße",
      u8"Cafe\u0301 decomposed: e\u0301 a\u0308 o\u0323\u0301 o\u0301\u0323",
      u8"今天天气很好，我们去公园散步吧。",
      u8"日本語の文章です。ひらがなとカタカナ",
      u8"한국어 문장도 있습니다.",
      u8"ΟΔΟΣ και ΑΘΗΝΑ — η οδός σΣ ΣΣ Σ. ΌΣΟΣ",
      u8"İstanbul'da ışık var; İ I\u0307 ı",
      u8"Emoji 😀 👍🏽 ❤️ 👨‍👩‍👧 and flags 🇫🇷",
      u8"“Quoted” ‘text’ … ¿sí? ¡no! «guillemets» — dash – en 「括弧」、。",
      "ASCII punctuation !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ all of it",
      std::string(100, 'a'),
      std::string(101, 'a'),
      std::string(100, 'a') + " " + std::string(101, 'b') + " c",
      u8"supercalifragilisticexpialidocious" + std::string(70, 'x'),
      "\tTabs\tand  mixed \r\n whitespace \x0b\x0c here\t",
      u8"no\u00a0break\u3000ideographic\u2003em\u2028line\u2029para",
      std::string("control\x01\x02\x7f chars and NUL") + std::string(1, '\0') + "inside",
      u8"replacement \uFFFD char and BOM \uFEFFhere, soft\u00ADhyphen, zero\u200Bwidth",
      u8"private \uE000 use",
      u8"digits 3.14 2,718 1e-9 ٣٤ ²½ Ⅳ and ＦＵＬＬ ｗｉｄｔｈ ﬁ",
      "trailing spaces   ",
      "   leading spaces",
      "multiple\n\nempty\n\n\nlines",
      u8"Москва — столица России; «привет», сказал он.",
      u8"ℌ Ω Å K compatibility and singletons",
  };
}

std::string write_inputs(const std::string& dir) {
  std::string path = dir + "/inputs.json";
  write_file(path, nlohmann::json(varied_inputs()).dump());
  return path;
}

bool printable_ascii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7F) return false;
  }
  return true;
}

// Byte ranges lie in the text, in order; BPE pieces tile it exactly; a WordPiece piece
// of plain ASCII text (cased, so nothing was changed) is the text it covers.
void check_offsets(const Tokenizer& tokenizer, const std::string& text) {
  std::vector<Piece> pieces = tokenizer.encode_with_offsets(text);
  size_t previous_begin = 0, covered = 0;
  for (const Piece& p : pieces) {
    ASSERT_LT(p.begin, p.end) << test::escaped(text);
    ASSERT_LE(p.end, text.size()) << test::escaped(text);
    EXPECT_GE(p.begin, previous_begin) << test::escaped(text);
    previous_begin = p.begin;
    if (tokenizer.kind() == "bpe") {
      EXPECT_EQ(p.begin, covered) << test::escaped(text);
      covered = p.end;
    } else if (p.id != tokenizer.specials().unk) {
      const auto& wp = dynamic_cast<const WordPieceTokenizer&>(tokenizer);
      std::string covered_text = text.substr(p.begin, p.end - p.begin);
      std::string token = tokenizer.id_to_token(p.id);
      if (token.rfind("##", 0) == 0) token = token.substr(2);
      if (!wp.lowercase() && printable_ascii(covered_text)) EXPECT_EQ(covered_text, token) << test::escaped(text);
    }
  }
  if (tokenizer.kind() == "bpe") EXPECT_EQ(covered, text.size()) << test::escaped(text);
}

// Compares `tokenizer` with the reference's records; returns how many records were checked.
size_t compare(const Tokenizer& tokenizer, const std::string& reference_output) {
  nlohmann::json records = nlohmann::json::parse(read_file(reference_output));
  size_t mismatches = 0;
  for (const auto& record : records) {
    const std::string text = record["text"].get<std::string>();
    const auto expected_tokens = record["tokens"].get<std::vector<std::string>>();
    const auto expected_ids = record["ids"].get<std::vector<int64_t>>();
    std::vector<std::string> tokens = tokenizer.tokenize(text);
    std::vector<int64_t> ids = tokenizer.encode(text);
    check_offsets(tokenizer, text);
    if (tokens != expected_tokens || ids != expected_ids) {
      ++mismatches;
      ADD_FAILURE() << tokenizer.kind() << " differs on \"" << test::escaped(text) << "\"\n  ours:      "
                    << test::joined(tokens) << "\n  reference: " << test::joined(expected_tokens);
      if (mismatches > 10) break;
    }
  }
  return records.size();
}

class WordPieceVsReference : public ::testing::TestWithParam<bool> {};

TEST_P(WordPieceVsReference, SameIdsOnVariedAndRandomText) {
  const bool uncased = GetParam();
  std::string dir = scratch_dir(uncased ? "wp-ref-uncased" : "wp-ref-cased");
  std::string vocab = dir + "/vocab.txt";
  std::vector<std::string> flag;
  if (uncased) flag.push_back("--uncased");
  std::vector<std::string> args = {"wordpiece-vocab", "--out", vocab, "--size", "900"};
  args.insert(args.end(), flag.begin(), flag.end());
  run_reference("tokenizers_ref.py", args);
  std::string out = dir + "/out.json";
  args = {"wordpiece", "--vocab", vocab, "--inputs", write_inputs(dir), "--out", out, "--random", "400", "--seed", "7"};
  args.insert(args.end(), flag.begin(), flag.end());
  run_reference("tokenizers_ref.py", args);

  auto tokenizer = WordPieceTokenizer::from_file(vocab, uncased);
  size_t checked = compare(*tokenizer, out);
  EXPECT_GT(checked, 400u);
  // The comparison must exercise [UNK] (withheld emoji, 101-character words).
  nlohmann::json records = nlohmann::json::parse(read_file(out));
  size_t with_unk = 0;
  for (const auto& r : records) {
    for (const auto& t : r["tokens"]) with_unk += t == "[UNK]";
  }
  EXPECT_GT(with_unk, 5u);
}

INSTANTIATE_TEST_SUITE_P(CasedAndUncased, WordPieceVsReference, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "uncased" : "cased"; });

TEST(BpeVsReference, SameIdsOnVariedAndRandomText) {
  std::string dir = scratch_dir("bpe-ref");
  run_reference("tokenizers_ref.py", {"bpe-train", "--out", dir, "--merges", "400"});
  std::string out = dir + "/out.json";
  run_reference("tokenizers_ref.py",
                {"bpe", "--dir", dir, "--inputs", write_inputs(dir), "--out", out, "--random", "400", "--seed", "11"});
  auto tokenizer = BpeTokenizer::from_files(dir + "/vocab.json", dir + "/merges.txt");
  EXPECT_EQ(tokenizer->token_to_id("<s>"), 0);
  EXPECT_GT(compare(*tokenizer, out), 400u);
}

}  // namespace
}  // namespace cotrain::text
