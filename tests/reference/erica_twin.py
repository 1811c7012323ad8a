#!/usr/bin/env python3
"""Independent PyTorch twin of ERICA's three pretraining losses (erica.md).

Written from shared/spec/erica.md (and formats.md for the encoder, via bert_twin.py),
not from cotrain's C++. It reads a model folder (config.json + model.safetensors in
the Hugging Face spelling) and a batch written by `cotrain batch --task erica`, runs
the encoder in float64 with dropout off and computes

  MLM  cross-entropy over the positions whose label is not -100 (mean)
  ED   entity e_i = mean over the entity's mentions of the mean of the mention's
       token states; per example -log softmax over the candidates of
       cos(e_query, e_c) / tau at the positive (the positive counted once)
  RD   r = [e_head ; e_tail]; per anchor -log( e^{s+/tau} / (e^{s+/tau} +
       sum_neg e^{s-/tau}) ) with cosine s; mean over anchors
  total = ed_weight * ED + rd_weight * RD + mlm_weight * MLM

then the gradient of `total` for every parameter. Before that it checks that the
batch obeys erica.md's rules (ED candidates = the row's entities minus the head and
the other gold tails; RD positives share the anchor's label, NA is never an anchor
and always a valid negative, same-document pairs sharing an entity are neither
positive nor negative, at most max_negatives negatives and all eligible ones when
fewer; MLM never on special tokens or mention tokens) and exits 3 naming the first
violation.

Writes --out (safetensors, F32): loss.mlm, loss.ed, loss.rd, loss.total [1],
entities [E, H] and grad.<canonical name> for every parameter; prints the losses as
JSON on stdout.
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import common  # noqa: E402

DTYPE = torch.float64


class RuleViolation(Exception):
    pass


def require(ok, message):
    if not ok:
        raise RuleViolation(message)


# ------------------------------------------------------------------ model

def load_model(folder):
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
            t = tensors[stored]
            if list(t.shape) != list(p.shape):
                sys.exit(f"{stored}: shape {list(t.shape)}, expected {list(p.shape)}")
            p.copy_(t.to(DTYPE))
    return cfg, model


# ------------------------------------------------------------------ rule checks

def check_rules(batch, cfg):
    rows = batch["rows"]
    entities = batch["entities"]
    mask = batch["attention_mask"]
    labels = batch["mlm_labels"]
    lengths = [sum(r) for r in mask]

    # MLM: specials and mention tokens are never predicted.
    for e, ent in enumerate(entities):
        for b, end in ent["mentions"]:
            for p in range(b, end):
                require(labels[ent["row"]][p] == -100, f"entity {e}: mention token {p} is masked")
    for r, n in enumerate(lengths):
        require(labels[r][0] == -100 and labels[r][n - 1] == -100, f"row {r}: a special token is masked")

    # ED: candidates are every entity of the row except the head and the other
    # gold tails; the positive is among them once.
    for i, x in enumerate(batch["ed"]):
        row = x["row"]
        require(rows[row]["kind"] == "ed", f"ed[{i}]: row {row} is not an ED row")
        in_row = {e for e, ent in enumerate(entities) if ent["row"] == row}
        cands = x["candidates"]
        require(len(set(cands)) == len(cands), f"ed[{i}]: repeated candidates")
        require(x["query"] not in cands, f"ed[{i}]: the head is a candidate")
        require(cands.count(x["positive"]) == 1, f"ed[{i}]: the positive is not a candidate exactly once")
        expected = in_row - {x["query"]} - (set(x["excluded"]) - {x["positive"]})
        require(set(cands) == expected, f"ed[{i}]: candidates {sorted(cands)} != {sorted(expected)}")

    # RD
    pairs = batch["rd"]["pairs"]
    anchors = batch["rd"]["anchors"]
    max_neg = batch.get("objective", {}).get("max_negatives", 64)

    def key(e):  # the same document drawn twice is one document
        return (rows[entities[e]["row"]]["doc"], entities[e]["doc_entity"])

    def doc_of(p):
        return rows[pairs[p]["row"]]["doc"]

    def overlap(a, b):
        ea = {key(pairs[a]["head"]), key(pairs[a]["tail"])}
        eb = {key(pairs[b]["head"]), key(pairs[b]["tail"])}
        return doc_of(a) == doc_of(b) and bool(ea & eb)

    carries = {(key(p["head"]), key(p["tail"]), p["label"]) for p in pairs if not p["na"]}
    seen = set()
    partner = {}
    for a in anchors:
        i, j = a["anchor"], a["positive"]
        require(i not in seen, f"pair {i} is an anchor twice")
        seen.add(i)
        partner[i] = j
        require(not pairs[i]["na"], f"NA pair {i} is an anchor")
        require(not pairs[j]["na"] and pairs[j]["label"] == pairs[i]["label"],
                f"anchor {i}: positive {j} has another label")
        require(i != j and not overlap(i, j), f"anchor {i}: positive {j} shares an entity in the same document")
        eligible = set()
        for n in range(len(pairs)):
            if n == i or overlap(i, n):
                continue
            if pairs[n]["na"] or (pairs[n]["label"] != pairs[i]["label"]
                                  and (key(pairs[n]["head"]), key(pairs[n]["tail"]), pairs[i]["label"]) not in carries):
                eligible.add(n)
        negs = a["negatives"]
        require(len(set(negs)) == len(negs), f"anchor {i}: repeated negatives")
        require(set(negs) <= eligible, f"anchor {i}: ineligible negatives {sorted(set(negs) - eligible)}")
        require(len(negs) == min(max_neg, len(eligible)),
                f"anchor {i}: {len(negs)} negatives, expected min({max_neg}, {len(eligible)})")
    for i, j in partner.items():
        require(partner.get(j) == i, f"anchors {i} and {j} are not partners of each other")


# ------------------------------------------------------------------ losses

def cosine_matrix(a, b):
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    return a @ b.t()


def info_nce(sims_row, positive, others, tau):
    """-log(e^{s+/tau} / (e^{s+/tau} + sum_others e^{s/tau})) for one query."""
    logits = torch.cat([sims_row[positive].reshape(1), sims_row[others]]) / tau
    return torch.logsumexp(logits, dim=0) - logits[0]


def losses(model, batch):
    obj = batch.get("objective", {})
    tau = obj.get("temperature", 0.05)
    w_ed, w_rd, w_mlm = obj.get("ed_weight", 1.0), obj.get("rd_weight", 1.0), obj.get("mlm_weight", 1.0)

    input_ids = torch.tensor(batch["input_ids"], dtype=torch.int64)
    attention = torch.tensor(batch["attention_mask"], dtype=torch.int64)
    types = torch.tensor(batch["token_type_ids"], dtype=torch.int64)
    labels = torch.tensor(batch["mlm_labels"], dtype=torch.int64)
    if (labels != -100).any():
        hidden, _, mlm = model(input_ids, attention, types, labels)
    else:
        hidden, _, _ = model(input_ids, attention, types, labels.clone().fill_(0))
        mlm = hidden.sum() * 0.0

    reps = []
    for ent in batch["entities"]:
        mentions = [hidden[ent["row"], b:end].mean(dim=0) for b, end in ent["mentions"]]
        reps.append(torch.stack(mentions).mean(dim=0))
    entities = torch.stack(reps)

    ed_terms = []
    for x in batch["ed"]:
        sims = cosine_matrix(entities[x["query"]].unsqueeze(0), entities)[0]
        others = [c for c in x["candidates"] if c != x["positive"]]
        ed_terms.append(info_nce(sims, x["positive"], others, tau))
    ed = torch.stack(ed_terms).mean() if ed_terms else hidden.sum() * 0.0

    pairs = batch["rd"]["pairs"]
    rd_terms = []
    if pairs:
        rel = torch.stack([torch.cat([entities[p["head"]], entities[p["tail"]]]) for p in pairs])
        sims = cosine_matrix(rel, rel)
        for a in batch["rd"]["anchors"]:
            rd_terms.append(info_nce(sims[a["anchor"]], a["positive"], a["negatives"], tau))
    rd = torch.stack(rd_terms).mean() if rd_terms else hidden.sum() * 0.0

    total = w_ed * ed + w_rd * rd + w_mlm * mlm
    return {"mlm": mlm, "ed": ed, "rd": rd, "total": total}, entities


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="model folder (config.json, model.safetensors)")
    ap.add_argument("--batch", required=True, help="batch JSON from 'cotrain batch --task erica'")
    ap.add_argument("--out", help="safetensors file for losses, entities and gradients")
    ap.add_argument("--no-rule-check", action="store_true")
    args = ap.parse_args()

    with open(args.batch, encoding="utf-8") as f:
        batch = json.load(f)
    cfg, model = load_model(args.model)
    if not args.no_rule_check:
        try:
            check_rules(batch, cfg)
        except RuleViolation as e:
            print(f"erica_twin: batch breaks erica.md: {e}", file=sys.stderr)
            sys.exit(3)
    values, entities = losses(model, batch)
    values["total"].backward()
    if args.out:
        f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
        out = {f"loss.{k}": f32(v.reshape(1)) for k, v in values.items()}
        out["entities"] = f32(entities)
        for name, p in model.named_parameters():
            out["grad." + name] = f32(p.grad) if p.grad is not None else torch.zeros(p.shape)
        common.write_safetensors(args.out, out, {"generator": "tests/reference/erica_twin.py", "version": "1"})
    print(json.dumps({k: v.item() for k, v in values.items()}))


if __name__ == "__main__":
    main()
