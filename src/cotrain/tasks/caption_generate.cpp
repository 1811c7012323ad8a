#include "cotrain/tasks/caption_generate.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/eval/caption_metrics.h"
#include "cotrain/tasks/unimo_seq2seq_task.h"

namespace cotrain::tasks {

models::DecodeOptions decode_options_of(const Config& config, const models::UnimoFolder& folder) {
  validate_seq2seq_config(config.seq2seq);
  models::DecodeOptions o;
  o.beam_size = config.seq2seq.beam_size;
  o.length_penalty = config.seq2seq.length_penalty;
  o.max_length = config.seq2seq.max_decode_length;
  o.no_repeat_ngram = config.seq2seq.no_repeat_ngram;
  o.eos = folder.tokenizer->specials().sep;
  return o;
}

data::RegionsView view_of(const data::Regions& r) {
  data::RegionsView v;
  v.image_key = r.image_id;
  v.width = r.width;
  v.height = r.height;
  v.num_boxes = r.num_boxes;
  v.feature_dim = r.feature_dim;
  v.num_classes = r.num_classes;
  v.boxes = r.boxes.data();
  v.features = r.features.data();
  v.class_probs = r.class_probs.empty() ? nullptr : r.class_probs.data();
  return v;
}

std::vector<std::string> caption_regions(models::UnimoFolder& folder, const std::vector<data::RegionsView>& views,
                                         models::DecodeOptions options, int64_t max_regions, int64_t batch_size) {
  if (!folder.tokenizer) fail("generate: the model folder has no vocabulary");
  options.bos = folder.tokenizer->specials().cls;
  folder.model->eval();
  std::vector<std::string> out;
  for (size_t start = 0; start < views.size(); start += static_cast<size_t>(batch_size)) {
    std::vector<data::RegionsView> chunk(views.begin() + static_cast<std::ptrdiff_t>(start),
                                         views.begin() + static_cast<std::ptrdiff_t>(std::min(views.size(), start + static_cast<size_t>(batch_size))));
    for (const auto& v : chunk)
      if (v.feature_dim != folder.geometry.region_feature_dim)
        fail("generate: image {} has {} features per region, the model takes {}", v.image_key, v.feature_dim,
             folder.geometry.region_feature_dim);
    UnimoImagePart part = image_part_of(chunk, max_regions);
    models::DecodeSource source;
    source.features = part.features;
    source.boxes = part.boxes;
    source.region_mask = part.region_mask;
    for (const auto& d : models::decode(*folder.model, source, options)) out.push_back(folder.tokenizer->decode(d.tokens));
  }
  return out;
}

std::vector<std::string> generate_from_texts(models::UnimoFolder& folder, const std::vector<std::string>& texts,
                                             models::DecodeOptions options, int64_t max_length, int64_t batch_size) {
  if (!folder.tokenizer) fail("generate: the model folder has no vocabulary");
  const auto& sp = folder.tokenizer->specials();
  options.bos = -1;
  folder.model->eval();
  std::vector<std::string> out;
  for (size_t start = 0; start < texts.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(texts.size(), start + static_cast<size_t>(batch_size));
    std::vector<Seq2seqRow> rows;
    for (size_t i = start; i < end; ++i) {
      std::vector<int64_t> ids = folder.tokenizer->encode(texts[i]);
      if (static_cast<int64_t>(ids.size()) > max_length - 2) ids.resize(static_cast<size_t>(std::max<int64_t>(0, max_length - 2)));
      rows.push_back(text_seq2seq_row(ids, std::vector<bool>(ids.size(), false), sp.cls, sp.sep));
    }
    Seq2seqTextPart part = make_seq2seq_part(rows, sp.pad);
    models::DecodeSource source;
    source.source_ids = part.input_ids;
    source.source_mask = part.attention_mask;
    for (const auto& d : models::decode(*folder.model, source, options)) out.push_back(folder.tokenizer->decode(d.tokens));
  }
  return out;
}

CaptionRun caption_shards(models::UnimoFolder& folder, const std::vector<std::string>& shard_dirs,
                          models::DecodeOptions options, int64_t max_regions, int64_t batch_size) {
  CaptionRun run;
  std::vector<data::ShardSet> sets;
  for (const auto& dir : shard_dirs) sets.emplace_back(dir);
  std::vector<data::RegionsView> views;
  for (const auto& set : sets) {
    std::map<int64_t, std::vector<std::string>> refs;
    for (int64_t c = 0; c < set.num_captions(); ++c) {
      data::CaptionView cap = set.caption(c);
      refs[cap.image_index].emplace_back(cap.text);
    }
    for (const auto& [image, texts] : refs) {
      views.push_back(set.image(image));
      run.items.push_back({std::string(views.back().image_key), "", texts});
    }
  }
  if (run.items.empty()) fail("generate: no captioned images in {}", shard_dirs.empty() ? "" : shard_dirs.front());
  std::vector<std::string> generated = caption_regions(folder, views, options, max_regions, batch_size);
  for (size_t i = 0; i < generated.size(); ++i) run.items[i].generated = generated[i];
  return run;
}

void write_caption_predictions(const std::string& path, const CaptionRun& run) {
  std::string text;
  for (const auto& item : run.items)
    text += nlohmann::json{{"image_key", item.image_key}, {"caption", item.generated}, {"references", item.references}}
                .dump() +
            "\n";
  write_file_atomically(path, text);
}

nlohmann::json caption_scores_json(const CaptionRun& run) {
  std::vector<eval::Tokens> candidates;
  std::vector<std::vector<eval::Tokens>> references;
  for (const auto& item : run.items) {
    candidates.push_back(eval::caption_tokens(item.generated));
    references.emplace_back();
    for (const auto& r : item.references) references.back().push_back(eval::caption_tokens(r));
  }
  eval::BleuScore b = eval::corpus_bleu(candidates, references);
  eval::CiderScore c = eval::corpus_cider_d(candidates, references);
  return {{"images", run.items.size()}, {"bleu1", b.bleu[0]}, {"bleu2", b.bleu[1]}, {"bleu3", b.bleu[2]},
          {"bleu4", b.bleu[3]}, {"cider_d", c.cider_d}};
}

}  // namespace cotrain::tasks
