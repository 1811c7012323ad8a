// How `cotrain eval --task retrieval` (retrieval_eval.h) talks to a model: one
// RetrievalScorer per model family, picked by the model folder's config.json
// "architectures" through retrieval_scorers() (retrieval_scorers.cpp, one entry per
// family: UNIMO there now, ViLBERT to be added the same way).
//
// Two ways a model can score an (image, text) pair, and a scorer offers one or both:
//   - embeddings (has_embeddings() == true): images and texts are encoded apart into
//     one space; the score of a pair is the dot product of their rows (the scorer
//     L2-normalises them when it wants cosine). This is the cheap zero-shot path:
//     n_images + n_texts encoder calls, then a matrix product. UNIMO: h[IMG] of the
//     image alone, h[CLS] of the text alone (what CMCL trained).
//   - pair scores (has_pair_scores() == true): the model sees the image and the text
//     together and a head returns one number per pair. UNIMO: the "mul" score head
//     over the jointly encoded pair; ViLBERT: the alignment (image-text matching)
//     head, which is its only way to score (has_embeddings() == false).
// retrieval_eval uses embeddings when there are any, and pair scores for re-ranking
// the top k (--rerank-k); a scorer without embeddings is evaluated by pair scores of
// every (image, text) combination (score_matrix below), chunked, which costs
// n_images * n_texts joint forward passes: keep such evaluation sets small.
//
// Adding a model family (e.g. ViLBERT):
//   1. class VilbertScorer : public RetrievalScorer { ... } in its own file in
//      src/cotrain/tasks/, overriding kind(), feature_dim(), has_pair_scores() ->
//      true and pair_scores(); leave has_embeddings() false.
//   2. one entry in retrieval_scorers() (retrieval_scorers.cpp):
//      {"vilbert", "VILBertForVLTasks", [](dir, options) { return std::make_unique<VilbertScorer>(dir, options); }}
// Scorers run with dropout off and without gradients; they are not thread-safe.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cotrain/data/regions.h"

namespace cotrain::tasks {

// What is scored: images (as regions, the models' visual input) and texts, each text
// the caption of one image (text_to_image). Built by load_retrieval_set
// (retrieval_eval.h) from prepared shards or a captions file.
struct RetrievalSet {
  std::vector<data::Regions> images;
  std::vector<std::string> image_keys;    // image_id of each image (for reports)
  std::vector<std::string> texts;
  std::vector<int64_t> text_to_image;     // texts[t] describes images[text_to_image[t]]
  int64_t num_images() const { return static_cast<int64_t>(images.size()); }
  int64_t num_texts() const { return static_cast<int64_t>(texts.size()); }
};

struct RetrievalScorerOptions {
  int64_t batch_size = 64;   // examples per forward pass
  int64_t max_regions = 0;   // regions per image kept (the first N); 0: the model's training value or all
  int64_t max_length = 0;    // tokens per text, specials included; 0: the model's position limit
};

class RetrievalScorer {
 public:
  virtual ~RetrievalScorer() = default;
  virtual std::string kind() const = 0;          // "unimo", "vilbert", ...
  virtual int64_t feature_dim() const = 0;       // D the model takes; images must match
  virtual std::string model_dir() const = 0;     // the resolved folder that was loaded
  virtual int64_t num_parameters() const = 0;    // for reports ("params")

  virtual bool has_embeddings() const { return false; }
  virtual bool has_pair_scores() const { return false; }

  // [n, E] float rows (only when has_embeddings()); score(i, t) = image row . text row.
  virtual at::Tensor embed_images(const RetrievalSet& set, const std::vector<int64_t>& images);
  virtual at::Tensor embed_texts(const RetrievalSet& set, const std::vector<int64_t>& texts);

  // [K] float: the joint score of (images[k], texts[k]) for every k (only when
  // has_pair_scores()); higher = better match. Batches internally by batch_size.
  virtual at::Tensor pair_scores(const RetrievalSet& set, const std::vector<int64_t>& images,
                                 const std::vector<int64_t>& texts);

  // [texts.size(), images.size()] float: row t, column i = score of (images[i], texts[t]).
  // Default: dot products of embeddings when there are any, else pair_scores of every
  // combination. Override when a model has a faster way.
  virtual at::Tensor score_matrix(const RetrievalSet& set, const std::vector<int64_t>& images,
                                  const std::vector<int64_t>& texts);
};

// One model family: `architecture` is matched against config.json's
// "architectures"[0] of the (resolved) model folder.
struct RetrievalScorerEntry {
  std::string kind;
  std::string architecture;
  std::function<std::unique_ptr<RetrievalScorer>(const std::string& model_dir, const RetrievalScorerOptions&)> make;
};

const std::vector<RetrievalScorerEntry>& retrieval_scorers();  // retrieval_scorers.cpp

// config.json's "architectures"[0] of `model_dir` (a model folder or run folder:
// its latest checkpoint); Error naming the file when it is missing.
std::string model_architecture(const std::string& model_dir);

// The scorer for `model_dir`, chosen by its architecture; an Error listing the known
// architectures when none fits.
std::unique_ptr<RetrievalScorer> make_retrieval_scorer(const std::string& model_dir,
                                                       const RetrievalScorerOptions& options);

}  // namespace cotrain::tasks
