"""Independent image-text retrieval metrics (unimo.md "Image-text retrieval"), the way
the usual VSE++-style evaluation computes them: sort each query's candidates by
descending score and take the position of the first positive.

usage: retrieval_ref.py SCORES.txt
SCORES.txt: line 1 "num_images num_texts"; line 2 text_to_image (num_texts ints);
then num_texts lines of num_images scores (row t = caption t against every image).
IR: each caption ranks all images, rank = 1 + position of its own image.
TR: each image ranks all captions, rank = 1 + position of its first caption.
Sorting breaks ties arbitrarily, so the caller must use scores without ties.
Prints {"ir_r1", "ir_r5", "ir_r10", "tr_r1", "tr_r5", "tr_r10", "ir_mean_rank",
"ir_median_rank", "tr_mean_rank", "tr_median_rank", "rsum"} as JSON (recalls in percent,
median as numpy's median).
"""
import json
import sys

import numpy as np


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        num_images, num_texts = (int(x) for x in f.readline().split())
        text_to_image = np.array([int(x) for x in f.readline().split()])
        scores = np.array([[float(x) for x in f.readline().split()] for _ in range(num_texts)])
    assert scores.shape == (num_texts, num_images) and text_to_image.shape == (num_texts,)

    ir = np.empty(num_texts)
    for t in range(num_texts):
        order = np.argsort(-scores[t], kind="stable")
        ir[t] = 1 + np.where(order == text_to_image[t])[0][0]

    tr = np.empty(num_images)
    for i in range(num_images):
        order = np.argsort(-scores[:, i], kind="stable")
        own = np.isin(order, np.where(text_to_image == i)[0])
        tr[i] = 1 + np.argmax(own)

    out = {}
    for name, ranks in (("ir", ir), ("tr", tr)):
        for k in (1, 5, 10):
            out[f"{name}_r{k}"] = 100.0 * float(np.mean(ranks <= k))
        out[f"{name}_mean_rank"] = float(np.mean(ranks))
        out[f"{name}_median_rank"] = float(np.median(ranks))
    out["rsum"] = sum(out[f"{d}_r{k}"] for d in ("ir", "tr") for k in (1, 5, 10))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
