#!/usr/bin/env python3
"""Independent PyTorch twin of the BERT / RoBERTa encoder with its masked-LM head.

Written from shared/spec/formats.md (BERT and RoBERTa sections), not from cotrain's
C++. It builds a small model with random weights, random padded inputs and MLM
labels, runs forward and backward in float64 with dropout off, and writes the golden
files that tests/models/bert_golden_test.cpp compares against:

  DIR/config.json            Hugging Face style config (model_type bert|roberta)
  DIR/model.safetensors      float32 weights in the Hugging Face spelling of the type
                             ("bert.*", "cls.predictions.*" / "roberta.*", "lm_head.*")
  DIR/inputs.safetensors     input_ids, attention_mask, token_type_ids, mlm_labels (I64)
  DIR/outputs.safetensors    hidden [B,T,H], logits [M,V] at the M labelled positions
                             (row-major order), loss [1], and grad.<canonical name> for
                             every parameter (canonical = BertForMaskedLM names), F32

Weights are drawn in float32 and widened, so the float64 computation uses exactly
the values the file holds; expected values are rounded to float32 only at the end.
"""
import argparse
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

DTYPE = torch.float64


# ------------------------------------------------------------------ building blocks
# Plain parameter holders; the arithmetic is written out below so that nothing
# depends on what torch.nn's layers happen to do.

class Linear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_out, n_in, dtype=DTYPE))  # [out, in]
        self.bias = nn.Parameter(torch.zeros(n_out, dtype=DTYPE))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class LayerNorm(nn.Module):
    def __init__(self, width, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width, dtype=DTYPE))
        self.bias = nn.Parameter(torch.zeros(width, dtype=DTYPE))

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased variance
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class Table(nn.Module):
    """An embedding table [rows, width]; lookup by integer index."""

    def __init__(self, rows, width):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(rows, width, dtype=DTYPE))

    def forward(self, ids):
        return self.weight[ids]


def gelu_erf(x):
    # hidden_act "gelu" is the exact erf form, not the tanh approximation.
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Group(nn.Module):
    """Holds children only, so that names nest like the checkpoint names."""


# ------------------------------------------------------------------ the model

class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.kind = cfg["model_type"]
        self.pad = cfg["pad_token_id"]
        h = cfg["hidden_size"]
        self.word_embeddings = Table(cfg["vocab_size"], h)
        self.position_embeddings = Table(cfg["max_position_embeddings"], h)
        self.token_type_embeddings = Table(cfg["type_vocab_size"], h)
        self.LayerNorm = LayerNorm(h, cfg["layer_norm_eps"])

    def position_ids(self, input_ids):
        if self.kind == "roberta":
            # Real tokens count from padding_idx + 1; padding gets padding_idx.
            real = (input_ids != self.pad).long()
            return torch.cumsum(real, dim=1) * real + self.pad
        batch, length = input_ids.shape
        return torch.arange(length).unsqueeze(0).repeat(batch, 1)

    def forward(self, input_ids, token_type_ids):
        x = (self.word_embeddings(input_ids) + self.position_embeddings(self.position_ids(input_ids))
             + self.token_type_embeddings(token_type_ids))
        return self.LayerNorm(x)  # dropout off


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, i, eps = cfg["hidden_size"], cfg["intermediate_size"], cfg["layer_norm_eps"]
        self.heads = cfg["num_attention_heads"]
        self.attention = Group()
        self.attention.self = Group()
        self.attention.self.query = Linear(h, h)
        self.attention.self.key = Linear(h, h)
        self.attention.self.value = Linear(h, h)
        self.attention.output = Group()
        self.attention.output.dense = Linear(h, h)
        self.attention.output.LayerNorm = LayerNorm(h, eps)
        self.intermediate = Group()
        self.intermediate.dense = Linear(h, i)
        self.output = Group()
        self.output.dense = Linear(i, h)
        self.output.LayerNorm = LayerNorm(h, eps)

    def forward(self, x, additive_mask):
        b, t, h = x.shape
        d = h // self.heads
        sa = self.attention.self

        def heads(y):  # [B, T, H] -> [B, heads, T, d]
            return y.reshape(b, t, self.heads, d).permute(0, 2, 1, 3)

        q, k, v = heads(sa.query(x)), heads(sa.key(x)), heads(sa.value(x))
        scores = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(d) + additive_mask
        probs = torch.softmax(scores, dim=-1)
        context = torch.einsum("bhqk,bhkd->bhqd", probs, v).permute(0, 2, 1, 3).reshape(b, t, h)
        # Post-LN: sublayer -> (dropout) -> add residual -> LayerNorm.
        a = self.attention.output.LayerNorm(self.attention.output.dense(context) + x)
        f = gelu_erf(self.intermediate.dense(a))
        return self.output.LayerNorm(self.output.dense(f) + a)


class MaskedLM(nn.Module):
    """Parameters named as Hugging Face's BertForMaskedLM (cotrain's canonical names)."""

    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.bert = Group()
        self.bert.embeddings = Embeddings(cfg)
        self.bert.encoder = Group()
        self.bert.encoder.layer = nn.ModuleList([Layer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.bert.pooler = Group()  # in checkpoints; unused by the MLM loss
        self.bert.pooler.dense = Linear(h, h)
        self.cls = Group()
        self.cls.predictions = Group()
        self.cls.predictions.transform = Group()
        self.cls.predictions.transform.dense = Linear(h, h)
        self.cls.predictions.transform.LayerNorm = LayerNorm(h, cfg["layer_norm_eps"])
        self.cls.predictions.bias = nn.Parameter(torch.zeros(cfg["vocab_size"], dtype=DTYPE))

    def forward(self, input_ids, attention_mask, token_type_ids, labels):
        x = self.bert.embeddings(input_ids, token_type_ids)
        # Additive key mask, broadcast over heads and queries: (1 - mask) * -10000.
        additive = (1.0 - attention_mask.to(DTYPE))[:, None, None, :] * -10000.0
        for layer in self.bert.encoder.layer:
            x = layer(x, additive)
        hidden = x
        p = self.cls.predictions
        selected = hidden.reshape(-1, hidden.shape[-1])[labels.reshape(-1) != -100]
        t = p.transform.LayerNorm(gelu_erf(p.transform.dense(selected)))
        # Decoder tied to the word embeddings, plus the head's own bias.
        logits = t @ self.bert.embeddings.word_embeddings.weight.t() + p.bias
        targets = labels.reshape(-1)[labels.reshape(-1) != -100]
        log_probs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        loss = -log_probs[torch.arange(targets.numel()), targets].mean()
        return hidden, logits, loss


# ------------------------------------------------------------------ names on disk

def roberta_name(canonical):
    """Canonical (BertForMaskedLM) name -> RobertaForMaskedLM checkpoint name."""
    if canonical.startswith("bert."):
        return "roberta." + canonical[len("bert."):]
    head = {
        "cls.predictions.transform.dense.weight": "lm_head.dense.weight",
        "cls.predictions.transform.dense.bias": "lm_head.dense.bias",
        "cls.predictions.transform.LayerNorm.weight": "lm_head.layer_norm.weight",
        "cls.predictions.transform.LayerNorm.bias": "lm_head.layer_norm.bias",
        "cls.predictions.bias": "lm_head.bias",
    }
    return head[canonical]


# ------------------------------------------------------------------ random data

def init_weights(model, std, g):
    """N(0, std) matrices; LayerNorm weights near 1 and every bias away from 0, so
    that a swapped, dropped or mis-broadcast parameter changes the outputs."""
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "LayerNorm" in name and name.endswith("weight"):
                value = common.normal(p.shape, 0.1, g, mean=1.0)
            elif name.endswith("bias"):
                value = common.normal(p.shape, 0.1, g)
            else:
                value = common.normal(p.shape, std, g)
            p.copy_(value.to(DTYPE))


def make_inputs(cfg, batch, seq, g):
    kind, pad, vocab = cfg["model_type"], cfg["pad_token_id"], cfg["vocab_size"]
    # Row 0 is full; every other row ends in padding of random length.
    lengths = [seq] + [int(common.randint(max(2, seq // 2), seq, [1], g)) for _ in range(batch - 1)]
    input_ids = torch.full((batch, seq), pad, dtype=torch.int64)
    attention_mask = torch.zeros(batch, seq, dtype=torch.int64)
    token_type_ids = torch.zeros(batch, seq, dtype=torch.int64)
    labels = torch.full((batch, seq), -100, dtype=torch.int64)
    low = 5 if kind == "bert" else 3  # never a special id, so never the pad id
    for row, n in enumerate(lengths):
        input_ids[row, :n] = common.randint(low, vocab, [n], g)
        attention_mask[row, :n] = 1
        if cfg["type_vocab_size"] > 1:
            token_type_ids[row, n // 2:n] = 1  # a second segment
        chosen = torch.rand(n, generator=g) < 0.2
        chosen[int(common.randint(0, n, [1], g))] = True  # at least one label per row
        picked = chosen.nonzero().reshape(-1)
        labels[row, picked] = common.randint(0, vocab, [picked.numel()], g)
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "token_type_ids": token_type_ids, "mlm_labels": labels}


def make_config(args):
    roberta = args.type == "roberta"
    return {
        "model_type": args.type,
        "architectures": ["RobertaForMaskedLM" if roberta else "BertForMaskedLM"],
        "vocab_size": args.vocab,
        "hidden_size": args.hidden,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "intermediate_size": args.ffn,
        "hidden_act": "gelu",
        # Non-zero, as in real configs: the C++ side must switch dropout off itself.
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # A few rows more than needed: unused rows must get exactly zero gradient.
        "max_position_embeddings": args.seq + (2 if roberta else 0) + 3,
        "type_vocab_size": 1 if roberta else 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-5 if roberta else 1e-12,
        "pad_token_id": 1 if roberta else 0,
        **({"bos_token_id": 0, "eos_token_id": 2} if roberta else {}),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", choices=["bert", "roberta"], default="bert")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=97)
    ap.add_argument("--seq", type=int, default=11)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.02, help="std of the weight matrices")
    args = ap.parse_args()
    if args.hidden % args.heads:
        sys.exit("--heads must divide --hidden")

    os.makedirs(args.out, exist_ok=True)
    cfg = make_config(args)
    g = common.generator(args.seed)
    model = MaskedLM(cfg)
    init_weights(model, args.std, g)
    inputs = make_inputs(cfg, args.batch, args.seq, g)

    hidden, logits, loss = model(inputs["input_ids"], inputs["attention_mask"],
                                 inputs["token_type_ids"], inputs["mlm_labels"])
    loss.backward()

    f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
    params = dict(model.named_parameters())
    if args.type == "roberta":
        weights = {roberta_name(n): f32(p) for n, p in params.items()}
        # Some RoBERTa checkpoints also store the tied decoder; the loader must skip it.
        weights["lm_head.decoder.weight"] = f32(params["bert.embeddings.word_embeddings.weight"])
    else:
        weights = {n: f32(p) for n, p in params.items()}
        # Pretraining checkpoints also hold the next-sentence head; the loader skips it.
        weights["cls.seq_relationship.weight"] = common.normal([2, args.hidden], args.std, g)
        weights["cls.seq_relationship.bias"] = common.normal([2], 0.1, g)
    outputs = {"hidden": f32(hidden), "logits": f32(logits), "loss": f32(loss.reshape(1))}
    for n, p in params.items():
        outputs["grad." + n] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)

    common.write_json(os.path.join(args.out, "config.json"), cfg)
    common.write_safetensors(os.path.join(args.out, "model.safetensors"), weights, {"format": "pt"})
    common.write_safetensors(os.path.join(args.out, "inputs.safetensors"), inputs)
    common.write_safetensors(os.path.join(args.out, "outputs.safetensors"), outputs,
                             {"generator": "tests/reference/bert_twin.py", "version": "1"})
    print(f"{args.type}: {len(params)} parameters, {logits.shape[0]} labelled positions, "
          f"loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
