#!/usr/bin/python3
"""Idiomatic PyTorch twin of `cotrain bench --task mlm`.

The same model (BERT encoder, post-LayerNorm, GELU, tied MLM decoder with its own
bias, logits only at the predicted positions), the same synthetic batches (uniform
ids, no padding, exactly round(mask_prob * batch * seq) predicted positions), the
same step (zero_grad, forward, backward, clip_grad_norm_ 1.0, torch.optim.AdamW
with weight decay 0.01 except biases and LayerNorm), and the same JSON line.
Written from the issue's description of the step, not from the C++ code.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_steps import adamw_like_cotrain, time_training_steps


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads, dropout):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
        probs = self.dropout(scores.softmax(-1))
        return (probs @ v).transpose(1, 2).reshape(b, t, -1)


class Layer(nn.Module):
    def __init__(self, hidden, heads, ffn, dropout):
        super().__init__()
        self.attn = SelfAttention(hidden, heads, dropout)
        self.attn_out = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        a = self.ln1(x + self.dropout(self.attn_out(self.attn(x, mask))))
        return self.ln2(a + self.dropout(self.ffn_out(F.gelu(self.ffn_in(a)))))


def init_like_bert(model, keep=()):
    """BERT's initialisation, as cotrain's init_bert_weights: N(0, 0.02) weights and
    embeddings, zero biases, LayerNorm (modules named *ln*) ones and zeros; names in
    keep are left as constructed."""
    for name, p in model.named_parameters():
        if name in keep:
            continue
        if "ln" in name:
            nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
        else:
            nn.init.normal_(p, 0.0, 0.02)


class BertMLM(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.word = nn.Embedding(a.vocab, a.hidden)
        self.position = nn.Embedding(max(512, a.seq), a.hidden)
        self.token_type = nn.Embedding(2, a.hidden)
        self.emb_ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.dropout = nn.Dropout(a.dropout)
        self.layers = nn.ModuleList(Layer(a.hidden, a.heads, a.ffn, a.dropout) for _ in range(a.layers))
        self.head_dense = nn.Linear(a.hidden, a.hidden)
        self.head_ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.head_bias = nn.Parameter(torch.zeros(a.vocab))
        init_like_bert(self)

    def forward(self, ids, attention_mask, token_types, labels):
        b, t = ids.shape
        positions = torch.arange(t).unsqueeze(0).expand(b, t)
        x = self.word(ids) + self.position(positions) + self.token_type(token_types)
        x = self.dropout(self.emb_ln(x))
        mask = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        flat = labels.reshape(-1)
        picked = (flat != -100).nonzero().squeeze(1)
        h = x.reshape(-1, x.shape[-1]).index_select(0, picked)
        h = self.head_ln(F.gelu(self.head_dense(h)))
        logits = F.linear(h, self.word.weight, self.head_bias)
        return F.cross_entropy(logits, flat.index_select(0, picked))


def predicted_positions(a):
    return max(1, round(a.mask_prob * a.batch * a.seq))


def step_flops(a):
    n, h, f, t, v, m = a.batch * a.seq, a.hidden, a.ffn, a.seq, a.vocab, predicted_positions(a)
    per_layer = 2 * n * h * 3 * h + 2 * n * h * h + 4 * n * h * f + 4 * n * t * h
    return 3.0 * (a.layers * per_layer + 2 * m * h * h + 2 * m * h * v)


def make_batch(a, gen):
    low = min(5, a.vocab - 1)
    ids = torch.randint(low, a.vocab, (a.batch, a.seq), generator=gen)
    labels = torch.full((a.batch * a.seq,), -100, dtype=torch.long)
    positions = torch.randperm(a.batch * a.seq, generator=gen)[: predicted_positions(a)]
    labels[positions] = torch.randint(low, a.vocab, (positions.numel(),), generator=gen)
    return (ids, torch.ones(a.batch, a.seq, dtype=torch.long), torch.zeros(a.batch, a.seq, dtype=torch.long),
            labels.view(a.batch, a.seq))


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("ffn", 1024), ("vocab", 30522),
                          ("seq", 128), ("batch", 32), ("steps", 10), ("warmup", 2), ("threads", 0), ("seed", 1)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--mask-prob", dest="mask_prob", type=float, default=0.15)
    p.add_argument("--dropout", type=float, default=0.1)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = BertMLM(a).train()
    opt = adamw_like_cotrain(model, lambda n, p: n.endswith("bias") or "ln" in n)
    gen = torch.Generator().manual_seed(a.seed + 1)
    time_training_steps(a, "mlm", model, opt, lambda: (model(*make_batch(a, gen)), {}), step_flops(a))

if __name__ == "__main__":
    main()
