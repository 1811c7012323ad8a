// Caption metrics (unimo.md, "Downstream": COCO captioning reports BLEU-4 and CIDEr).
//   BLEU-1..4 (Papineni et al. 2002), corpus level: clipped n-gram counts summed over
//     the corpus, p_n = clipped / candidate n-grams, geometric mean with uniform
//     weights, brevity penalty exp(1 - r/c) when c <= r, where c is the candidates'
//     total length and r the sum over candidates of the reference length closest to
//     the candidate's (ties: the shorter). A p_n of 0 makes BLEU-n (and above) 0.
//   CIDEr-D (Vedantam et al. 2015, the coco-caption "CIDEr-D"): for n = 1..4, each
//     sentence is a vector of tf-idf weights g(w) = count(w) * log(I / max(1, df(w))),
//     with I the number of images and df(w) the number of images whose references
//     contain w; per reference, sum_w min(g_c(w), g_r(w)) g_r(w) / (|g_c| |g_r|)
//     (0 if a norm is 0) times exp(-(len_c - len_r)^2 / (2 * 6^2)); averaged over the
//     references and over n, times 10; the corpus score is the mean over images.
// Sentences are token lists; caption_tokens() is the tokenisation used by the
// commands: lowercase ASCII, punctuation . , : ; ! ? " ' ( ) removed, whitespace split.
#pragma once
#include <array>
#include <string>
#include <vector>

namespace cotrain::eval {

using Tokens = std::vector<std::string>;

Tokens caption_tokens(const std::string& text);

struct BleuScore {
  std::array<double, 4> bleu{};       // BLEU-1..4
  std::array<double, 4> precision{};  // p_1..p_4 (clipped / total)
  double brevity_penalty = 1.0;
  double candidate_length = 0, reference_length = 0;
};

// candidates[i] is scored against references[i] (at least one each). cotrain::Error
// when the sizes differ or an image has no reference.
BleuScore corpus_bleu(const std::vector<Tokens>& candidates, const std::vector<std::vector<Tokens>>& references);

struct CiderScore {
  double cider_d = 0;               // mean over images
  std::vector<double> per_image;
};
CiderScore corpus_cider_d(const std::vector<Tokens>& candidates, const std::vector<std::vector<Tokens>>& references,
                          double sigma = 6.0);

}  // namespace cotrain::eval
