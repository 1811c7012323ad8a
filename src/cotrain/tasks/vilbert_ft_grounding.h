// Task "vilbert-grounding" (vilbert.md, RefCOCO+ row): a score per region from the
// visual stream, binary cross-entropy against targets 1 where the region's IoU with
// the referred box exceeds vilbert_ft.iou_threshold (0.5). Expressions are data.train
// (JSONL {image, expression, box}), images vilbert_ft.images. After the last update,
// data.valid (when given) is scored: accuracy = the top region's IoU > 0.5.
#pragma once
#include <string>
#include <vector>

#include "cotrain/tasks/vilbert_ft_common.h"
#include "cotrain/tasks/vilbert_ft_jsonl.h"

namespace cotrain::tasks {

struct GroundingBatch {
  FtInputs inputs;
  at::Tensor region_targets;  // [B, R] 0/1 (IMG token and padding 0)
  at::Tensor region_weights;  // [B, R] 1 at real regions, 0 at the IMG token and padding
  at::Tensor region_iou;      // [B, R] IoU of each region with the box (for accuracy)
};

// Targets, weights and IoUs of one image's rows (IMG token first) against `box`.
void grounding_targets(const FtImageRows& rows, const float* box, double threshold, float* targets, float* weights,
                       float* iou);

class VilbertGroundingTask : public VilbertFtTask {
 public:
  VilbertGroundingTask(const Config& config, FtModel built, std::vector<GroundingRecord> train, FtImages images);
  train::LossTerms next_loss(Rng& rng) override;
  GroundingBatch next_batch(Rng& rng);
  nlohmann::json evaluate(const std::vector<GroundingRecord>& records, const std::string& source);

 private:
  GroundingBatch collate(const std::vector<const GroundingRecord*>& records, const std::string& source);
  std::vector<GroundingRecord> train_;
  FtImages images_;
};

std::unique_ptr<train::TrainTask> make_vilbert_grounding_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_vilbert_grounding_batch(Config& config, const TaskInputs& inputs);
nlohmann::json vilbert_grounding_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);
nlohmann::json finish_vilbert_grounding(Config& config, train::TrainTask& task, const std::string& checkpoint,
                                        const std::string& run_dir);

}  // namespace cotrain::tasks
