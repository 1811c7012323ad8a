#!/usr/bin/env python3
"""Independent PyTorch twin of the document-level RE head and loss (erica.md, Downstream).

Written from shared/spec/erica.md ("DocRED (document-level RE): encoder -> entity reps
(mean-pooled mentions) -> Linear(H->128) + 20-d distance embedding -> bilinear over the
classes (relations + NA), BCE; NA pairs sampled at 3x positives") and DocRED's distance
bins, not from cotrain's C++. It reads a model folder (config.json, model.safetensors
and the head in docred_head.safetensors) and a batch written by
`cotrain batch --task docred`, runs the encoder in float64 with dropout off and computes

  e_i      = mean over entity i's mentions of the mean of the mention's token states
  z_i      = W e_i + b                                   (Linear H -> 128)
  h-side   = [z_h ; D[bin(d)]],  t-side = [z_t ; D[bin(-d)]]   (D: 20 x 20 table)
             d = first-mention word position of h minus that of t; bin: |d| = 0, 1,
             2-3, 4-7, ..., 128-255, >= 256 -> 0..9, index 10 + bin (d >= 0) or 10 - bin
  logit_k  = h-side^T A_k t-side + c_k                   (k = 0 NA, 1.. relations)
  loss     = mean over pairs and classes of the binary cross-entropy with the
             multi-hot target (NA pairs: class 0 only)

then the gradient of the loss for every parameter. It first checks the batch against
the rules (NA pairs per document = min(round(na_ratio * positives), available), no
pair twice, NA never mixed with a relation, distance indices equal to the bins of the
recorded first-mention positions) and exits 3 naming the first violation.

Writes --out (safetensors, F32): loss [1], logits [P, C], grad.<name> for every encoder
parameter (canonical names) and grad.head.<name> for the head's; prints {"bce": ...}.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import common  # noqa: E402

DTYPE = torch.float64
REDUCED, DIST, BUCKETS = 128, 20, 20


def bucket(d):
    """DocRED's distance bins, signed into a 20-row table."""
    a = abs(d)
    b = 0
    for edge, value in ((1, 1), (2, 2), (4, 3), (8, 4), (16, 5), (32, 6), (64, 7), (128, 8), (256, 9)):
        if a >= edge:
            b = value
    return 10 + b if d >= 0 else 10 - b


class Head(torch.nn.Module):
    def __init__(self, hidden, classes):
        super().__init__()
        width = REDUCED + DIST
        self.reduce_weight = torch.nn.Parameter(torch.zeros(REDUCED, hidden, dtype=DTYPE))
        self.reduce_bias = torch.nn.Parameter(torch.zeros(REDUCED, dtype=DTYPE))
        self.distance_weight = torch.nn.Parameter(torch.zeros(BUCKETS, DIST, dtype=DTYPE))
        self.bilinear_weight = torch.nn.Parameter(torch.zeros(classes, width, width, dtype=DTYPE))
        self.bilinear_bias = torch.nn.Parameter(torch.zeros(classes, dtype=DTYPE))

    # stored name -> parameter
    def stored(self):
        return {"reduce.weight": self.reduce_weight, "reduce.bias": self.reduce_bias,
                "distance.weight": self.distance_weight, "bilinear.weight": self.bilinear_weight,
                "bilinear.bias": self.bilinear_bias}


class RuleViolation(Exception):
    pass


def require(ok, message):
    if not ok:
        raise RuleViolation(message)


def load(folder):
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.setdefault("model_type", "bert")
    model = bert_twin.MaskedLM(cfg)
    tensors = common.read_safetensors(os.path.join(folder, "model.safetensors"))
    roberta = cfg["model_type"] == "roberta"
    with torch.no_grad():
        for name, p in model.named_parameters():
            stored = bert_twin.roberta_name(name) if roberta else name
            if stored not in tensors:
                sys.exit(f"{folder}/model.safetensors: missing {stored}")
            p.copy_(tensors[stored].to(DTYPE))
    head_tensors = common.read_safetensors(os.path.join(folder, "docred_head.safetensors"))
    classes = head_tensors["bilinear.bias"].shape[0]
    head = Head(cfg["hidden_size"], classes)
    with torch.no_grad():
        for name, p in head.stored().items():
            t = head_tensors[name]
            if list(t.shape) != list(p.shape):
                sys.exit(f"docred_head.safetensors: {name} has shape {list(t.shape)}, expected {list(p.shape)}")
            p.copy_(t.to(DTYPE))
    return cfg, model, head


def check_rules(batch):
    entities, pairs = batch["entities"], batch["pairs"]
    ratio = batch.get("objective", {}).get("na_ratio", 3.0)
    rows = len(batch["input_ids"])
    for r in range(rows):
        n = sum(1 for e in entities if e["row"] == r)
        mine = [p for p in pairs if p["row"] == r]
        keys = [(p["head"], p["tail"]) for p in mine]
        require(len(set(keys)) == len(keys), f"row {r}: a pair appears twice")
        pos = [p for p in mine if p["classes"] != [0]]
        na = [p for p in mine if p["classes"] == [0]]
        for p in pos:
            require(0 not in p["classes"], f"row {r}: NA mixed with a relation")
        available = n * (n - 1) - len(pos)
        want = min(int(ratio * len(pos) + 0.5), available)
        require(len(na) == want, f"row {r}: {len(na)} NA pairs, expected min(round({ratio} x {len(pos)}), {available})")
    for i, p in enumerate(pairs):
        require(p["head"] != p["tail"], f"pair {i}: head == tail")
        d = entities[p["head"]]["first_word"] - entities[p["tail"]]["first_word"]
        require(p["dist_ht"] == bucket(d) and p["dist_th"] == bucket(-d),
                f"pair {i}: distance indices {p['dist_ht']}, {p['dist_th']} for a word distance of {d}")


def encode(model, batch):
    ids = torch.tensor(batch["input_ids"], dtype=torch.int64)
    mask = torch.tensor(batch["attention_mask"], dtype=torch.int64)
    x = model.bert.embeddings(ids, torch.zeros_like(ids))
    additive = (1.0 - mask.to(DTYPE))[:, None, None, :] * -10000.0
    for layer in model.bert.encoder.layer:
        x = layer(x, additive)
    return x


def loss_of(model, head, batch):
    hidden = encode(model, batch)
    reps = []
    for ent in batch["entities"]:
        mentions = [hidden[ent["row"], b:end].mean(dim=0) for b, end in ent["mentions"]]
        reps.append(torch.stack(mentions).mean(dim=0))
    z = torch.stack(reps) @ head.reduce_weight.t() + head.reduce_bias
    logits = []
    for p in batch["pairs"]:
        hs = torch.cat([z[p["head"]], head.distance_weight[p["dist_ht"]]])
        ts = torch.cat([z[p["tail"]], head.distance_weight[p["dist_th"]]])
        logits.append(torch.einsum("i,kij,j->k", hs, head.bilinear_weight, ts) + head.bilinear_bias)
    logits = torch.stack(logits)
    target = torch.zeros_like(logits)
    for i, p in enumerate(batch["pairs"]):
        for c in p["classes"]:
            target[i, c] = 1.0
    logsig = torch.nn.functional.logsigmoid
    bce = -(target * logsig(logits) + (1 - target) * logsig(-logits))
    return bce.mean(), logits


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="fine-tuned model folder (with docred_head.safetensors)")
    ap.add_argument("--batch", required=True, help="batch JSON from 'cotrain batch --task docred'")
    ap.add_argument("--out", help="safetensors file for the loss, logits and gradients")
    args = ap.parse_args()
    with open(args.batch, encoding="utf-8") as f:
        batch = json.load(f)
    _, model, head = load(args.model)
    try:
        check_rules(batch)
    except RuleViolation as e:
        print(f"docred_twin: batch breaks the rules: {e}", file=sys.stderr)
        sys.exit(3)
    loss, logits = loss_of(model, head, batch)
    loss.backward()
    if args.out:
        f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
        out = {"loss": f32(loss.reshape(1)), "logits": f32(logits)}
        for name, p in model.named_parameters():
            out["grad." + name] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)
        for name, p in head.stored().items():
            out["grad.head." + name] = f32(p.grad)
        common.write_safetensors(args.out, out, {"generator": "tests/reference/docred_twin.py", "version": "1"})
    print(json.dumps({"bce": loss.item()}))


if __name__ == "__main__":
    main()
