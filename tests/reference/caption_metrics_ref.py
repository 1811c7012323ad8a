#!/usr/bin/env python3
"""Independent reference of corpus BLEU-1..4 and CIDEr-D, written from the papers'
definitions (Papineni et al. 2002; Vedantam et al. 2015, coco-caption's CIDEr-D variant).

  caption_metrics_ref.py INPUT.json   ->  {"bleu": [b1, b2, b3, b4], "cider_d": x, "per_image": [...]}

INPUT: {"candidates": ["text", ...], "references": [["text", ...], ...]}. Texts are
tokenised as the project defines it: lowercase ASCII, the characters . , : ; ! ? " ' ( )
deleted, split on whitespace.

BLEU: modified (clipped) n-gram precision summed over the corpus, uniform geometric
mean, brevity penalty exp(1 - r/c) if c <= r with r the sum of the closest reference
lengths (shorter on ties). CIDEr-D: tf-idf vectors per n (idf = log(#images / df), df
counted over each image's reference set), clipped dot product min(c, r) * r over the
norms, Gaussian length penalty (sigma 6), mean over references and n = 1..4, x10.
"""
import json
import math
import re
import sys
from collections import Counter


def tokens(text):
    text = re.sub(r"[.,:;!?\"'()]", "", text)
    return [w.lower() if w.isascii() else "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in w)
            for w in text.split()]


def grams(words, n):
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def bleu(cands, refs):
    matched = [0] * 4
    possible = [0] * 4
    c_len = r_len = 0
    for cand, rs in zip(cands, refs):
        c_len += len(cand)
        r_len += min((abs(len(r) - len(cand)), len(r)) for r in rs)[1]
        for n in range(1, 5):
            cg = grams(cand, n)
            best = Counter()
            for r in rs:
                best |= grams(r, n)  # union of counters = elementwise max
            matched[n - 1] += sum((cg & best).values())  # intersection = elementwise min
            possible[n - 1] += sum(cg.values())
    bp = 1.0 if c_len > r_len else (math.exp(1 - r_len / c_len) if c_len else 0.0)
    out = []
    for n in range(1, 5):
        ps = [matched[k] / possible[k] if possible[k] else 0.0 for k in range(n)]
        out.append(0.0 if min(ps) == 0 else bp * math.exp(sum(math.log(p) for p in ps) / n))
    return out


def cider_d(cands, refs, sigma=6.0):
    n_images = len(cands)
    df = Counter()
    for rs in refs:
        present = set()
        for r in rs:
            for n in range(1, 5):
                present.update(grams(r, n))
        df.update(present)

    def weights(words):
        vecs = []
        for n in range(1, 5):
            vecs.append({g: k * (math.log(n_images) - math.log(max(1.0, df.get(g, 0)))) for g, k in grams(words, n).items()})
        return vecs

    per_image = []
    for cand, rs in zip(cands, refs):
        vc = weights(cand)
        total = 0.0
        for r in rs:
            vr = weights(r)
            gauss = math.exp(-((len(cand) - len(r)) ** 2) / (2 * sigma ** 2))
            sims = []
            for a, b in zip(vc, vr):
                na = math.sqrt(sum(v * v for v in a.values()))
                nb = math.sqrt(sum(v * v for v in b.values()))
                dot = sum(min(a[g], b[g]) * b[g] for g in a if g in b)
                sims.append(dot / (na * nb) * gauss if na > 0 and nb > 0 else 0.0)
            total += sum(sims) / 4
        per_image.append(10.0 * total / len(rs))
    return sum(per_image) / len(per_image), per_image


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    cands = [tokens(t) for t in data["candidates"]]
    refs = [[tokens(t) for t in rs] for rs in data["references"]]
    c, per = cider_d(cands, refs)
    print(json.dumps({"bleu": bleu(cands, refs), "cider_d": c, "per_image": per}))


if __name__ == "__main__":
    main()
