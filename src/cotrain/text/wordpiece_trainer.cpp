#include "cotrain/text/wordpiece_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <unordered_set>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/text/text_files.h"
#include "cotrain/text/utf8.h"
#include "cotrain/text/wordpiece.h"

namespace cotrain::text {
namespace {

const char* const kSpecials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
constexpr int64_t kSpecialCount = 5;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Characters that the basic tokenizer always makes words of their own never need a
// "##" form.
bool standalone_only(char32_t cp) { return is_bert_punctuation(cp) || is_cjk_ideograph(cp); }

using PairKey = uint64_t;
PairKey pair_key(int32_t a, int32_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
int32_t left_of(PairKey k) { return static_cast<int32_t>(k >> 32); }
int32_t right_of(PairKey k) { return static_cast<int32_t>(k & 0xFFFFFFFFu); }

struct HeapEntry {
  double score;
  int64_t count;
  PairKey key;
};
// Max-heap order: higher score, then higher count, then the smaller key (earlier pieces).
bool heap_less(const HeapEntry& x, const HeapEntry& y) {
  if (x.score != y.score) return x.score < y.score;
  if (x.count != y.count) return x.count < y.count;
  return x.key > y.key;
}

// The merging state: words as piece ids, and counts of pieces and adjacent pairs.
class Merger {
 public:
  Merger(int64_t min_frequency, bool progress) : min_frequency_(min_frequency), progress_(progress) {}

  int32_t intern(const std::string& token, bool* created = nullptr) {
    auto [it, inserted] = ids_.emplace(token, static_cast<int32_t>(strings_.size()));
    if (inserted) {
      strings_.push_back(token);
      token_counts_.push_back(0);
      token_pairs_.emplace_back();
    }
    if (created) *created = inserted;
    return it->second;
  }
  int32_t find(const std::string& token) const {
    auto it = ids_.find(token);
    return it == ids_.end() ? -1 : it->second;
  }

  void add_word(std::vector<int32_t> pieces, int64_t count) {
    const uint32_t index = static_cast<uint32_t>(words_.size());
    for (int32_t p : pieces) token_counts_[p] += count;
    for (size_t i = 0; i + 1 < pieces.size(); ++i) {
      PairKey k = pair_key(pieces[i], pieces[i + 1]);
      add_pair_count(k, count);
      pair_words_[k].push_back(index);
    }
    words_.push_back({std::move(pieces), count, 0});
  }

  // Merges best pairs until `target` new pieces were made; returns the new pieces.
  std::vector<std::string> run(int64_t target) {
    total_ = 0;
    for (int64_t c : token_counts_) total_ += static_cast<double>(c);
    rebuild_heap();
    std::vector<std::string> made;
    auto last_log = Clock::now();
    const auto start = Clock::now();
    int64_t merges = 0;
    while (static_cast<int64_t>(made.size()) < target) {
      PairKey best;
      if (!pop_best(best)) break;
      ++merges;
      const int32_t a = left_of(best), b = right_of(best);
      std::string merged = strings_[a] + strings_[b].substr(2);  // b is always a "##" piece
      bool created = false;
      const int32_t ab = intern(merged, &created);
      if (created) made.push_back(merged);
      apply_merge(best, a, b, ab);
      if (heap_.size() > 4 * pair_counts_.size() + (1u << 20)) rebuild_heap();
      if (progress_ && seconds_since(last_log) >= 2.0) {
        last_log = Clock::now();
        log::info("vocab: {}/{} pieces made ({} merges, {:.0f} merges/s), last \"{}\"", made.size(), target, merges,
                  merges / std::max(1e-9, seconds_since(start)), merged);
      }
    }
    merges_ = merges;
    return made;
  }

  int64_t merges() const { return merges_; }

 private:
  struct Word {
    std::vector<int32_t> pieces;
    int64_t count;
    int64_t stamp;  // the last merge step that rewrote it
  };

  // Gain in corpus log-likelihood under a unigram model of pieces when every (a, b)
  // becomes ab: count(ab) * log(count(ab) * N / (count(a) * count(b))), with N the
  // number of pieces before any merge.
  double score(PairKey k, int64_t count) const {
    const double c = static_cast<double>(count);
    const double ca = static_cast<double>(token_counts_[left_of(k)]);
    const double cb = static_cast<double>(token_counts_[right_of(k)]);
    return c * std::log(c * total_ / (ca * cb));
  }

  void add_pair_count(PairKey k, int64_t delta) {
    auto [it, inserted] = pair_counts_.emplace(k, 0);
    if (inserted) {
      token_pairs_[left_of(k)].push_back(k);
      if (right_of(k) != left_of(k)) token_pairs_[right_of(k)].push_back(k);
    }
    it->second += delta;
  }

  void push(PairKey k) {
    auto it = pair_counts_.find(k);
    if (it == pair_counts_.end() || it->second < min_frequency_) return;
    heap_.push_back({score(k, it->second), it->second, k});
    std::push_heap(heap_.begin(), heap_.end(), heap_less);
  }

  void rebuild_heap() {
    heap_.clear();
    for (const auto& [k, count] : pair_counts_) {
      if (count >= min_frequency_) heap_.push_back({score(k, count), count, k});
    }
    std::make_heap(heap_.begin(), heap_.end(), heap_less);
  }

  // Pops entries until one is current (its stored score and count are still true);
  // stale entries are pushed back with their current values.
  bool pop_best(PairKey& best) {
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), heap_less);
      HeapEntry e = heap_.back();
      heap_.pop_back();
      auto it = pair_counts_.find(e.key);
      if (it == pair_counts_.end() || it->second < min_frequency_) continue;
      if (it->second != e.count || score(e.key, it->second) != e.score) {
        push(e.key);
        continue;
      }
      best = e.key;
      return true;
    }
    return false;
  }

  void apply_merge(PairKey best, int32_t a, int32_t b, int32_t ab) {
    ++step_;
    std::unordered_map<PairKey, int64_t> before;  // counts of the pairs touched, before
    auto change = [&](PairKey k, int64_t delta) {
      auto it = pair_counts_.find(k);
      before.emplace(k, it == pair_counts_.end() ? 0 : it->second);
      add_pair_count(k, delta);
    };
    std::vector<uint32_t> word_list;
    word_list.swap(pair_words_[best]);
    std::vector<int32_t> merged;
    for (uint32_t w : word_list) {
      Word& word = words_[w];
      if (word.stamp == step_) continue;  // listed twice
      std::vector<int32_t>& p = word.pieces;
      bool has_pair = false;
      for (size_t i = 0; i + 1 < p.size() && !has_pair; ++i) has_pair = p[i] == a && p[i + 1] == b;
      if (!has_pair) continue;  // an old listing: the word changed since
      word.stamp = step_;
      for (size_t i = 0; i + 1 < p.size(); ++i) change(pair_key(p[i], p[i + 1]), -word.count);
      for (int32_t t : p) token_counts_[t] -= word.count;
      merged.clear();
      for (size_t i = 0; i < p.size();) {
        if (i + 1 < p.size() && p[i] == a && p[i + 1] == b) {
          merged.push_back(ab);
          i += 2;
        } else {
          merged.push_back(p[i]);
          i += 1;
        }
      }
      p.swap(merged);
      for (int32_t t : p) token_counts_[t] += word.count;
      for (size_t i = 0; i + 1 < p.size(); ++i) {
        PairKey k = pair_key(p[i], p[i + 1]);
        change(k, word.count);
        if (p[i] == ab || p[i + 1] == ab) pair_words_[k].push_back(w);
      }
    }
    pair_words_.erase(best);
    // Pairs whose counts changed may now score higher than their queue entries (a
    // lower count raises the score of a pair that is rarer than chance).
    for (const auto& [k, old_count] : before) {
      auto it = pair_counts_.find(k);
      if (it->second == 0) {
        pair_counts_.erase(it);
        pair_words_.erase(k);
      } else if (it->second != old_count) {
        push(k);
      }
    }
    // a and b lost occurrences, so every pair with them scores higher now.
    for (int32_t t : {a, b}) {
      std::vector<PairKey>& keys = token_pairs_[t];
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      keys.erase(std::remove_if(keys.begin(), keys.end(), [&](PairKey k) { return !pair_counts_.count(k); }),
                 keys.end());
      if (token_counts_[t] > 0) {
        for (PairKey k : keys) push(k);
      }
    }
  }

  int64_t min_frequency_;
  bool progress_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<int64_t> token_counts_;
  std::vector<std::vector<PairKey>> token_pairs_;  // pairs each piece is part of (may hold dead keys)
  std::vector<Word> words_;
  std::unordered_map<PairKey, int64_t> pair_counts_;
  std::unordered_map<PairKey, std::vector<uint32_t>> pair_words_;  // words that may hold the pair
  std::vector<HeapEntry> heap_;
  double total_ = 0;  // N of the score
  int64_t step_ = 0;
  int64_t merges_ = 0;
};

}  // namespace

WordPieceTrainer::WordPieceTrainer(WordPieceTrainerOptions options)
    : options_(options), basic_(options.lowercase) {
  if (options_.vocab_size <= kSpecialCount) {
    fail("vocabulary size {} is too small: it must leave room after the {} special tokens", options_.vocab_size,
         kSpecialCount);
  }
  if (options_.min_frequency < 1) fail("minimum frequency must be at least 1, got {}", options_.min_frequency);
}

void WordPieceTrainer::add_line(std::string_view line, std::string_view context) {
  auto start = Clock::now();
  ++stats_.lines;
  for (BasicWord& word : basic_.split(line, context)) {
    ++stats_.words;
    // Longer words are [UNK] for WordPiece whatever the vocabulary: not worth pieces.
    if (word.chars.size() > WordPieceTokenizer::kMaxInputCharsPerWord) continue;
    ++word_counts_[std::move(word.chars)];
  }
  stats_.seconds_counting += seconds_since(start);
}

void WordPieceTrainer::add_file(const std::string& path) {
  if (is_folder(path)) fail("{}: is a folder, expected a text file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open the corpus file", path);
  std::string line;
  int64_t number = 0;
  const int64_t words_before = stats_.words;
  auto last_log = Clock::now();
  int64_t bytes = 0;
  while (std::getline(in, line)) {
    ++number;
    bytes += static_cast<int64_t>(line.size()) + 1;
    add_line(line, path + ": line " + std::to_string(number));
    if (options_.progress && (number & 1023) == 0 && seconds_since(last_log) >= 2.0) {
      last_log = Clock::now();
      log::info("vocab: {}: {} lines, {:.1f} MB read", path, number, bytes / 1e6);
    }
  }
  if (in.bad()) fail("{}: read error after line {}", path, number);
  if (options_.progress) {
    log::info("vocab: {}: {} lines, {} words ({} distinct so far)", path, number, stats_.words - words_before,
              word_counts_.size());
  }
}

std::vector<std::string> WordPieceTrainer::train() {
  auto start = Clock::now();
  stats_.unique_words = static_cast<int64_t>(word_counts_.size());
  // Sorted words make the result independent of hash-table order.
  std::vector<std::pair<std::u32string, int64_t>> words(word_counts_.begin(), word_counts_.end());
  word_counts_.clear();
  std::sort(words.begin(), words.end());

  std::map<char32_t, int64_t> char_counts;
  for (const auto& [word, count] : words) {
    for (char32_t c : word) char_counts[c] += count;
  }
  // Keep the most frequent characters that fit; each takes one or two entries.
  std::vector<std::pair<char32_t, int64_t>> by_count(char_counts.begin(), char_counts.end());
  std::stable_sort(by_count.begin(), by_count.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  const int64_t budget = options_.vocab_size - kSpecialCount;
  std::vector<char32_t> alphabet;
  int64_t entries = 0;
  for (const auto& [c, count] : by_count) {
    int64_t cost = standalone_only(c) ? 1 : 2;
    if (entries + cost > budget) continue;
    entries += cost;
    alphabet.push_back(c);
  }
  if (alphabet.size() < by_count.size() && options_.progress) {
    log::warn("vocab: only {} of {} distinct characters fit in {} entries; the rarest will be [UNK]", alphabet.size(),
              by_count.size(), options_.vocab_size);
  }
  std::sort(alphabet.begin(), alphabet.end());

  std::vector<std::string> vocab(std::begin(kSpecials), std::end(kSpecials));
  Merger merger(options_.min_frequency, options_.progress);
  for (const std::string& s : vocab) merger.intern(s);
  std::string piece;
  for (char32_t c : alphabet) {
    piece.clear();
    append_utf8(c, piece);
    merger.intern(piece);
    vocab.push_back(piece);
  }
  for (char32_t c : alphabet) {
    if (standalone_only(c)) continue;
    piece = "##";
    append_utf8(c, piece);
    merger.intern(piece);
    vocab.push_back(piece);
  }
  stats_.alphabet = static_cast<int64_t>(vocab.size()) - kSpecialCount;

  // Words as alphabet pieces; a word with a character left out cannot be built.
  for (const auto& [word, count] : words) {
    std::vector<int32_t> pieces;
    pieces.reserve(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
      piece = i == 0 ? "" : "##";
      append_utf8(word[i], piece);
      int32_t id = merger.find(piece);
      if (id < 0) {
        pieces.clear();
        break;
      }
      pieces.push_back(id);
    }
    if (!pieces.empty()) merger.add_word(std::move(pieces), count);
  }
  words.clear();

  const int64_t target = options_.vocab_size - static_cast<int64_t>(vocab.size());
  if (options_.progress) {
    log::info("vocab: {} distinct words, alphabet of {} pieces; making up to {} more pieces", stats_.unique_words,
              stats_.alphabet, target);
  }
  for (std::string& made : merger.run(target)) vocab.push_back(std::move(made));
  stats_.merges = merger.merges();
  stats_.seconds_merging = seconds_since(start);
  if (options_.progress && static_cast<int64_t>(vocab.size()) < options_.vocab_size) {
    log::info("vocab: stopped at {} tokens: no pair of pieces occurs {} times or more", vocab.size(),
              options_.min_frequency);
  }
  return vocab;
}

void write_vocab_txt(const std::string& path, const std::vector<std::string>& tokens) {
  std::string contents;
  for (const std::string& t : tokens) contents += t + "\n";
  write_text_file(path, contents);
}

}  // namespace cotrain::text
