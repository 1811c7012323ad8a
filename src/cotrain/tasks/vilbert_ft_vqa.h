// Task "vilbert-vqa" (vilbert.md, VQA row): answer classification with the MLP head on
// the fused pooled vector, binary cross-entropy over soft answer scores. Training
// questions are data.train (JSONL, see vilbert_ft_jsonl.h), images vilbert_ft.images;
// the answer vocabulary is built from the training answers (or kept from an --init
// folder fine-tuned before, answers.json) and saved next to the weights. After the
// last update, the VQA soft accuracy on data.valid (when given) is reported.
#pragma once
#include <string>
#include <vector>

#include "cotrain/tasks/vilbert_ft_common.h"
#include "cotrain/tasks/vilbert_ft_jsonl.h"

namespace cotrain::tasks {

// Answers of the training questions with a positive score, kept when seen in at least
// `min_count` questions; most frequent first, ties by name.
std::vector<std::string> build_answer_vocabulary(const std::vector<VqaRecord>& records, int64_t min_count);

struct VqaBatch {
  FtInputs inputs;
  at::Tensor answer_scores;  // [B, A] soft targets (answers outside the vocabulary dropped)
};

class VilbertVqaTask : public VilbertFtTask {
 public:
  VilbertVqaTask(const Config& config, FtModel built, std::vector<std::string> answers, std::vector<VqaRecord> train,
                 FtImages images);
  train::LossTerms next_loss(Rng& rng) override;
  VqaBatch next_batch(Rng& rng);
  void save_model(const std::string& dir) override;
  // Batches over `records` (in order, no dropout): soft accuracy sum and predictions.
  nlohmann::json evaluate(const std::vector<VqaRecord>& records, const std::string& source,
                          const std::string& predictions_path);
  const std::vector<std::string>& answers() const { return answers_; }

 private:
  VqaBatch collate(const std::vector<const VqaRecord*>& records, const std::string& source);
  std::vector<std::string> answers_;
  std::map<std::string, int64_t> answer_index_;
  std::vector<VqaRecord> train_;
  FtImages images_;
};

std::unique_ptr<train::TrainTask> make_vilbert_vqa_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_vilbert_vqa_batch(Config& config, const TaskInputs& inputs);
nlohmann::json vilbert_vqa_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);
nlohmann::json finish_vilbert_vqa(Config& config, train::TrainTask& task, const std::string& checkpoint,
                                  const std::string& run_dir);

}  // namespace cotrain::tasks
