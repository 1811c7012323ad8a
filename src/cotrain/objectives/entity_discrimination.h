// ERICA's entity discrimination (erica.md, "Entity Discrimination"): given the head
// entity's representation (the query; ERICA puts "relation name + head name" in front
// of the document), pick the tail among the document's entities by InfoNCE over
// cosine similarities. Written to avoid the two reference-implementation bugs: the
// positive is counted once in the denominator, and the candidates a batch builder
// passes already exclude the head and the other gold tails of (h, r).
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

struct EdExample {
  int64_t query = 0;                // entity row of the head (pooled over its mentions in the body)
  int64_t positive = 0;             // entity row of the tail
  std::vector<int64_t> candidates;  // entity rows of the denominator, the positive among them, the query not
};

// Mean over examples of -log softmax_{c in candidates}(cos(e_q, e_c) / tau)[positive].
// `entities` [E, H]. A malformed example (query among the candidates, positive
// missing, an index out of range) is a cotrain::Error.
at::Tensor entity_discrimination_loss(const at::Tensor& entities, const std::vector<EdExample>& examples,
                                      double temperature);

}  // namespace cotrain::objectives
