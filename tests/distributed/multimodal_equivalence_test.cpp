// Issue 8, "Beyond one process", for the multimodal pretraining tasks: 2 processes
// with global batch B end with the weights of 1 process with batch B (fp32
// tolerance, dropout 0) for
//   - UNIMO, whose CMCL gathers image and text features of all ranks with gradient
//     (paraphrase and retrieved positives, rewrite / TF-IDF / in-batch negatives and
//     a learned temperature all on), next to MLM and MRM over text-only, image-only
//     and pair rows split over the ranks;
//   - ViLBERT, whose alignment negatives (swapped captions) are drawn over the
//     global batch before it is split.
// Fine-tuning tasks still refuse several processes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cotrain/data/shards.h"
#include "distributed/equivalence_util.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::dist_test;
using cotrain::testing::run_cotrain;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

data::Regions regions(const std::string& id, int64_t n, int64_t dim, int64_t classes, float base) {
  data::Regions r;
  r.image_id = id;
  r.width = 40;
  r.height = 40;
  r.num_boxes = n;
  r.feature_dim = dim;
  r.num_classes = classes;
  for (int64_t i = 0; i < n; ++i) {
    const float x = static_cast<float>(i % 2) * 20.0f, y = static_cast<float>(i / 2) * 20.0f;
    r.boxes.insert(r.boxes.end(), {x, y, x + 20.0f, y + 20.0f});
    for (int64_t k = 0; k < dim; ++k) r.features.push_back(base + std::sin(static_cast<float>(i * dim + k) + base));
    for (int64_t k = 0; k < classes; ++k) r.class_probs.push_back(k == i % classes ? 0.8f : 0.1f);
  }
  return r;
}

// The runs' weights, losses and gradient norms; prints the difference.
void expect_equivalent(const std::string& task, int nproc, const std::string& dir,
                       const std::vector<std::string>& keys) {
  const double diff = max_weight_diff(dir + "/one", dir + "/two");
  const double moved = max_weight_change(dir + "/one");
  std::printf("[ %s ] %d processes vs 1: weights max |diff| %.3g after 4 updates (weights moved up to %.3g)\n",
              task.c_str(), nproc, diff, moved);
  EXPECT_LT(diff, 1e-5);
  EXPECT_GT(moved, 1e-3);
  expect_same_records(dir + "/one", dir + "/two", keys);
}

std::vector<std::string> with_sets(std::vector<std::string> args, const std::vector<std::string>& sets) {
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

// One process against `nproc` processes on the same UNIMO data and settings.
void check_unimo(const std::string& dir, int nproc, const std::vector<std::string>& batch_sets) {
  std::filesystem::create_directories(dir + "/pairs");
  {
    data::ShardWriter w(dir + "/pairs/shard-00000.bin", 6, 3);
    const std::vector<std::pair<std::string, std::vector<std::string>>> captions = {
        {"red heart", {"a red heart"}},       {"blue heart", {"the blue heart"}},
        {"smiling face", {"a smiling face"}}, {"waving hand: dark skin tone", {}},
        {"grinning face with big eyes", {}},  {"cat face", {"the cat face"}},
        {"green heart", {}},                  {"frowning face", {"a frowning face"}},
    };
    for (size_t i = 0; i < captions.size(); ++i) {
      const uint32_t image = w.add_image(regions("img" + std::to_string(i), 2 + static_cast<int64_t>(i % 3), 6, 3,
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
                        "light", "skin", "tone", "grinning", "with", "big", "small", "eyes", "cat", "dog", "a", "the",
                        "on"})
    vocab += std::string(t) + "\n";
  write_file(dir + "/vocab.txt", vocab);
  write_file(dir + "/lexicons/test.txt", "red | blue | green\nsmiling | frowning\ndark skin tone | light skin tone\n");
  write_file(dir + "/texts.txt", "a red heart\nthe dog\ngrinning face with big eyes on a cat\nthe green face\n");
  auto args = [&](const std::string& out) {
    return with_sets(with_sets({"pretrain", "--task", "unimo", "--data", dir + "/pairs", "--vocab", dir + "/vocab.txt", "--out",
                      out},
                     {"model.hidden_size=16", "model.num_hidden_layers=1", "model.num_attention_heads=2",
                      "model.intermediate_size=32", "model.max_position_embeddings=24", "model.hidden_dropout_prob=0",
                      "model.attention_probs_dropout_prob=0", "data.max_length=12",
                      "trainer.max_updates=4", "trainer.save_every=1", "trainer.keep_checkpoints=10",
                      "trainer.display_every=1", "trainer.threads=1", "trainer.seed=3", "optim.lr=1e-3",
                      "unimo.lexicons=" + dir + "/lexicons", "unimo.text_corpus=" + dir + "/texts.txt",
                      "unimo.paraphrase_positives=1",
                      "unimo.retrieval_positives=1", "unimo.retrieval_threshold=-1", "unimo.rewrite_negatives=2",
                      "unimo.tfidf_negatives=1", "unimo.learn_temperature=true"}),
                     batch_sets);
  };
  auto one = run_cotrain(args(dir + "/one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  auto two = run_cotrain(launched(nproc, args(dir + "/two")));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  expect_equivalent("unimo", nproc, dir,
                    {"loss", "loss/mlm", "loss/mrm_reg", "loss/mrm_cls", "loss/cmcl", "grad_norm"});
  // CMCL really contributes, and the learned temperature moves (so the weights
  // compared above check that its gradient adds up over the ranks).
  EXPECT_GT(records_of(dir + "/one").by_update.at(1).at("loss/cmcl").get<double>(), 0.1);
  auto scale_of = [](const std::string& folder) {
    return io::load_safetensors(folder + "/model.safetensors").tensors.at("logit_scale").item<double>();
  };
  const double scale_moved =
      std::abs(scale_of(latest_of(dir + "/one")) - scale_of(dir + "/one/checkpoints/update-0000001"));
  std::printf("[ unimo ] logit_scale moved %.3g after update 1\n", scale_moved);
  EXPECT_GT(scale_moved, 1e-4);
}

}  // namespace

TEST(DataParallel, TwoProcessesEqualOneForUnimo) {
  // 2 text-only, 2 image-only and 4 pair rows: each rank gets 1, 1 and 2.
  check_unimo(scratch_dir("dist-unimo"), 2,
              {"trainer.batch_size=8", "unimo.text_ratio=0.25", "unimo.image_ratio=0.25"});
}

TEST(DataParallel, ThreeProcessesEqualOneForUnimoWithUnevenParts) {
  // 2 text-only, 1 image-only and 6 pair rows over 3 ranks: ranks without a text-only
  // or image-only row, and CMCL image / text counts that differ between ranks.
  check_unimo(scratch_dir("dist-unimo3"), 3,
              {"trainer.batch_size=9", "unimo.text_ratio=0.2222", "unimo.image_ratio=0.1111"});
}

TEST(DataParallel, TwoProcessesEqualOneForVilbert) {
  const std::string dir = scratch_dir("dist-vilbert");
  write_file(dir + "/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nred\nblue\ngreen\ncat\ndog\nbird\nfish\nsits\n");
  std::filesystem::create_directories(dir + "/store");
  {
    const char* colours[] = {"red", "blue", "green"};
    const char* animals[] = {"cat", "dog", "bird", "fish"};
    data::ShardWriter w(dir + "/store/shard-00000.bin", 4, 3);
    for (int i = 0; i < 12; ++i) {
      const uint32_t index = w.add_image(regions("img" + std::to_string(i), 3, 4, 3, 0.25f * static_cast<float>(i)));
      data::Caption c;
      c.image_key = "img" + std::to_string(i);
      c.text = std::string("a ") + colours[i % 3] + " " + animals[i % 4] + " sits";
      w.add_caption(c, index);
    }
    w.finish();
  }
  auto args = [&](const std::string& out) {
    return with_sets({"pretrain", "--task", "vilbert", "--config", cotrain::testing::source_path("configs/vilbert-tiny.yaml"),
                      "--data", dir + "/store", "--vocab", dir + "/vocab.txt", "--out", out},
                     {"model.hidden_size=16", "model.intermediate_size=32", "model.hidden_dropout_prob=0",
                      "model.attention_probs_dropout_prob=0", "vilbert.v_hidden_size=8",
                      "vilbert.v_intermediate_size=8", "vilbert.bi_hidden_size=8", "vilbert.v_hidden_dropout_prob=0",
                      "vilbert.v_attention_probs_dropout_prob=0", "vilbert.region_mask_prob=0.3",
                      "trainer.batch_size=8", "trainer.max_updates=4", "trainer.save_every=1",
                      "trainer.keep_checkpoints=10", "trainer.display_every=1", "trainer.threads=1",
                      "trainer.seed=7", "optim.lr=1e-3", "schedule.kind=constant"});
  };
  auto one = run_cotrain(args(dir + "/one"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  auto two = run_cotrain(launched(2, args(dir + "/two")));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  expect_equivalent("vilbert", 2, dir, {"loss", "loss/mlm", "loss/region", "loss/alignment", "grad_norm"});

  // Fine-tuning is not data-parallel: it refuses several processes, naming the task.
  auto ft = run_cotrain(launched(2, with_sets({"finetune", "--task", "vilbert-retrieval", "--init",
                                               latest_of(dir + "/one"), "--data", dir + "/store", "--out",
                                               dir + "/ft"},
                                              {"trainer.batch_size=4", "trainer.max_updates=2", "trainer.threads=1"})));
  EXPECT_EQ(ft.exit_code, 2) << ft.output;
  EXPECT_NE(ft.output.find("task vilbert-retrieval does not support several processes"), std::string::npos)
      << ft.output;
}
