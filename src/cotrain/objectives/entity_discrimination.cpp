#include "cotrain/objectives/entity_discrimination.h"

#include <algorithm>

#include "cotrain/core/error.h"
#include "cotrain/objectives/contrastive.h"

namespace cotrain::objectives {

at::Tensor entity_discrimination_loss(const at::Tensor& entities, const std::vector<EdExample>& examples,
                                      double temperature) {
  std::vector<ContrastiveItem> items;
  items.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const EdExample& ex = examples[i];
    const auto& c = ex.candidates;
    if (std::find(c.begin(), c.end(), ex.query) != c.end())
      fail("entity discrimination: example {}: the query entity {} is among its candidates", i, ex.query);
    const auto positives = std::count(c.begin(), c.end(), ex.positive);
    if (positives != 1)
      fail("entity discrimination: example {}: the positive {} appears {} times among the candidates (must be once)", i,
           ex.positive, positives);
    ContrastiveItem item{ex.query, ex.positive, {}};
    for (int64_t e : c)
      if (e != ex.positive) item.negatives.push_back(e);
    items.push_back(std::move(item));
  }
  return info_nce(entities, entities, items, temperature);
}

}  // namespace cotrain::objectives
