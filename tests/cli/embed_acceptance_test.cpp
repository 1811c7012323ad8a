// Acceptance (issue 2): a Hugging Face-style BERT folder (config.json,
// model.safetensors, vocab.txt, tokenizer_config.json) run through `cotrain embed`
// gives the same embeddings as an independent PyTorch BERT on the same weights and
// the same WordPiece tokenisation: tests/reference/embed_ref.py (the twin's encoder
// from bert_twin.py, the tokenizers of tokenizers_ref.py, float64, one line at a
// time without padding). Max abs diff < 1e-4 for every line, in order, empty lines
// included. The same for a RoBERTa folder with a byte-level BPE vocabulary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "support/support.h"

using cotrain::cli_test::split_lines;
using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::run_reference;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

constexpr double kMaxAbsDiff = 1e-4;  // the bound; measured float32 error is ~1e-6

// Position limit of the twin's folders: --seq 29 gives max_position_embeddings 32
// (BERT) so that a line of more than 30 pieces is cut.
constexpr int kSeq = 29;

// Inputs in the order they must come back: words that split into ## pieces, words
// missing from the vocabulary ([UNK]), accents (uncased: stripped), CJK, emoji, an
// empty line, a line of spaces, a CRLF line, and a line longer than the model's limit.
std::string input_text() {
  std::string long_line;
  for (int i = 0; i < 20; ++i) long_line += "the quick fox jumps ";
  return "The quick brown fox jumps over the lazy dog.\n"
         "\n"
         "Running runners, unbelievably!\n"
         "Caf\xc3\xa9 in Z\xc3\xbcrich \xe4\xb8\xad\xe6\x96\x87 emoji \xf0\x9f\x98\x80\n"
         "   \n"
         "xyz qqq jumped?\r\n"
         "tokenization tokenized the dog\n" +
         long_line + "\n" + "a b c ab abc cab\n";
}

// A small hand-written WordPiece vocabulary covering some of the words above.
std::vector<std::string> wordpiece_vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox", "jump", "##s", "##ed",
          "##ing", "over", "lazy", "dog", ".", ",", "!", "?", "run", "##ner", "un", "##believ", "##able", "##ly",
          "token", "##iz", "##ation", "cafe", "in", "zurich", "\xe4\xb8\xad", "\xe6\x96\x87", "a", "b", "c", "##a",
          "##b", "##c"};
}

struct Embedding {
  std::string text;
  std::vector<double> values;
  std::vector<std::string> tokens;  // reference only
};

std::vector<Embedding> read_embeddings(const std::string& path) {
  std::vector<Embedding> out;
  for (const auto& line : split_lines(read_file(path))) {
    nlohmann::json j = nlohmann::json::parse(line);
    Embedding e;
    e.text = j.at("text").get<std::string>();
    e.values = j.at("embedding").get<std::vector<double>>();
    if (j.contains("tokens")) e.tokens = j.at("tokens").get<std::vector<std::string>>();
    out.push_back(std::move(e));
  }
  return out;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// Runs `cotrain embed` and the reference on `model_dir` and compares every line.
// Returns the reference's records (for checks on the tokenisation).
std::vector<Embedding> compare_embed(const std::string& model_dir, const std::string& input, const std::string& pool,
                                     int64_t hidden, const std::vector<std::string>& extra_args = {}) {
  SCOPED_TRACE("pool " + pool);
  const std::string ours_path = model_dir + "/ours-" + pool + ".jsonl";
  const std::string ref_path = model_dir + "/ref-" + pool + ".jsonl";
  std::vector<std::string> args = {"embed", "--model", model_dir, "--input", input, "--pool", pool, "--out", ours_path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto r = run_cotrain(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  run_reference("embed_ref.py", {"--model", model_dir, "--input", input, "--pool", pool, "--out", ref_path});

  std::vector<Embedding> ours = read_embeddings(ours_path), ref = read_embeddings(ref_path);
  const size_t input_lines = split_lines(read_file(input)).size();
  EXPECT_EQ(ref.size(), input_lines);
  EXPECT_EQ(ours.size(), ref.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(ours.size(), ref.size()); ++i) {
    SCOPED_TRACE("line " + std::to_string(i + 1));
    EXPECT_EQ(ours[i].text, ref[i].text);
    EXPECT_EQ(ours[i].values.size(), static_cast<size_t>(hidden));
    EXPECT_EQ(ref[i].values.size(), static_cast<size_t>(hidden));
    const double d = max_abs_diff(ours[i].values, ref[i].values);
    EXPECT_LT(d, kMaxAbsDiff) << "tokens of the reference: " << nlohmann::json(ref[i].tokens).dump();
    worst = std::max(worst, d);
  }
  std::cout << "[ embed ] " << model_dir << " pool " << pool << ": " << ours.size() << " lines, max abs diff "
            << worst << "\n";
  return ref;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(CliEmbed, BertFolderMatchesIndependentReference) {
  const std::string dir = scratch_dir("embed-bert");
  const std::string model = dir + "/model";
  const auto vocab = wordpiece_vocab();
  // --std 0.2: attention far from uniform, so a padding or masking mistake shows.
  run_reference("bert_twin.py", {"--out", model, "--type", "bert", "--vocab", std::to_string(vocab.size()), "--seq",
                                 std::to_string(kSeq), "--hidden", "32", "--heads", "4", "--layers", "2", "--std",
                                 "0.2", "--seed", "11"});
  std::string vocab_text;
  for (const auto& t : vocab) vocab_text += t + "\n";
  write_file(model + "/vocab.txt", vocab_text);
  write_file(model + "/tokenizer_config.json", "{\"do_lower_case\": true, \"tokenizer_class\": \"BertTokenizer\"}\n");
  const std::string input = dir + "/texts.txt";
  write_file(input, input_text());

  // A small batch size so that lines are padded against different neighbours.
  auto mean = compare_embed(model, input, "mean", 32, {"--batch-size", "3"});
  auto cls = compare_embed(model, input, "cls", 32);

  // The inputs exercise what they claim to: ## pieces, [UNK], an empty line, a cut line.
  ASSERT_EQ(mean.size(), 9u);
  EXPECT_TRUE(contains(mean[2].tokens, "##believ"));
  EXPECT_TRUE(contains(mean[3].tokens, "[UNK]"));
  EXPECT_TRUE(contains(mean[3].tokens, "cafe"));  // uncased: accent stripped
  EXPECT_EQ(mean[1].tokens.size(), 2u);           // [CLS] [SEP]
  EXPECT_EQ(mean[5].text, "xyz qqq jumped?");     // the CR is not part of the text
  EXPECT_EQ(mean[7].tokens.size(), static_cast<size_t>(kSeq + 3));  // cut to the position limit
  // Mean and [CLS] pooling differ, and different lines give different vectors.
  EXPECT_GT(max_abs_diff(mean[0].values, cls[0].values), 1e-2);
  EXPECT_GT(max_abs_diff(mean[0].values, mean[2].values), 1e-2);
}

TEST(CliEmbed, CasedBertFolderKeepsCaseAndAccents) {
  // do_lower_case false: "Cafe" and "café" are other words than "cafe" ([UNK] here).
  const std::string dir = scratch_dir("embed-bert-cased");
  const std::string model = dir + "/model";
  auto vocab = wordpiece_vocab();
  vocab.push_back("The");
  vocab.push_back("Caf");
  vocab.push_back("##\xc3\xa9");
  run_reference("bert_twin.py", {"--out", model, "--type", "bert", "--vocab", std::to_string(vocab.size()), "--seq",
                                 std::to_string(kSeq), "--hidden", "16", "--heads", "2", "--layers", "1", "--std",
                                 "0.2", "--seed", "5"});
  std::string vocab_text;
  for (const auto& t : vocab) vocab_text += t + "\n";
  write_file(model + "/vocab.txt", vocab_text);
  write_file(model + "/tokenizer_config.json", "{\"do_lower_case\": false}\n");
  const std::string input = dir + "/texts.txt";
  write_file(input, "The dog and the Dog.\nCaf\xc3\xa9 cafe CAFE\n\n");
  auto ref = compare_embed(model, input, "mean", 16);
  ASSERT_EQ(ref.size(), 3u);
  EXPECT_TRUE(contains(ref[1].tokens, "##\xc3\xa9"));
  EXPECT_TRUE(contains(ref[0].tokens, "The"));
}

TEST(CliEmbed, RobertaFolderMatchesIndependentReference) {
  const std::string dir = scratch_dir("embed-roberta");
  const std::string model = dir + "/model";
  run_reference("tokenizers_ref.py", {"bpe-train", "--out", model, "--merges", "300"});
  const nlohmann::json vocab = nlohmann::json::parse(read_file(model + "/vocab.json"));
  run_reference("bert_twin.py", {"--out", model, "--type", "roberta", "--vocab", std::to_string(vocab.size()),
                                 "--seq", std::to_string(kSeq), "--hidden", "32", "--heads", "4", "--layers", "2",
                                 "--std", "0.2", "--seed", "12"});
  const std::string input = dir + "/texts.txt";
  write_file(input,
             "The quick brown fox jumps over the lazy dog.\n"
             "\n"
             "Tokenizers split text into words, unbelievably.\n"
             "Caf\xc3\xa9s in Z\xc3\xbcrich \xe4\xbb\x8a\xe5\xa4\xa9 \xf0\x9f\x98\x80!\n"
             "   spaces   and\ttabs  \n"
             "It's what they'd say: we're sure you'll see, running runner runs ran unbelievable tokenization.\n");
  auto mean = compare_embed(model, input, "mean", 32, {"--batch-size", "4"});
  compare_embed(model, input, "cls", 32);
  ASSERT_EQ(mean.size(), 6u);
  EXPECT_EQ(mean[0].tokens.front(), "<s>");
  EXPECT_EQ(mean[1].tokens.size(), 2u);                              // <s> </s>
  EXPECT_EQ(mean[5].tokens.size(), static_cast<size_t>(kSeq + 3));  // cut to the position limit
}

}  // namespace
