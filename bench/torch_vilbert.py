#!/usr/bin/python3
"""Idiomatic PyTorch twin of `cotrain bench --task vilbert`.

ViLBERT pretraining (vilbert.md) in batched PyTorch: a BERT text stream and an image
stream over region features (IMG token first: the mean feature, location
[0, 0, 1, 1, 1]), joined by co-attentional layers (text queries over the regions,
region queries over the text, each followed by its stream's output block and
feed-forward), ReLU poolers fused by an elementwise product; the losses are masked
language modelling (tied decoder, logits only at the masked positions), masked
region modelling (KL from the region's class distribution to softmax of the
prediction, averaged over masked regions) and alignment prediction (binary head,
class 0 = the caption belongs to the image), summed with weight 1. One step:
zero_grad, forward, backward, clip_grad_norm_ 1.0, torch.optim.AdamW (weight decay
0.01 except biases and LayerNorm).

The sizes map onto the streams as in `cotrain bench --help`: text --layers/--hidden/
--heads/--ffn; image stream --layers layers of width --hidden with the reference's
narrow feed-forward (width --hidden); --layers co-attention layers of width --hidden,
one after each text layer (t0 c0 v0 t1 c1 v1 ...); 2048-d region features, 1601
classes. Synthetic batches as the pretraining task builds them: with probability 0.5
a row's caption is another row's (label 1), exactly round(mask_prob * batch * seq)
token labels, exactly round(0.15 * batch * regions) masked regions (90% zeroed).
Written from the spec, not from the C++ code; prints the same JSON keys.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_steps import adamw_like_cotrain, time_training_steps
from torch_mlm import Layer  # the post-LayerNorm BERT layer (self-attention + feed-forward)

FEATURE_DIM = 2048
CLASSES = 1601
REGION_MASK_PROB = 0.15
SWAP_PROB = 0.5


def additive(mask):
    """0/1 key mask [B, L] -> additive [B, 1, 1, L]."""
    return (1.0 - mask[:, None, None, :].float()) * -10000.0


class CrossAttention(nn.Module):
    """Queries from one stream over keys and values of the other, all projected to bi."""

    def __init__(self, bi, heads, dropout):
        super().__init__()
        self.heads, self.head_dim = heads, bi // heads
        self.dropout = nn.Dropout(dropout)

    def forward(self, q, k, v, mask):
        b = q.shape[0]
        split = lambda y: y.view(b, y.shape[1], self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
        return (self.dropout(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, q.shape[2], -1)


class FeedForward(nn.Module):
    def __init__(self, hidden, ffn, dropout):
        super().__init__()
        self.ffn_in, self.ffn_out = nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.ln(x + self.dropout(self.ffn_out(F.gelu(self.ffn_in(x)))))


class CoLayer(nn.Module):
    """Co-TRM: no self-attention; each stream attends over the other, then its own
    output block (dense -> dropout -> residual -> LayerNorm) and feed-forward."""

    def __init__(self, hidden, vhidden, bi, heads, ffn, vffn, dropout):
        super().__init__()
        self.v_qkv = nn.ModuleList(nn.Linear(vhidden, bi) for _ in range(3))
        self.t_qkv = nn.ModuleList(nn.Linear(hidden, bi) for _ in range(3))
        self.attend = CrossAttention(bi, heads, dropout)
        self.v_dense, self.t_dense = nn.Linear(bi, vhidden), nn.Linear(bi, hidden)
        self.v_ln, self.t_ln = nn.LayerNorm(vhidden, eps=1e-12), nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        self.v_ffn, self.t_ffn = FeedForward(vhidden, vffn, dropout), FeedForward(hidden, ffn, dropout)

    def forward(self, text, text_mask, vision, vision_mask):
        vq, vk, vv = (lin(vision) for lin in self.v_qkv)
        tq, tk, tv = (lin(text) for lin in self.t_qkv)
        text_ctx = self.attend(tq, vk, vv, vision_mask)    # text queries over the regions
        vision_ctx = self.attend(vq, tk, tv, text_mask)    # region queries over the text
        text = self.t_ln(text + self.dropout(self.t_dense(text_ctx)))
        vision = self.v_ln(vision + self.dropout(self.v_dense(vision_ctx)))
        return self.t_ffn(text), self.v_ffn(vision)


class Transform(nn.Module):
    """dense -> GELU -> LayerNorm, the prediction heads' first block."""

    def __init__(self, hidden):
        super().__init__()
        self.dense, self.ln = nn.Linear(hidden, hidden), nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x):
        return self.ln(F.gelu(self.dense(x)))


class VilbertPretraining(nn.Module):
    def __init__(self, a):
        super().__init__()
        h, bi, vh = a.hidden, a.hidden, a.hidden
        self.word = nn.Embedding(a.vocab, h)
        self.position = nn.Embedding(max(512, a.seq), h)
        self.token_type = nn.Embedding(2, h)
        self.emb_ln = nn.LayerNorm(h, eps=1e-12)
        self.region = nn.Linear(FEATURE_DIM, vh)
        self.location = nn.Linear(5, vh)
        self.region_ln = nn.LayerNorm(vh, eps=1e-12)
        self.dropout = nn.Dropout(a.dropout)
        self.text_layers = nn.ModuleList(Layer(h, a.heads, a.ffn, a.dropout) for _ in range(a.layers))
        self.vision_layers = nn.ModuleList(Layer(vh, a.heads, vh, a.dropout) for _ in range(a.layers))
        self.co_layers = nn.ModuleList(CoLayer(h, vh, bi, a.heads, a.ffn, vh, a.dropout) for _ in range(a.layers))
        self.t_pool, self.v_pool = nn.Linear(h, bi), nn.Linear(vh, bi)
        self.mlm_transform = Transform(h)
        self.mlm_bias = nn.Parameter(torch.zeros(a.vocab))
        self.region_transform = Transform(vh)
        self.region_decoder = nn.Linear(vh, CLASSES)
        self.alignment = nn.Linear(bi, 2)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, ids, token_types, attention_mask, features, locations, image_mask, labels, region_masked,
                region_targets, alignment_labels):
        b, t = ids.shape
        positions = torch.arange(t).unsqueeze(0).expand(b, t)
        text = self.dropout(self.emb_ln(self.word(ids) + self.position(positions) + self.token_type(token_types)))
        vision = self.dropout(self.region_ln(self.region(features) + self.location(locations)))
        text_mask, vision_mask = additive(attention_mask), additive(image_mask)
        # Co-TRM k follows text layer k; visual layer k follows Co-TRM k.
        for text_layer, co_layer, vision_layer in zip(self.text_layers, self.co_layers, self.vision_layers):
            text = text_layer(text, text_mask)
            text, vision = co_layer(text, text_mask, vision, vision_mask)
            vision = vision_layer(vision, vision_mask)
        fused = self.dropout(F.relu(self.t_pool(text[:, 0])) * F.relu(self.v_pool(vision[:, 0])))

        flat = labels.reshape(-1)
        picked = (flat != -100).nonzero().squeeze(1)
        h = self.mlm_transform(text.reshape(-1, text.shape[-1]).index_select(0, picked))
        mlm = F.cross_entropy(F.linear(h, self.word.weight, self.mlm_bias), flat.index_select(0, picked))

        scores = self.region_decoder(self.region_transform(vision))  # every row, as the reference
        chosen = region_masked.bool()
        region = F.kl_div(scores[chosen].log_softmax(-1), region_targets[chosen], reduction="batchmean")

        alignment = F.cross_entropy(self.alignment(fused), alignment_labels)
        return mlm + region + alignment, (mlm, region, alignment)


def half_up(x):
    """Rounds halves away from zero (for x >= 0), as C's llround; Python's round() goes to even."""
    return math.floor(x + 0.5)


def predicted_positions(a):
    return max(1, half_up(a.mask_prob * (a.batch * a.seq)))


def masked_regions(a):
    return max(1, half_up(REGION_MASK_PROB * (a.batch * a.regions)))


def step_flops(a):
    """Matrix-product FLOPs, forward x 3 (the same count as vilbert_step_flops in C++)."""
    b, t, r, h, f, v, m = a.batch, a.seq, a.regions + 1, a.hidden, a.ffn, a.vocab, predicted_positions(a)
    nt, nv, fv = b * t, b * r, h
    embed = 2 * nv * FEATURE_DIM * h + 2 * nv * 5 * h
    trm = lambda n, length, ffn: 2 * n * h * 3 * h + 2 * n * h * h + 4 * n * h * ffn + 4 * n * length * h
    co = (2 * (nt + nv) * h * 3 * h + 4 * nt * r * h + 4 * nv * t * h + 2 * (nt + nv) * h * h
          + 4 * nt * h * f + 4 * nv * h * fv)
    heads = 4 * b * h * h + 4 * b * h + 2 * m * h * h + 2 * m * h * v + 2 * nv * h * h + 2 * nv * h * CLASSES
    return 3.0 * (embed + a.layers * (trm(nt, t, f) + trm(nv, r, fv) + co) + heads)


def make_batch(a, gen):
    b, t, r = a.batch, a.seq, a.regions
    low = min(5, a.vocab - 1)
    ids = torch.randint(low, a.vocab, (b, t), generator=gen)
    # Alignment negatives: the caption replaced by another row's.
    swapped = torch.rand(b, generator=gen) < (SWAP_PROB if b > 1 else 0.0)
    other = (torch.arange(b) + torch.randint(1, max(b, 2), (b,), generator=gen)) % b
    ids = torch.where(swapped[:, None], ids[other], ids)
    labels = torch.full((b * t,), -100, dtype=torch.long)
    positions = torch.randperm(b * t, generator=gen)[: predicted_positions(a)]
    labels[positions] = torch.randint(low, a.vocab, (positions.numel(),), generator=gen)

    features = torch.rand(b, r, FEATURE_DIM, generator=gen)
    img = features.mean(1, keepdim=True)  # the IMG token: mean of the regions before masking
    chosen = torch.zeros(b * r, dtype=torch.bool)
    chosen[torch.randperm(b * r, generator=gen)[: masked_regions(a)]] = True
    chosen = chosen.view(b, r)
    zeroed = chosen & (torch.rand(b, r, generator=gen) < 0.9)
    features = features.masked_fill(zeroed[..., None], 0.0)
    corner = torch.rand(b, r, 2, generator=gen) * 0.5
    size = torch.rand(b, r, 2, generator=gen) * 0.5 + 0.01
    boxes = torch.cat([corner, corner + size, size.prod(-1, keepdim=True)], -1)  # x1, y1, x2, y2, area
    whole = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0]).expand(b, 1, 5)
    return (ids, torch.zeros(b, t, dtype=torch.long), torch.ones(b, t, dtype=torch.long),
            torch.cat([img, features], 1), torch.cat([whole, boxes], 1), torch.ones(b, r + 1, dtype=torch.long),
            labels.view(b, t), torch.cat([torch.zeros(b, 1, dtype=torch.bool), chosen], 1),
            torch.randn(b, r + 1, CLASSES, generator=gen).softmax(-1), swapped.long())


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("ffn", 1024), ("vocab", 30522),
                          ("seq", 128), ("batch", 32), ("regions", 36), ("steps", 10), ("warmup", 2), ("threads", 0),
                          ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--mask-prob", dest="mask_prob", type=float, default=0.15)
    p.add_argument("--dropout", type=float, default=0.1)
    a = p.parse_args()
    for name in ["layers", "hidden", "heads", "ffn", "vocab", "seq", "batch", "regions", "steps"]:
        if getattr(a, name) <= 0:
            p.error(f"--{name} must be positive (got {getattr(a, name)})")
    if a.hidden % a.heads:
        p.error(f"--heads ({a.heads}) must divide --hidden ({a.hidden})")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = VilbertPretraining(a).train()
    # biases and LayerNorm weights
    opt = adamw_like_cotrain(model, lambda n, p: n.endswith("bias") or p.dim() == 1)
    gen = torch.Generator().manual_seed(a.seed + 1)
    def forward():
        loss, (mlm, region, alignment) = model(*make_batch(a, gen))
        return loss, {"mlm": mlm, "region": region, "alignment": alignment}

    time_training_steps(a, "vilbert", model, opt, forward, step_flops(a))

if __name__ == "__main__":
    main()
