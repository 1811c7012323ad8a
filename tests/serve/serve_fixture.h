// A tiny search collection for the serve tests: a random UNIMO model (hidden 16,
// one layer, 12-d grid regions of 16x16 images), six coloured PNG images, a texts
// file, and the index `cotrain index` would write for them.
#pragma once
#include <string>
#include <vector>

#include "cotrain/serve/index_builder.h"

namespace cotrain::serve_test {

struct Collection {
  std::string root, model, images, texts, index;
  std::vector<std::string> image_names;  // file names, sorted as the index lists them
  std::vector<std::string> text_lines;   // the non-blank lines of `texts`
  serve::EncoderOptions encoder;         // grid matching the model
};

// Builds it all under scratch_dir(name): model/, images/, texts.txt, index/ (batch
// size 4, so batches are padded).
Collection make_collection(const std::string& name);

// Encoded PNG of a w x h image filled with one colour (0..255), with a dark square in
// the top-left quarter so that images are not uniform.
std::string solid_png(int w, int h, int r, int g, int b);

}  // namespace cotrain::serve_test
