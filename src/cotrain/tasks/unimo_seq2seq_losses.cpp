#include "cotrain/tasks/unimo_seq2seq_losses.h"

#include <ATen/ATen.h>

#include "cotrain/models/unimo/unimo_seq2seq.h"

namespace cotrain::tasks {

namespace {
void collect(std::vector<at::Tensor>& hidden, std::vector<at::Tensor>& labels, const at::Tensor& text_hidden,
             const Seq2seqTextPart& part) {
  at::Tensor flat = part.labels.reshape({-1});
  at::Tensor rows = flat.ne(-100).nonzero().squeeze(1);
  hidden.push_back(text_hidden.reshape({-1, text_hidden.size(-1)}).index_select(0, rows));
  labels.push_back(flat.index_select(0, rows));
}
}  // namespace

Seq2seqLossOutput seq2seq_losses(models::UnimoModelImpl& model, const Seq2seqBatch& batch) {
  Seq2seqLossOutput out;
  std::vector<at::Tensor> hidden, labels;
  if (batch.text.defined()) {
    models::UnimoInputs in;
    in.input_ids = batch.text.input_ids;
    in.text_mask = batch.text.attention_mask;
    auto enc = models::unimo_seq2seq_forward(model, in, batch.text.target);
    collect(hidden, labels, enc.text_hidden, batch.text);
    out.tokens += batch.text.attention_mask.sum().item<int64_t>();
  }
  if (batch.pair.defined()) {
    models::UnimoInputs in;
    in.input_ids = batch.pair.input_ids;
    in.text_mask = batch.pair.attention_mask;
    in.region_features = batch.pair_image.features;
    in.region_boxes = batch.pair_image.boxes;
    in.region_mask = batch.pair_image.region_mask;
    auto enc = models::unimo_seq2seq_forward(model, in, batch.pair.target);
    collect(hidden, labels, enc.text_hidden, batch.pair);
    out.pair_hidden = enc.hidden;
    out.tokens += batch.pair.attention_mask.sum().item<int64_t>() + batch.pair_image.region_mask.sum().item<int64_t>() +
                  batch.pair.input_ids.size(0);
  }
  at::Tensor logits = model.mlm_logits(at::cat(hidden, 0));
  at::Tensor y = at::cat(labels, 0);
  at::Tensor loss = y.numel() ? at::cross_entropy_loss(logits, y) : logits.sum() * 0.0;
  out.terms["seq2seq"] = loss;
  out.terms["total"] = loss;
  return out;
}

}  // namespace cotrain::tasks
