#include "cotrain/tasks/erica_losses.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/objectives/entity_discrimination.h"
#include "cotrain/objectives/relation_discrimination.h"

namespace cotrain::tasks {

at::Tensor pool_entities(const at::Tensor& hidden, const std::vector<EricaEntity>& entities) {
  const int64_t T = hidden.size(1), H = hidden.size(2);
  // Every token of every mention contributes hidden * 1 / (mentions * mention length)
  // to its entity's row: a mean of means as one index_add.
  std::vector<int64_t> positions, owners;
  std::vector<float> weights;
  for (size_t e = 0; e < entities.size(); ++e) {
    const auto& entity = entities[e];
    const double per_mention = 1.0 / static_cast<double>(entity.mentions.size());
    for (const auto& [b, end] : entity.mentions)
      for (int64_t p = b; p < end; ++p) {
        positions.push_back(entity.row * T + p);
        owners.push_back(static_cast<int64_t>(e));
        weights.push_back(static_cast<float>(per_mention / static_cast<double>(end - b)));
      }
  }
  const auto device = hidden.device();
  at::Tensor flat = hidden.reshape({-1, H});
  at::Tensor tokens = flat.index_select(0, at::tensor(positions, at::kLong).to(device));
  at::Tensor w = at::tensor(weights, at::kFloat).to(device, hidden.scalar_type()).unsqueeze(1);
  return at::zeros({static_cast<int64_t>(entities.size()), H}, hidden.options())
      .index_add(0, at::tensor(owners, at::kLong).to(device), tokens * w);
}

EricaLosses erica_losses(models::BertForMaskedLM& model, const EricaBatch& batch, const EricaConfig& config) {
  const int64_t V = model->config.vocab_size;
  size_t width = 0;
  for (const auto& r : batch.rows) width = std::max(width, r.ids.size());
  const int64_t B = static_cast<int64_t>(batch.rows.size()), T = static_cast<int64_t>(width);
  if (B == 0) fail("erica: empty micro-batch (no document gave a row)");
  std::vector<int64_t> ids(static_cast<size_t>(B * T), batch.pad_id), mask(static_cast<size_t>(B * T), 0),
      labels(static_cast<size_t>(B * T), data::kIgnoreLabel);
  EricaLosses out;
  for (int64_t b = 0; b < B; ++b) {
    const auto& row = batch.rows[static_cast<size_t>(b)];
    for (size_t t = 0; t < row.ids.size(); ++t) {
      const int64_t id = row.ids[t], label = row.labels[t];
      if (id < 0 || id >= V) fail("erica batch: row {} position {}: token id {} outside the vocabulary of {}", b, t, id, V);
      if (label != data::kIgnoreLabel && (label < 0 || label >= V))
        fail("erica batch: row {} position {}: MLM label {} outside the vocabulary of {}", b, t, label, V);
      const size_t at = static_cast<size_t>(b * T) + t;
      ids[at] = id;
      labels[at] = label;
      mask[at] = 1;
    }
    out.tokens += static_cast<int64_t>(row.ids.size());
  }
  const auto device = model->bert->embeddings->word_embeddings->weight.device();
  auto matrix = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).view({B, T}).to(device); };
  at::Tensor input_ids = matrix(ids);
  auto forward = model->forward(input_ids, matrix(mask), at::zeros_like(input_ids), matrix(labels));
  out.mlm = forward.loss;

  at::Tensor entities = batch.entities.empty() ? at::zeros({0, forward.hidden.size(2)}, forward.hidden.options())
                                               : pool_entities(forward.hidden, batch.entities);
  std::vector<objectives::EdExample> ed;
  for (const auto& x : batch.ed) ed.push_back({x.query, x.positive, x.candidates});
  out.ed = batch.ed.empty() ? forward.hidden.sum() * 0.0
                            : objectives::entity_discrimination_loss(entities, ed, config.temperature);

  std::vector<int64_t> heads, tails;
  for (const auto& p : batch.rd_pairs) {
    heads.push_back(p.head);
    tails.push_back(p.tail);
  }
  std::vector<objectives::RdAnchor> anchors;
  for (const auto& a : batch.rd_anchors) anchors.push_back({a.anchor, a.positive, a.negatives});
  out.rd = anchors.empty() ? forward.hidden.sum() * 0.0
                           : objectives::relation_discrimination_loss(
                                 objectives::relation_representations(entities, heads, tails), anchors,
                                 config.temperature);
  out.entities = entities;
  out.total = out.mlm * config.mlm_weight + out.ed * config.ed_weight + out.rd * config.rd_weight;
  return out;
}

}  // namespace cotrain::tasks
