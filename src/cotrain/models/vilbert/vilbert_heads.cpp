#include "cotrain/models/vilbert/vilbert_heads.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cotrain/core/error.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/models/weights.h"

namespace cotrain::models {

namespace {
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

VilbertAnswerHeadImpl::VilbertAnswerHeadImpl(int64_t bi_hidden, int64_t answers, double p) {
  dense = register_module("dense", torch::nn::Linear(bi_hidden, 2 * bi_hidden));
  dropout = register_module("dropout", torch::nn::Dropout(p));
  decoder = register_module("decoder", torch::nn::Linear(2 * bi_hidden, answers));
}

at::Tensor VilbertAnswerHeadImpl::forward(const at::Tensor& fused) {
  return decoder->forward(dropout->forward(at::relu(dense->forward(fused))));
}

VilbertForTasksImpl::VilbertForTasksImpl(const ModelConfig& text, const VilbertConfig& v, const VilbertHeadSpec& h)
    : text_config(text), config(v), heads(h) {
  bert = register_module("bert", VilbertModel(text, v));
  if (h.score) vil_logit = register_module("vil_logit", torch::nn::Linear(v.bi_hidden_size, 1));
  if (h.answers > 0)
    vil_prediction = register_module("vil_prediction", VilbertAnswerHead(v.bi_hidden_size, h.answers, h.answer_dropout));
  if (h.regions) vision_logit = register_module("vision_logit", torch::nn::Linear(v.v_hidden_size, 1));
  init_bert_weights(*this, text.initializer_range);  // N(0, range) weights, zero biases, LayerNorm 1/0
}

VilbertForTasksImpl::Output VilbertForTasksImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                                         const at::Tensor& attention_mask, const at::Tensor& features,
                                                         const at::Tensor& locations, const at::Tensor& image_mask) {
  Output out;
  out.body = bert->forward(input_ids, token_type_ids, attention_mask, features, locations, image_mask);
  if (vil_logit) out.score = vil_logit->forward(out.body.fused).squeeze(-1);
  if (vil_prediction) out.answer_logits = vil_prediction->forward(out.body.fused);
  if (vision_logit) out.region_logits = vision_logit->forward(out.body.vision).squeeze(-1);
  return out;
}

VilbertTaskLoad load_vilbert_for_tasks(VilbertForTasksImpl& model, const io::TensorMap& tensors,
                                       const std::string& source) {
  io::TensorMap mine;
  std::vector<std::string> unexpected;
  auto params = model.named_parameters(true);
  for (const auto& [name, t] : tensors) {
    if (params.contains(name)) {
      mine.emplace(name, t);
    } else if (!starts_with(name, "cls.") && !is_unused_vilbert_tensor(name) &&
               !starts_with(name, "vil_logit.") && !starts_with(name, "vil_prediction.") &&
               !starts_with(name, "vision_logit.")) {
      unexpected.push_back(name);  // other tasks' heads are fine to drop; anything else is not
    }
  }
  if (!unexpected.empty())
    fail("{}: tensors no ViLBERT parameter has: {}", source, fmt::join(unexpected, ", "));
  WeightLoadReport report = load_weights(model, mine, LoadMode::partial, source);
  std::vector<std::string> missing_body;
  for (const auto& name : report.missing)
    if (starts_with(name, "bert.")) missing_body.push_back(name);
  if (!missing_body.empty() || !report.mismatched.empty()) {
    WeightLoadReport problems;
    problems.missing = missing_body;
    problems.mismatched = report.mismatched;
    fail("{}: {}", source, problems.describe());
  }
  VilbertTaskLoad load;
  for (const auto& name : report.loaded)
    if (!starts_with(name, "bert.")) load.heads_loaded.push_back(name);
  if (model.vil_logit && !mine.count("vil_logit.weight")) {
    auto w = tensors.find("cls.bi_seq_relationship.weight");
    auto b = tensors.find("cls.bi_seq_relationship.bias");
    if (w != tensors.end() && b != tensors.end() && w->second.dim() == 2 && w->second.size(0) == 2 &&
        w->second.size(1) == model.vil_logit->weight.size(1) && b->second.numel() == 2) {
      torch::NoGradGuard no_grad;
      model.vil_logit->weight.copy_((w->second[0] - w->second[1]).unsqueeze(0));
      model.vil_logit->bias.copy_((b->second[0] - b->second[1]).reshape({1}));
      load.score_from_alignment = true;
    }
  }
  return load;
}

}  // namespace cotrain::models
