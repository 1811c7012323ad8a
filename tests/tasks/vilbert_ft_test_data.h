// The tiny ViLBERT fine-tuning data both the task tests and the CLI tests use: 12
// images of 3 regions whose 4-d features say a colour (i % 3) and an animal (i % 4),
// with 3 detector classes, so that captions, questions and expressions about them can
// be learnt in a few updates.
#pragma once
#include <string>
#include <vector>

#include "cotrain/data/regions_tsv.h"

namespace cotrain::testing {

inline const char* const kFtColours[] = {"red", "blue", "green"};
inline const char* const kFtAnimals[] = {"cat", "dog", "bird", "fish"};

// Image i: 3 regions; region b's feature says colour i%3 and animal i%4; boxes differ.
inline data::Regions vilbert_ft_image(int i) {
  data::Regions r;
  r.image_id = "img" + std::to_string(i);
  r.width = 20, r.height = 20, r.num_boxes = 3, r.feature_dim = 4, r.num_classes = 3;
  for (int b = 0; b < 3; ++b) {
    r.boxes.insert(r.boxes.end(), {float(4 * b), float(3 * b), float(4 * b + 6), float(3 * b + 8)});
    r.features.insert(r.features.end(), {float(i % 3), float(i % 4), 0.5f * b, b == i % 3 ? 2.f : 0.f});
    std::vector<float> p(3, 0.1f);
    p[static_cast<size_t>((i + b) % 3)] = 0.8f;
    r.class_probs.insert(r.class_probs.end(), p.begin(), p.end());
  }
  return r;
}

}  // namespace cotrain::testing
