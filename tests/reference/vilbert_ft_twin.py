#!/usr/bin/env python3
"""Independent PyTorch twin of ViLBERT's fine-tuning heads and losses, written from
shared/spec/vilbert.md ("Downstream heads"), not from cotrain's C++. The two-stream
body is vilbert_twin.py's (itself written from the spec).

  --head retrieval  score = Linear(bi->1)(fused) ("vil_logit"); each example has 4
                    rows (true pair, random caption, random image, hard negative)
                    and the loss is the softmax cross-entropy with option 0 true,
                    averaged over examples.
  --head vqa        MLP on fused ("vil_prediction"): Linear(bi->2bi) -> ReLU ->
                    dropout (off here) -> Linear(2bi->A); loss = binary cross-entropy
                    of every answer against its soft score, summed over answers,
                    averaged over questions.
  --head grounding  Linear(Hv->1) per visual output ("vision_logit"); targets are 1
                    where IoU(region box, referred box) > 0.5, computed here from
                    pixel boxes; loss = BCE averaged over real regions (IMG token and
                    padding excluded).

Writes DIR/config.json and DIR/model.safetensors (body, the pretraining heads
"cls.*" that fine-tuning ignores, the fine-tuning head), DIR/inputs.safetensors
(model inputs and targets; grounding also pixel boxes and the referred box) and
DIR/outputs.safetensors (head outputs, the loss, grad.<name> of every body and head
parameter), in float64 arithmetic with dropout off.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import vilbert_twin as vt  # noqa: E402

F64 = torch.float64


def bce_with_logits(x, t):
    # -(t log s(x) + (1 - t) log(1 - s(x))), written stably with log-sigmoid
    return -(t * torch.nn.functional.logsigmoid(x) + (1 - t) * torch.nn.functional.logsigmoid(-x))


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--head", choices=["retrieval", "vqa", "grounding"], required=True)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--v-layers", type=int, default=2)
    ap.add_argument("--t-ids", default="2,3")
    ap.add_argument("--v-ids", default="0,1")
    ap.add_argument("--answers", type=int, default=11)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=7)
    ap.add_argument("--regions", type=int, default=6)
    ap.add_argument("--fusion", choices=["mul", "sum"], default="mul")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.1)
    args = ap.parse_args()
    ids = lambda s: [int(x) for x in s.split(",") if x != ""]
    H, Hv, Hb = 24, 16, 20
    cfg = {
        "model_type": "bert", "vocab_size": 53, "hidden_size": H, "num_hidden_layers": args.layers,
        "num_attention_heads": 2, "intermediate_size": 40, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 16, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": vt.EPS, "pad_token_id": 0,
        "v_feature_size": 12, "v_target_size": 9, "v_hidden_size": Hv, "v_num_hidden_layers": args.v_layers,
        "v_num_attention_heads": 2, "v_intermediate_size": 16, "v_hidden_dropout_prob": 0.1,
        "v_attention_probs_dropout_prob": 0.1, "bi_hidden_size": Hb, "bi_num_attention_heads": 4,
        "t_biattention_id": ids(args.t_ids), "v_biattention_id": ids(args.v_ids), "fusion_method": args.fusion,
        "region_objective": "kl",
    }
    g = common.generator(args.seed)
    model = vt.ViLBERT(cfg, "kl")
    if args.head == "retrieval":
        model.vil_logit = vt.Dense(Hb, 1)
    elif args.head == "vqa":
        model.vil_prediction = vt.Group()
        model.vil_prediction.dense = vt.Dense(Hb, 2 * Hb)
        model.vil_prediction.decoder = vt.Dense(2 * Hb, args.answers)
    else:
        model.vision_logit = vt.Dense(Hv, 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.copy_(p + common.normal(list(p.shape), 0.1, g).to(F64))
            else:
                p.copy_(common.normal(list(p.shape), args.std, g).to(F64))
    targs = argparse.Namespace(batch=args.batch, seq=args.seq, regions=args.regions, objective="kl")
    inp = vt.make_inputs(cfg, targs, g)
    for k in ("mlm_labels", "region_masked", "region_targets", "alignment_labels"):
        del inp[k]  # pretraining-only
    txt, vis, pt, pv, fused = model(inp)
    out = {}
    B, R = inp["image_mask"].shape
    if args.head == "retrieval":
        assert B % 4 == 0, "--batch must be a multiple of 4"
        score = model.vil_logit(fused).reshape(-1)
        loss = -torch.log_softmax(score.reshape(-1, 4), -1)[:, 0].mean()
        out["score"] = score
    elif args.head == "vqa":
        p = model.vil_prediction
        logits = p.decoder(torch.relu(p.dense(fused)))
        # soft scores in {0, 0.3, 0.6, 0.9, 1} on a few answers per question
        scores = torch.zeros(B, args.answers, dtype=torch.float32)
        for b in range(B):
            for a in common.randint(0, args.answers, [3], g).tolist():
                scores[b, a] = [0.3, 0.6, 0.9, 1.0][int(common.randint(0, 4, [1], g))]
        inp["answer_scores"] = scores
        loss = bce_with_logits(logits, scores.to(F64)).sum() / B
        out["answer_logits"] = logits
    else:
        logits = model.vision_logit(vis).squeeze(-1)
        # pixel boxes of the real regions (rows 1..n) in a 100 x 80 image; the referred
        # box is a jittered copy of one of them, so some regions pass IoU 0.5, some not
        boxes = torch.zeros(B, R - 1, 4, dtype=torch.float32)
        ref = torch.zeros(B, 4, dtype=torch.float32)
        targets = torch.zeros(B, R, dtype=torch.float32)
        weights = torch.zeros(B, R, dtype=torch.float32)
        for b in range(B):
            n = int(inp["image_mask"][b].sum()) - 1
            xy = torch.rand(n, 2, generator=g) * torch.tensor([60.0, 50.0])
            wh = torch.rand(n, 2, generator=g) * 30 + 5
            boxes[b, :n] = torch.cat([xy, xy + wh], 1)
            pick = boxes[b, int(common.randint(0, n, [1], g))]
            ref[b] = pick + torch.rand(4, generator=g) * 6 - 3
            ref[b, 2:] = torch.maximum(ref[b, 2:], ref[b, :2] + 1)
            for i in range(n):
                targets[b, i + 1] = 1.0 if iou(boxes[b, i].tolist(), ref[b].tolist()) > 0.5 else 0.0
                weights[b, i + 1] = 1.0
        inp.update(region_boxes=boxes, referred_box=ref, region_targets=targets, region_weights=weights)
        w = weights.to(F64)
        loss = (bce_with_logits(logits, targets.to(F64)) * w).sum() / w.sum()
        out["region_logits"] = logits
    loss.backward()

    os.makedirs(args.out, exist_ok=True)
    common.write_json(os.path.join(args.out, "config.json"), cfg)
    tensors = {n: p.detach().to(torch.float32) for n, p in model.named_parameters()}
    common.write_safetensors(os.path.join(args.out, "model.safetensors"), tensors)
    common.write_safetensors(os.path.join(args.out, "inputs.safetensors"), inp)
    f32 = lambda t: t.detach().to(torch.float32)
    res = {k: f32(v) for k, v in out.items()}
    res["loss"] = f32(loss).reshape(1)
    for n, p in model.named_parameters():
        if n.startswith("cls."):
            continue  # pretraining heads: not part of a fine-tuning model
        res["grad." + n] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)
    common.write_safetensors(os.path.join(args.out, "outputs.safetensors"), res)


if __name__ == "__main__":
    main()
