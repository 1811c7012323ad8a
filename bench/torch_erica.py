#!/usr/bin/python3
"""Idiomatic PyTorch twin of `cotrain bench --task erica`.

ERICA's pretraining step, written from shared/spec/erica.md: one BERT pass (the
encoder layers of torch_mlm.py, with the checkpoint's tanh pooler, unused by the
losses) over ED rows "[CLS] relation-name head-name [SEP] document [SEP]" and RD
rows "[CLS] document [SEP]", and L = L_MLM + L_ED + L_RD:
  - MLM at the masked positions (tied decoder with its own bias, logits only there);
  - entity representation = mean over its mentions of the mean of the mention's
    token states;
  - ED: InfoNCE of cos(e_head, e_c) / 0.05 over the row's entities but the head and
    the other gold tails of (h, r), the tail the positive;
  - RD: r_{h,t} = [e_h ; e_t]; candidates per document are its labelled pairs plus up
    to 32 sampled NA pairs; the instances of each relation are shuffled and paired
    consecutively (a pair from the same document sharing an entity is skipped);
    negatives are the instances of other labels, NA included, except the same
    document's pairs that share an entity with the anchor, at most 64 at random;
    InfoNCE of the cosine similarities / 0.05.
Then backward, clip_grad_norm_ 1.0, torch.optim.AdamW (weight decay 0.01 except
biases and LayerNorm).

Synthetic batches of the same shapes, counts and distributions as the C++ bench
(not the same numbers): --batch rows of exactly --seq tokens, batch // 2 ED rows then
the RD rows; --entities entities per document with 3 mentions of 2 tokens at random
non-overlapping 2-token blocks of the body; --entities labelled ordered pairs with
one of 16 relation ids, every other ordered pair a known NA pair; exactly
round(mask_prob * maskable) masked positions per row (at least 1), specials and
mention tokens not maskable, 80% [MASK] / 10% random / 10% kept.
"""
import argparse
import math
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_steps import adamw_like_cotrain, time_training_steps
from torch_mlm import Layer, init_like_bert

MENTIONS = 3          # per entity
MENTION_TOKENS = 2
PREFIX_TOKENS = 4     # relation name + head entity name of an ED row
RELATION_TYPES = 16
MAX_NA_PAIRS = 32
MAX_NEGATIVES = 64
TEMPERATURE = 0.05


class EricaBert(nn.Module):
    """BERT encoder (with its pooler) and the MLM head; returns the MLM loss and the
    last hidden states."""

    def __init__(self, a):
        super().__init__()
        self.word = nn.Embedding(a.vocab, a.hidden)
        self.position = nn.Embedding(max(512, a.seq), a.hidden)
        self.token_type = nn.Embedding(2, a.hidden)
        self.emb_ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.dropout = nn.Dropout(a.dropout)
        self.layers = nn.ModuleList(Layer(a.hidden, a.heads, a.ffn, a.dropout) for _ in range(a.layers))
        self.pooler = nn.Linear(a.hidden, a.hidden)  # part of the checkpoint; ERICA's losses do not use it
        self.head_dense = nn.Linear(a.hidden, a.hidden)
        self.head_ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.head_bias = nn.Parameter(torch.zeros(a.vocab))
        init_like_bert(self)

    def forward(self, ids, labels):
        b, t = ids.shape
        positions = torch.arange(t).unsqueeze(0).expand(b, t)
        x = self.dropout(self.emb_ln(self.word(ids) + self.position(positions) + self.token_type.weight[0]))
        mask = torch.zeros(b, 1, 1, t)  # no padding: every row is exactly --seq tokens
        for layer in self.layers:
            x = layer(x, mask)
        flat = labels.reshape(-1)
        picked = (flat != -100).nonzero().squeeze(1)
        h = x.reshape(-1, x.shape[-1]).index_select(0, picked)
        h = self.head_ln(F.gelu(self.head_dense(h)))
        logits = F.linear(h, self.word.weight, self.head_bias)
        return F.cross_entropy(logits, flat.index_select(0, picked)), x


def ed_rows(a):
    return a.batch // 2


def rd_rows(a):
    return a.batch - a.batch // 2


def masked_per_row(a, ed):
    maskable = a.seq - (3 if ed else 2) - a.entities * MENTIONS * MENTION_TOKENS
    # Half away from zero, as C++'s llround (Python's round() goes to the even neighbour).
    return min(maskable, max(1, math.floor(a.mask_prob * maskable + 0.5)))


def step_flops(a):
    """Matrix-product FLOPs, forward x 3: encoder and MLM head (as torch_mlm.py); the
    ED/RD similarity products (< 0.1%) and mention pooling are not counted."""
    n, h, f, t, v = a.batch * a.seq, a.hidden, a.ffn, a.seq, a.vocab
    m = ed_rows(a) * masked_per_row(a, True) + rd_rows(a) * masked_per_row(a, False)
    per_layer = 2 * n * h * 3 * h + 2 * n * h * h + 4 * n * h * f + 4 * n * t * h
    return 3.0 * (a.layers * per_layer + 2 * m * h * h + 2 * m * h * v)


def synthetic_rows(a, rows, ed, gen):
    """ids, labels [rows, T] and entity mention token positions [rows, K, 6]."""
    t, k = a.seq, a.entities
    offset = 2 + PREFIX_TOKENS if ed else 1
    body = t - offset - 1
    low, mask_id = min(5, a.vocab - 1), min(103, a.vocab - 1)
    # Each mention takes one random 2-token block of the body, no two the same block.
    blocks = torch.rand(rows, body // MENTION_TOKENS, generator=gen).argsort(1)[:, : k * MENTIONS]
    starts = offset + MENTION_TOKENS * blocks.view(rows, k, MENTIONS)
    mentions = (starts.unsqueeze(-1) + torch.arange(MENTION_TOKENS)).view(rows, k, MENTIONS * MENTION_TOKENS)
    ids = torch.randint(low, a.vocab, (rows, t), generator=gen)
    maskable = torch.ones(rows, t, dtype=torch.bool)
    maskable[:, 0] = maskable[:, -1] = False
    if ed:
        maskable[:, 1 + PREFIX_TOKENS] = False
    maskable.scatter_(1, mentions.view(rows, -1), False)
    scores = torch.rand(rows, t, generator=gen).masked_fill(~maskable, -1.0)
    chosen = scores.topk(masked_per_row(a, ed), dim=1).indices
    labels = torch.full((rows, t), -100, dtype=torch.long)
    labels.scatter_(1, chosen, ids.gather(1, chosen))
    u = torch.rand(chosen.shape, generator=gen)
    replaced = torch.where(u < 0.8, torch.full_like(chosen, mask_id),
                           torch.where(u < 0.9, torch.randint(low, a.vocab, chosen.shape, generator=gen),
                                       ids.gather(1, chosen)))
    ids.scatter_(1, chosen, replaced)
    return ids, labels, mentions


def synthetic_relations(a, rows, gen):
    """Per document: K labelled ordered pairs (h != t) with relation ids, then the
    other ordered pairs (the na_triple list) in random order. [rows, K(K-1)] each."""
    k = a.entities
    h, t = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
    off = h != t
    h, t = h[off], t[off]
    order = torch.rand(rows, h.numel(), generator=gen).argsort(1)
    rel = torch.full(order.shape, -1, dtype=torch.long)  # -1: NA
    rel[:, :k] = torch.randint(RELATION_TYPES, (rows, k), generator=gen)
    return h[order], t[order], rel


def ed_example(a, gen):
    """ED: one labelled triple per row; returns query, positive [R] and the candidate
    mask [R, K] (not the head, not another gold tail of (h, r))."""
    heads, tails, rel = synthetic_relations(a, ed_rows(a), gen)
    k, r = a.entities, ed_rows(a)
    pick = torch.randint(k, (r,), generator=gen)
    rows = torch.arange(r)
    qh, qt, qr = heads[rows, pick], tails[rows, pick], rel[rows, pick]
    gold = (heads[:, :k] == qh[:, None]) & (rel[:, :k] == qr[:, None]) & (tails[:, :k] != qt[:, None])
    candidates = torch.ones(r, k, dtype=torch.bool)
    candidates[rows, qh] = False
    candidates[rows.repeat_interleave(k)[gold.view(-1)], tails[:, :k][gold]] = False
    return qh, qt, candidates


def rd_instances(a, gen):
    """RD candidates: the labelled pairs and up to 32 NA pairs of each document, as
    flat tensors doc, head, tail, label (-1 for NA)."""
    heads, tails, rel = synthetic_relations(a, rd_rows(a), gen)
    keep = a.entities + min(MAX_NA_PAIRS, heads.shape[1] - a.entities)  # the first NA pairs of a random order
    doc = torch.arange(rd_rows(a)).unsqueeze(1).expand(-1, keep)
    return doc.reshape(-1), heads[:, :keep].reshape(-1), tails[:, :keep].reshape(-1), rel[:, :keep].reshape(-1)


def pair_instances(doc, head, tail, label, rng):
    """Anchors and their positives: per relation, shuffled and paired consecutively,
    skipping a partner from the same document that shares an entity."""
    overlap = (doc[:, None] == doc[None, :]) & (
        (head[:, None] == head[None, :]) | (head[:, None] == tail[None, :])
        | (tail[:, None] == head[None, :]) | (tail[:, None] == tail[None, :]))
    anchors, positives = [], []
    for r in sorted(set(label.tolist()) - {-1}):
        members = (label == r).nonzero().squeeze(1).tolist()
        rng.shuffle(members)
        taken = [False] * len(members)
        for i in range(len(members)):
            if taken[i]:
                continue
            for j in range(i + 1, len(members)):
                if not taken[j] and not overlap[members[i], members[j]]:
                    taken[i] = taken[j] = True
                    anchors += [members[i], members[j]]
                    positives += [members[j], members[i]]
                    break
    return torch.tensor(anchors, dtype=torch.long), torch.tensor(positives, dtype=torch.long), overlap


def rd_negatives(anchors, label, overlap, gen):
    """[A, <=64] negative indices and their validity mask: other labels or NA, not
    overlapping the anchor in its document; a random subset of at most 64. (Two
    instances of one entity pair with different labels cannot occur here: the
    labelled pairs of a document are distinct.)"""
    allowed = (label[None, :] != label[anchors][:, None]) & ~overlap[anchors]
    scores = torch.rand(allowed.shape, generator=gen).masked_fill(~allowed, -1.0)
    top = scores.topk(min(MAX_NEGATIVES, allowed.shape[1]), dim=1)
    return top.indices, top.values >= 0


def info_nce(queries, keys, valid):
    """-log softmax over the valid keys, the positive in column 0; queries [N, D],
    keys [N, W, D], cosine similarity / temperature."""
    q, k = F.normalize(queries, dim=-1), F.normalize(keys, dim=-1)
    logits = torch.einsum("nd,nwd->nw", q, k).div(TEMPERATURE).masked_fill(~valid, float("-inf"))
    return (logits.logsumexp(1) - logits[:, 0]).mean()


def make_batch(a, gen, rng):
    ed_ids, ed_labels, ed_mentions = synthetic_rows(a, ed_rows(a), True, gen)
    query, positive, candidates = ed_example(a, gen)
    rd_ids, rd_labels, rd_mentions = synthetic_rows(a, rd_rows(a), False, gen)
    doc, head, tail, label = rd_instances(a, gen)
    anchors, partners, overlap = pair_instances(doc, head, tail, label, rng)
    negatives, negative_valid = rd_negatives(anchors, label, overlap, gen)
    return dict(ids=torch.cat([ed_ids, rd_ids]), labels=torch.cat([ed_labels, rd_labels]),
                mentions=torch.cat([ed_mentions, rd_mentions]), query=query, positive=positive,
                candidates=candidates, doc=doc, head=head, tail=tail, anchors=anchors, partners=partners,
                negatives=negatives, negative_valid=negative_valid)


def erica_loss(model, a, b):
    mlm, hidden = model(b["ids"], b["labels"])
    rows, t, h = hidden.shape
    # Every mention has MENTION_TOKENS tokens and every entity MENTIONS mentions, so
    # the mean of mention means is the mean over the entity's tokens.
    flat = b["mentions"] + (torch.arange(rows) * t)[:, None, None]
    entities = hidden.reshape(-1, h)[flat].mean(2)  # [rows, K, H]

    ed = entities[: ed_rows(a)]
    r = torch.arange(ed_rows(a))
    keys = torch.cat([ed[r, b["positive"]].unsqueeze(1), ed], 1)  # positive first, then every entity
    valid = torch.cat([torch.ones(len(r), 1, dtype=torch.bool), b["candidates"]], 1)
    valid[r, 1 + b["positive"]] = False  # the positive once
    loss_ed = info_nce(ed[r, b["query"]], keys, valid)

    rd = entities[ed_rows(a):]
    relations = torch.cat([rd[b["doc"], b["head"]], rd[b["doc"], b["tail"]]], 1)  # [P, 2H]
    if len(b["anchors"]) == 0:  # no relation occurred twice: no positive pair, no RD term
        return mlm + loss_ed, (mlm, loss_ed, relations.sum() * 0.0)
    keys = relations[torch.cat([b["partners"].unsqueeze(1), b["negatives"]], 1)]
    valid = torch.cat([torch.ones(len(b["anchors"]), 1, dtype=torch.bool), b["negative_valid"]], 1)
    loss_rd = info_nce(relations[b["anchors"]], keys, valid)
    return mlm + loss_ed + loss_rd, (mlm, loss_ed, loss_rd)


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("ffn", 1024), ("vocab", 30522),
                          ("seq", 128), ("batch", 32), ("entities", 8), ("steps", 10), ("warmup", 2),
                          ("threads", 0), ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--mask-prob", dest="mask_prob", type=float, default=0.15)
    p.add_argument("--dropout", type=float, default=0.1)
    a = p.parse_args()
    if a.batch < 2:
        p.error(f"--batch must be at least 2 for task erica (one ED and one RD row), got {a.batch}")
    if a.entities < 2:
        p.error(f"--entities must be at least 2 for task erica, got {a.entities}")
    if a.seq < a.entities * MENTIONS * MENTION_TOKENS + 3 + PREFIX_TOKENS + 1:
        p.error(f"--entities {a.entities} do not fit --seq {a.seq}")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = EricaBert(a).train()
    opt = adamw_like_cotrain(model, lambda n, p: n.endswith("bias") or "ln" in n)
    gen = torch.Generator().manual_seed(a.seed + 1)
    rng = random.Random(a.seed + 1)
    def forward():
        loss, (mlm, ed, rd) = erica_loss(model, a, make_batch(a, gen, rng))
        return loss, {"mlm": mlm, "ed": ed, "rd": rd}

    time_training_steps(a, "erica", model, opt, forward, step_flops(a))

if __name__ == "__main__":
    main()
