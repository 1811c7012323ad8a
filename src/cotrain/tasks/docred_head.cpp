#include "cotrain/tasks/docred_head.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/models/weights.h"
#include "cotrain/tasks/erica_losses.h"

namespace cotrain::tasks {

DocredHeadImpl::DocredHeadImpl(int64_t hidden, int64_t classes) : num_classes(classes) {
  reduce = register_module("reduce", torch::nn::Linear(hidden, kDocredReduced));
  distance = register_module("distance", torch::nn::Embedding(kDistanceBuckets, kDocredDistance));
  const int64_t width = kDocredReduced + kDocredDistance;
  bilinear = register_module("bilinear", torch::nn::Bilinear(width, width, classes));
}

at::Tensor DocredHeadImpl::forward(const at::Tensor& entities, const std::vector<DocredPair>& pairs) {
  std::vector<int64_t> heads, tails, dht, dth;
  for (const auto& p : pairs) {
    heads.push_back(p.head);
    tails.push_back(p.tail);
    dht.push_back(p.dist_ht);
    dth.push_back(p.dist_th);
  }
  const auto device = entities.device();
  auto index = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).to(device); };
  at::Tensor reduced = reduce->forward(entities);
  at::Tensor h = at::cat({reduced.index_select(0, index(heads)), distance->forward(index(dht))}, 1);
  at::Tensor t = at::cat({reduced.index_select(0, index(tails)), distance->forward(index(dth))}, 1);
  return bilinear->forward(h, t);
}

DocredReModelImpl::DocredReModelImpl(models::BertForMaskedLM bert, int64_t num_classes) {
  encoder = register_module("encoder", std::move(bert));
  head = register_module("head", DocredHead(encoder->config.hidden_size, num_classes));
}

at::Tensor DocredReModelImpl::forward(const DocredBatch& batch) {
  const int64_t V = encoder->config.vocab_size;
  size_t width = 0;
  for (const auto& r : batch.rows) width = std::max(width, r.size());
  const auto B = static_cast<int64_t>(batch.rows.size()), T = static_cast<int64_t>(width);
  if (B == 0) fail("docred: empty micro-batch");
  if (batch.pairs.empty()) fail("docred: a micro-batch without entity pairs");
  if (batch.num_classes != head->num_classes)
    fail("docred: the batch has {} classes, the head {}", batch.num_classes, head->num_classes);
  std::vector<int64_t> ids(static_cast<size_t>(B * T), batch.pad_id), mask(static_cast<size_t>(B * T), 0);
  for (int64_t b = 0; b < B; ++b) {
    const auto& row = batch.rows[static_cast<size_t>(b)];
    for (size_t t = 0; t < row.size(); ++t) {
      if (row[t] < 0 || row[t] >= V) fail("docred batch: row {} position {}: token id {} outside the vocabulary of {}", b, t, row[t], V);
      ids[static_cast<size_t>(b * T) + t] = row[t];
      mask[static_cast<size_t>(b * T) + t] = 1;
    }
  }
  const auto device = encoder->bert->embeddings->word_embeddings->weight.device();
  auto matrix = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).view({B, T}).to(device); };
  at::Tensor input_ids = matrix(ids);
  at::Tensor hidden = encoder->bert->forward(input_ids, matrix(mask), at::zeros_like(input_ids));
  return head->forward(pool_entities(hidden, batch.entities), batch.pairs);
}

at::Tensor docred_targets(const std::vector<DocredPair>& pairs, int64_t num_classes) {
  std::vector<float> multi_hot(pairs.size() * static_cast<size_t>(num_classes), 0.0f);
  for (size_t i = 0; i < pairs.size(); ++i)
    for (int64_t c : pairs[i].classes) multi_hot[i * static_cast<size_t>(num_classes) + static_cast<size_t>(c)] = 1.0f;
  return at::tensor(multi_hot, at::kFloat).view({static_cast<int64_t>(pairs.size()), num_classes});
}

at::Tensor docred_loss(const at::Tensor& logits, const std::vector<DocredPair>& pairs) {
  at::Tensor targets = docred_targets(pairs, logits.size(1)).to(logits.device(), logits.scalar_type());
  return at::binary_cross_entropy_with_logits(logits, targets);
}

// ------------------------------------------------------------------ files

bool has_docred_head(const std::string& dir) {
  return std::filesystem::exists(std::filesystem::path(dir) / kDocredHeadWeights);
}

void save_docred_head(const std::string& dir, DocredHead& head, const DocredHeadInfo& info) {
  std::filesystem::create_directories(dir);
  io::save_safetensors((std::filesystem::path(dir) / kDocredHeadWeights).string(), models::weights_of(*head),
                       {{"format", "pt"}, {"generator", "cotrain docred"}});
  const nlohmann::json j = {{"relations", info.relations.ids},
                            {"max_length", info.max_length},
                            {"reduced", kDocredReduced},
                            {"distance", kDocredDistance}};
  write_file_atomically((std::filesystem::path(dir) / kDocredHeadInfo).string(), j.dump(1) + "\n");
}

DocredHeadInfo read_docred_head_info(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kDocredHeadInfo).string();
  std::ifstream in(path);
  if (!in) fail("{}: cannot read (is {} a model fine-tuned with --task docred?)", path, dir);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("relations") || !j.at("relations").is_array())
    fail("{}: expected {{\"relations\": [ids]}}", path);
  DocredHeadInfo info;
  DocredRelations& r = info.relations;
  for (const auto& id : j.at("relations")) {
    if (!id.is_string()) fail("{}: relations must be strings", path);
    r.ids.push_back(id.get<std::string>());
  }
  if (r.ids.empty() || !std::is_sorted(r.ids.begin(), r.ids.end()) ||
      std::adjacent_find(r.ids.begin(), r.ids.end()) != r.ids.end())
    fail("{}: relations must be non-empty, sorted and distinct", path);
  if (!j.contains("max_length") || !j.at("max_length").is_number_integer() || j.at("max_length").get<int64_t>() < 3)
    fail("{}: max_length must be an integer of at least 3", path);
  info.max_length = j.at("max_length").get<int64_t>();
  if (j.value("reduced", kDocredReduced) != kDocredReduced || j.value("distance", kDocredDistance) != kDocredDistance)
    fail("{}: head widths differ from this build's ({} and {})", path, kDocredReduced, kDocredDistance);
  return info;
}

void load_docred_head(const std::string& dir, DocredHead& head) {
  const std::string path = (std::filesystem::path(dir) / kDocredHeadWeights).string();
  models::load_weights(*head, io::load_safetensors(path).tensors, models::LoadMode::strict, path);
}

}  // namespace cotrain::tasks
