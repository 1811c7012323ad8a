// ERICA's relation discrimination (erica.md, "Relation Discrimination"): relation
// representations r_{h,t} = [e_h ; e_t] of entity pairs from many documents; each
// anchor is pulled towards its one positive (another instance of the same relation,
// paired by the batch builder) and pushed from its negatives (instances of other
// relations, NA included), InfoNCE over cosine similarities.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

// [P, 2H]: row p is concat(entities[heads[p]], entities[tails[p]]); no projection head.
at::Tensor relation_representations(const at::Tensor& entities, const std::vector<int64_t>& heads,
                                    const std::vector<int64_t>& tails);

struct RdAnchor {
  int64_t anchor = 0;    // row of the relation representations
  int64_t positive = 0;  // its partner (same label)
  std::vector<int64_t> negatives;
};

// Mean over anchors of -log( e^{s+/tau} / (e^{s+/tau} + sum_neg e^{s-/tau}) ),
// s = cosine similarity. No anchors: a zero that keeps the graph.
at::Tensor relation_discrimination_loss(const at::Tensor& relations, const std::vector<RdAnchor>& anchors,
                                        double temperature);

}  // namespace cotrain::objectives
