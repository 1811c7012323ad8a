#include "cotrain/objectives/relation_discrimination.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/objectives/contrastive.h"

namespace cotrain::objectives {

at::Tensor relation_representations(const at::Tensor& entities, const std::vector<int64_t>& heads,
                                    const std::vector<int64_t>& tails) {
  if (heads.size() != tails.size()) fail("relation representations: {} heads but {} tails", heads.size(), tails.size());
  const int64_t E = entities.size(0);
  for (size_t i = 0; i < heads.size(); ++i)
    if (heads[i] < 0 || heads[i] >= E || tails[i] < 0 || tails[i] >= E)
      fail("relation representations: pair {} ({}, {}) names an entity outside [0, {})", i, heads[i], tails[i], E);
  auto index = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).to(entities.device()); };
  if (heads.empty()) return at::zeros({0, 2 * entities.size(1)}, entities.options());
  return at::cat({entities.index_select(0, index(heads)), entities.index_select(0, index(tails))}, 1);
}

at::Tensor relation_discrimination_loss(const at::Tensor& relations, const std::vector<RdAnchor>& anchors,
                                        double temperature) {
  std::vector<ContrastiveItem> items;
  items.reserve(anchors.size());
  for (size_t i = 0; i < anchors.size(); ++i) {
    const RdAnchor& a = anchors[i];
    if (a.positive == a.anchor) fail("relation discrimination: anchor {} is its own positive", a.anchor);
    items.push_back({a.anchor, a.positive, a.negatives});
  }
  return info_nce(relations, relations, items, temperature);
}

}  // namespace cotrain::objectives
