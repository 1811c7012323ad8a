#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/data/captions.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::data;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Captions, CocoJoinsAnnotationsToImages) {
  std::string dir = scratch_dir("cap_coco");
  write_file(dir + "/captions_val2014.json", R"({
    "images": [{"id": 42, "file_name": "COCO_val_42.jpg", "width": 640, "height": 480},
               {"id": 7, "file_name": "COCO_val_7.jpg"}],
    "annotations": [{"image_id": 7, "id": 1, "caption": "A dog."},
                    {"image_id": 42, "id": 2, "caption": "Two cats on a sofa."},
                    {"image_id": 42, "id": 3, "caption": "Cats resting."}]})");
  auto caps = read_captions(dir + "/captions_val2014.json", {CaptionFormat::automatic, "/imgs", ""});
  ASSERT_EQ(caps.size(), 3u);
  EXPECT_EQ(caps[1].image_key, "42");
  EXPECT_EQ(caps[1].image_path, "/imgs/COCO_val_42.jpg");
  EXPECT_EQ(caps[1].text, "Two cats on a sofa.");
  EXPECT_EQ(caps[1].record, 1);
  EXPECT_EQ(caps[0].image_key, "7");
  // Default root: the caption file's folder.
  EXPECT_EQ(read_coco_captions(dir + "/captions_val2014.json")[0].image_path, dir + "/COCO_val_7.jpg");
}

TEST(Captions, CocoErrorsNameTheAnnotation) {
  std::string dir = scratch_dir("cap_coco_bad");
  write_file(dir + "/c.json", R"({"images": [{"id": 1, "file_name": "a.jpg"}],
    "annotations": [{"image_id": 1, "caption": "ok"}, {"image_id": 2, "caption": "orphan"}]})");
  auto why = error_of([&] { read_coco_captions(dir + "/c.json"); });
  EXPECT_NE(why.find("c.json: annotations[1]: image_id 2 is not in \"images\""), std::string::npos) << why;
  write_file(dir + "/d.json", R"({"images": [{"id": 1, "file_name": "a.jpg"}],
    "annotations": [{"image_id": 1, "caption": 5}]})");
  why = error_of([&] { read_coco_captions(dir + "/d.json"); });
  EXPECT_NE(why.find("annotations[0]: \"caption\" is not a string"), std::string::npos) << why;
  write_file(dir + "/e.json", R"({"images": [}")");
  why = error_of([&] { read_coco_captions(dir + "/e.json"); });
  EXPECT_NE(why.find("e.json: invalid JSON"), std::string::npos) << why;
}

TEST(Captions, KarpathySplitFilterAndKeys) {
  std::string dir = scratch_dir("cap_karpathy");
  write_file(dir + "/dataset_coco.json", R"({"dataset": "coco", "images": [
    {"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg", "imgid": 0, "split": "test",
     "cocoid": 391895, "sentences": [{"raw": "A man riding a bike.", "tokens": ["a"]}, {"raw": "Biker on a road."}]},
    {"filepath": "train2014", "filename": "b.jpg", "imgid": 1, "split": "train", "cocoid": 9, "sentences": [{"raw": "x"}]},
    {"filepath": "val2014", "filename": "c.jpg", "imgid": 2, "split": "restval", "cocoid": 10, "sentences": [{"raw": "y"}]}]})");
  write_file(dir + "/dataset_flickr30k.json", R"({"images": [
    {"filename": "1000092795.jpg", "imgid": 0, "split": "train", "sentences": [{"raw": "Two young guys."}]}]})");
  auto all = read_captions(dir + "/dataset_coco.json");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].image_key, "391895");
  EXPECT_EQ(all[0].image_path, dir + "/val2014/COCO_val2014_000000391895.jpg");
  EXPECT_EQ(all[1].text, "Biker on a road.");
  EXPECT_EQ(all[1].split, "test");
  EXPECT_EQ(all[3].record, 2);
  CaptionOptions train;
  train.splits = "train,restval";
  auto t = read_karpathy_captions(dir + "/dataset_coco.json", train);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].image_key, "9");
  EXPECT_EQ(t[1].image_key, "10");
  auto flickr = read_captions(dir + "/dataset_flickr30k.json");
  ASSERT_EQ(flickr.size(), 1u);
  EXPECT_EQ(flickr[0].image_key, "1000092795");  // file stem: the bottom-up TSV's image_id
}

TEST(Captions, JsonlWithOptionalFieldsAndLineNumbers) {
  std::string dir = scratch_dir("cap_jsonl");
  write_file(dir + "/c.jsonl",
             "{\"image\": \"img/a.png\", \"caption\": \"grinning face\", \"paraphrases\": [\"笑脸\"], "
             "\"tags\": [\"face\", \"grin\"], \"concept\": \"1F600\", \"split\": \"train\"}\n"
             "\n"
             "{\"image\": \"/abs/b.png\", \"caption\": \"red heart\", \"image_id\": 17}\n");
  auto caps = read_captions(dir + "/c.jsonl");
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[0].image_path, dir + "/img/a.png");
  EXPECT_EQ(caps[0].image_key, "img/a.png");
  EXPECT_EQ(caps[0].paraphrases, std::vector<std::string>{"笑脸"});
  EXPECT_EQ(caps[0].tags, (std::vector<std::string>{"face", "grin"}));
  EXPECT_EQ(caps[0].concept, "1F600");
  EXPECT_EQ(caps[1].image_path, "/abs/b.png");
  EXPECT_EQ(caps[1].image_key, "17");
  EXPECT_EQ(caps[1].record, 3);
  CaptionOptions train;
  train.splits = "train";
  EXPECT_EQ(read_captions(dir + "/c.jsonl", train).size(), 1u);

  write_file(dir + "/bad.jsonl", "{\"image\": \"a.png\", \"caption\": \"ok\"}\n{\"image\": \"b.png\"}\n");
  auto why = error_of([&] { read_captions(dir + "/bad.jsonl"); });
  EXPECT_NE(why.find("bad.jsonl: line 2: missing \"caption\""), std::string::npos) << why;
  write_file(dir + "/broken.jsonl", "{\"image\": \"a.png\", \"caption\": \"ok\"}\n{\"image\": \"a.png\", \"capt");
  why = error_of([&] { read_captions(dir + "/broken.jsonl"); });
  EXPECT_NE(why.find("broken.jsonl: line 2: invalid JSON"), std::string::npos) << why;
}

TEST(Captions, MissingImageNamesTheRecord) {
  std::string dir = scratch_dir("cap_missing");
  write_file(dir + "/a.png", "x");
  write_file(dir + "/c.jsonl",
             "{\"image\": \"a.png\", \"caption\": \"one\"}\n{\"image\": \"a.png\", \"caption\": \"two\"}\n"
             "{\"image\": \"gone.png\", \"caption\": \"three\"}\n");
  auto caps = read_captions(dir + "/c.jsonl");
  auto why = error_of([&] { check_caption_images(caps, dir + "/c.jsonl"); });
  EXPECT_NE(why.find("c.jsonl: record 3: image '" + dir + "/gone.png' not found"), std::string::npos) << why;
  caps.pop_back();
  EXPECT_EQ(error_of([&] { check_caption_images(caps, "c.jsonl"); }), "");
}

TEST(Captions, FormatNames) {
  EXPECT_EQ(parse_caption_format("karpathy"), CaptionFormat::karpathy);
  EXPECT_THROW(parse_caption_format("csv"), Error);
}
