// ViLBERT as a retrieval scorer (retrieval_scorer.h): no separate embeddings, only
// pair scores. Every (image, caption) pair goes through the two-stream model together
// (IMG token + regions, [CLS] caption [SEP]; dropout off) and is scored
//   - zero-shot (a pretrained folder): softmax(alignment head)[aligned] (vilbert.md
//     "Zero-shot retrieval"), computed as sigmoid(aligned - swapped logit);
//   - after vilbert-retrieval fine-tuning (the folder has "vil_logit"): the score head.
#pragma once
#include <string>
#include <vector>

#include "cotrain/models/vilbert/vilbert_heads.h"
#include "cotrain/tasks/retrieval_scorer.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

class VilbertRetrievalScorer : public RetrievalScorer {
 public:
  // `model_dir`: a ViLBERT folder (pretrained or fine-tuned) with vocab.txt.
  VilbertRetrievalScorer(const std::string& model_dir, const RetrievalScorerOptions& options);

  std::string kind() const override { return "vilbert"; }
  int64_t feature_dim() const override { return model_->config.v_feature_size; }
  std::string model_dir() const override { return model_dir_; }
  int64_t num_parameters() const override;
  bool has_pair_scores() const override { return true; }
  at::Tensor pair_scores(const RetrievalSet& set, const std::vector<int64_t>& images,
                         const std::vector<int64_t>& texts) override;
  // True when scores are the fine-tuned score head's, false for the alignment head's.
  bool fine_tuned() const { return fine_tuned_; }

 private:
  std::string model_dir_;
  RetrievalScorerOptions options_;
  models::VilbertForTasks model_{nullptr};
  std::shared_ptr<text::Tokenizer> tokenizer_;
  bool fine_tuned_ = false;
  int64_t max_length_ = 0, max_regions_ = 0;
};

}  // namespace cotrain::tasks
