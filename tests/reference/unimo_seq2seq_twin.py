#!/usr/bin/env python3
"""Independent PyTorch twin of UNIMO's sequence-to-sequence objective (unimo.md,
"Language learning": the target sees the whole source and itself causally, the source
sees only the source; "Downstream": captioning is seq2seq with the image as source).

Uses the UNIMO model of unimo_twin.py (float64, dropout off). Layout and labels follow
the batch format of src/cotrain/tasks/unimo_seq2seq_batch.h: a row is
`[CLS] source [SEP] target..` (or `[CLS] caption..` entirely target after an image);
the label at a position is the next token (the last one: the end token), -100 where
nothing is predicted.

  unimo_seq2seq_twin.py batch --model DIR --out F [--seed S]
  unimo_seq2seq_twin.py loss --model DIR --batch F [--out DIR]
        prints {"seq2seq", "total"}; with --out writes DIR/outputs.safetensors:
        loss.seq2seq, attend.text / attend.pair (the 0/1 attention [B, L, L]),
        pair_hidden, grad.<parameter>.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import unimo_twin  # noqa: E402

DTYPE = torch.float64


def attention_rule(key_mask, target):
    """attend[b, i, j]: key j is real, and either j is source, or i is target and j
    does not come after i. Written as explicit loops over the definition."""
    b_, l_ = key_mask.shape
    out = torch.zeros(b_, l_, l_, dtype=torch.int64)
    for b in range(b_):
        for i in range(l_):
            for j in range(l_):
                if not key_mask[b, j]:
                    continue
                if target[b, j] == 0 or (target[b, i] == 1 and j <= i):
                    out[b, i, j] = 1
    return out


def encode(model, ids, tmask, target, image=None):
    parts, keys, tgts = [], [], []
    n_image = 0
    if image is not None:
        feats, boxes, rmask = image
        b = feats.shape[0]
        m = rmask.to(DTYPE).unsqueeze(-1)
        img = (feats * m).sum(1) / torch.clamp(m.sum(1), min=1.0)
        whole = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0], dtype=DTYPE).expand(b, 1, 5)
        f = torch.cat([img.unsqueeze(1), feats], 1)
        ve = model.visual_embeddings
        parts.append(ve.LayerNorm(ve.feature_dense(f) + ve.box_dense(torch.cat([whole, boxes], 1))))
        keys.append(torch.cat([torch.ones(b, 1, dtype=torch.int64), rmask], 1))
        tgts.append(torch.zeros(b, f.shape[1], dtype=torch.int64))
        n_image = f.shape[1]
    parts.append(model.bert.embeddings(ids, torch.zeros_like(ids)))
    keys.append(tmask)
    tgts.append(target)
    attend = attention_rule(torch.cat(keys, 1), torch.cat(tgts, 1))
    x = torch.cat(parts, 1)
    additive = (1.0 - attend.to(DTYPE))[:, None, :, :] * -10000.0
    for layer in model.bert.encoder.layer:
        x = layer(x, additive)
    return x, n_image, attend


def losses(model, batch):
    hs, ys = [], []
    extra = {}
    for name in ("text", "pair"):
        if name not in batch:
            continue
        p = batch[name]
        ids, tmask = unimo_twin.text_inputs(p)
        target = unimo_twin.tensor(p["target"], True)
        labels = unimo_twin.tensor(p["labels"], True)
        image = unimo_twin.image_inputs(p) if name == "pair" else None
        hidden, n, attend = encode(model, ids, tmask, target, image)
        text_h = hidden[:, n:]
        keep = labels.reshape(-1) != -100
        hs.append(text_h.reshape(-1, text_h.shape[-1])[keep])
        ys.append(labels.reshape(-1)[keep])
        extra["attend." + name] = attend
        if name == "pair":
            extra["pair_hidden"] = hidden
    logits = model.mlm_logits(torch.cat(hs))
    y = torch.cat(ys)
    logp = torch.log_softmax(logits, -1)
    loss = -logp[torch.arange(y.numel()), y].mean()
    return loss, extra


def cmd_batch(args):
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    g = common.generator(args.seed)
    vocab, pad, d = cfg["vocab_size"], cfg["pad_token_id"], cfg["unimo"]["region_feature_dim"]
    cls, sep, low = (0, 2, 5) if cfg["model_type"] == "roberta" else (2, 3, 5)

    def rows_part(rows):
        m = max(len(r[0]) for r in rows)
        ids = torch.full((len(rows), m), pad, dtype=torch.int64)
        mask = torch.zeros(len(rows), m, dtype=torch.int64)
        tgt = torch.zeros(len(rows), m, dtype=torch.int64)
        lab = torch.full((len(rows), m), -100, dtype=torch.int64)
        for r, (i, t, lb) in enumerate(rows):
            ids[r, :len(i)] = torch.tensor(i)
            mask[r, :len(i)] = 1
            tgt[r, :len(i)] = torch.tensor(t)
            lab[r, :len(i)] = torch.tensor(lb)
        return {"input_ids": unimo_twin.as_json(ids), "attention_mask": unimo_twin.as_json(mask),
                "target": unimo_twin.as_json(tgt), "labels": unimo_twin.as_json(lab)}

    def words(n):
        return [int(v) for v in common.randint(low, vocab, [n], g)]

    def source_target(n_src, n_tgt):
        src, tgt = words(n_src), words(n_tgt)
        ids = [cls] + src + [sep] + tgt
        target = [0] * (n_src + 2) + [1] * n_tgt
        # next-token labels from the [SEP] that closes the source on; the end token last.
        nxt = tgt + [sep]
        labels = [-100] * (n_src + 1) + nxt
        return ids, target, labels

    def caption(n):
        w = words(n)
        return [cls] + w, [1] * (n + 1), w + [sep]

    batch = {"task": "unimo-seq2seq", "examples": 5,
             "text": rows_part([source_target(5, 3), source_target(2, 1), source_target(3, 4)])}
    pair = rows_part([caption(4), caption(2), source_target(2, 2)])
    n = 4
    feats = common.normal([3, n, d], 1.0, g).to(DTYPE)
    x1 = torch.rand(3, n, generator=g) * 0.5
    y1 = torch.rand(3, n, generator=g) * 0.5
    x2 = x1 + 0.1 + torch.rand(3, n, generator=g) * 0.4
    y2 = y1 + 0.1 + torch.rand(3, n, generator=g) * 0.4
    boxes = torch.stack([x1, y1, x2, y2, (x2 - x1) * (y2 - y1)], -1).to(torch.float32).to(DTYPE)
    rmask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]])
    pair["features"] = unimo_twin.as_json(feats * rmask.unsqueeze(-1).to(DTYPE))
    pair["boxes"] = unimo_twin.as_json(boxes)
    pair["region_mask"] = unimo_twin.as_json(rmask)
    batch["pair"] = pair
    with open(args.out, "w") as f:
        json.dump(batch, f)


def cmd_loss(args):
    _, model = unimo_twin.load_model(args.model)
    with open(args.batch) as f:
        batch = json.load(f)
    loss, extra = losses(model, batch)
    print(json.dumps({"seq2seq": float(loss), "total": float(loss)}))
    if args.out:
        loss.backward()
        f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
        tensors = {"loss.seq2seq": f32(loss.reshape(1))}
        for k, v in extra.items():
            tensors[k] = f32(v)
        for n, p in model.named_parameters():
            tensors["grad." + n] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)
        os.makedirs(args.out, exist_ok=True)
        common.write_safetensors(os.path.join(args.out, "outputs.safetensors"), tensors,
                                 {"generator": "tests/reference/unimo_seq2seq_twin.py", "version": "1"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("batch")
    b.add_argument("--model", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=0)
    lo = sub.add_parser("loss")
    lo.add_argument("--model", required=True)
    lo.add_argument("--batch", required=True)
    lo.add_argument("--out")
    args = ap.parse_args()
    {"batch": cmd_batch, "loss": cmd_loss}[args.cmd](args)


if __name__ == "__main__":
    main()
