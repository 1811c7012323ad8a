// One UNIMO micro-batch as tensors, and its JSON form (`cotrain batch --task unimo`,
// read by `cotrain loss --task unimo` and tests/reference/unimo_twin.py). The JSON
// holds every input of every loss, so that a twin recomputes them all:
//   {"task": "unimo",
//    "text":  {input_ids, attention_mask, labels}                     text-only, MLM
//    "image": {features, boxes, region_mask, masked, target_features
//              [, target_classes]}                                    image-only, MRM
//    "pair":  {input_ids, attention_mask, labels, features, boxes, region_mask,
//              masked, target_features [, target_classes]}            pairs, MLM + MRM
//    "cmcl":  {features, boxes, region_mask, input_ids, attention_mask,
//              cell_image, cell_text, cell_kind}}                     CMCL
// Each part may be absent. Every tensor is {"shape": [...], "data": [flat, row-major]};
// features hold the model's input (masked regions zeroed), boxes the 5-d encoding.
#pragma once
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "cotrain/objectives/cmcl.h"

namespace cotrain::tasks {

struct UnimoTextPart {
  at::Tensor input_ids, attention_mask, labels;  // [B, M] long; labels -100 where not predicted
  bool defined() const { return input_ids.defined(); }
};

struct UnimoImagePart {
  at::Tensor features;         // [B, N, D] float, masked regions zeroed
  at::Tensor boxes;            // [B, N, 5] float
  at::Tensor region_mask;      // [B, N] long, 1 for real regions
  at::Tensor masked;           // [B, N] long, 1 for regions MRM predicts (undefined for CMCL)
  at::Tensor target_features;  // [B, N, D] the original features
  at::Tensor target_classes;   // [B, N, C] class distributions, or undefined
  bool defined() const { return features.defined(); }
};

struct UnimoBatch {
  UnimoTextPart text;            // text-only examples
  UnimoImagePart image;          // image-only examples
  UnimoTextPart pair_text;       // pairs: the caption part ...
  UnimoImagePart pair_image;     // ... and the image part, row b with row b
  UnimoImagePart cmcl_images;    // CMCL: images encoded alone (no masking)
  UnimoTextPart cmcl_texts;      // CMCL: texts encoded alone (labels undefined)
  objectives::CmclCells cells;   // CMCL: anchors x cells over cmcl_images x cmcl_texts
  int64_t examples = 0;          // text + image + pair examples
};

nlohmann::json unimo_batch_to_json(const UnimoBatch& batch);
// Validates shapes and index ranges; errors say "batch: <part>.<key>: why".
UnimoBatch unimo_batch_from_json(const nlohmann::json& j);

// {"shape", "data"} <-> tensors (float32 or int64).
nlohmann::json tensor_to_json(const at::Tensor& t);
at::Tensor tensor_from_json(const nlohmann::json& j, const std::string& where, bool integer);

}  // namespace cotrain::tasks
