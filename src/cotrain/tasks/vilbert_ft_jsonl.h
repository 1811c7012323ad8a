// Fine-tuning data as JSON lines (no LibTorch):
//   VQA:       {"image": id-or-path, "question": text, "answers": {answer: score}}
//   grounding: {"image": id-or-path, "expression": text, "box": [x1, y1, x2, y2]} (pixels)
// "image" may be a string or an integer id. Blank lines are skipped; every other
// line must be a complete record, else cotrain::Error naming the file, line and key.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cotrain::tasks {

struct VqaRecord {
  std::int64_t line = 0;
  std::string image, question;
  std::vector<std::pair<std::string, double>> answers;  // soft scores in [0, 1]
};

struct GroundingRecord {
  std::int64_t line = 0;
  std::string image, expression;
  std::array<float, 4> box{};  // x1, y1, x2, y2 in the image's pixels
};

std::vector<VqaRecord> read_vqa_jsonl(const std::string& path);
std::vector<GroundingRecord> read_grounding_jsonl(const std::string& path);

// Intersection over union of two x1,y1,x2,y2 boxes (0 when either is empty).
double box_iou(const float* a, const float* b);

}  // namespace cotrain::tasks
