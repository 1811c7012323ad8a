// Embeddings for search with a trained UNIMO model, through its public API only:
// an image is encoded alone (`[IMG] v1..vN`) and represented by h[IMG], a text alone
// (`[CLS] w.. [SEP]`) by h[CLS] -- the representations CMCL aligned during
// pretraining (tasks/unimo_losses.cpp) -- each L2-normalised, so that a dot product
// is the cosine similarity CMCL trained.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cotrain/data/regions.h"
#include "cotrain/data/regions_grid.h"
#include "cotrain/io/image.h"
#include "cotrain/models/unimo/unimo_folder.h"

namespace cotrain::serve {

struct EncoderOptions {
  int64_t max_regions = 100;    // regions per image kept (the first N)
  int64_t max_length = 0;       // tokens per text, specials included; 0: the model's limit
  data::GridOptions grid;       // how raw images become regions (must match the training data)
};

class UnimoEncoder {
 public:
  // `model_dir`: a UNIMO folder or a run folder (its latest checkpoint).
  UnimoEncoder(const std::string& model_dir, EncoderOptions options);

  // [B, H] float, rows of unit length. Not thread-safe: callers serialise.
  at::Tensor encode_texts(const std::vector<std::string>& texts);
  at::Tensor encode_regions(const std::vector<data::Regions>& images);
  // Raw images through the grid extractor of options().grid.
  at::Tensor encode_images(const std::vector<io::Image>& images);

  int64_t dim() const;
  const std::string& model_dir() const { return model_dir_; }
  const EncoderOptions& options() const { return options_; }
  int64_t feature_dim() const { return folder_.geometry.region_feature_dim; }

 private:
  std::string model_dir_;
  EncoderOptions options_;
  models::UnimoFolder folder_;
  int64_t max_length_ = 0;
};

}  // namespace cotrain::serve
