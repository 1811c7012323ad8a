#include "cotrain/tasks/bench_erica.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/core/rng.h"
#include "cotrain/data/alignment.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/models/bert/bert.h"
#include "cotrain/tasks/erica_batch.h"
#include "cotrain/tasks/erica_losses.h"
#include "cotrain/tasks/erica_pairing.h"
#include "cotrain/tasks/bench_training.h"

namespace cotrain::tasks {

namespace {
constexpr int64_t kTokensPerEntity = kEricaBenchMentionsPerEntity * kEricaBenchMentionTokens;
constexpr int64_t kMaxNaPairs = 32;    // erica.md: up to 32 NA pairs per RD document
constexpr int64_t kMaxNegatives = 64;  // erica.md: at most 64 negatives per anchor

int64_t specials(bool ed_row) { return ed_row ? 3 + kEricaBenchPrefixTokens : 2; }
}  // namespace

int64_t erica_ed_rows(const BenchOptions& o) { return o.batch / 2; }
int64_t erica_rd_rows(const BenchOptions& o) { return o.batch - o.batch / 2; }

int64_t erica_masked_per_row(const BenchOptions& o, bool ed_row) {
  // The ED prefix (relation and head names) may be masked (erica.md); only [CLS]
  // and the two [SEP] of an ED row are not.
  const int64_t maskable = o.seq - (ed_row ? 3 : 2) - o.entities * kTokensPerEntity;
  return std::min(maskable, std::max<int64_t>(1, std::llround(o.mask_prob * static_cast<double>(maskable))));
}

double erica_step_flops(const BenchOptions& o) {
  const double N = static_cast<double>(o.batch * o.seq), H = static_cast<double>(o.hidden),
               F = static_cast<double>(o.ffn), T = static_cast<double>(o.seq), V = static_cast<double>(o.vocab);
  const double M = static_cast<double>(erica_ed_rows(o) * erica_masked_per_row(o, true) +
                                       erica_rd_rows(o) * erica_masked_per_row(o, false));
  const double per_layer = 2 * N * H * 3 * H     // query, key, value
                           + 2 * N * H * H       // attention output
                           + 2 * 2 * N * H * F   // feed-forward in and out
                           + 2 * 2 * N * T * H;  // scores and weighted sum, all heads
  const double head = 2 * M * H * H + 2 * M * H * V;
  return 3.0 * (static_cast<double>(o.layers) * per_layer + head);
}

void validate_erica_bench_options(const BenchOptions& o) {
  validate_bench_options(o);
  if (o.batch < 2) fail("bench: --batch must be at least 2 for task erica (one ED and one RD row), got {}", o.batch);
  if (o.entities < 2) fail("bench: --entities must be at least 2 for task erica (a head and a tail), got {}", o.entities);
  // The ED body (seq - 7 tokens) must hold every mention in its own 2-token block.
  const int64_t need = o.entities * kTokensPerEntity + specials(true) + 1;
  if (o.seq < need)
    fail("bench: --entities {} ({} mentions of {} tokens each) do not fit --seq {} (needs --seq >= {})", o.entities,
         kEricaBenchMentionsPerEntity, kEricaBenchMentionTokens, o.seq, need);
}

namespace {

// One synthetic document: its entities' mentions as body positions, labels and
// na_triple list, in the form the ERICA batch builder reads (AlignedDocument).
data::AlignedDocument synthetic_document(const BenchOptions& o, int64_t body, Rng& rng) {
  data::AlignedDocument doc;
  const int64_t K = o.entities;
  // Non-overlapping mentions: a random choice of the body's 2-token blocks.
  std::vector<int64_t> blocks(static_cast<size_t>(body / kEricaBenchMentionTokens));
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i] = static_cast<int64_t>(i);
  rng.shuffle(blocks);
  doc.entities.resize(static_cast<size_t>(K));
  for (int64_t e = 0; e < K; ++e) {
    auto& mentions = doc.entities[static_cast<size_t>(e)];
    for (int64_t m = 0; m < kEricaBenchMentionsPerEntity; ++m) {
      const int64_t begin = blocks[static_cast<size_t>(e * kEricaBenchMentionsPerEntity + m)] * kEricaBenchMentionTokens;
      mentions.push_back({begin, begin + kEricaBenchMentionTokens, begin / kEricaBenchSentenceTokens});
    }
    std::sort(mentions.begin(), mentions.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  }
  // K distinct labelled ordered pairs; every other ordered pair is a known NA pair.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t h = 0; h < K; ++h)
    for (int64_t t = 0; t < K; ++t)
      if (h != t) pairs.emplace_back(h, t);
  rng.shuffle(pairs);
  const size_t labelled = std::min(pairs.size(), static_cast<size_t>(K));
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i < labelled) {
      data::Label l;
      l.h = pairs[i].first;
      l.t = pairs[i].second;
      l.r = "P" + std::to_string(rng.below(kEricaBenchRelationTypes));
      doc.labels.push_back(std::move(l));
    } else {
      doc.na_triples.push_back(pairs[i]);
    }
  }
  return doc;
}

// A row of exactly seq random ids with its entities at body offset `offset`, and
// exactly erica_masked_per_row() positions masked BERT-style among the maskable ones.
EricaRow synthetic_row(const BenchOptions& o, bool ed_row, int64_t doc_index, const data::AlignedDocument& doc,
                       int64_t offset, Rng& rng) {
  const int64_t low = std::min<int64_t>(5, o.vocab - 1), mask_id = std::min<int64_t>(103, o.vocab - 1);
  EricaRow row;
  row.kind = ed_row ? "ed" : "rd";
  row.doc = doc_index;
  row.ids.resize(static_cast<size_t>(o.seq));
  for (auto& id : row.ids) id = low + rng.below(o.vocab - low);
  row.labels.assign(static_cast<size_t>(o.seq), data::kIgnoreLabel);
  std::vector<bool> maskable(static_cast<size_t>(o.seq), true);
  maskable.front() = maskable.back() = false;                                  // [CLS], last [SEP]
  if (ed_row) maskable[static_cast<size_t>(1 + kEricaBenchPrefixTokens)] = false;  // [SEP] after the prefix
  for (const auto& mentions : doc.entities)
    for (const auto& m : mentions)
      for (int64_t p = m.begin; p < m.end; ++p) maskable[static_cast<size_t>(offset + p)] = false;
  std::vector<int64_t> candidates;
  for (int64_t p = 0; p < o.seq; ++p)
    if (maskable[static_cast<size_t>(p)]) candidates.push_back(p);
  const int64_t chosen = erica_masked_per_row(o, ed_row);
  for (int64_t i = 0; i < chosen; ++i) {  // partial Fisher-Yates: a uniform subset
    std::swap(candidates[static_cast<size_t>(i)],
              candidates[static_cast<size_t>(i + rng.below(static_cast<int64_t>(candidates.size()) - i))]);
    const auto p = static_cast<size_t>(candidates[static_cast<size_t>(i)]);
    row.labels[p] = row.ids[p];
    const double u = rng.uniform();
    if (u < 0.8) row.ids[p] = mask_id;
    else if (u < 0.9) row.ids[p] = low + rng.below(o.vocab - low);
  }
  return row;
}

std::vector<EricaEntity> row_entities(const data::AlignedDocument& doc, int64_t row, int64_t offset) {
  std::vector<EricaEntity> out;
  for (size_t e = 0; e < doc.entities.size(); ++e) {
    EricaEntity entity{row, static_cast<int64_t>(e), {}};
    for (const auto& m : doc.entities[e]) entity.mentions.emplace_back(offset + m.begin, offset + m.end);
    out.push_back(std::move(entity));
  }
  return out;
}

}  // namespace

EricaBatch erica_bench_batch(const BenchOptions& o, Rng& rng) {
  EricaBatch batch;
  const int64_t ed_offset = 2 + kEricaBenchPrefixTokens;  // [CLS] prefix [SEP]
  for (int64_t r = 0; r < erica_ed_rows(o); ++r) {
    const data::AlignedDocument doc = synthetic_document(o, o.seq - specials(true), rng);
    const int64_t base = static_cast<int64_t>(batch.entities.size());
    batch.rows.push_back(synthetic_row(o, true, r, doc, ed_offset, rng));
    for (auto& e : row_entities(doc, r, ed_offset)) batch.entities.push_back(std::move(e));
    // One labelled triple; the other gold tails of (h, r) are neither positive nor negative.
    const data::Label& l = doc.labels[static_cast<size_t>(rng.below(static_cast<int64_t>(doc.labels.size())))];
    EricaEdItem item;
    item.row = r;
    item.relation = l.r;
    item.query = base + l.h;
    item.positive = base + l.t;
    for (const auto& other : doc.labels)
      if (other.h == l.h && other.r == l.r && other.t != l.t) item.excluded.push_back(base + other.t);
    std::sort(item.excluded.begin(), item.excluded.end());
    for (int64_t e = 0; e < o.entities; ++e)
      if (e != l.h && !std::binary_search(item.excluded.begin(), item.excluded.end(), base + e))
        item.candidates.push_back(base + e);
    batch.ed.push_back(std::move(item));
  }
  std::vector<RelationInstance> instances;
  for (int64_t r = erica_ed_rows(o); r < o.batch; ++r) {
    const data::AlignedDocument doc = synthetic_document(o, o.seq - specials(false), rng);
    const int64_t base = static_cast<int64_t>(batch.entities.size());
    batch.rows.push_back(synthetic_row(o, false, r, doc, 1, rng));
    for (auto& e : row_entities(doc, r, 1)) batch.entities.push_back(std::move(e));
    for (auto& x : relation_instances(doc, r, PairKind::all, kMaxNaPairs, rng)) {
      batch.rd_pairs.push_back({r, base + x.head, base + x.tail, x.na ? std::string("NA") : x.label, x.na, x.intra});
      instances.push_back(std::move(x));
    }
  }
  batch.rd_anchors = pair_relation_instances(instances, kMaxNegatives, rng);
  return batch;
}

BenchResult bench_erica(const BenchOptions& o) {
  validate_erica_bench_options(o);
  at::manual_seed(o.seed);
  const ModelConfig mc = bench_bert_config(o);
  models::BertForMaskedLM model(mc);
  const EricaConfig objective;  // weights 1, temperature 0.05 (erica.md)

  Rng rng(o.seed + 1);
  EricaLosses last;
  BenchResult result = time_training_steps(o, erica_step_flops(o), *model, [&] {
    last = erica_losses(model, erica_bench_batch(o, rng), objective);
    return last.total;
  });
  result.has_loss = true;
  result.loss = last.total.item<double>();
  result.loss_terms = {{"mlm", last.mlm.item<double>()}, {"ed", last.ed.item<double>()}, {"rd", last.rd.item<double>()}};
  return result;
}

}  // namespace cotrain::tasks
