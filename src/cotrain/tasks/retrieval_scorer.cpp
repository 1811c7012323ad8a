#include "cotrain/tasks/retrieval_scorer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/train/checkpoint.h"

namespace cotrain::tasks {

at::Tensor RetrievalScorer::embed_images(const RetrievalSet&, const std::vector<int64_t>&) {
  fail("{}: a {} model has no separate image embeddings", model_dir(), kind());
}

at::Tensor RetrievalScorer::embed_texts(const RetrievalSet&, const std::vector<int64_t>&) {
  fail("{}: a {} model has no separate text embeddings", model_dir(), kind());
}

at::Tensor RetrievalScorer::pair_scores(const RetrievalSet&, const std::vector<int64_t>&, const std::vector<int64_t>&) {
  fail("{}: a {} model has no pair score head", model_dir(), kind());
}

at::Tensor RetrievalScorer::score_matrix(const RetrievalSet& set, const std::vector<int64_t>& images,
                                         const std::vector<int64_t>& texts) {
  c10::NoGradGuard no_grad;
  if (has_embeddings()) return at::matmul(embed_texts(set, texts), embed_images(set, images).t()).contiguous();
  // Every combination, text-major, so row t is texts[t] against all images.
  std::vector<int64_t> pi, pt;
  pi.reserve(images.size() * texts.size());
  pt.reserve(images.size() * texts.size());
  for (int64_t t : texts)
    for (int64_t i : images) {
      pi.push_back(i);
      pt.push_back(t);
    }
  return pair_scores(set, pi, pt)
      .reshape({static_cast<int64_t>(texts.size()), static_cast<int64_t>(images.size())})
      .contiguous();
}

std::string model_architecture(const std::string& model_dir) {
  const std::string dir = train::resolve_model_dir(model_dir);
  const std::string path = join_path(dir, "config.json");
  if (!is_regular_file(path)) fail("{}: no config.json", dir);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_whole_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  if (!j.contains("architectures") || !j["architectures"].is_array() || j["architectures"].empty() ||
      !j["architectures"][0].is_string())
    fail("{}: no \"architectures\" list naming the model", path);
  return j["architectures"][0].get<std::string>();
}

std::unique_ptr<RetrievalScorer> make_retrieval_scorer(const std::string& model_dir,
                                                       const RetrievalScorerOptions& options) {
  const std::string arch = model_architecture(model_dir);
  std::string known;
  for (const auto& e : retrieval_scorers()) {
    if (e.architecture == arch) return e.make(train::resolve_model_dir(model_dir), options);
    known += (known.empty() ? "" : ", ") + e.architecture + " (" + e.kind + ")";
  }
  fail("{}: no retrieval scorer for architecture '{}' (known: {})", model_dir, arch, known);
}

}  // namespace cotrain::tasks
