// UNIMO as a retrieval scorer (retrieval_scorer.h):
//   embeddings: h[IMG] of the image encoded alone and h[CLS] of the text encoded
//     alone, L2-normalised, so the dot product is the cosine similarity CMCL trains
//     (tasks/unimo_losses.cpp, default d = cosine);
//   pair scores: the "mul" score head FC(h_text * h_img) over the pooled outputs of
//     the pair encoded together (`[IMG] v.. [CLS] w.. [SEP]`), dropout off.
// Texts are wrapped as in training: [CLS] tokens [SEP], cut to max_length.
#pragma once
#include <string>
#include <vector>

#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/retrieval_scorer.h"
#include "cotrain/tasks/unimo_batch.h"

namespace cotrain::tasks {

class UnimoRetrievalScorer : public RetrievalScorer {
 public:
  // `model_dir`: a UNIMO folder (already resolved from a run folder).
  UnimoRetrievalScorer(const std::string& model_dir, const RetrievalScorerOptions& options);
  // A model already in memory (fine-tuning's finish hook, tests).
  UnimoRetrievalScorer(models::UnimoFolder folder, std::string model_dir, const RetrievalScorerOptions& options);

  std::string kind() const override { return "unimo"; }
  int64_t feature_dim() const override { return folder_.geometry.region_feature_dim; }
  std::string model_dir() const override { return model_dir_; }
  int64_t num_parameters() const override;
  bool has_embeddings() const override { return true; }
  bool has_pair_scores() const override { return true; }
  at::Tensor embed_images(const RetrievalSet& set, const std::vector<int64_t>& images) override;
  at::Tensor embed_texts(const RetrievalSet& set, const std::vector<int64_t>& texts) override;
  at::Tensor pair_scores(const RetrievalSet& set, const std::vector<int64_t>& images,
                         const std::vector<int64_t>& texts) override;

 private:
  void setup();
  models::UnimoFolder folder_;
  std::string model_dir_;
  RetrievalScorerOptions options_;
  int64_t max_length_ = 0;
};

// Model inputs shared with fine-tuning: images[k] of `regions` as an image part
// (first max_regions regions, 5-d boxes, no masking), texts as [CLS] .. [SEP] rows.
UnimoImagePart unimo_image_part(const std::vector<const data::Regions*>& regions, int64_t feature_dim,
                                int64_t max_regions);
UnimoTextPart unimo_text_part(const text::Tokenizer& tokenizer, const std::vector<const std::string*>& texts,
                              int64_t max_length);

}  // namespace cotrain::tasks
