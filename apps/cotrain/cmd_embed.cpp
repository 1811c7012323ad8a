// `cotrain embed`: one embedding per input line, as JSON lines, in order.
#include <CLI/CLI.hpp>
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/models/bert/text_model.h"
#include "cotrain/train/checkpoint.h"
#include "cotrain/train/progress_display.h"

namespace cotrain::app {
namespace {

struct EmbedOptions {
  std::string model, input, out, pool = "mean";
  int64_t batch_size = 32, max_length = 0, threads = 0;
};

// Embeds `lines` [begin, end) and appends one JSON line per input to `out`.
void embed_batch(models::TextModel& tm, const std::vector<std::string>& lines, size_t begin, size_t end,
                 const EmbedOptions& o, int64_t max_length, std::ostream& out) {
  const auto& sp = tm.tokenizer->specials();
  std::vector<std::vector<int64_t>> rows;
  size_t longest = 0;
  for (size_t i = begin; i < end; ++i) {
    std::vector<int64_t> ids = tm.tokenizer->encode(lines[i]);
    if (static_cast<int64_t>(ids.size()) > max_length - 2) ids.resize(static_cast<size_t>(max_length - 2));
    ids.insert(ids.begin(), sp.cls);
    ids.push_back(sp.sep);
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({B, T}, sp.pad, at::kLong), mask = at::zeros({B, T}, at::kLong);
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < rows[b].size(); ++t) {
      ids[b][static_cast<int64_t>(t)] = rows[b][t];
      mask[b][static_cast<int64_t>(t)] = 1;
    }
  at::Tensor hidden = tm.model->bert->forward(ids, mask);
  at::Tensor pooled;
  if (o.pool == "cls") {
    pooled = hidden.select(1, 0);
  } else {  // mean over real tokens, [CLS] and [SEP] included
    at::Tensor m = mask.unsqueeze(-1).to(hidden.scalar_type());
    pooled = (hidden * m).sum(1) / m.sum(1);
  }
  pooled = pooled.contiguous();
  for (int64_t b = 0; b < B; ++b) {
    const float* v = pooled[b].data_ptr<float>();
    nlohmann::json record = {{"text", lines[begin + static_cast<size_t>(b)]},
                             {"embedding", std::vector<float>(v, v + pooled.size(1))}};
    out << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<EmbedOptions>();
  cmd.add_option("--model", o->model, "Hugging Face folder, cotrain checkpoint, or run folder (latest checkpoint)")
      ->required();
  cmd.add_option("--input", o->input, "text file, one input per line (empty lines included)")->required();
  cmd.add_option("--out", o->out, "output JSON lines: {\"text\": ..., \"embedding\": [...]} ('-': stdout)")
      ->default_val("-");
  cmd.add_option("--pool", o->pool, "mean: average of the last layer over real tokens ([CLS]/[SEP] included); "
                                    "cls: the [CLS] vector")
      ->check(CLI::IsMember({"mean", "cls"}))
      ->default_val("mean");
  cmd.add_option("--batch-size", o->batch_size, "lines per forward pass")->default_val(32)->check(CLI::PositiveNumber);
  cmd.add_option("--max-length", o->max_length, "tokens per line, specials included (default: the model's limit)");
  cmd.add_option("--threads", o->threads, "compute threads (0: all cores)")->default_val(0);
  return [o] {
    apply_thread_count(o->threads);
    models::TextModel tm = models::load_text_model(train::resolve_model_dir(o->model));
    tm.model->eval();
    c10::NoGradGuard no_grad;
    const int64_t limit = tm.config.max_position_embeddings - (tm.config.type == "roberta" ? 2 : 0);
    const int64_t max_length = o->max_length > 0 ? std::min(o->max_length, limit) : limit;
    if (max_length < 3) fail("--max-length must be at least 3");

    std::ifstream in(o->input, std::ios::binary);
    if (!in) fail("{}: cannot open input file", o->input);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
    // Check every line before any work, so that a bad line 9000 does not waste a run.
    for (size_t i = 0; i < lines.size(); ++i) {
      try {
        tm.tokenizer->encode(lines[i]);
      } catch (const Error& e) {
        fail("{}:{}: {}", o->input, i + 1, e.what());
      }
    }
    std::ofstream file;
    if (o->out != "-") {
      file.open(o->out, std::ios::binary | std::ios::trunc);
      if (!file) fail("{}: cannot write output file", o->out);
    }
    std::ostream& out = o->out == "-" ? std::cout : file;
    train::ProgressDisplay progress(static_cast<int64_t>(lines.size()), "lines", 1000);
    for (size_t begin = 0; begin < lines.size(); begin += static_cast<size_t>(o->batch_size)) {
      const size_t end = std::min(lines.size(), begin + static_cast<size_t>(o->batch_size));
      embed_batch(tm, lines, begin, end, *o, max_length, out);
      if (o->out != "-") progress.update(static_cast<int64_t>(end), "");
    }
    out.flush();
    if (!out) fail("{}: write failed (disk full?)", o->out);
    if (o->out != "-") progress.finish();
    return 0;
  };
}

Registration reg("embed", "write an embedding per input line (JSON lines)", setup);

}  // namespace
}  // namespace cotrain::app
