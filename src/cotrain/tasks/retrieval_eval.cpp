#include "cotrain/tasks/retrieval_eval.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/data/captions.h"
#include "cotrain/data/shards.h"
#include "cotrain/io/image.h"

namespace cotrain::tasks {

namespace {

std::set<std::string> split_list(const std::string& s) {
  std::set<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.insert(item);
  return out;
}

bool is_shard_input(const std::string& path) {
  if (is_directory(path)) return true;
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
}

RetrievalSet from_shards(const std::string& path, const RetrievalSetOptions& options) {
  data::ShardSet shards(path);
  const auto keep = split_list(options.splits);
  RetrievalSet set;
  std::map<int64_t, int64_t> image_slot;  // shard image -> set image
  for (int64_t c = 0; c < shards.num_captions(); ++c) {
    const data::CaptionView view = shards.caption(c);
    if (!keep.empty() && !keep.count(shards.caption_record(c).split)) continue;
    auto [it, fresh] = image_slot.emplace(view.image_index, set.num_images());
    if (fresh) {
      set.images.push_back(shards.image(view.image_index).to_regions());
      set.image_keys.emplace_back(shards.image(view.image_index).image_key);
    }
    set.texts.emplace_back(view.text);
    set.text_to_image.push_back(it->second);
  }
  return set;
}

RetrievalSet from_captions(const std::string& path, const RetrievalSetOptions& options) {
  data::CaptionOptions co;
  co.splits = options.splits;
  co.image_root = options.image_root;
  const std::vector<data::Caption> captions = data::read_captions(path, co);
  data::check_caption_images(captions, path);
  data::check_grid_options(options.grid);
  RetrievalSet set;
  std::map<std::string, int64_t> image_slot;  // image file -> set image
  for (const auto& c : captions) {
    auto [it, fresh] = image_slot.emplace(c.image_path, set.num_images());
    if (fresh) {
      try {
        set.images.push_back(data::grid_regions(io::load_image(c.image_path), options.grid, c.image_key));
      } catch (const Error& e) {
        fail("{}: record {}: {}", path, c.record, e.what());
      }
      set.image_keys.push_back(c.image_key);
    }
    set.texts.push_back(c.text);
    set.text_to_image.push_back(it->second);
  }
  return set;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// Re-ranked rows: for query q (a row of `scores`, candidates along the columns), the
// top k columns by score get value `base + #(other top-k columns with a lower pair
// score)`, which orders them by pair score above every other column (all below base)
// while keeping ties as ties.
struct Rerank {
  int64_t k = 0;
  std::vector<int64_t> columns;  // queries x k
  std::vector<float> values;     // queries x k
};

Rerank rerank_rows(RetrievalScorer& scorer, const RetrievalSet& set, const at::Tensor& query_emb,
                   const at::Tensor& cand_emb, int64_t k, bool queries_are_texts, float base, int64_t chunk) {
  Rerank r;
  const int64_t Q = query_emb.size(0);
  r.k = std::min<int64_t>(k, cand_emb.size(0));
  r.columns.resize(static_cast<size_t>(Q * r.k));
  r.values.resize(static_cast<size_t>(Q * r.k));
  for (int64_t q0 = 0; q0 < Q; q0 += chunk) {
    const int64_t q1 = std::min(Q, q0 + chunk);
    at::Tensor s = at::matmul(query_emb.narrow(0, q0, q1 - q0), cand_emb.t());
    at::Tensor top = std::get<1>(s.topk(r.k, 1)).contiguous();
    const int64_t* pt = top.data_ptr<int64_t>();
    std::vector<int64_t> images, texts;
    for (int64_t q = q0; q < q1; ++q)
      for (int64_t j = 0; j < r.k; ++j) {
        const int64_t c = pt[(q - q0) * r.k + j];
        r.columns[static_cast<size_t>(q * r.k + j)] = c;
        images.push_back(queries_are_texts ? c : q);
        texts.push_back(queries_are_texts ? q : c);
      }
    at::Tensor p = scorer.pair_scores(set, images, texts).to(at::kFloat).contiguous();
    const float* pp = p.data_ptr<float>();
    for (int64_t q = q0; q < q1; ++q) {
      const float* row = pp + (q - q0) * r.k;
      for (int64_t j = 0; j < r.k; ++j) {
        int64_t lower = 0;
        for (int64_t m = 0; m < r.k; ++m) lower += row[m] < row[j] ? 1 : 0;
        r.values[static_cast<size_t>(q * r.k + j)] = base + static_cast<float>(lower);
      }
    }
  }
  return r;
}

RetrievalMetrics metrics_of(const RetrievalSet& set, const at::Tensor& text_emb, const at::Tensor& image_emb,
                            const Rerank* text_rows, const Rerank* image_rows, int64_t chunk) {
  const int64_t N = set.num_images();
  return retrieval_metrics(N, set.num_texts(), set.text_to_image,
                           [&](int64_t t0, int64_t t1, float* out) {
                             at::Tensor s = at::matmul(text_emb.narrow(0, t0, t1 - t0), image_emb.t()).contiguous();
                             std::copy(s.data_ptr<float>(), s.data_ptr<float>() + s.numel(), out);
                             if (text_rows)
                               for (int64_t t = t0; t < t1; ++t)
                                 for (int64_t j = 0; j < text_rows->k; ++j) {
                                   const size_t at_ = static_cast<size_t>(t * text_rows->k + j);
                                   out[(t - t0) * N + text_rows->columns[at_]] = text_rows->values[at_];
                                 }
                             if (image_rows)
                               for (int64_t i = 0; i < N; ++i)
                                 for (int64_t j = 0; j < image_rows->k; ++j) {
                                   const size_t at_ = static_cast<size_t>(i * image_rows->k + j);
                                   const int64_t t = image_rows->columns[at_];
                                   if (t >= t0 && t < t1) out[(t - t0) * N + i] = image_rows->values[at_];
                                 }
                           },
                           chunk);
}

float max_norm(const at::Tensor& rows) { return rows.numel() ? rows.norm(2, {1}).max().item<float>() : 0.0f; }

}  // namespace

RetrievalSet load_retrieval_set(const std::string& path, const RetrievalSetOptions& options) {
  if (!path_exists(path)) fail("{}: no such file or folder", path);
  RetrievalSet set = is_shard_input(path) ? from_shards(path, options) : from_captions(path, options);
  if (set.texts.empty())
    fail("{}: no captions to evaluate{}", path, options.splits.empty() ? "" : " in splits " + options.splits);
  return set;
}

RetrievalEvalResult evaluate_retrieval(RetrievalScorer& scorer, const RetrievalSet& set,
                                       const RetrievalEvalOptions& options) {
  if (options.rerank_k < 0) fail("retrieval: --rerank-k must be >= 0");
  if (options.chunk < 1) fail("retrieval: the chunk size must be at least 1");
  for (const auto& r : set.images)
    if (r.feature_dim != scorer.feature_dim())
      fail("{}: regions of {} features, but the model takes {}", r.image_id, r.feature_dim, scorer.feature_dim());
  const auto start = std::chrono::steady_clock::now();
  c10::NoGradGuard no_grad;
  RetrievalEvalResult result;
  const std::vector<int64_t> all_images = iota(set.num_images()), all_texts = iota(set.num_texts());
  if (scorer.has_embeddings()) {
    result.scoring = "embeddings";
    const at::Tensor image_emb = scorer.embed_images(set, all_images).to(at::kFloat).contiguous();
    const at::Tensor text_emb = scorer.embed_texts(set, all_texts).to(at::kFloat).contiguous();
    result.zero_shot = metrics_of(set, text_emb, image_emb, nullptr, nullptr, options.chunk);
    if (options.rerank_k > 0) {
      if (!scorer.has_pair_scores()) fail("retrieval: a {} model has no pair score head to re-rank with", scorer.kind());
      // Every embedding score is at most |t| |i| (Cauchy-Schwarz): candidates start above it.
      const float base = std::ceil(max_norm(text_emb) * max_norm(image_emb)) + 1.0f;
      if (base > 1e6f) fail("retrieval: embeddings too large to re-rank exactly (norm product {})", base);
      const Rerank ir = rerank_rows(scorer, set, text_emb, image_emb, options.rerank_k, true, base, options.chunk);
      const Rerank tr = rerank_rows(scorer, set, image_emb, text_emb, options.rerank_k, false, base, options.chunk);
      const RetrievalMetrics m_ir = metrics_of(set, text_emb, image_emb, &ir, nullptr, options.chunk);
      const RetrievalMetrics m_tr = metrics_of(set, text_emb, image_emb, nullptr, &tr, options.chunk);
      RetrievalMetrics m = m_ir;
      m.tr_r1 = m_tr.tr_r1;
      m.tr_r5 = m_tr.tr_r5;
      m.tr_r10 = m_tr.tr_r10;
      m.tr_mean_rank = m_tr.tr_mean_rank;
      m.tr_median_rank = m_tr.tr_median_rank;
      m.rsum = m.ir_r1 + m.ir_r5 + m.ir_r10 + m.tr_r1 + m.tr_r5 + m.tr_r10;
      result.reranked = m;
      result.rerank_k = std::max(ir.k, tr.k);
    }
  } else if (scorer.has_pair_scores()) {
    result.scoring = "pairs";
    if (options.rerank_k > 0) fail("retrieval: a {} model has no embeddings: zero-shot already uses pair scores",
                                   scorer.kind());
    // Every combination once (retrieval_metrics asks for each chunk twice).
    const int64_t N = set.num_images();
    std::vector<float> all(static_cast<size_t>(set.num_texts() * N));
    for (int64_t t0 = 0; t0 < set.num_texts(); t0 += options.chunk) {
      const int64_t t1 = std::min(set.num_texts(), t0 + options.chunk);
      std::vector<int64_t> texts(all_texts.begin() + t0, all_texts.begin() + t1);
      at::Tensor s = scorer.score_matrix(set, all_images, texts).to(at::kFloat).contiguous();
      std::copy(s.data_ptr<float>(), s.data_ptr<float>() + s.numel(), all.begin() + t0 * N);
    }
    result.zero_shot = retrieval_metrics(
        N, set.num_texts(), set.text_to_image,
        [&](int64_t t0, int64_t t1, float* out) { std::copy(all.begin() + t0 * N, all.begin() + t1 * N, out); },
        options.chunk);
  } else {
    fail("retrieval: the {} scorer offers neither embeddings nor pair scores", scorer.kind());
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

double chance_text_recall(int64_t k, const RetrievalSet& set) {
  const int64_t n = set.num_texts();
  std::vector<int64_t> per_image(static_cast<size_t>(set.num_images()), 0);
  for (int64_t i : set.text_to_image) ++per_image[static_cast<size_t>(i)];
  double sum = 0;
  for (int64_t c : per_image) {
    double miss = 1.0;  // all of the first k are other images' captions
    for (int64_t j = 0; j < std::min(k, n); ++j) miss *= std::max<double>(0.0, static_cast<double>(n - c - j)) / (n - j);
    sum += 1.0 - miss;
  }
  return per_image.empty() ? 0.0 : 100.0 * sum / static_cast<double>(per_image.size());
}

nlohmann::json retrieval_report(const RetrievalScorer& scorer, const RetrievalSet& set,
                                const RetrievalEvalResult& r) {
  auto put = [](nlohmann::json& j, const std::string& prefix, const RetrievalMetrics& m) {
    j[prefix + "ir_r1"] = m.ir_r1;
    j[prefix + "ir_r5"] = m.ir_r5;
    j[prefix + "ir_r10"] = m.ir_r10;
    j[prefix + "tr_r1"] = m.tr_r1;
    j[prefix + "tr_r5"] = m.tr_r5;
    j[prefix + "tr_r10"] = m.tr_r10;
    j[prefix + "ir_mean_rank"] = m.ir_mean_rank;
    j[prefix + "ir_median_rank"] = m.ir_median_rank;
    j[prefix + "tr_mean_rank"] = m.tr_mean_rank;
    j[prefix + "tr_median_rank"] = m.tr_median_rank;
    j[prefix + "rsum"] = m.rsum;
  };
  nlohmann::json j = {{"task", "retrieval"},
                      {"model_kind", scorer.kind()},
                      {"scoring", r.scoring},
                      {"images", set.num_images()},
                      {"texts", set.num_texts()}};
  put(j, "", r.zero_shot);
  for (int64_t k : {1, 5, 10}) {
    j["chance_r" + std::to_string(k)] = chance_recall(k, set.num_images());
    j["chance_tr_r" + std::to_string(k)] = chance_text_recall(k, set);
  }
  if (r.reranked) {
    j["rerank_k"] = r.rerank_k;
    put(j, "rerank_", *r.reranked);
  }
  j["params"] = scorer.num_parameters();
  j["eval_s"] = r.seconds;
  return j;
}

}  // namespace cotrain::tasks
