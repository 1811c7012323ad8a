#include "cotrain/tasks/vilbert_retrieval_scorer.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <map>

#include "cotrain/core/error.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/tasks/vilbert_ft_common.h"

namespace cotrain::tasks {

VilbertRetrievalScorer::VilbertRetrievalScorer(const std::string& model_dir, const RetrievalScorerOptions& options)
    : model_dir_(model_dir), options_(options) {
  models::VilbertFolder folder = models::read_vilbert_folder(model_dir);
  if (folder.vocab_path.empty()) fail("{}: no vocab.txt next to the weights", model_dir);
  // ViLBERT folders keep no casing flag; training uses data.lowercase, uncased by default.
  tokenizer_ = text::load_tokenizer(folder.vocab_path, /*lowercase=*/true);
  models::VilbertHeadSpec heads;
  heads.score = true;
  model_ = models::VilbertForTasks(folder.text, folder.vilbert, heads);
  models::VilbertTaskLoad load = models::load_vilbert_for_tasks(*model_, folder.weights, model_dir);
  fine_tuned_ = !load.heads_loaded.empty();
  if (!fine_tuned_ && !load.score_from_alignment)
    fail("{}: neither a score head (vil_logit) nor an alignment head (cls.bi_seq_relationship) to score pairs with",
         model_dir);
  model_->eval();
  if (options_.batch_size <= 0) fail("retrieval: batch size must be positive");
  if (options_.max_regions < 0 || options_.max_length < 0) fail("retrieval: max_regions / max_length must be >= 0");
  const int64_t limit = folder.text.max_position_embeddings;
  max_length_ = options_.max_length > 0 ? std::min(options_.max_length, limit) : limit;
  if (max_length_ < 3) fail("{}: texts need at least 3 positions, the model allows {}", model_dir, limit);
  max_regions_ = options_.max_regions > 0 ? options_.max_regions : folder.vilbert.max_regions;
}

int64_t VilbertRetrievalScorer::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : model_->parameters()) n += p.numel();
  return n;
}

at::Tensor VilbertRetrievalScorer::pair_scores(const RetrievalSet& set, const std::vector<int64_t>& images,
                                               const std::vector<int64_t>& texts) {
  if (images.size() != texts.size()) fail("retrieval: {} images but {} texts to pair", images.size(), texts.size());
  torch::NoGradGuard no_grad;
  // Each image's rows and each text's pieces are built once per call.
  std::map<int64_t, FtImageRows> rows;
  std::map<int64_t, std::vector<int64_t>> pieces;
  const int64_t K = static_cast<int64_t>(images.size());
  at::Tensor out = at::empty({K});
  for (int64_t start = 0; start < K; start += options_.batch_size) {
    const int64_t end = std::min(K, start + options_.batch_size);
    std::vector<std::vector<int64_t>> batch_texts;
    std::vector<const FtImageRows*> batch_images;
    for (int64_t k = start; k < end; ++k) {
      const int64_t i = images[static_cast<size_t>(k)], t = texts[static_cast<size_t>(k)];
      if (i < 0 || i >= set.num_images() || t < 0 || t >= set.num_texts())
        fail("retrieval: pair ({}, {}) outside {} images x {} texts", i, t, set.num_images(), set.num_texts());
      auto r = rows.find(i);
      if (r == rows.end()) {
        const data::Regions& regions = set.images[static_cast<size_t>(i)];
        if (regions.feature_dim != feature_dim())
          fail("retrieval: image {} has {}-d region features, {} takes {}", set.image_keys[static_cast<size_t>(i)],
               regions.feature_dim, model_dir_, feature_dim());
        r = rows.emplace(i, image_rows(regions_view(regions), max_regions_)).first;
      }
      auto p = pieces.find(t);
      if (p == pieces.end())
        p = pieces.emplace(t, encode_ft_text(*tokenizer_, set.texts[static_cast<size_t>(t)], max_length_)).first;
      batch_texts.push_back(p->second);
      batch_images.push_back(&r->second);
    }
    FtInputs in = collate_ft_inputs(batch_texts, batch_images, tokenizer_->specials(), feature_dim());
    at::Tensor score = run_ft(*model_, in).score;
    // Zero-shot: the score head holds aligned - swapped logits, whose sigmoid is
    // softmax(alignment)[aligned].
    out.narrow(0, start, end - start).copy_(fine_tuned_ ? score : at::sigmoid(score));
  }
  return out;
}

}  // namespace cotrain::tasks
