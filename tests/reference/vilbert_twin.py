#!/usr/bin/env python3
"""Independent PyTorch twin of ViLBERT's two-stream model and its three pretraining
losses, written from shared/spec/vilbert.md (and formats.md for the BERT text stream),
not from cotrain's C++.

It builds a small model with random weights, random padded inputs (text with MLM
labels; regions with an IMG token, masked regions and class-distribution targets;
alignment labels), runs forward and backward in float64 with dropout off and writes:

  DIR/config.json          BERT keys + v_* / bi_* / *_biattention_id (reference spelling)
  DIR/model.safetensors    float32 weights under the reference checkpoint names, plus
                           the unused tensors real checkpoints carry (biOutput.q_dense1/
                           q_dense2, the tied cls.predictions.decoder.weight)
  DIR/inputs.safetensors   input_ids, token_type_ids, attention_mask, mlm_labels,
                           features, locations, image_mask, region_masked,
                           region_targets, alignment_labels
  DIR/outputs.safetensors  text, vision, pooled_text, pooled_vision, fused, mlm_logits,
                           region_scores, alignment_logits, loss_mlm, loss_region,
                           loss_alignment, loss_total, grad.<name> for every parameter;
                           DIR/schedule.txt: the layer order ("t0 c0 v0 ...")

Loss conventions (vilbert.md): MLM = mean cross-entropy over labelled tokens with the
decoder tied to the word embeddings; regions = KL(target || softmax(score)) summed over
classes, averaged over masked regions (or, --objective regression, squared error
averaged over the masked regions' feature elements); alignment = cross-entropy of
Linear(bi->2)(fused) with class 0 = "caption belongs to the image".
"""
import argparse
import json
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

F64 = torch.float64
EPS = 1e-12


def param(*shape, fill=0.0):
    return nn.Parameter(torch.full(shape, fill, dtype=F64))


class Dense(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = param(n_out, n_in)
        self.bias = param(n_out)

    def forward(self, x):
        return torch.matmul(x, self.weight.transpose(0, 1)) + self.bias


class Norm(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.weight = param(width, fill=1.0)
        self.bias = param(width)

    def forward(self, x):
        mu = x.mean(dim=-1, keepdim=True)
        centred = x - mu
        var = (centred * centred).mean(dim=-1, keepdim=True)
        return centred / torch.sqrt(var + EPS) * self.weight + self.bias


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def attend(q, k, v, heads, additive):
    """Multi-head attention of queries q [B,Lq,D] over keys/values [B,Lk,D]."""
    B, Lq, D = q.shape
    Lk = k.shape[1]
    d = D // heads
    qh = q.reshape(B, Lq, heads, d).permute(0, 2, 1, 3)
    kh = k.reshape(B, Lk, heads, d).permute(0, 2, 1, 3)
    vh = v.reshape(B, Lk, heads, d).permute(0, 2, 1, 3)
    scores = torch.einsum("bhqd,bhkd->bhqk", qh, kh) / math.sqrt(d) + additive
    probs = torch.softmax(scores, dim=-1)
    return torch.einsum("bhqk,bhkd->bhqd", probs, vh).permute(0, 2, 1, 3).reshape(B, Lq, D)


def additive(mask01):
    return (1.0 - mask01.to(F64))[:, None, None, :] * -10000.0


class Group(nn.Module):
    pass


class SublayerOut(nn.Module):
    """dense -> (+ residual) -> LayerNorm, as BERT's output blocks."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.dense = Dense(n_in, n_out)
        self.LayerNorm = Norm(n_out)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class TRM(nn.Module):
    """A post-LN Transformer layer with BERT's module names."""

    def __init__(self, width, heads, ffn):
        super().__init__()
        self.heads = heads
        self.attention = Group()
        self.attention.self = Group()
        self.attention.self.query = Dense(width, width)
        self.attention.self.key = Dense(width, width)
        self.attention.self.value = Dense(width, width)
        self.attention.output = SublayerOut(width, width)
        self.intermediate = Group()
        self.intermediate.dense = Dense(width, ffn)
        self.output = SublayerOut(ffn, width)

    def forward(self, x, mask):
        s = self.attention.self
        a = attend(s.query(x), s.key(x), s.value(x), self.heads, mask)
        a = self.attention.output(a, x)
        return self.output(gelu(self.intermediate.dense(a)), a)


class CoTRM(nn.Module):
    """Co-attentional layer: cross-attention each way, per-stream output block, then
    per-stream feed-forward. Stream 1 = vision, stream 2 = text (reference naming)."""

    def __init__(self, cfg):
        super().__init__()
        H, Hv, Hb = cfg["hidden_size"], cfg["v_hidden_size"], cfg["bi_hidden_size"]
        self.heads = cfg["bi_num_attention_heads"]
        b = self.biattention = Group()
        b.query1, b.key1, b.value1 = Dense(Hv, Hb), Dense(Hv, Hb), Dense(Hv, Hb)
        b.query2, b.key2, b.value2 = Dense(H, Hb), Dense(H, Hb), Dense(H, Hb)
        o = self.biOutput = Group()
        o.dense1, o.LayerNorm1 = Dense(Hb, Hv), Norm(Hv)
        o.dense2, o.LayerNorm2 = Dense(Hb, H), Norm(H)
        self.v_intermediate = Group()
        self.v_intermediate.dense = Dense(Hv, cfg["v_intermediate_size"])
        self.v_output = SublayerOut(cfg["v_intermediate_size"], Hv)
        self.t_intermediate = Group()
        self.t_intermediate.dense = Dense(H, cfg["intermediate_size"])
        self.t_output = SublayerOut(cfg["intermediate_size"], H)

    def forward(self, vis, vmask, txt, tmask):
        b, o = self.biattention, self.biOutput
        # text queries over visual keys/values (image mask), and the other way round
        t_ctx = attend(b.query2(txt), b.key1(vis), b.value1(vis), self.heads, vmask)
        v_ctx = attend(b.query1(vis), b.key2(txt), b.value2(txt), self.heads, tmask)
        v = o.LayerNorm1(o.dense1(v_ctx) + vis)
        t = o.LayerNorm2(o.dense2(t_ctx) + txt)
        v = self.v_output(gelu(self.v_intermediate.dense(v)), v)
        t = self.t_output(gelu(self.t_intermediate.dense(t)), t)
        return v, t


class ViLBERT(nn.Module):
    def __init__(self, cfg, objective):
        super().__init__()
        self.cfg = cfg
        H, Hv, Hb = cfg["hidden_size"], cfg["v_hidden_size"], cfg["bi_hidden_size"]
        bert = self.bert = Group()
        e = bert.embeddings = Group()
        e.word_embeddings = Group()
        e.word_embeddings.weight = param(cfg["vocab_size"], H)
        e.position_embeddings = Group()
        e.position_embeddings.weight = param(cfg["max_position_embeddings"], H)
        e.token_type_embeddings = Group()
        e.token_type_embeddings.weight = param(cfg["type_vocab_size"], H)
        e.LayerNorm = Norm(H)
        ve = bert.v_embeddings = Group()
        ve.image_embeddings = Dense(cfg["v_feature_size"], Hv)
        ve.image_location_embeddings = Dense(5, Hv)
        ve.LayerNorm = Norm(Hv)
        enc = bert.encoder = Group()
        enc.layer = nn.ModuleList([TRM(H, cfg["num_attention_heads"], cfg["intermediate_size"])
                                   for _ in range(cfg["num_hidden_layers"])])
        enc.v_layer = nn.ModuleList([TRM(Hv, cfg["v_num_attention_heads"], cfg["v_intermediate_size"])
                                     for _ in range(cfg["v_num_hidden_layers"])])
        enc.c_layer = nn.ModuleList([CoTRM(cfg) for _ in cfg["t_biattention_id"]])
        bert.t_pooler = Group()
        bert.t_pooler.dense = Dense(H, Hb)
        bert.v_pooler = Group()
        bert.v_pooler.dense = Dense(Hv, Hb)
        cls = self.cls = Group()
        p = cls.predictions = Group()
        p.transform = Group()
        p.transform.dense = Dense(H, H)
        p.transform.LayerNorm = Norm(H)
        p.bias = param(cfg["vocab_size"])
        cls.bi_seq_relationship = Dense(Hb, 2)
        ip = cls.imagePredictions = Group()
        ip.transform = Group()
        ip.transform.dense = Dense(Hv, Hv)
        ip.transform.LayerNorm = Norm(Hv)
        out = cfg["v_feature_size"] if objective == "regression" else cfg["v_target_size"]
        ip.decoder = Dense(Hv, out)

    def schedule(self):
        """Co-attention k follows text layer t_ids[k]-1 and visual layer v_ids[k]-1."""
        cfg = self.cfg
        steps, t, v = [], 0, 0
        for k, (ti, vi) in enumerate(zip(cfg["t_biattention_id"], cfg["v_biattention_id"])):
            while v < vi:
                steps.append(("v", v)); v += 1
            while t < ti:
                steps.append(("t", t)); t += 1
            steps.append(("c", k))
        while v < cfg["v_num_hidden_layers"]:
            steps.append(("v", v)); v += 1
        while t < cfg["num_hidden_layers"]:
            steps.append(("t", t)); t += 1
        return steps

    def forward(self, inp):
        cfg, bert = self.cfg, self.bert
        e = bert.embeddings
        ids = inp["input_ids"]
        T = ids.shape[1]
        txt = (e.word_embeddings.weight[ids] + e.position_embeddings.weight[torch.arange(T)][None]
               + e.token_type_embeddings.weight[inp["token_type_ids"]])
        txt = e.LayerNorm(txt)
        ve = bert.v_embeddings
        vis = ve.LayerNorm(ve.image_embeddings(inp["features"].to(F64))
                           + ve.image_location_embeddings(inp["locations"].to(F64)))
        tmask, vmask = additive(inp["attention_mask"]), additive(inp["image_mask"])
        enc = bert.encoder
        for kind, i in self.schedule():
            if kind == "t":
                txt = enc.layer[i](txt, tmask)
            elif kind == "v":
                vis = enc.v_layer[i](vis, vmask)
            else:
                vis, txt = enc.c_layer[i](vis, vmask, txt, tmask)
        pooled_t = torch.relu(bert.t_pooler.dense(txt[:, 0]))
        pooled_v = torch.relu(bert.v_pooler.dense(vis[:, 0]))
        fused = pooled_t * pooled_v if cfg["fusion_method"] == "mul" else pooled_t + pooled_v
        return txt, vis, pooled_t, pooled_v, fused


def losses(model, inp, txt, vis, fused, objective, weights):
    cls = model.cls
    labels = inp["mlm_labels"].reshape(-1)
    rows = (labels != -100).nonzero().reshape(-1)
    h = txt.reshape(-1, txt.shape[-1])[rows]
    p = cls.predictions
    h = p.transform.LayerNorm(gelu(p.transform.dense(h)))
    mlm_logits = h @ model.bert.embeddings.word_embeddings.weight.t() + p.bias
    logp = torch.log_softmax(mlm_logits, -1)
    loss_mlm = -logp.gather(1, labels[rows][:, None]).mean()

    ip = cls.imagePredictions
    region_scores = ip.decoder(ip.transform.LayerNorm(gelu(ip.transform.dense(vis))))
    masked = inp["region_masked"].to(F64)
    if objective == "regression":
        err = ((region_scores - inp["region_targets"].to(F64)) ** 2).mean(-1)
        loss_region = (err * masked).sum() / masked.sum()
    else:
        target = inp["region_targets"].to(F64)
        logq = torch.log_softmax(region_scores, -1)
        safe_log_t = torch.log(torch.where(target > 0, target, torch.ones_like(target)))
        kl = (target * (safe_log_t - logq)).sum(-1)
        loss_region = (kl * masked).sum() / masked.sum()

    align_logits = cls.bi_seq_relationship(fused)
    loss_align = -torch.log_softmax(align_logits, -1).gather(1, inp["alignment_labels"][:, None]).mean()
    total = weights[0] * loss_mlm + weights[1] * loss_region + weights[2] * loss_align
    return mlm_logits, region_scores, align_logits, loss_mlm, loss_region, loss_align, total


def make_inputs(cfg, args, g):
    B, T, R, Fd = args.batch, args.seq, args.regions, cfg["v_feature_size"]
    inp = {}
    lengths = [T] + [int(common.randint(3, T + 1, [1], g)) for _ in range(B - 1)]
    ids = common.randint(1, cfg["vocab_size"], [B, T], g)
    am = torch.zeros(B, T, dtype=torch.int64)
    labels = torch.full((B, T), -100, dtype=torch.int64)
    for b, n in enumerate(lengths):
        am[b, :n] = 1
        ids[b, n:] = 0
        # label two real positions per row (never [CLS] at 0), one of them the last
        for t in {1, n - 1}:
            labels[b, t] = int(common.randint(0, cfg["vocab_size"], [1], g))
    inp["input_ids"], inp["attention_mask"], inp["mlm_labels"] = ids, am, labels
    inp["token_type_ids"] = (common.randint(0, 2, [B, T], g) * am)
    # regions: index 0 is the IMG token (mean feature, location [0,0,1,1,1])
    feats = torch.zeros(B, R, Fd, dtype=torch.float32)
    locs = torch.zeros(B, R, 5, dtype=torch.float32)
    im = torch.zeros(B, R, dtype=torch.int64)
    masked = torch.zeros(B, R, dtype=torch.int64)
    orig = torch.zeros(B, R, Fd, dtype=torch.float32)  # features before masking
    counts = [R - 1] + [int(common.randint(2, R, [1], g)) for _ in range(B - 1)]
    for b, n in enumerate(counts):
        raw = torch.relu(common.normal([n, Fd], 1.0, g))
        xy = torch.rand(n, 2, generator=g, dtype=torch.float32) * 0.5
        wh = torch.rand(n, 2, generator=g, dtype=torch.float32) * 0.5 + 0.01
        box = torch.cat([xy, xy + wh, (wh[:, :1] * wh[:, 1:])], 1)
        feats[b, 0] = raw.mean(0)
        locs[b, 0] = torch.tensor([0, 0, 1, 1, 1], dtype=torch.float32)
        feats[b, 1:n + 1] = raw
        locs[b, 1:n + 1] = box
        im[b, :n + 1] = 1
        orig[b, 1:n + 1] = raw
        masked[b, 1] = 1                      # one chosen region, zeroed
        feats[b, 1] = 0
        if n >= 3:
            masked[b, 3] = 1                  # one chosen region, kept
    targets = torch.softmax(common.normal([B, R, cfg["v_target_size"]], 2.0, g), -1).to(torch.float32)
    targets[:, :, -1] = 0  # a class with zero probability: 0 log 0 must count as 0
    targets = targets / targets.sum(-1, keepdim=True)
    if args.objective == "regression":
        targets = orig  # regression predicts the features the masking hid
    inp.update(features=feats, locations=locs, image_mask=im, region_masked=masked, region_targets=targets)
    inp["alignment_labels"] = torch.tensor([b % 2 for b in range(B)], dtype=torch.int64)
    return inp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--v-layers", type=int, default=2)
    ap.add_argument("--t-ids", default="2,3")
    ap.add_argument("--v-ids", default="0,1")
    ap.add_argument("--hidden", type=int, default=24)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=40)
    ap.add_argument("--v-hidden", type=int, default=16)
    ap.add_argument("--v-heads", type=int, default=2)
    ap.add_argument("--v-ffn", type=int, default=16)
    ap.add_argument("--bi-hidden", type=int, default=20)
    ap.add_argument("--bi-heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=53)
    ap.add_argument("--feat", type=int, default=12)
    ap.add_argument("--targets", type=int, default=9)
    ap.add_argument("--seq", type=int, default=7)
    ap.add_argument("--regions", type=int, default=6)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--fusion", choices=["mul", "sum"], default="mul")
    ap.add_argument("--objective", choices=["kl", "regression"], default="kl")
    ap.add_argument("--weights", default="1.0,0.7,1.3", help="mlm,region,alignment loss weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.1)
    args = ap.parse_args()
    ids = lambda s: [int(x) for x in s.split(",") if x != ""]
    cfg = {
        "model_type": "bert", "vocab_size": args.vocab, "hidden_size": args.hidden,
        "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
        "intermediate_size": args.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 16, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": EPS, "pad_token_id": 0,
        "v_feature_size": args.feat, "v_target_size": args.targets, "v_hidden_size": args.v_hidden,
        "v_num_hidden_layers": args.v_layers, "v_num_attention_heads": args.v_heads,
        "v_intermediate_size": args.v_ffn, "v_hidden_dropout_prob": 0.1,
        "v_attention_probs_dropout_prob": 0.1, "bi_hidden_size": args.bi_hidden,
        "bi_num_attention_heads": args.bi_heads, "t_biattention_id": ids(args.t_ids),
        "v_biattention_id": ids(args.v_ids), "fusion_method": args.fusion,
        "region_objective": args.objective,
    }
    g = common.generator(args.seed)
    model = ViLBERT(cfg, args.objective)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:  # 1/0 plus noise so that the affine part matters
                p.copy_(p + common.normal(list(p.shape), 0.1, g).to(F64))
            else:
                p.copy_(common.normal(list(p.shape), args.std, g).to(F64))
    inp = make_inputs(cfg, args, g)
    weights = [float(x) for x in args.weights.split(",")]
    txt, vis, pt, pv, fused = model(inp)
    mlm_logits, scores, align, l_mlm, l_reg, l_al, total = losses(model, inp, txt, vis, fused,
                                                                  args.objective, weights)
    total.backward()

    os.makedirs(args.out, exist_ok=True)
    common.write_json(os.path.join(args.out, "config.json"), cfg)
    tensors = {n: p.detach().to(torch.float32) for n, p in model.named_parameters()}
    # What released checkpoints also carry, which a loader must skip.
    for k in range(len(cfg["t_biattention_id"])):
        for which, width in (("q_dense1", args.v_hidden), ("q_dense2", args.hidden)):
            pre = f"bert.encoder.c_layer.{k}.biOutput.{which}."
            tensors[pre + "weight"] = common.normal([width, args.bi_hidden], 0.1, g)
            tensors[pre + "bias"] = common.normal([width], 0.1, g)
    tensors["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"].clone()
    common.write_safetensors(os.path.join(args.out, "model.safetensors"), tensors)
    common.write_safetensors(os.path.join(args.out, "inputs.safetensors"), inp)
    f32 = lambda t: t.detach().to(torch.float32)
    out = {"text": f32(txt), "vision": f32(vis), "pooled_text": f32(pt), "pooled_vision": f32(pv),
           "fused": f32(fused), "mlm_logits": f32(mlm_logits), "region_scores": f32(scores),
           "alignment_logits": f32(align), "loss_mlm": f32(l_mlm).reshape(1),
           "loss_region": f32(l_reg).reshape(1), "loss_alignment": f32(l_al).reshape(1),
           "loss_total": f32(total).reshape(1)}
    for n, p in model.named_parameters():
        out["grad." + n] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)
    common.write_safetensors(os.path.join(args.out, "outputs.safetensors"), out)
    with open(os.path.join(args.out, "schedule.txt"), "w") as f:
        f.write(" ".join(f"{k}{i}" for k, i in model.schedule()) + "\n")


if __name__ == "__main__":
    main()
