// Task "unimo" end to end on a tiny shard: the batch builder's output (every part,
// CMCL cells with paraphrase / retrieval positives and rewrite / TF-IDF / in-batch
// negatives), `cotrain batch`'s JSON round trip, and `cotrain loss` against the
// PyTorch twin recomputing every loss from the same JSON and saved folder.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/objectives/cmcl.h"
#include "cotrain/tasks/unimo_losses.h"
#include "cotrain/tasks/unimo_task.h"
#include "cotrain/train/trainer.h"
#include "support/support.h"

using namespace cotrain;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

constexpr int64_t kD = 6, kC = 3;

data::Regions regions(const std::string& id, int64_t n, float base) {
  data::Regions r;
  r.image_id = id;
  r.width = 40;
  r.height = 40;
  r.num_boxes = n;
  r.feature_dim = kD;
  r.num_classes = kC;
  for (int64_t i = 0; i < n; ++i) {
    const float x = static_cast<float>(i % 2) * 20.0f, y = static_cast<float>(i / 2) * 20.0f;
    r.boxes.insert(r.boxes.end(), {x, y, x + 20.0f, y + 20.0f});
    for (int64_t k = 0; k < kD; ++k) r.features.push_back(base + std::sin(static_cast<float>(i * kD + k) + base));
    for (int64_t k = 0; k < kC; ++k) r.class_probs.push_back(k == i % kC ? 0.8f : 0.1f);
  }
  return r;
}

struct Fixture {
  std::string dir;
  Config config;
};

Fixture make_fixture(const std::string& name) {
  Fixture f;
  f.dir = scratch_dir(name);
  {
    data::ShardWriter w(f.dir + "/shard-00000.bin", kD, kC);
    const std::vector<std::pair<std::string, std::vector<std::string>>> captions = {
        {"red heart", {"coeur rouge", "rotes herz"}},
        {"blue heart", {"coeur bleu"}},
        {"smiling face", {"visage souriant"}},
        {"waving hand: dark skin tone", {}},
        {"grinning face with big eyes", {"grinsendes gesicht"}},
        {"cat face", {"chat"}},
    };
    for (size_t i = 0; i < captions.size(); ++i) {
      const uint32_t image = w.add_image(regions("img" + std::to_string(i), 2 + static_cast<int64_t>(i % 3),
                                                 0.3f * static_cast<float>(i)));
      data::Caption c;
      c.text = captions[i].first;
      c.paraphrases = captions[i].second;
      w.add_caption(c, image);
    }
    w.finish();
  }
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const char* t : {"red", "blue", "green", "heart", "smiling", "frowning", "face", "waving", "hand", ":", "dark",
                        "light", "skin", "tone", "grinning", "with", "big", "small", "eyes", "cat", "dog", "coeur",
                        "rouge", "bleu", "rotes", "herz", "visage", "souriant", "grinsendes", "gesicht", "chat", "a",
                        "the", "on"})
    vocab += std::string(t) + "\n";
  write_file(f.dir + "/vocab.txt", vocab);
  write_file(f.dir + "/lexicons/test.txt", "red | blue | green\nsmiling | frowning\ndark skin tone | light skin tone\n");
  write_file(f.dir + "/texts.txt", "a red heart\nthe dog\ngrinning face with big eyes on a cat\n");
  Config& c = f.config;
  c.model.hidden_size = 16;
  c.model.num_hidden_layers = 1;
  c.model.num_attention_heads = 2;
  c.model.intermediate_size = 32;
  c.model.max_position_embeddings = 24;
  c.data.train = {f.dir};
  c.data.vocab = f.dir + "/vocab.txt";
  c.data.max_length = 12;
  c.trainer.batch_size = 6;
  c.unimo.lexicons = f.dir + "/lexicons";
  c.unimo.text_corpus = f.dir + "/texts.txt";
  c.unimo.text_ratio = 1.0 / 6;
  c.unimo.image_ratio = 1.0 / 6;
  c.unimo.retrieval_threshold = -1.0;  // every pair gets a retrieved image
  c.unimo.rewrite_negatives = 2;
  c.unimo.tfidf_negatives = 1;
  return f;
}

}  // namespace

TEST(UnimoTask, BatchHasEveryPartAndTheCellsAreRight) {
  Fixture f = make_fixture("unimo-task-batch");
  auto task = tasks::make_unimo_task(f.config, {});
  auto& unimo = static_cast<tasks::UnimoTask&>(*task);
  EXPECT_EQ(f.config.unimo.region_feature_dim, kD);
  EXPECT_EQ(f.config.unimo.num_region_classes, kC);
  Rng rng(5);
  tasks::UnimoBatch b = unimo.next_batch(rng);
  EXPECT_EQ(b.examples, 6);
  ASSERT_TRUE(b.text.defined() && b.image.defined() && b.pair_text.defined() && b.cmcl_images.defined());
  EXPECT_EQ(b.text.input_ids.size(0), 1);
  EXPECT_EQ(b.image.features.size(0), 1);
  const int64_t P = b.pair_text.input_ids.size(0);
  EXPECT_EQ(P, 4);
  // MLM labels only where the text part has real tokens; at least one per row.
  EXPECT_TRUE((b.pair_text.labels.ne(-100).sum(1) >= 1).all().item<bool>());
  // MRM: masked regions are real, zeroed in the input, kept in the targets.
  at::Tensor m = b.pair_image.masked.to(at::kBool);
  EXPECT_TRUE(b.pair_image.region_mask.masked_select(m).eq(1).all().item<bool>());
  EXPECT_EQ(b.pair_image.features.abs().sum(-1).masked_select(m).sum().item<float>(), 0.0f);
  EXPECT_GT(b.pair_image.target_features.abs().sum(-1).masked_select(m).min().item<float>(), 0.0f);
  ASSERT_TRUE(b.pair_image.target_classes.defined());
  // CMCL: one anchor per pair, its own cell first and positive; at least one rewrite
  // negative for colour captions; in-batch negatives both ways.
  ASSERT_EQ(b.cells.kind.size(0), P);
  for (int64_t a = 0; a < P; ++a) {
    EXPECT_EQ(b.cells.image[a][0].item<int64_t>(), a);
    EXPECT_EQ(b.cells.text[a][0].item<int64_t>(), a);
    EXPECT_EQ(b.cells.kind[a][0].item<int64_t>(), objectives::kCmclPositive);
    int64_t in_batch = 0, retrieved_images = 0;
    for (int64_t k = 0; k < b.cells.kind.size(1); ++k) {
      const int64_t i = b.cells.image[a][k].item<int64_t>(), t = b.cells.text[a][k].item<int64_t>();
      const int64_t kind = b.cells.kind[a][k].item<int64_t>();
      if (kind == objectives::kCmclNegative && ((i == a && t < P && t != a) || (t == a && i < P && i != a))) ++in_batch;
      if (kind == objectives::kCmclPositive && i >= P) ++retrieved_images;
    }
    EXPECT_EQ(in_batch, 2 * (P - 1)) << "anchor " << a;
    EXPECT_EQ(retrieved_images, 1) << "threshold -1: every pair retrieves an image";
  }
  EXPECT_GT(b.cmcl_images.features.size(0), P);
  EXPECT_GT(b.cmcl_texts.input_ids.size(0), P);
  // The JSON round trip is exact.
  tasks::UnimoBatch back = tasks::unimo_batch_from_json(tasks::unimo_batch_to_json(b));
  EXPECT_TRUE(back.pair_image.features.equal(b.pair_image.features));
  EXPECT_TRUE(back.cells.kind.equal(b.cells.kind));
  EXPECT_TRUE(back.cmcl_texts.input_ids.equal(b.cmcl_texts.input_ids));
}

TEST(UnimoTask, CotrainLossAgreesWithTheTwinOnABuiltBatch) {
  Fixture f = make_fixture("unimo-task-loss");
  const std::string model_dir = f.dir + "/model", batch_path = f.dir + "/batch.json";
  {
    Config config = f.config;
    auto task = tasks::make_unimo_task(config, {});
    {
      torch::NoGradGuard no_grad;  // non-trivial biases and LayerNorms for the twin to use
      for (auto& p : task->module().named_parameters()) p.value().add_(at::randn(p.value().sizes()) * 0.05);
    }
    task->save_model(model_dir);
  }
  Config config = f.config;
  nlohmann::json batch = tasks::write_unimo_batch(config, {});
  write_file(batch_path, batch.dump());
  nlohmann::json ours = tasks::unimo_batch_loss(config, {model_dir}, batch);
  nlohmann::json twin = nlohmann::json::parse(
      cotrain::testing::run_reference("unimo_twin.py", {"loss", "--model", model_dir, "--batch", batch_path}));
  for (const char* k : {"mlm", "mrm_reg", "mrm_cls", "cmcl", "logit_scale", "total"}) {
    ASSERT_TRUE(ours.contains(k)) << k;
    ASSERT_TRUE(twin.contains(k)) << k;
    const double a = ours[k].get<double>(), e = twin[k].get<double>();
    EXPECT_NEAR(a, e, 2e-6 * std::max(1.0, std::abs(e))) << k;
  }
  EXPECT_EQ(ours.size(), twin.size());
  // The folder round-trips: loading it again gives the same losses.
  nlohmann::json again = tasks::unimo_batch_loss(config, {model_dir}, batch);
  EXPECT_EQ(again["total"].get<double>(), ours["total"].get<double>());
}

TEST(UnimoTask, BadBatchJsonNamesThePart) {
  nlohmann::json j = {{"task", "unimo"},
                      {"text", {{"input_ids", {{"shape", {1, 3}}, {"data", {2, 5, 3}}}},
                                {"attention_mask", {{"shape", {1, 2}}, {"data", {1, 1}}}},
                                {"labels", {{"shape", {1, 3}}, {"data", {-100, 5, -100}}}}}}};
  try {
    tasks::unimo_batch_from_json(j);
    FAIL() << "mismatched shapes must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("text.attention_mask"), std::string::npos) << e.what();
  }
}

TEST(UnimoTask, ConfigRangesAreChecked) {
  UnimoConfig u;
  u.box_dim = 4;
  EXPECT_THROW(tasks::validate_unimo_config(u), Error);
  u = UnimoConfig{};
  u.text_ratio = 0.6;
  u.image_ratio = 0.5;
  EXPECT_THROW(tasks::validate_unimo_config(u), Error);
  EXPECT_NO_THROW(tasks::validate_unimo_config(UnimoConfig{}));
}

// logit_scale takes no weight decay and is left out when the temperature is fixed.
TEST(UnimoTask, TemperatureParameter) {
  Fixture f = make_fixture("unimo-task-temperature");
  auto task = tasks::make_unimo_task(f.config, {});
  bool found = false;
  for (const auto& p : task->parameters())
    if (p.name == "logit_scale") {
      found = true;
      EXPECT_FALSE(p.decay);
      EXPECT_NEAR(p.param.item<double>(), std::log(1 / 0.07), 1e-6);
    }
  EXPECT_TRUE(found);
  f.config.unimo.learn_temperature = false;
  auto fixed = tasks::make_unimo_task(f.config, {});
  for (const auto& p : fixed->parameters()) EXPECT_NE(p.name, "logit_scale");
}

// The trainer drives the task: on six pairs, 40 updates lower every objective, and the
// checkpoint folder loads back as a UNIMO folder.
TEST(UnimoTask, TrainsAndSaves) {
  Fixture f = make_fixture("unimo-task-train");
  f.config.trainer.max_updates = 40;
  f.config.trainer.save_every = 0;
  f.config.trainer.display_every = 1000;
  f.config.trainer.threads = 1;
  f.config.optim.lr = 3e-3;
  f.config.schedule.kind = "constant";
  f.config.model.hidden_dropout_prob = 0.0;
  f.config.model.attention_probs_dropout_prob = 0.0;
  auto task = tasks::make_unimo_task(f.config, {});
  Rng probe_rng(99);
  auto& unimo = static_cast<tasks::UnimoTask&>(*task);
  tasks::UnimoBatch probe = unimo.next_batch(probe_rng);
  auto losses_now = [&] {
    torch::NoGradGuard no_grad;
    unimo.module().eval();
    auto out = tasks::unimo_losses(*unimo.model().model, probe, f.config.unimo);
    unimo.module().train();
    std::map<std::string, double> v;
    for (const auto& [k, t] : out.terms) v[k] = t.item<double>();
    return v;
  };
  auto before = losses_now();
  train::Trainer trainer(f.config, *task, train::TrainerOptions{f.dir + "/run", false, 0});
  train::TrainResult result = trainer.run();
  EXPECT_EQ(result.updates, 40);
  auto after = losses_now();
  for (const char* k : {"mlm", "mrm_reg", "mrm_cls", "cmcl", "total"}) EXPECT_LT(after[k], before[k]) << k;
  models::UnimoFolder back = models::load_unimo_folder(result.checkpoint);
  EXPECT_EQ(back.geometry.region_feature_dim, kD);
  ASSERT_TRUE(back.tokenizer);
}

// A paraphrase that is only ever a positive lets CMCL fall by pulling every image
// towards whatever paraphrases share (on the emoji data: another language's script);
// with unimo.in_batch_extra_texts each pair's paraphrase is also a negative of every
// other pair's image in the batch.
TEST(UnimoTask, ParaphrasesAreInBatchNegativesOfOtherImages) {
  for (bool on : {true, false}) {
    Fixture f = make_fixture(on ? "unimo-task-extra-on" : "unimo-task-extra-off");
    f.config.unimo.text_corpus = "";  // positives beyond the caption are then paraphrases only
    f.config.unimo.in_batch_extra_texts = on;
    auto task = tasks::make_unimo_task(f.config, {});
    Rng rng(11);
    tasks::UnimoBatch b = static_cast<tasks::UnimoTask&>(*task).next_batch(rng);
    const int64_t P = b.pair_text.input_ids.size(0), K = b.cells.kind.size(1);
    int64_t paraphrases = 0;
    for (int64_t a = 0; a < P; ++a) {
      std::set<int64_t> extra;  // a's paraphrase texts: positives with a's image, not its caption
      std::set<std::pair<int64_t, int64_t>> negatives;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = b.cells.image[a][k].item<int64_t>(), t = b.cells.text[a][k].item<int64_t>();
        const int64_t kind = b.cells.kind[a][k].item<int64_t>();
        if (kind == objectives::kCmclPositive && i == a && t >= P) extra.insert(t);
        if (kind == objectives::kCmclNegative) negatives.insert({i, t});
      }
      paraphrases += static_cast<int64_t>(extra.size());
      for (int64_t t : extra)
        for (int64_t other = 0; other < P; ++other) {
          if (other == a) continue;
          EXPECT_EQ(negatives.count({other, t}), on ? 1u : 0u) << "anchor " << a << " text " << t << " image " << other;
        }
    }
    EXPECT_GE(paraphrases, 2) << "the fixture has paraphrases for 5 of 6 captions";
  }
}
