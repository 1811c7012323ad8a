// The ViLBERT fine-tuning tasks through the program, the way a user runs them:
// `cotrain pretrain --task vilbert` writes a folder, `cotrain finetune --task
// vilbert-retrieval | vilbert-vqa | vilbert-grounding --init` that folder's checkpoint,
// the finish hooks print their dev scores as JSON, and `cotrain eval --task retrieval
// --model` reads the fine-tuned retrieval run back. What each loss and head computes is
// checked in vilbert_ft_task_test.cpp and against the twin in vilbert_ft_golden_test.cpp;
// this file checks the wiring: options, folders, outputs, and errors a user would meet.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/data/shards.h"
#include "cli_json.h"
#include "support/support.h"
#include "vilbert_ft_test_data.h"

namespace ct = cotrain::testing;
using namespace cotrain;

namespace {

using cotrain::testing::vilbert_ft_image;
using cotrain::testing::last_json_line;
const auto& kColours = cotrain::testing::kFtColours;
const auto& kAnimals = cotrain::testing::kFtAnimals;

struct Fixture {
  std::string dir, vocab, store, regions;
};

Fixture write_fixture(const std::string& name) {
  Fixture f;
  f.dir = ct::scratch_dir(name);
  f.vocab = f.dir + "/vocab.txt";
  write_file_atomically(f.vocab, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nred\nblue\ngreen\ncat\ndog\nbird\nfish\n"
                                 "sits\nwhat\ncolour\nanimal\nleft\nmiddle\nright\nthe\none\n");
  f.store = f.dir + "/shard-00000.bin";
  data::ShardWriter w(f.store, 4, 3);
  for (int i = 0; i < 12; ++i) {
    const uint32_t index = w.add_image(vilbert_ft_image(i));
    data::Caption c;
    c.image_key = "img" + std::to_string(i);
    c.text = std::string("a ") + kColours[i % 3] + " " + kAnimals[i % 4] + " sits";
    w.add_caption(c, index);
  }
  w.finish();
  f.regions = f.dir + "/regions.tsv";
  data::RegionsTsvWriter tsv(f.regions);
  for (int i = 0; i < 12; ++i) tsv.write(vilbert_ft_image(i));
  tsv.close();
  return f;
}

// Options that make the runs a few updates long on one thread.
std::vector<std::string> short_run(std::vector<std::string> args) {
  for (const char* s : {"trainer.batch_size=4", "trainer.max_updates=3", "trainer.save_every=0", "trainer.threads=1",
                        "trainer.display_every=1"}) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

// Pretraining also makes the tiny preset tinier; fine-tuning takes the model's shape
// from the --init folder.
std::vector<std::string> small(std::vector<std::string> args) {
  for (const char* s : {"model.hidden_size=16", "model.intermediate_size=32", "vilbert.v_hidden_size=8",
                        "vilbert.v_intermediate_size=8", "vilbert.bi_hidden_size=8", "vilbert.v_feature_size=4",
                        "vilbert.v_target_size=3"}) {
    args.push_back("--set");
    args.push_back(s);
  }
  return short_run(args);
}

// The checkpoint folder a run's `latest` file names.
std::string latest_checkpoint(const std::string& run) {
  std::string name = ct::read_file(run + "/latest");
  name = name.substr(0, name.find('\n'));
  return run + "/" + name;
}

// Pretrains the tiny ViLBERT for 3 updates and returns its checkpoint folder.
std::string pretrain(const Fixture& f) {
  const std::string run = f.dir + "/pretrained";
  auto r = ct::run_cotrain(small({"pretrain", "--task", "vilbert", "--config",
                                  ct::source_path("configs/vilbert-tiny.yaml"), "--data", f.store, "--vocab",
                                  f.vocab, "--out", run}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return latest_checkpoint(run);
}

}  // namespace

TEST(VilbertFtCli, RetrievalFinetuneThenEvalByTheAlignmentHead) {
  const Fixture f = write_fixture("vilbert-ft-cli-retrieval");
  const std::string init = pretrain(f);
  ASSERT_TRUE(std::filesystem::exists(init + "/model.safetensors")) << init;
  const std::string run = f.dir + "/retrieval";
  auto ft = ct::run_cotrain(short_run({"finetune", "--task", "vilbert-retrieval", "--init", init, "--data", f.store,
                                   "--out", run, "--set", "vilbert_ft.hard_negative_pool=2"}));
  ASSERT_EQ(ft.exit_code, 0) << ft.output;
  const std::string checkpoint = latest_checkpoint(run);
  EXPECT_TRUE(std::filesystem::exists(checkpoint + "/model.safetensors"));
  // The run's metrics name the 4-way loss for every update.
  const std::string metrics = ct::read_file(run + "/metrics.jsonl");
  EXPECT_NE(metrics.find("\"update\":3"), std::string::npos) << metrics;

  // Zero-shot-style evaluation of the fine-tuned model on its 12 pairs: a ranking of
  // 12 images per caption, recalls between 0 and 100, chance at 1/12.
  const std::string out = f.dir + "/retrieval.json";
  auto ev = ct::run_cotrain({"eval", "--task", "retrieval", "--model", run, "--data", f.store, "--out", out,
                             "--threads", "1", "--batch-size", "16"});
  ASSERT_EQ(ev.exit_code, 0) << ev.output;
  const nlohmann::json score = nlohmann::json::parse(ct::read_file(out));
  EXPECT_EQ(score.at("images").get<int>(), 12) << score.dump();
  for (const char* key : {"ir_r1", "ir_r10", "tr_r1", "tr_r10"}) {
    const double v = score.at(key).get<double>();
    EXPECT_GE(v, 0.0) << key;
    EXPECT_LE(v, 100.0) << key;
  }
  EXPECT_GE(score.at("ir_r10").get<double>(), score.at("ir_r1").get<double>());
  EXPECT_NEAR(score.at("chance_r1").get<double>(), 100.0 / 12, 1e-6) << score.dump();

  // A retrieval fine-tuning without --init and without a vocabulary is refused clearly.
  auto none = ct::run_cotrain({"finetune", "--task", "vilbert-retrieval", "--data", f.store, "--out",
                               f.dir + "/none", "--set", "trainer.max_updates=1"});
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("--init"), std::string::npos) << none.output;
}

TEST(VilbertFtCli, VqaAndGroundingFinetunePrintTheirDevScores) {
  const Fixture f = write_fixture("vilbert-ft-cli-heads");
  const std::string init = pretrain(f);
  std::string vqa, grounding;
  const char* kWhere[] = {"left", "middle", "right"};
  for (int i = 0; i < 12; ++i) {
    const std::string id = "img" + std::to_string(i);
    vqa += R"({"image": ")" + id + R"(", "question": "what colour", "answers": {")" + kColours[i % 3] +
           R"(": 1.0}})" "\n";
    const int b = i % 3;
    grounding += R"({"image": ")" + id + R"(", "expression": "the )" + kWhere[b] + R"( one", "box": [)" +
                 std::to_string(4 * b + 1) + ", " + std::to_string(3 * b) + ", " + std::to_string(4 * b + 7) + ", " +
                 std::to_string(3 * b + 8) + "]}\n";
  }
  write_file_atomically(f.dir + "/vqa.jsonl", vqa);
  write_file_atomically(f.dir + "/grounding.jsonl", grounding);

  auto v = ct::run_cotrain(short_run({"finetune", "--task", "vilbert-vqa", "--init", init, "--data", f.dir + "/vqa.jsonl",
                                  "--out", f.dir + "/vqa", "--set", "data.valid=" + f.dir + "/vqa.jsonl", "--set",
                                  "vilbert_ft.images=" + f.regions}));
  ASSERT_EQ(v.exit_code, 0) << v.output;
  const nlohmann::json vr = last_json_line(v.output);
  ASSERT_TRUE(vr.contains("accuracy")) << v.output;
  EXPECT_EQ(vr.at("questions").get<int>(), 12);
  EXPECT_GE(vr.at("accuracy").get<double>(), 0.0);
  EXPECT_LE(vr.at("accuracy").get<double>(), 1.0);
  EXPECT_TRUE(std::filesystem::exists(latest_checkpoint(f.dir + "/vqa") + "/answers.json"));

  auto g = ct::run_cotrain(short_run({"finetune", "--task", "vilbert-grounding", "--init", init, "--data",
                                  f.dir + "/grounding.jsonl", "--out", f.dir + "/grounding", "--set",
                                  "data.valid=" + f.dir + "/grounding.jsonl", "--set", "vilbert_ft.images=" + f.store}));
  ASSERT_EQ(g.exit_code, 0) << g.output;
  const nlohmann::json gr = last_json_line(g.output);
  ASSERT_TRUE(gr.contains("accuracy")) << g.output;
  EXPECT_EQ(gr.at("expressions").get<int>(), 12);

  // Grounding data naming an image the region file lacks: the file, line and image.
  write_file_atomically(f.dir + "/missing.jsonl", R"({"image": "img99", "expression": "x", "box": [0, 0, 4, 4]})" "\n");
  auto bad = ct::run_cotrain(short_run({"finetune", "--task", "vilbert-grounding", "--init", init, "--data",
                                    f.dir + "/missing.jsonl", "--out", f.dir + "/bad", "--set",
                                    "vilbert_ft.images=" + f.regions}));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("missing.jsonl"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("img99"), std::string::npos) << bad.output;
}
