// TF-IDF over short texts, for CMCL's sentence-level hard negatives (captions of other
// images that read alike) and text retrieval positives (texts of the text-only corpus
// similar to a caption). Terms are ASCII-lowercased runs of word characters (letters,
// digits, any non-ASCII byte); weight = (1 + log tf) * log((1 + n) / (1 + df)) + 1,
// vectors L2-normalised, similarity the dot product (cosine). Plain C++.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace cotrain::tasks {

std::vector<std::string> tfidf_terms(const std::string& text);

class TfidfIndex {
 public:
  // Document frequencies come from `documents`, which are also what search() returns.
  explicit TfidfIndex(const std::vector<std::string>& documents);

  using Vector = std::vector<std::pair<int64_t, float>>;  // (term id, weight), sorted by term id
  // The vector of any text in this index's vocabulary (unknown terms dropped).
  Vector vectorize(const std::string& text) const;
  static double dot(const Vector& a, const Vector& b);

  struct Hit {
    int64_t document = 0;
    double similarity = 0;
  };
  // The k most similar documents (similarity > 0) for which `keep(document)` holds,
  // best first; ties by lower index. Uses an inverted index.
  template <class Keep>
  std::vector<Hit> search(const Vector& query, int64_t k, Keep keep) const;
  std::vector<Hit> search_all(const Vector& query) const;  // every document with similarity > 0

  int64_t size() const { return static_cast<int64_t>(docs_.size()); }
  const Vector& document(int64_t i) const { return docs_[static_cast<size_t>(i)]; }

 private:
  std::unordered_map<std::string, int64_t> term_ids_;
  std::vector<double> idf_;
  std::vector<Vector> docs_;
  std::vector<std::vector<std::pair<int64_t, float>>> postings_;  // term -> (document, weight)
};

template <class Keep>
std::vector<TfidfIndex::Hit> TfidfIndex::search(const Vector& query, int64_t k, Keep keep) const {
  std::vector<Hit> all = search_all(query), out;
  for (const Hit& h : all) {
    if (static_cast<int64_t>(out.size()) >= k) break;
    if (keep(h.document)) out.push_back(h);
  }
  return out;
}

}  // namespace cotrain::tasks
