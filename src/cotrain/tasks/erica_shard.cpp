#include "cotrain/tasks/erica_shard.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/dist/gather.h"
#include "cotrain/objectives/relation_discrimination.h"

namespace cotrain::tasks {
namespace {

bool mine(int64_t row, int64_t rank, int64_t world) { return row % world == rank; }

int64_t masked_tokens(const std::vector<EricaRow>& rows) {
  int64_t n = 0;
  for (const auto& r : rows)
    for (int64_t l : r.labels) n += l != data::kIgnoreLabel;
  return n;
}

}  // namespace

EricaBatch erica_local_batch(const EricaBatch& global, int64_t rank, int64_t world) {
  EricaBatch local;
  local.pad_id = global.pad_id;
  std::vector<int64_t> row_to_local(global.rows.size(), -1), entity_to_local(global.entities.size(), -1);
  for (size_t r = 0; r < global.rows.size(); ++r)
    if (mine(static_cast<int64_t>(r), rank, world)) {
      row_to_local[r] = static_cast<int64_t>(local.rows.size());
      local.rows.push_back(global.rows[r]);
    }
  for (size_t e = 0; e < global.entities.size(); ++e) {
    const auto& entity = global.entities[e];
    const int64_t row = row_to_local.at(static_cast<size_t>(entity.row));
    if (row < 0) continue;
    entity_to_local[e] = static_cast<int64_t>(local.entities.size());
    local.entities.push_back(entity);
    local.entities.back().row = row;
  }
  auto local_entity = [&](int64_t e) {
    const int64_t l = entity_to_local.at(static_cast<size_t>(e));
    if (l < 0) fail("erica: entity {} is used outside its own row (cannot split the batch over processes)", e);
    return l;
  };
  for (const auto& item : global.ed) {
    const int64_t row = row_to_local.at(static_cast<size_t>(item.row));
    if (row < 0) continue;
    EricaEdItem x = item;
    x.row = row;
    x.query = local_entity(item.query);
    x.positive = local_entity(item.positive);
    for (auto& c : x.candidates) c = local_entity(c);
    for (auto& c : x.excluded) c = local_entity(c);
    local.ed.push_back(std::move(x));
  }
  for (const auto& pair : global.rd_pairs) {
    const int64_t row = row_to_local.at(static_cast<size_t>(pair.row));
    if (row < 0) continue;
    EricaRdPair p = pair;
    p.row = row;
    p.head = local_entity(pair.head);
    p.tail = local_entity(pair.tail);
    local.rd_pairs.push_back(std::move(p));
  }
  return local;
}

EricaLosses erica_losses_shared(models::BertForMaskedLM& model, const EricaBatch& global, const EricaConfig& config,
                                int64_t rank, int64_t world) {
  if (static_cast<int64_t>(global.rows.size()) < world)
    fail("erica: a micro-batch of {} rows cannot be split over {} processes (raise erica.ed_docs / erica.rd_docs)",
         global.rows.size(), world);
  const EricaBatch local = erica_local_batch(global, rank, world);
  EricaLosses out = erica_losses(model, local, config);  // local means; RD below

  // Shares: local mean x local count / global count (0 / 0 stays 0).
  auto share = [](const at::Tensor& mean, int64_t local_count, int64_t global_count) {
    return global_count == 0 || local_count == 0 ? mean * 0.0
                                                 : mean * (static_cast<double>(local_count) / global_count);
  };
  out.mlm = share(out.mlm, masked_tokens(local.rows), masked_tokens(global.rows));
  out.ed = share(out.ed, static_cast<int64_t>(local.ed.size()), static_cast<int64_t>(global.ed.size()));

  if (global.rd_anchors.empty()) {
    out.rd = out.entities.sum() * 0.0;
  } else {
    // This rank's relation representations, gathered from all ranks with gradient,
    // then reordered to the global pair order the anchors refer to.
    std::vector<int64_t> heads, tails;
    for (const auto& p : local.rd_pairs) {
      heads.push_back(p.head);
      tails.push_back(p.tail);
    }
    const int64_t width = 2 * out.entities.size(1);
    at::Tensor mine_rel = local.rd_pairs.empty()
                              ? at::zeros({0, width}, out.entities.options()) + out.entities.sum() * 0.0
                              : objectives::relation_representations(out.entities, heads, tails);
    dist::GatheredRows gathered = dist::all_gather_rows(mine_rel);
    // Position of global pair p in the gathered rows: its owner's offset plus its
    // index among the owner's pairs (pairs keep their global order within a rank).
    std::vector<int64_t> offsets(static_cast<size_t>(world), 0), seen(static_cast<size_t>(world), 0);
    for (int64_t r = 1; r < world; ++r) offsets[r] = offsets[r - 1] + gathered.counts.at(static_cast<size_t>(r - 1));
    std::vector<int64_t> position;
    for (const auto& p : global.rd_pairs) {
      const int64_t owner = p.row % world;
      position.push_back(offsets[owner] + seen[owner]++);
    }
    for (int64_t r = 0; r < world; ++r)
      if (seen[r] != gathered.counts.at(static_cast<size_t>(r)))
        fail("erica: rank {} sent {} relation pairs, the batch gives it {}", r, gathered.counts[r], seen[r]);
    at::Tensor relations = gathered.all.index_select(0, at::tensor(position, at::kLong).to(gathered.all.device()));
    std::vector<objectives::RdAnchor> anchors;
    for (const auto& a : global.rd_anchors)
      if (mine(global.rd_pairs.at(static_cast<size_t>(a.anchor)).row, rank, world))
        anchors.push_back({a.anchor, a.positive, a.negatives});
    const at::Tensor mean = anchors.empty() ? relations.sum() * 0.0
                                            : objectives::relation_discrimination_loss(relations, anchors,
                                                                                       config.temperature);
    // Always through `relations`, so that every rank's backward reaches the gather.
    out.rd = share(mean, static_cast<int64_t>(anchors.size()), static_cast<int64_t>(global.rd_anchors.size()));
  }
  out.total = out.mlm * config.mlm_weight + out.ed * config.ed_weight + out.rd * config.rd_weight;
  return out;
}

}  // namespace cotrain::tasks
