#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/captions.h"
#include "cotrain/data/emoji.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::data;
using cotrain::testing::read_file;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

// A miniature of the fetched layout: three emoji, one with a skin-tone variant,
// English and Chinese annotations with different case / FE0F spellings.
std::string make_fixture() {
  std::string dir = scratch_dir("emoji_fixture");
  write_file(dir + "/emoji.json", R"([
    {"name": "GRINNING FACE", "unified": "1F600", "image": "1f600.png", "category": "Smileys & Emotion",
     "subcategory": "face-smiling", "short_names": ["grinning"], "has_img_google": true, "has_img_apple": true},
    {"name": "HEAVY BLACK HEART", "unified": "2764-FE0F", "image": "2764-fe0f.png", "category": "Smileys & Emotion",
     "subcategory": "heart", "short_names": ["heart"], "has_img_google": true, "has_img_apple": false},
    {"name": "WAVING HAND SIGN", "unified": "1F44B", "image": "1f44b.png", "category": "People & Body",
     "subcategory": "hand-fingers-open", "short_names": ["wave"], "has_img_google": true, "has_img_apple": true,
     "skin_variations": {"1F3FB": {"unified": "1F44B-1F3FB", "image": "1f44b-1f3fb.png",
                                   "has_img_google": true, "has_img_apple": true}}},
    {"name": "NEW THING", "unified": "1FAFF", "image": "1faff.png", "category": "Objects",
     "subcategory": "x", "short_names": ["new_thing"], "has_img_google": true, "has_img_apple": true}])");
  write_file(dir + "/emojibase/en/data.json", R"([
    {"label": "grinning face", "hexcode": "1f600", "tags": ["face", "grin"]},
    {"label": "red heart", "hexcode": "2764", "tags": ["heart"]},
    {"label": "waving hand", "hexcode": "1F44B", "tags": ["hand", "wave"],
     "skins": [{"label": "waving hand: light skin tone", "hexcode": "1F44B-1F3FB"}]}])");
  write_file(dir + "/emojibase/zh/data.json", R"([
    {"label": "嘿嘿", "hexcode": "1F600", "tags": ["笑脸"]},
    {"label": "红心", "hexcode": "2764-FE0F"},
    {"label": "挥手", "hexcode": "1F44B", "skins": [{"label": "挥手: 较浅肤色", "hexcode": "1F44B-1F3FB"}]}])");
  for (std::string f : {"1f600.png", "2764-fe0f.png", "1f44b.png", "1f44b-1f3fb.png", "1faff.png"})
    write_file(dir + "/img/google/64/" + f, "png");
  // Apple lacks the new emoji's file although its flag says it has one.
  for (std::string f : {"1f600.png", "1f44b.png", "1f44b-1f3fb.png"}) write_file(dir + "/img/apple/64/" + f, "png");
  return dir;
}

EmojiOptions zh_only() {
  EmojiOptions o;
  o.paraphrase_languages = {"zh"};
  return o;
}

}  // namespace

TEST(Emoji, KeyIgnoresCaseAndVariationSelector) {
  EXPECT_EQ(emoji_key("0023-fe0f-20e3"), "0023-20E3");
  EXPECT_EQ(emoji_key("0023-20E3"), "0023-20E3");
  EXPECT_EQ(emoji_key("2764-FE0F"), "2764");
  EXPECT_EQ(emoji_key("1f44b-1f3fb"), "1F44B-1F3FB");
}

TEST(Emoji, JoinsArtworkWithAnnotations) {
  auto data = load_emoji(make_fixture(), zh_only());
  EXPECT_EQ(data.base_emoji, 4);
  EXPECT_EQ(data.skin_variants, 1);
  EXPECT_EQ(data.without_annotation, 1);  // NEW THING
  ASSERT_EQ(data.entries.size(), 5u);
  const auto& grin = data.entries[0];
  EXPECT_EQ(grin.caption, "grinning face");
  EXPECT_EQ(grin.tags, (std::vector<std::string>{"face", "grin"}));
  EXPECT_EQ(grin.paraphrases, (std::vector<std::string>{"嘿嘿"}));  // name equals the label
  EXPECT_EQ(grin.images.size(), 2u);
  const auto& heart = data.entries[1];
  EXPECT_EQ(heart.caption, "red heart");  // joined through FE0F and case
  EXPECT_EQ(heart.paraphrases, (std::vector<std::string>{"红心", "heavy black heart"}));
  EXPECT_EQ(heart.images.count("apple"), 0u);  // has_img_apple false
  const auto& skin = data.entries[3];
  EXPECT_EQ(skin.id, "1F44B-1F3FB");
  EXPECT_EQ(skin.concept, "1F44B");
  EXPECT_EQ(skin.skin_tone, 1);
  EXPECT_EQ(skin.caption, "waving hand: light skin tone");
  EXPECT_EQ(skin.paraphrases, (std::vector<std::string>{"挥手: 较浅肤色"}));
  EXPECT_EQ(skin.tags, (std::vector<std::string>{"hand", "wave"}));  // from the base emoji
  const auto& fresh = data.entries[4];
  EXPECT_EQ(fresh.caption, "new thing");  // Unicode name fallback
  EXPECT_EQ(fresh.tags, std::vector<std::string>{"new_thing"});
  EXPECT_EQ(fresh.images.count("apple"), 0u);  // file missing
  EXPECT_EQ(data.images_per_artist["google"], 5);
  EXPECT_EQ(data.images_per_artist["apple"], 3);
}

TEST(Emoji, HeldOutConceptsAreSeededAndKeepFamiliesTogether) {
  std::vector<EmojiEntry> entries;
  for (int i = 0; i < 200; ++i) {
    EmojiEntry e;
    e.id = e.concept = "C" + std::to_string(i);
    entries.push_back(e);
  }
  auto a = held_out_concepts(entries, 0.1, 1);
  EXPECT_EQ(a.size(), 20u);
  EXPECT_EQ(held_out_concepts(entries, 0.1, 1), a);
  EXPECT_NE(held_out_concepts(entries, 0.1, 2), a);
  // Adding concepts keeps earlier held-out ones held out when they still rank low.
  auto small = held_out_concepts(entries, 0.0, 1);
  EXPECT_TRUE(small.empty());
  EXPECT_THROW(held_out_concepts(entries, 1.5, 1), Error);
}

TEST(Emoji, WritesJsonlPerArtistReadableAsCaptions) {
  std::string dir = make_fixture();
  auto data = load_emoji(dir, zh_only());
  std::string out = scratch_dir("emoji_out");
  auto summary = write_emoji_captions(data, out, 0.5, 3);
  EXPECT_EQ(summary.concepts, 4);
  EXPECT_EQ(summary.heldout_concepts, 2);
  EXPECT_EQ(summary.train_lines["google"] + summary.heldout_lines["google"], 5);
  auto caps = read_captions(out + "/google.jsonl");
  ASSERT_EQ(caps.size(), 5u);
  check_caption_images(caps, out + "/google.jsonl");  // relative paths resolve
  std::set<std::string> held;
  std::istringstream list(read_file(out + "/heldout.txt"));
  for (std::string c; std::getline(list, c);) held.insert(c);
  EXPECT_EQ(held.size(), 2u);
  for (const auto& c : caps) EXPECT_EQ(c.split, held.count(c.concept) ? "heldout" : "train") << c.concept;
  EXPECT_EQ(caps[3].concept, "1F44B");
  EXPECT_EQ(caps[3].image_key, "1f44b-1f3fb");  // file stem, as `cotrain regions --stem-ids`
  auto s = nlohmann::json::parse(read_file(out + "/summary.json"));
  EXPECT_EQ(s["images_per_artist"]["apple"].get<int>(), 3);
}

TEST(Emoji, MissingDataSaysHowToFetch) {
  try {
    load_emoji(scratch_dir("emoji_empty"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/fetch-emoji.sh"), std::string::npos) << e.what();
  }
}

// On the real packages, when scripts/fetch-emoji.sh has been run (skipped otherwise):
// the counts measured when the adapter was written.
TEST(Emoji, RealPackagesJoinCompletely) {
  const std::string dir = cotrain::testing::source_path("data/emoji");
  if (!std::ifstream(dir + "/emojibase/.fetched-17.0.0").good()) GTEST_SKIP() << "run scripts/fetch-emoji.sh first";
  auto data = load_emoji(dir);
  EXPECT_EQ(data.base_emoji, 1911);
  EXPECT_EQ(data.skin_variants, 1875);
  EXPECT_EQ(data.without_annotation, 0);  // every image has an English CLDR label
  EXPECT_EQ(data.images_per_artist["google"], 3786);
  EXPECT_EQ(data.images_per_artist["apple"], 3783);
  auto held = held_out_concepts(data.entries, 0.1, 13);
  EXPECT_EQ(held.size(), 191u);
}
