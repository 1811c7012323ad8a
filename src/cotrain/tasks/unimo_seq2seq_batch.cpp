#include "cotrain/tasks/unimo_seq2seq_batch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

std::vector<bool> choose_target_fragments(int64_t n, const FragmentOptions& o, Rng& rng) {
  std::vector<bool> target(static_cast<size_t>(std::max<int64_t>(n, 0)), false);
  if (n <= 0) return target;
  const int64_t goal = std::clamp<int64_t>(std::llround(o.target_fraction * static_cast<double>(n)), 1, n);
  int64_t covered = 0;
  while (covered < goal) {
    int64_t length = o.min_fragment + rng.below(o.max_fragment - o.min_fragment + 1);
    length = std::min(length, goal - covered);
    // Starts where a fragment of `length` fits in the free tokens; when none does (the
    // free tokens are split up), the longest free run is used instead.
    auto starts_for = [&](int64_t len) {
      std::vector<int64_t> starts;
      int64_t run = 0;
      for (int64_t i = 0; i < n; ++i) {
        run = target[static_cast<size_t>(i)] ? 0 : run + 1;
        if (run >= len) starts.push_back(i - len + 1);
      }
      return starts;
    };
    std::vector<int64_t> starts = starts_for(length);
    while (starts.empty() && length > 1) starts = starts_for(--length);
    const int64_t s = starts[static_cast<size_t>(rng.below(static_cast<int64_t>(starts.size())))];
    for (int64_t i = s; i < s + length; ++i) target[static_cast<size_t>(i)] = true;
    covered += length;
  }
  return target;
}

Seq2seqRow text_seq2seq_row(const std::vector<int64_t>& tokens, const std::vector<bool>& is_target, int64_t cls,
                            int64_t sep) {
  Seq2seqRow row;
  std::vector<int64_t> source, target;
  for (size_t i = 0; i < tokens.size(); ++i) (is_target[i] ? target : source).push_back(tokens[i]);
  row.ids.push_back(cls);
  row.ids.insert(row.ids.end(), source.begin(), source.end());
  row.ids.push_back(sep);
  row.target.assign(row.ids.size(), 0);
  row.labels.assign(row.ids.size(), -100);
  // The last source position ([SEP]) predicts the first target token.
  row.labels.back() = target.empty() ? sep : target.front();
  for (size_t j = 0; j < target.size(); ++j) {
    row.ids.push_back(target[j]);
    row.target.push_back(1);
    row.labels.push_back(j + 1 < target.size() ? target[j + 1] : sep);
  }
  return row;
}

Seq2seqRow caption_row(const std::vector<int64_t>& tokens, int64_t cls, int64_t sep) {
  Seq2seqRow row;
  row.ids.push_back(cls);
  row.ids.insert(row.ids.end(), tokens.begin(), tokens.end());
  row.target.assign(row.ids.size(), 1);
  for (size_t i = 0; i < row.ids.size(); ++i) row.labels.push_back(i < tokens.size() ? tokens[i] : sep);
  return row;
}

Seq2seqTextPart make_seq2seq_part(const std::vector<Seq2seqRow>& rows, int64_t pad) {
  Seq2seqTextPart p;
  const int64_t B = static_cast<int64_t>(rows.size());
  size_t M = 1;
  for (const auto& r : rows) M = std::max(M, r.ids.size());
  p.input_ids = at::full({B, static_cast<int64_t>(M)}, pad, at::kLong);
  p.attention_mask = at::zeros({B, static_cast<int64_t>(M)}, at::kLong);
  p.target = at::zeros({B, static_cast<int64_t>(M)}, at::kLong);
  p.labels = at::full({B, static_cast<int64_t>(M)}, -100, at::kLong);
  auto ids = p.input_ids.accessor<int64_t, 2>();
  auto mask = p.attention_mask.accessor<int64_t, 2>();
  auto tgt = p.target.accessor<int64_t, 2>();
  auto lab = p.labels.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = rows[static_cast<size_t>(b)];
    for (size_t t = 0; t < r.ids.size(); ++t) {
      const auto i = static_cast<int64_t>(t);
      ids[b][i] = r.ids[t];
      mask[b][i] = 1;
      tgt[b][i] = r.target[t];
      lab[b][i] = r.labels[t];
    }
  }
  return p;
}

namespace {

nlohmann::json part_json(const Seq2seqTextPart& p) {
  return {{"input_ids", tensor_to_json(p.input_ids)},
          {"attention_mask", tensor_to_json(p.attention_mask)},
          {"target", tensor_to_json(p.target)},
          {"labels", tensor_to_json(p.labels)}};
}

at::Tensor need(const nlohmann::json& part, const std::string& name, const char* key, bool integer) {
  if (!part.contains(key)) fail("batch: {}.{}: missing", name, key);
  return tensor_from_json(part[key], name + "." + key, integer);
}

Seq2seqTextPart read_part(const nlohmann::json& part, const std::string& name, int64_t vocab) {
  Seq2seqTextPart p;
  p.input_ids = need(part, name, "input_ids", true);
  if (p.input_ids.dim() != 2 || p.input_ids.size(1) == 0) fail("batch: {}.input_ids: must be [B, M] with M > 0", name);
  for (const char* key : {"attention_mask", "target", "labels"}) {
    at::Tensor t = need(part, name, key, true);
    if (t.sizes() != p.input_ids.sizes()) fail("batch: {}.{}: shape does not match input_ids", name, key);
    if (std::string(key) == "attention_mask") p.attention_mask = t;
    else if (std::string(key) == "target") p.target = t;
    else p.labels = t;
  }
  if (p.input_ids.lt(0).any().item<bool>() || p.input_ids.ge(vocab).any().item<bool>())
    fail("batch: {}.input_ids: ids must be in [0, {})", name, vocab);
  if ((p.labels.ne(-100).logical_and(p.labels.lt(0).logical_or(p.labels.ge(vocab)))).any().item<bool>())
    fail("batch: {}.labels: must be -100 or ids in [0, {})", name, vocab);
  return p;
}

}  // namespace

nlohmann::json seq2seq_batch_to_json(const Seq2seqBatch& b) {
  nlohmann::json j = {{"task", "unimo-seq2seq"}, {"examples", b.examples}};
  if (b.text.defined()) j["text"] = part_json(b.text);
  if (b.pair.defined()) {
    nlohmann::json p = part_json(b.pair);
    p["features"] = tensor_to_json(b.pair_image.features);
    p["boxes"] = tensor_to_json(b.pair_image.boxes);
    p["region_mask"] = tensor_to_json(b.pair_image.region_mask);
    j["pair"] = p;
  }
  return j;
}

Seq2seqBatch seq2seq_batch_from_json(const nlohmann::json& j, int64_t vocab) {
  if (!j.is_object() || j.value("task", "") != "unimo-seq2seq")
    fail("batch: not a unimo-seq2seq batch (\"task\" must be \"unimo-seq2seq\")");
  Seq2seqBatch b;
  if (j.contains("text")) b.text = read_part(j["text"], "text", vocab);
  if (j.contains("pair")) {
    const auto& p = j["pair"];
    b.pair = read_part(p, "pair", vocab);
    const int64_t B = b.pair.input_ids.size(0);
    b.pair_image.features = need(p, "pair", "features", false);
    if (b.pair_image.features.dim() != 3 || b.pair_image.features.size(0) != B)
      fail("batch: pair.features: must be [B, N, D] with the text's B");
    const int64_t N = b.pair_image.features.size(1);
    b.pair_image.boxes = need(p, "pair", "boxes", false);
    if (b.pair_image.boxes.sizes() != at::IntArrayRef({B, N, 5})) fail("batch: pair.boxes: must be [B, N, 5]");
    b.pair_image.region_mask = need(p, "pair", "region_mask", true);
    if (b.pair_image.region_mask.sizes() != at::IntArrayRef({B, N})) fail("batch: pair.region_mask: must be [B, N]");
  }
  if (!b.text.defined() && !b.pair.defined()) fail("batch: a unimo-seq2seq batch needs a \"text\" or \"pair\" part");
  b.examples = j.value("examples", int64_t{0});
  return b;
}

}  // namespace cotrain::tasks
