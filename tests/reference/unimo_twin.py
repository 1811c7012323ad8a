#!/usr/bin/env python3
"""Independent PyTorch twin of UNIMO's single-stream encoder and its objectives.

Written from shared/spec/unimo.md (model, CMCL, masked region modelling, MLM) and the
batch / folder formats documented in src/cotrain/tasks/unimo_batch.h and
src/cotrain/models/unimo/unimo_folder.h; the Transformer blocks come from
bert_twin.py (written from formats.md). Everything runs in float64, dropout off.

  unimo_twin.py model --out DIR [sizes]      random UNIMO folder (config.json, model.safetensors)
  unimo_twin.py batch --model DIR --out F    random batch JSON with text, image, pair and CMCL parts
  unimo_twin.py loss --model DIR --batch F [--out DIR] [--probe]
        prints {"mlm", "mrm_reg", "mrm_cls", "cmcl", "logit_scale", "total"} as JSON; with
        --out writes DIR/outputs.safetensors: loss.<term> [1], pair_hidden, pair_score,
        and grad.<parameter> of total (+ mean(pair_score) with --probe, so that the
        poolers and the score head get gradients too).

Conventions checked here (unimo.md where it pins them, the project's documented
choices where it does not):
  - text = word + position (+ the one token-type row, RoBERTa style) -> LayerNorm;
    positions count within the text (RoBERTa: from pad + 1 = 2);
  - visual = LayerNorm(Linear(feature) + Linear(box)); [IMG] = mean of the real
    regions' input features, box [0, 0, 1, 1, 1]; layout [IMG] v.. then the text;
    full attention with a key mask (1 - mask) * -10000;
  - pooled = ReLU(FC(h)) per modality; score = FC(h_text * h_img) (dropout off);
  - MLM: one cross-entropy mean over the labelled tokens of the text-only and pair
    parts; MRM: MSE mean over masked regions x feature dims, and mean over masked
    regions of KL(target || softmax); both after one shared transform
    dense -> GELU -> LayerNorm;
  - CMCL: S = min(exp(logit_scale), max) * cos(h_img, h_cls), per anchor
    -log(sum_pos exp S / sum_{pos+neg} exp S), mean over anchors.
"""
import argparse
import json
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import common  # noqa: E402

DTYPE = torch.float64
Linear, LayerNorm, Group = bert_twin.Linear, bert_twin.LayerNorm, bert_twin.Group


class Unimo(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        u = cfg["unimo"]
        h, eps, d = cfg["hidden_size"], cfg["layer_norm_eps"], u["region_feature_dim"]
        self.max_scale = u["max_logit_scale"]
        self.bert = Group()
        self.bert.embeddings = bert_twin.Embeddings(cfg)
        self.bert.encoder = Group()
        self.bert.encoder.layer = nn.ModuleList([bert_twin.Layer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.visual_embeddings = Group()
        self.visual_embeddings.feature_dense = Linear(d, h)
        self.visual_embeddings.box_dense = Linear(5, h)
        self.visual_embeddings.LayerNorm = LayerNorm(h, eps)
        self.image_pooler = Group()
        self.image_pooler.dense = Linear(h, h)
        self.text_pooler = Group()
        self.text_pooler.dense = Linear(h, h)
        self.score = Group()
        self.score.dense = Linear(h, 1)
        self.cls = Group()
        self.cls.predictions = Group()
        self.cls.predictions.transform = Group()
        self.cls.predictions.transform.dense = Linear(h, h)
        self.cls.predictions.transform.LayerNorm = LayerNorm(h, eps)
        self.cls.predictions.bias = nn.Parameter(torch.zeros(cfg["vocab_size"], dtype=DTYPE))
        self.region_head = Group()
        self.region_head.transform = Group()
        self.region_head.transform.dense = Linear(h, h)
        self.region_head.transform.LayerNorm = LayerNorm(h, eps)
        self.region_head.regression = Linear(h, d)
        if u["num_region_classes"] > 0:
            self.region_head.classifier = Linear(h, u["num_region_classes"])
        self.logit_scale = nn.Parameter(torch.zeros((), dtype=DTYPE))

    # -------------------------------------------------------------- encoder
    def encode(self, text=None, image=None):
        """text: (input_ids, mask); image: (features, boxes, region_mask).
        Returns (hidden, number of image positions)."""
        parts, masks = [], []
        n_image = 0
        if image is not None:
            feats, boxes, rmask = image
            b = feats.shape[0]
            m = rmask.to(DTYPE).unsqueeze(-1)
            img = (feats * m).sum(1) / torch.clamp(m.sum(1), min=1.0)
            whole = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0], dtype=DTYPE).expand(b, 1, 5)
            f = torch.cat([img.unsqueeze(1), feats], 1)
            bx = torch.cat([whole, boxes], 1)
            ve = self.visual_embeddings
            parts.append(ve.LayerNorm(ve.feature_dense(f) + ve.box_dense(bx)))
            masks.append(torch.cat([torch.ones(b, 1, dtype=DTYPE), rmask.to(DTYPE)], 1))
            n_image = f.shape[1]
        if text is not None:
            ids, tmask = text
            parts.append(self.bert.embeddings(ids, torch.zeros_like(ids)))
            masks.append(tmask.to(DTYPE))
        x = torch.cat(parts, 1)
        additive = (1.0 - torch.cat(masks, 1))[:, None, None, :] * -10000.0
        for layer in self.bert.encoder.layer:
            x = layer(x, additive)
        return x, n_image

    def mlm_logits(self, h):
        p = self.cls.predictions
        t = p.transform.LayerNorm(bert_twin.gelu_erf(p.transform.dense(h)))
        return t @ self.bert.embeddings.word_embeddings.weight.t() + p.bias

    def region_transform(self, h):
        r = self.region_head.transform
        return r.LayerNorm(bert_twin.gelu_erf(r.dense(h)))

    def pair_score(self, h_img, h_cls):
        pi = torch.relu(self.image_pooler.dense(h_img))
        pt = torch.relu(self.text_pooler.dense(h_cls))
        return self.score.dense(pt * pi).squeeze(-1)


# ------------------------------------------------------------------ batch JSON

def tensor(j, integer):
    t = torch.tensor(j["data"], dtype=torch.int64 if integer else DTYPE)
    return t.reshape(j["shape"])


def text_inputs(part):
    return tensor(part["input_ids"], True), tensor(part["attention_mask"], True)


def image_inputs(part):
    return tensor(part["features"], False), tensor(part["boxes"], False), tensor(part["region_mask"], True)


def losses(model, batch, learn_temperature=True):
    out = {}
    mlm_h, mlm_y, reg_h, reg_t, reg_c = [], [], [], [], []
    classes_everywhere = True
    pair_hidden = pair_score = None

    def take_text(hidden, part):
        labels = tensor(part["labels"], True).reshape(-1)
        keep = labels != -100
        mlm_h.append(hidden.reshape(-1, hidden.shape[-1])[keep])
        mlm_y.append(labels[keep])

    def take_regions(hidden, part):
        nonlocal classes_everywhere
        keep = tensor(part["masked"], True).reshape(-1) != 0
        reg_h.append(hidden.reshape(-1, hidden.shape[-1])[keep])
        t = tensor(part["target_features"], False)
        reg_t.append(t.reshape(-1, t.shape[-1])[keep])
        if "target_classes" in part:
            c = tensor(part["target_classes"], False)
            reg_c.append(c.reshape(-1, c.shape[-1])[keep])
        else:
            classes_everywhere = False

    if "text" in batch:
        hidden, _ = model.encode(text=text_inputs(batch["text"]))
        take_text(hidden, batch["text"])
    if "image" in batch:
        hidden, n = model.encode(image=image_inputs(batch["image"]))
        take_regions(hidden[:, 1:n], batch["image"])
    if "pair" in batch:
        hidden, n = model.encode(text=text_inputs(batch["pair"]), image=image_inputs(batch["pair"]))
        take_text(hidden[:, n:], batch["pair"])
        take_regions(hidden[:, 1:n], batch["pair"])
        pair_hidden = hidden
        pair_score = model.pair_score(hidden[:, 0], hidden[:, n])

    if mlm_h:
        logits = model.mlm_logits(torch.cat(mlm_h))
        y = torch.cat(mlm_y)
        logp = logits - torch.logsumexp(logits, -1, keepdim=True)
        out["mlm"] = -logp[torch.arange(y.numel()), y].mean()
    if reg_h:
        h = model.region_transform(torch.cat(reg_h))
        out["mrm_reg"] = ((model.region_head.regression(h) - torch.cat(reg_t)) ** 2).mean()
        if classes_everywhere and hasattr(model.region_head, "classifier"):
            z = model.region_head.classifier(h)
            logp = z - torch.logsumexp(z, -1, keepdim=True)
            t = torch.cat(reg_c)
            t_log_t = torch.where(t > 0, t * torch.log(torch.where(t > 0, t, torch.ones_like(t))), torch.zeros_like(t))
            out["mrm_cls"] = (t_log_t - t * logp).sum(-1).mean()
    if "cmcl" in batch:
        c = batch["cmcl"]
        hi, _ = model.encode(image=image_inputs(c))
        ht, _ = model.encode(text=text_inputs(c))
        vi, vt = hi[:, 0], ht[:, 0]
        scale = torch.clamp(torch.exp(model.logit_scale), max=model.max_scale)
        if not learn_temperature:
            scale = scale.detach()
        cos = (vi / vi.norm(dim=-1, keepdim=True)) @ (vt / vt.norm(dim=-1, keepdim=True)).t()
        s = scale * cos
        ci, ct, kind = tensor(c["cell_image"], True), tensor(c["cell_text"], True), tensor(c["cell_kind"], True)
        per_anchor = []
        for a in range(ci.shape[0]):
            pos = [s[ci[a, k], ct[a, k]] for k in range(ci.shape[1]) if kind[a, k] == 1]
            allc = [s[ci[a, k], ct[a, k]] for k in range(ci.shape[1]) if kind[a, k] != 0]
            per_anchor.append(torch.logsumexp(torch.stack(allc), 0) - torch.logsumexp(torch.stack(pos), 0))
        out["cmcl"] = torch.stack(per_anchor).mean()
        out["logit_scale"] = model.logit_scale.detach().clone()
    total = None
    for k in ("mlm", "mrm_reg", "mrm_cls", "cmcl"):
        if k in out:
            total = out[k] if total is None else total + out[k]
    out["total"] = total
    return out, pair_hidden, pair_score


# ------------------------------------------------------------------ folders

def load_model(dir_):
    with open(os.path.join(dir_, "config.json")) as f:
        cfg = json.load(f)
    model = Unimo(cfg)
    weights = common.read_safetensors(os.path.join(dir_, "model.safetensors"))
    params = dict(model.named_parameters())
    missing = set(params) - set(weights)
    extra = set(weights) - set(params)
    if missing or extra:
        sys.exit(f"{dir_}: missing {sorted(missing)} unexpected {sorted(extra)}")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(weights[n].to(DTYPE).reshape(p.shape))
    return cfg, model


def cmd_model(args):
    roberta = args.type == "roberta"
    cfg = {
        "model_type": args.type, "architectures": ["UnimoModel"], "vocab_size": args.vocab,
        "hidden_size": args.hidden, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
        "intermediate_size": args.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": args.max_text + (2 if roberta else 0) + 2,
        "type_vocab_size": 1, "initializer_range": 0.02, "layer_norm_eps": 1e-5 if roberta else 1e-12,
        "pad_token_id": 1 if roberta else 0,
        "unimo": {"region_feature_dim": args.feat, "num_region_classes": args.classes,
                  "temperature_init": 0.07, "max_logit_scale": args.max_scale},
    }
    g = common.generator(args.seed)
    model = Unimo(cfg)
    for _, child in sorted(model.named_children()):  # logit_scale (a scalar) is set below
        bert_twin.init_weights(child, args.std, g)
    with torch.no_grad():
        model.logit_scale.fill_(float(torch.tensor(math.log(args.logit_scale_init), dtype=torch.float32)))
    os.makedirs(args.out, exist_ok=True)
    common.write_json(os.path.join(args.out, "config.json"), cfg)
    weights = {n: p.detach().to(torch.float32) for n, p in model.named_parameters()}
    common.write_safetensors(os.path.join(args.out, "model.safetensors"), weights, {"format": "pt"})


def as_json(t):
    t = t.contiguous()
    data = t.reshape(-1).tolist()
    return {"shape": list(t.shape), "data": data}


def cmd_batch(args):
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    g = common.generator(args.seed)
    u = cfg["unimo"]
    vocab, pad, d, c = cfg["vocab_size"], cfg["pad_token_id"], u["region_feature_dim"], u["num_region_classes"]
    low = 5

    def text(rows, m, labels=True):
        ids = torch.full((rows, m), pad, dtype=torch.int64)
        mask = torch.zeros(rows, m, dtype=torch.int64)
        lab = torch.full((rows, m), -100, dtype=torch.int64)
        for r in range(rows):
            n = m if r == 0 else int(common.randint(3, m + 1, [1], g))
            ids[r, :n] = common.randint(low, vocab, [n], g)
            mask[r, :n] = 1
            k = int(common.randint(1, n - 1, [1], g))
            lab[r, k] = int(common.randint(0, vocab, [1], g))
            if n > 3:
                lab[r, 1] = int(common.randint(0, vocab, [1], g))
        part = {"input_ids": as_json(ids), "attention_mask": as_json(mask)}
        if labels:
            part["labels"] = as_json(lab)
        return part

    def image(rows, n, targets=True):
        feats = common.normal([rows, n, d], 1.0, g).to(DTYPE)
        x1 = torch.rand(rows, n, generator=g) * 0.5
        y1 = torch.rand(rows, n, generator=g) * 0.5
        x2 = x1 + 0.1 + torch.rand(rows, n, generator=g) * 0.4
        y2 = y1 + 0.1 + torch.rand(rows, n, generator=g) * 0.4
        boxes = torch.stack([x1, y1, x2, y2, (x2 - x1) * (y2 - y1)], -1).to(torch.float32).to(DTYPE)
        rmask = torch.zeros(rows, n, dtype=torch.int64)
        masked = torch.zeros(rows, n, dtype=torch.int64)
        for r in range(rows):
            k = n if r == 0 else int(common.randint(2, n + 1, [1], g))
            rmask[r, :k] = 1
            masked[r, int(common.randint(0, k, [1], g))] = 1
            if k > 2:
                masked[r, k - 1] = 1
        part = {"boxes": as_json(boxes), "region_mask": as_json(rmask)}
        inputs = feats * (1 - masked).unsqueeze(-1).to(DTYPE) * rmask.unsqueeze(-1).to(DTYPE)
        part["features"] = as_json(inputs if targets else feats * rmask.unsqueeze(-1).to(DTYPE))
        if targets:
            part["masked"] = as_json(masked)
            part["target_features"] = as_json(feats)
            if c > 0:
                logits = common.normal([rows, n, c], 2.0, g).to(DTYPE)
                probs = torch.softmax(logits, -1)
                probs[..., 0] = 0.0  # a zero target exercises 0 log 0
                probs = (probs / probs.sum(-1, keepdim=True)).to(torch.float32).to(DTYPE)
                part["target_classes"] = as_json(probs)
        return part

    batch = {"task": "unimo", "examples": 6,
             "text": text(2, 7), "image": image(2, 4)}
    pair = text(2, 6)
    pair.update(image(2, 5))
    batch["pair"] = pair
    cm = text(5, 6, labels=False)
    cm.update(image(3, 4, targets=False))
    # Anchors: pair (0, 0) with paraphrase text 2 and hard negative 3; pair (1, 1) with
    # retrieved image 2 and negative text 4; in-batch negatives across the two pairs.
    cm["cell_image"] = as_json(torch.tensor([[0, 0, 0, 0, 1, 0], [1, 2, 1, 0, 1, 0]]))
    cm["cell_text"] = as_json(torch.tensor([[0, 2, 3, 1, 0, 4], [1, 1, 4, 1, 0, 0]]))
    cm["cell_kind"] = as_json(torch.tensor([[1, 1, 2, 2, 2, 2], [1, 1, 2, 2, 2, 0]]))
    batch["cmcl"] = cm
    with open(args.out, "w") as f:
        json.dump(batch, f)


def cmd_loss(args):
    _, model = load_model(args.model)
    with open(args.batch) as f:
        batch = json.load(f)
    out, pair_hidden, pair_score = losses(model, batch, not args.fixed_temperature)
    print(json.dumps({k: float(v) for k, v in out.items()}))
    if args.out:
        target = out["total"]
        if args.probe and pair_score is not None:
            target = target + pair_score.mean()
        target.backward()
        f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
        tensors = {f"loss.{k}": f32(v.reshape(1)) for k, v in out.items()}
        if pair_hidden is not None:
            tensors["pair_hidden"] = f32(pair_hidden)
            tensors["pair_score"] = f32(pair_score)
        for n, p in model.named_parameters():
            tensors["grad." + n] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)
        os.makedirs(args.out, exist_ok=True)
        common.write_safetensors(os.path.join(args.out, "outputs.safetensors"), tensors,
                                 {"generator": "tests/reference/unimo_twin.py", "version": "1"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("model")
    m.add_argument("--out", required=True)
    m.add_argument("--type", choices=["bert", "roberta"], default="roberta")
    m.add_argument("--layers", type=int, default=2)
    m.add_argument("--hidden", type=int, default=32)
    m.add_argument("--heads", type=int, default=4)
    m.add_argument("--ffn", type=int, default=64)
    m.add_argument("--vocab", type=int, default=53)
    m.add_argument("--feat", type=int, default=12)
    m.add_argument("--classes", type=int, default=7)
    m.add_argument("--max-text", type=int, default=12)
    m.add_argument("--max-scale", type=float, default=100.0)
    m.add_argument("--logit-scale-init", type=float, default=1 / 0.07)
    m.add_argument("--std", type=float, default=0.2)
    m.add_argument("--seed", type=int, default=0)
    b = sub.add_parser("batch")
    b.add_argument("--model", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=0)
    lo = sub.add_parser("loss")
    lo.add_argument("--model", required=True)
    lo.add_argument("--batch", required=True)
    lo.add_argument("--out")
    lo.add_argument("--probe", action="store_true")
    lo.add_argument("--fixed-temperature", action="store_true")
    args = ap.parse_args()
    {"model": cmd_model, "batch": cmd_batch, "loss": cmd_loss}[args.cmd](args)


if __name__ == "__main__":
    main()
