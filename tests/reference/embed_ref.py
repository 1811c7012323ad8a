#!/usr/bin/python3
"""Independent reference of `cotrain embed` (issue 2, "Using a trained model").

Reads a Hugging Face model folder (config.json, model.safetensors, and vocab.txt or
vocab.json + merges.txt, tokenizer_config.json's do_lower_case), tokenises every line
of --input with the reference tokenizers of tokenizers_ref.py, runs the encoder of
bert_twin.py (written from formats.md) in float64 with dropout off, one line at a
time (so no padding is involved), and writes one JSON line per input line:
  {"text": line, "tokens": [...], "embedding": [...]}
Pooling: "mean" averages the last hidden layer over every token of the sequence,
[CLS]/<s> and [SEP]/</s> included; "cls" takes the first token's vector.
A sequence keeps at most the model's position limit of tokens (max_position_embeddings,
less RoBERTa's 2 offset rows), specials included: longer texts lose their last pieces.

Input lines: the file split at "\n" (a final newline ends the last line rather than
starting an empty one), a trailing "\r" dropped from each.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import common  # noqa: E402
import tokenizers_ref  # noqa: E402


def read_lines(path):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def canonical(name, model_type):
    """File name -> the twin's BertForMaskedLM parameter name ('' if unused)."""
    if model_type == "roberta":
        return "bert." + name[len("roberta."):] if name.startswith("roberta.") else ""
    if name.startswith("bert."):
        return name
    return ""


class Tokenizer:
    def __init__(self, model_dir, cfg):
        self.kind = cfg["model_type"]
        if self.kind == "bert":
            self.vocab = tokenizers_ref.read_wordpiece_vocab(os.path.join(model_dir, "vocab.txt"))
            self.uncased = True
            tc_path = os.path.join(model_dir, "tokenizer_config.json")
            if os.path.exists(tc_path):
                with open(tc_path, encoding="utf-8") as f:
                    tc = json.load(f)
                if tc.get("do_lower_case") is not None:
                    self.uncased = bool(tc["do_lower_case"])
            self.first, self.last = "[CLS]", "[SEP]"
        else:
            self.vocab, self.ranks = tokenizers_ref.read_bpe(model_dir)
            self.pattern = tokenizers_ref.gpt2_pattern()
            self.first, self.last = "<s>", "</s>"

    def tokens(self, text):
        if self.kind == "bert":
            return [p for w in tokenizers_ref.basic_tokenize(text, self.uncased)
                    for p in tokenizers_ref.wordpiece_word(w, self.vocab)]
        out = []
        for piece in self.pattern.findall(text):
            out += tokenizers_ref.bpe_apply(tokenizers_ref.to_symbols(piece), self.ranks)
        return out

    def ids(self, tokens):
        unk = "[UNK]" if self.kind == "bert" else "<unk>"
        return [self.vocab.get(t, self.vocab[unk]) for t in tokens]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="Hugging Face folder")
    ap.add_argument("--input", required=True, help="text file, one input per line")
    ap.add_argument("--pool", choices=["mean", "cls"], default="mean")
    ap.add_argument("--out", required=True, help="JSON lines")
    args = ap.parse_args()

    with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    model = bert_twin.MaskedLM(cfg)
    params = dict(model.named_parameters())
    loaded = set()
    with torch.no_grad():
        for name, tensor in common.read_safetensors(os.path.join(args.model, "model.safetensors")).items():
            target = canonical(name, cfg["model_type"])
            if target in params:
                params[target].copy_(tensor.to(bert_twin.DTYPE))
                loaded.add(target)
    needed = {n for n in params if n.startswith("bert.embeddings.") or n.startswith("bert.encoder.")}
    if needed - loaded:
        sys.exit("missing tensors: %s" % sorted(needed - loaded))

    tok = Tokenizer(args.model, cfg)
    limit = cfg["max_position_embeddings"] - (2 if cfg["model_type"] == "roberta" else 0)
    records = []
    with torch.no_grad():
        for text in read_lines(args.input):
            tokens = tok.tokens(text)[:limit - 2]
            tokens = [tok.first] + tokens + [tok.last]
            ids = torch.tensor([tok.ids(tokens)], dtype=torch.int64)
            x = model.bert.embeddings(ids, torch.zeros_like(ids))
            no_mask = torch.zeros(1, 1, 1, ids.shape[1], dtype=bert_twin.DTYPE)
            for layer in model.bert.encoder.layer:
                x = layer(x, no_mask)
            hidden = x[0]
            pooled = hidden.mean(0) if args.pool == "mean" else hidden[0]
            records.append({"text": text, "tokens": tokens, "embedding": pooled.tolist()})
    with open(args.out, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("%d lines" % len(records))


if __name__ == "__main__":
    main()
