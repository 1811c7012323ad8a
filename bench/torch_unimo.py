#!/usr/bin/python3
"""Idiomatic PyTorch twin of `cotrain bench --task unimo`.

UNIMO's pretraining step on image-text pairs, written from shared/spec/unimo.md:
one single-stream post-LN Transformer (the BERT layers of torch_mlm.py) over
`[IMG] v1..vR [CLS] w1..wT`, where a region's embedding is
LayerNorm(Linear(2048->H)(feature) + Linear(5->H)(box)) and [IMG] takes the mean
region feature and the box [0, 0, 1, 1, 1]; the text embedding is word + position
(+ the one row of a RoBERTa-style token-type table), LayerNorm. One step sums:
  - MLM at the masked caption tokens of the joint pass (tied decoder + own bias);
  - masked region modelling at the masked regions of the joint pass: a
    dense-GELU-LayerNorm transform, then the L2 regression of the original 2048-d
    feature (mean over elements) and KL(detector classes || softmax) over 1601 classes;
  - CMCL: cosine similarity of h[IMG] (images encoded alone) and h[CLS] (captions
    encoded alone) times a learned 1/tau (init 1/0.07, clamped at 100), InfoNCE where
    pair a's positive is (image a, caption a) and its in-batch negatives are
    (image a, caption b) and (image b, caption a) for every other pair b, one
    softmax over all of them.
The pooled [IMG]/[CLS] heads and the retrieval score FC(dropout(pooled product)) run
too, outside the loss, as the pretraining step computes them as a diagnostic. Then
backward, clip_grad_norm_ 1.0, torch.optim.AdamW (weight decay 0.01 except biases,
LayerNorm and the temperature). Synthetic batches as the C++ bench draws them (same
shapes, counts and distributions; not the same numbers). Prints the same JSON line.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_steps import adamw_like_cotrain, time_training_steps
from torch_mlm import Layer, init_like_bert

FEATURE_DIM = 2048  # bottom-up-attention region features
CLASSES = 1601      # Visual Genome detector classes
REGION_MASK_RATE = 0.15
TEMPERATURE = 0.07
MAX_LOGIT_SCALE = 100.0


class Unimo(nn.Module):
    def __init__(self, a):
        super().__init__()
        h = a.hidden
        self.word = nn.Embedding(a.vocab, h)
        self.position = nn.Embedding(max(512, a.seq), h)
        self.token_type = nn.Embedding(1, h)
        self.text_ln = nn.LayerNorm(h, eps=1e-12)
        self.feature = nn.Linear(FEATURE_DIM, h)
        self.box = nn.Linear(5, h)
        self.visual_ln = nn.LayerNorm(h, eps=1e-12)
        self.dropout = nn.Dropout(a.dropout)
        self.layers = nn.ModuleList(Layer(h, a.heads, a.ffn, a.dropout) for _ in range(a.layers))
        self.image_pool = nn.Linear(h, h)
        self.text_pool = nn.Linear(h, h)
        self.score = nn.Linear(h, 1)
        self.mlm_dense = nn.Linear(h, h)
        self.mlm_ln = nn.LayerNorm(h, eps=1e-12)
        self.mlm_bias = nn.Parameter(torch.zeros(a.vocab))
        self.region_dense = nn.Linear(h, h)
        self.region_ln = nn.LayerNorm(h, eps=1e-12)
        self.region_regression = nn.Linear(h, FEATURE_DIM)
        self.region_classifier = nn.Linear(h, CLASSES)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / TEMPERATURE)))
        init_like_bert(self, keep=("logit_scale",))

    def embed_image(self, features, boxes):
        b = features.shape[0]
        img_feature = features.mean(1, keepdim=True)  # every region is real
        img_box = features.new_tensor([0.0, 0.0, 1.0, 1.0, 1.0]).expand(b, 1, 5)
        x = self.feature(torch.cat([img_feature, features], 1)) + self.box(torch.cat([img_box, boxes], 1))
        return self.dropout(self.visual_ln(x))

    def embed_text(self, ids):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.word(ids) + self.position(positions) + self.token_type.weight[0]
        return self.dropout(self.text_ln(x))

    def encode(self, x):
        mask = x.new_zeros(x.shape[0], 1, 1, x.shape[1])  # no padding: every key attended
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def forward(self, ids, masked_ids, labels, features, pair_features, boxes, masked, classes):
        r = features.shape[1]
        # Pairs, jointly: MLM on the caption, MRM on the regions.
        joint = self.encode(torch.cat([self.embed_image(pair_features, boxes), self.embed_text(masked_ids)], 1))
        h = joint.shape[-1]
        text = joint[:, 1 + r:].reshape(-1, h)[labels.reshape(-1) != -100]
        text = self.mlm_ln(F.gelu(self.mlm_dense(text)))
        mlm = F.cross_entropy(F.linear(text, self.word.weight, self.mlm_bias), labels[labels != -100])
        picked = masked.reshape(-1).bool()
        regions = joint[:, 1:1 + r].reshape(-1, h)[picked]
        regions = self.region_ln(F.gelu(self.region_dense(regions)))
        mrm_reg = F.mse_loss(self.region_regression(regions), features.reshape(-1, FEATURE_DIM)[picked])
        mrm_cls = F.kl_div(F.log_softmax(self.region_classifier(regions), -1), classes.reshape(-1, CLASSES)[picked],
                           reduction="batchmean")
        # The retrieval score of the pairs (a diagnostic of the step, not in the loss).
        pooled = F.relu(self.text_pool(joint[:, 1 + r])) * F.relu(self.image_pool(joint[:, 0]))
        self.last_score = self.score(self.dropout(pooled)).squeeze(-1)
        # CMCL: images and captions encoded alone.
        images = F.normalize(self.encode(self.embed_image(features, boxes))[:, 0], dim=-1)
        texts = F.normalize(self.encode(self.embed_text(ids))[:, 0], dim=-1)
        sim = images @ texts.t() * self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)  # [image, text]
        diagonal = torch.eye(sim.shape[0], dtype=torch.bool)
        others = sim.t().masked_fill(diagonal, float("-inf"))  # row a: image b with caption a, b != a
        cmcl = (torch.logsumexp(torch.cat([sim, others], 1), 1) - sim.diagonal()).mean()
        terms = {"mlm": mlm, "mrm_reg": mrm_reg, "mrm_cls": mrm_cls, "cmcl": cmcl}
        return sum(terms.values()), terms


def round_half_up(x):
    return int(math.floor(x + 0.5))  # C++'s llround for x >= 0 (Python's round() rounds half to even)


def masked_tokens(a):
    return max(1, round_half_up(a.mask_prob * (a.batch * a.seq)))


def masked_regions(a):
    return max(1, round_half_up(REGION_MASK_RATE * (a.batch * a.regions)))


def encoder_flops(a, length):
    n, h, f = a.batch * length, a.hidden, a.ffn
    return a.layers * (2 * n * h * 3 * h + 2 * n * h * h + 4 * n * h * f + 4 * n * length * h)


def step_flops(a):
    """Matrix products, forward x 3 (x 2 for the visual embedding, whose input needs
    no gradient): the three encoder passes, the MLM and region heads at the masked
    positions, the CMCL similarity; not the diagnostic score head."""
    h, mt, mr, image_tokens = a.hidden, masked_tokens(a), masked_regions(a), a.batch * (1 + a.regions)
    encoders = encoder_flops(a, 1 + a.regions + a.seq) + encoder_flops(a, 1 + a.regions) + encoder_flops(a, a.seq)
    heads = 2 * mt * h * h + 2 * mt * h * a.vocab + 2 * mr * h * (h + FEATURE_DIM + CLASSES)
    visual = 2 * (2 * image_tokens * FEATURE_DIM * h + 2 * image_tokens * 5 * h)
    return 3.0 * (encoders + heads + 2 * a.batch * a.batch * h) + 2.0 * visual


def make_batch(a, gen):
    b, t, r = a.batch, a.seq, a.regions
    low = min(5, a.vocab - 1)
    ids = torch.randint(low, a.vocab, (b, t), generator=gen)
    positions = torch.randperm(b * t, generator=gen)[: masked_tokens(a)]
    labels = torch.full((b * t,), -100, dtype=torch.long)
    labels[positions] = ids.view(-1)[positions]
    masked_ids = ids.clone().view(-1)
    masked_ids[positions] = max(0, low - 1)  # a reserved id standing for [MASK]
    features = torch.rand(b, r, FEATURE_DIM, generator=gen)  # non-negative, like pooled ReLU features
    corner = torch.rand(b, r, 2, generator=gen) * 0.5
    size = torch.rand(b, r, 2, generator=gen) * 0.4 + 0.1
    boxes = torch.cat([corner, corner + size, (size[..., 0] * size[..., 1]).unsqueeze(-1)], -1)
    masked = torch.zeros(b * r, dtype=torch.long)
    masked[torch.randperm(b * r, generator=gen)[: masked_regions(a)]] = 1
    masked = masked.view(b, r)
    pair_features = features * (1 - masked).unsqueeze(-1)
    classes = torch.randn(b, r, CLASSES, generator=gen).softmax(-1)
    return ids, masked_ids.view(b, t), labels.view(b, t), features, pair_features, boxes, masked, classes


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("ffn", 1024), ("vocab", 30522),
                          ("seq", 40), ("batch", 32), ("regions", 36), ("steps", 10), ("warmup", 2), ("threads", 0),
                          ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--mask-prob", dest="mask_prob", type=float, default=0.15)
    p.add_argument("--dropout", type=float, default=0.1)
    a = p.parse_args()
    for name in ("layers", "hidden", "heads", "ffn", "vocab", "seq", "batch", "regions", "steps"):
        if getattr(a, name) <= 0:
            p.error(f"--{name} must be positive")
    if a.hidden % a.heads:
        p.error("--heads must divide --hidden")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Unimo(a).train()
    opt = adamw_like_cotrain(model, lambda n, p: n.endswith("bias") or "ln" in n or n == "logit_scale")
    gen = torch.Generator().manual_seed(a.seed + 1)
    time_training_steps(a, "unimo", model, opt, lambda: model(*make_batch(a, gen)), step_flops(a))

if __name__ == "__main__":
    main()
