// ViLBERT's retrieval scorer (zero-shot by the alignment head): the batched, padded
// score matrix over every image x caption equals one model call per pair, each built
// here without padding, scored as softmax(alignment logits)[aligned] by the
// pretraining model itself.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/data/regions.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/tasks/vilbert_retrieval_scorer.h"
#include "cotrain/text/tokenizer.h"
#include "support/support.h"

using namespace cotrain;

namespace {

// The twin's vocabulary size is 53: five specials and 48 words.
void write_vocab(const std::string& dir) {
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int i = 0; i < 48; ++i) vocab += "w" + std::to_string(i) + "\n";
  cotrain::testing::write_file(dir + "/vocab.txt", vocab);
}

data::Regions random_regions(const std::string& id, int64_t n, int64_t F, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  data::Regions r;
  r.image_id = id;
  r.width = 100, r.height = 80, r.num_boxes = n, r.feature_dim = F;
  at::Tensor f = at::relu(at::randn({n, F}, g));
  r.features.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
  for (int64_t i = 0; i < n; ++i) {
    const float x = 5.f * static_cast<float>(i), y = 3.f * static_cast<float>(i);
    r.boxes.insert(r.boxes.end(), {x, y, x + 20.f + static_cast<float>(i), y + 15.f});
  }
  return r;
}

}  // namespace

TEST(VilbertRetrievalScorer, MatrixEqualsPerPairAlignmentScores) {
  const std::string dir = cotrain::testing::scratch_dir("vilbert-scorer");
  cotrain::testing::run_reference("vilbert_twin.py", {"--out", dir});
  write_vocab(dir);
  models::VilbertFolder folder = models::read_vilbert_folder(dir);
  const int64_t F = folder.vilbert.v_feature_size;

  tasks::RetrievalSet set;
  for (int i = 0; i < 3; ++i) {
    set.images.push_back(random_regions("img" + std::to_string(i), 2 + i, F, 10 + i));  // 2, 3, 4 regions
    set.image_keys.push_back("img" + std::to_string(i));
  }
  set.texts = {"w1 w5 w7", "w2", "w9 w3 w11 w4 w30", "w40 w41"};  // lengths differ: padding matters
  set.text_to_image = {0, 1, 2, 0};

  tasks::RetrievalScorerOptions options;
  options.batch_size = 5;  // 12 pairs: batches of 5, 5, 2
  tasks::VilbertRetrievalScorer scorer(dir, options);
  EXPECT_FALSE(scorer.fine_tuned());
  EXPECT_EQ(scorer.kind(), "vilbert");
  at::Tensor matrix = scorer.score_matrix(set, {0, 1, 2}, {0, 1, 2, 3});
  ASSERT_EQ(matrix.sizes().vec(), (std::vector<int64_t>{4, 3}));

  // The reference: the pretraining model, one unpadded pair at a time.
  models::VilbertForPretraining model(folder.text, folder.vilbert);
  models::load_vilbert_weights(*model, folder.weights, models::LoadMode::strict, dir);
  model->eval();
  torch::NoGradGuard no_grad;
  auto tokenizer = text::load_tokenizer(dir + "/vocab.txt", true);
  double worst = 0, spread_min = 1, spread_max = 0;
  for (int64_t t = 0; t < 4; ++t) {
    std::vector<int64_t> ids{tokenizer->specials().cls};
    for (int64_t id : tokenizer->encode(set.texts[static_cast<size_t>(t)])) ids.push_back(id);
    ids.push_back(tokenizer->specials().sep);
    const int64_t T = static_cast<int64_t>(ids.size());
    at::Tensor input_ids = at::tensor(ids, at::kLong).view({1, T});
    for (int64_t i = 0; i < 3; ++i) {
      const data::Regions& r = set.images[static_cast<size_t>(i)];
      at::Tensor feats = at::from_blob(const_cast<float*>(r.features.data()), {r.num_boxes, F}).clone();
      std::vector<float> loc{0, 0, 1, 1, 1};
      for (int64_t b = 0; b < r.num_boxes; ++b) {
        const float* box = r.box(b);
        loc.insert(loc.end(), {box[0] / 100.f, box[1] / 80.f, box[2] / 100.f, box[3] / 80.f,
                               (box[2] - box[0]) * (box[3] - box[1]) / 8000.f});
      }
      at::Tensor features = at::cat({feats.mean(0, true), feats}).unsqueeze(0);
      at::Tensor locations = at::tensor(loc).view({1, r.num_boxes + 1, 5});
      auto out = model->forward(input_ids, at::zeros_like(input_ids), at::ones_like(input_ids), features, locations,
                                at::ones({1, r.num_boxes + 1}, at::kLong), {});
      const double want = at::softmax(out.alignment_logits, -1)[0][0].item<double>();
      worst = std::max(worst, std::abs(matrix[t][i].item<double>() - want));
      spread_min = std::min(spread_min, want), spread_max = std::max(spread_max, want);
    }
  }
  EXPECT_LT(worst, 1e-6);
  EXPECT_GT(spread_max - spread_min, 1e-3) << "pairs score alike: the comparison proves little";
  std::cout << "scorer vs per-pair: max abs diff " << worst << "\n";

  // Images of the wrong width are refused by name.
  set.images[1] = random_regions("img1", 2, F + 1, 3);
  try {
    scorer.score_matrix(set, {0, 1}, {0});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("img1"), std::string::npos) << e.what();
  }
}
