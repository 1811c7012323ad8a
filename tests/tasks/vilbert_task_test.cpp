// Task "vilbert" end to end on a tiny store written here: the data decides the
// visual widths, captions are swapped at swap_prob, weight decay skips biases and
// LayerNorm, and a few AdamW updates lower the loss.
#include <gtest/gtest.h>
#include <torch/types.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/tasks/vilbert_task.h"
#include "cotrain/train/adamw.h"
#include "support/support.h"

using namespace cotrain;

namespace {

const char* kColours[] = {"red", "blue", "green"};
const char* kAnimals[] = {"cat", "dog", "bird", "fish"};

// 12 images of 3 regions (4-d features that encode colour and animal, 3 classes).
std::string write_store(const std::string& dir) {
  write_file_atomically(dir + "/vocab.txt",
                        "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nred\nblue\ngreen\ncat\ndog\nbird\nfish\nsits\n");
  const std::string path = dir + "/shard-00000.bin";
  data::ShardWriter w(path, 4, 3);
  for (int i = 0; i < 12; ++i) {
    data::Regions r;
    r.image_id = "img" + std::to_string(i);
    r.width = 10, r.height = 10, r.num_boxes = 3, r.feature_dim = 4, r.num_classes = 3;
    for (int b = 0; b < 3; ++b) {
      r.boxes.insert(r.boxes.end(), {float(b), float(b), float(b + 5), float(b + 6)});
      r.features.insert(r.features.end(), {float(i % 3), float(i % 4), 0.5f * b, 1.0f});
      std::vector<float> p(3, 0.1f);
      p[static_cast<size_t>((i + b) % 3)] = 0.8f;
      r.class_probs.insert(r.class_probs.end(), p.begin(), p.end());
    }
    const uint32_t index = w.add_image(r);
    data::Caption c;
    c.image_key = r.image_id;
    c.text = std::string("a ") + kColours[i % 3] + " " + kAnimals[i % 4] + " sits";
    w.add_caption(c, index);
  }
  w.finish();
  return path;
}

}  // namespace

TEST(VilbertTask, TrainsOnATinyStore) {
  const std::string dir = cotrain::testing::scratch_dir("vilbert-task");
  Config config;
  apply_config_files(config, {cotrain::testing::source_path("configs/vilbert-tiny.yaml")});
  config.data.train = {write_store(dir)};
  config.data.vocab = dir + "/vocab.txt";
  config.trainer.batch_size = 8;
  config.model.hidden_size = 16, config.model.intermediate_size = 32;
  config.vilbert.v_hidden_size = 8, config.vilbert.v_intermediate_size = 8, config.vilbert.bi_hidden_size = 8;
  auto task = tasks::make_vilbert_task(config, {});
  auto& vt = static_cast<tasks::VilbertTask&>(*task);
  // The store decides the visual input widths and the vocabulary the text's.
  EXPECT_EQ(config.vilbert.v_feature_size, 4);
  EXPECT_EQ(config.vilbert.v_target_size, 3);
  EXPECT_EQ(config.model.vocab_size, 14);

  auto params = task->parameters();
  for (const auto& p : params) {
    const bool no_decay = p.name.find("LayerNorm") != std::string::npos ||
                          (p.name.size() > 5 && p.name.compare(p.name.size() - 5, 5, ".bias") == 0);
    EXPECT_EQ(p.decay, !no_decay) << p.name;
    EXPECT_EQ(p.lr_scale, 1.0) << p.name;  // no text_init: nothing at the text multiplier
  }

  Rng rng(11);
  int64_t swapped = 0, total = 0;
  for (int i = 0; i < 50; ++i) {
    tasks::VilbertBatch b = vt.next_batch(rng);
    swapped += b.alignment_labels.sum().item<int64_t>();
    total += b.alignment_labels.numel();
    EXPECT_EQ(b.region_masked.select(1, 0).sum().item<int64_t>(), 0);  // never the IMG token
    EXPECT_EQ(b.features.size(1), 4);                                   // 3 regions + IMG
  }
  EXPECT_NEAR(static_cast<double>(swapped) / total, 0.5, 0.08);  // 400 draws: sd 0.025

  OptimizerConfig opt;
  opt.lr = 2e-3;
  train::AdamW adam(params, opt);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    adam.zero_grad();
    train::LossTerms l = task->next_loss(rng);
    l.terms.at("total").backward();
    adam.step(opt.lr);
    const double v = l.terms.at("total").item<double>();
    if (step < 10) first += v / 10;
    if (step >= 50) last += v / 10;
  }
  EXPECT_LT(last, first - 0.3) << "first 10 updates " << first << ", last 10 " << last;

  // save_model writes a folder that --init and `cotrain loss` read.
  task->save_model(dir + "/model");
  auto folder = models::read_vilbert_folder(dir + "/model");
  EXPECT_EQ(folder.vilbert.v_feature_size, 4);
  EXPECT_FALSE(folder.vocab_path.empty());
}
