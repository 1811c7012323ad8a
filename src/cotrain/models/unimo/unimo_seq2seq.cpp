#include "cotrain/models/unimo/unimo_seq2seq.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"

namespace cotrain::models {

at::Tensor seq2seq_attention(const at::Tensor& key_mask, const at::Tensor& target) {
  const int64_t L = key_mask.size(1);
  at::Tensor key = key_mask.ne(0).unsqueeze(1);                 // [B, 1, L]
  at::Tensor tgt = target.ne(0);
  at::Tensor key_is_source = tgt.logical_not().unsqueeze(1);     // [B, 1, L]
  at::Tensor query_is_target = tgt.unsqueeze(2);                 // [B, L, 1]
  at::Tensor causal = at::ones({L, L}, key_mask.options().dtype(at::kBool)).tril().unsqueeze(0);  // j <= i
  at::Tensor allowed = key_is_source.logical_or(query_is_target.logical_and(causal));
  return key.logical_and(allowed).to(at::kLong);
}

ImageEmbedded embed_image(UnimoModelImpl& model, const at::Tensor& f, const at::Tensor& boxes,
                          const at::Tensor& region_mask) {
  const int64_t B = f.size(0);
  at::Tensor img_feature = image_token_feature(f, region_mask).unsqueeze(1);
  at::Tensor img_box = at::tensor({0.0, 0.0, 1.0, 1.0, 1.0}, f.options()).expand({B, 1, 5});
  ImageEmbedded out;
  out.embeddings = model.visual_embeddings->forward(at::cat({img_feature, f}, 1),
                                                    at::cat({img_box, boxes.to(f.scalar_type())}, 1));
  out.key_mask = at::cat({at::ones({B, 1}, region_mask.options().dtype(at::kLong)), region_mask.to(at::kLong)}, 1);
  return out;
}

at::Tensor text_positions(const ModelConfig& config, const at::Tensor& text_mask) {
  at::Tensor real = text_mask.ne(0).to(at::kLong);
  at::Tensor count = at::cumsum(real, 1);  // 1-based rank among the real tokens
  if (config.type == "roberta") return count * real + config.pad_token_id;
  return ((count - 1) * real).clamp_min(0);
}

UnimoEncoded unimo_seq2seq_forward(UnimoModelImpl& model, const UnimoInputs& in, const at::Tensor& text_target) {
  if (!in.input_ids.defined()) fail("unimo seq2seq: the input needs a text (the target)");
  std::vector<at::Tensor> parts, masks, targets;
  UnimoEncoded out;
  const int64_t B = in.input_ids.size(0);
  if (in.region_features.defined()) {
    if (in.region_features.size(0) != B) fail("unimo seq2seq: image and text parts have different batch sizes");
    ImageEmbedded img = embed_image(model, in.region_features, in.region_boxes, in.region_mask);
    parts.push_back(img.embeddings);
    masks.push_back(img.key_mask);
    targets.push_back(at::zeros_like(img.key_mask));
    out.image_length = img.key_mask.size(1);
  }
  parts.push_back(model.embeddings->forward(in.input_ids, {}, text_positions(model.config, in.text_mask)));
  masks.push_back(in.text_mask.to(at::kLong));
  targets.push_back(text_target.to(at::kLong));
  at::Tensor x = at::cat(parts, 1);
  at::Tensor attend = seq2seq_attention(at::cat(masks, 1), at::cat(targets, 1));
  out.hidden = model.encoder->forward(x, additive_key_mask(attend, x.scalar_type()));
  if (out.image_length > 0) {
    out.h_img = out.hidden.select(1, 0);
    out.image_hidden = out.hidden.narrow(1, 1, out.image_length - 1);
  }
  out.text_hidden = out.hidden.narrow(1, out.image_length, in.input_ids.size(1));
  out.h_cls = out.text_hidden.select(1, 0);
  return out;
}

}  // namespace cotrain::models
