#!/usr/bin/env python3
"""Independent PyTorch reference for UNIMO image-text retrieval (issue 4, unimo.md
"Downstream"): zero-shot retrieval metrics, re-ranking by the pair score head, and
the fine-tuning losses. The model is tests/reference/unimo_twin.py's (float64,
dropout off); everything here is brute force, written from the definitions:

  scores --model DIR --batch F --out FILE
      batch: {"images": {features, boxes, region_mask}, "texts": {input_ids,
      attention_mask}, "text_to_image": [...], "rerank_k": k}. Writes FILE (JSON):
      "similarity" [T][I] = cos(h[IMG] of image i alone, h[CLS] of text t alone),
      "pair" [T][I] = FC(relu(FC h_cls) * relu(FC h_img)) of (i, t) encoded together,
      "zero_shot" and "reranked" metrics:
        IR rank of text t = 1 + #{images scored strictly higher than its image};
        TR rank of image i = min over its captions of 1 + #{texts strictly higher};
        re-ranked: the top k candidates of a query by similarity are ordered by the
        pair score (1 + #{candidates with a strictly higher pair score}); a positive
        outside the top k keeps its similarity rank.
      Recalls in percent, median as numpy's (mean of the two middle values).
  loss --model DIR --batch F --loss softmax|circle [--margin M --gamma G] --out DIR
      batch: {"group": K, "pair": {input_ids, attention_mask, features, boxes,
      region_mask}}, rows b*K..b*K+K-1 one positive then its negatives. Scores
      s = pair head, [B, K]; softmax: mean_b -log softmax(s_b)[0]; circle (Sun et al.
      2020) on p = sigmoid(s): mean_b log(1 + sum_n exp(g a_n (p_n - m)) exp(-g a_p (p_p
      - (1 - m)))), a_p = max(0, 1 + m - p_p), a_n = max(0, p_n + m) as constants.
      Prints {"loss": L}; writes DIR/outputs.safetensors: loss [1], scores [B, K],
      grad.<parameter>.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import unimo_twin  # noqa: E402

tensor = unimo_twin.tensor


def metrics(ir_ranks, tr_ranks):
    def stats(ranks, prefix):
        r = torch.tensor(ranks, dtype=torch.float64)
        s = torch.sort(r).values
        n = len(s)
        median = float(s[n // 2]) if n % 2 else float((s[n // 2 - 1] + s[n // 2]) / 2)
        out = {f"{prefix}_r{k}": float((r <= k).double().mean() * 100) for k in (1, 5, 10)}
        out[f"{prefix}_mean_rank"] = float(r.mean())
        out[f"{prefix}_median_rank"] = median
        return out
    return {**stats(ir_ranks, "ir"), **stats(tr_ranks, "tr")}


def ranks(sim, pair, text_to_image, k):
    T, I = sim.shape
    ir, tr = [], []
    for t in range(T):
        row, pos = sim[t], text_to_image[t]
        rank = 1 + int((row > row[pos]).sum())
        if k and pair is not None:
            top = torch.topk(row, min(k, I)).indices.tolist()
            if pos in top:
                rank = 1 + sum(1 for j in top if pair[t, j] > pair[t, pos])
        ir.append(rank)
    for i in range(I):
        col = sim[:, i]
        caps = [t for t in range(T) if text_to_image[t] == i]
        top = torch.topk(col, min(k, T)).indices.tolist() if k and pair is not None else []
        best = None
        for c in caps:
            if c in top:
                r = 1 + sum(1 for u in top if pair[u, i] > pair[c, i])
            else:
                r = 1 + int((col > col[c]).sum())
            best = r if best is None else min(best, r)
        tr.append(best)
    return ir, tr


def cmd_scores(args):
    _, model = unimo_twin.load_model(args.model)
    model.eval()
    with open(args.batch) as f:
        batch = json.load(f)
    feats, boxes, rmask = unimo_twin.image_inputs(batch["images"])
    ids, tmask = unimo_twin.text_inputs(batch["texts"])
    t2i = batch["text_to_image"]
    k = batch.get("rerank_k", 0)
    with torch.no_grad():
        hi, _ = model.encode(image=(feats, boxes, rmask))
        ht, _ = model.encode(text=(ids, tmask))
        vi = hi[:, 0] / hi[:, 0].norm(dim=-1, keepdim=True)
        vt = ht[:, 0] / ht[:, 0].norm(dim=-1, keepdim=True)
        sim = vt @ vi.t()
        T, I = sim.shape
        pair = torch.zeros(T, I, dtype=torch.float64)
        for t in range(T):
            for i in range(I):
                n_real = int(rmask[i].sum())
                m_real = int(tmask[t].sum())
                h, n = model.encode(text=(ids[t:t + 1, :m_real], tmask[t:t + 1, :m_real]),
                                    image=(feats[i:i + 1, :n_real], boxes[i:i + 1, :n_real], rmask[i:i + 1, :n_real]))
                pair[t, i] = model.pair_score(h[:, 0], h[:, n])[0]
    out = {"similarity": sim.tolist(), "pair": pair.tolist(),
           "zero_shot": metrics(*ranks(sim, None, t2i, 0))}
    if k:
        out["reranked"] = metrics(*ranks(sim, pair, t2i, k))
    common.write_json(args.out, out)


def cmd_loss(args):
    _, model = unimo_twin.load_model(args.model)
    model.eval()
    with open(args.batch) as f:
        batch = json.load(f)
    p = batch["pair"]
    h, n = model.encode(text=unimo_twin.text_inputs(p), image=unimo_twin.image_inputs(p))
    s = model.pair_score(h[:, 0], h[:, n]).reshape(-1, batch["group"])
    if args.loss == "softmax":
        loss = -torch.log_softmax(s, 1)[:, 0].mean()
    else:
        m, g = args.margin, args.gamma
        prob = torch.sigmoid(s)
        pp, pn = prob[:, 0], prob[:, 1:]
        ap = torch.clamp(1 + m - pp.detach(), min=0)
        an = torch.clamp(pn.detach() + m, min=0)
        pos_term = torch.exp(-g * ap * (pp - (1 - m)))
        neg_sum = torch.exp(g * an * (pn - m)).sum(1)
        loss = torch.log(1 + neg_sum * pos_term).mean()
    loss.backward()
    print(json.dumps({"loss": float(loss)}))
    f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
    tensors = {"loss": f32(loss.reshape(1)), "scores": f32(s)}
    for name, param in model.named_parameters():
        tensors["grad." + name] = f32(param.grad) if param.grad is not None else torch.zeros(param.shape)
    os.makedirs(args.out, exist_ok=True)
    common.write_safetensors(os.path.join(args.out, "outputs.safetensors"), tensors,
                             {"generator": "tests/reference/unimo_retrieval_ref.py", "version": "1"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scores")
    s.add_argument("--model", required=True)
    s.add_argument("--batch", required=True)
    s.add_argument("--out", required=True)
    lo = sub.add_parser("loss")
    lo.add_argument("--model", required=True)
    lo.add_argument("--batch", required=True)
    lo.add_argument("--loss", choices=["softmax", "circle"], default="softmax")
    lo.add_argument("--margin", type=float, default=0.2)
    lo.add_argument("--gamma", type=float, default=32.0)
    lo.add_argument("--out", required=True)
    args = ap.parse_args()
    {"scores": cmd_scores, "loss": cmd_loss}[args.cmd](args)


if __name__ == "__main__":
    main()
