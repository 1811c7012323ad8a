// load_tokenizer: picks WordPiece or BPE from the files found at a path.
#include "cotrain/core/error.h"
#include "cotrain/text/bpe.h"
#include "cotrain/text/text_files.h"
#include "cotrain/text/tokenizer.h"
#include "cotrain/text/wordpiece.h"

namespace cotrain::text {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path, bool lowercase) {
  if (is_file(path)) {
    // A vocab.json names its merges.txt by sitting next to it.
    if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
      std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
      std::string merges = join_path(dir, "merges.txt");
      if (!is_file(merges)) fail("{}: a BPE vocabulary needs merges.txt next to it ({} is missing)", path, merges);
      return BpeTokenizer::from_files(path, merges);
    }
    return WordPieceTokenizer::from_file(path, lowercase);
  }
  if (!is_folder(path)) fail("{}: no such file or folder (expected vocab.txt, or a folder holding it)", path);
  std::string vocab_txt = join_path(path, "vocab.txt");
  std::string vocab_json = join_path(path, "vocab.json");
  std::string merges_txt = join_path(path, "merges.txt");
  if (is_file(vocab_txt)) return WordPieceTokenizer::from_file(vocab_txt, lowercase);
  if (is_file(vocab_json) && is_file(merges_txt)) return BpeTokenizer::from_files(vocab_json, merges_txt);
  if (is_file(vocab_json)) fail("{}: has vocab.json but no merges.txt; byte-level BPE needs both", path);
  fail("{}: no vocabulary found (expected vocab.txt for WordPiece, or vocab.json + merges.txt for BPE)", path);
}

}  // namespace cotrain::text
