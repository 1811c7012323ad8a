"""Independent 2-D principal component analysis for the report's embedding
projection (report_projection.h), by the singular value decomposition of the centred
data rather than an eigendecomposition of the covariance.

usage: pca_ref.py POINTS.json
POINTS.json: {"rows": [[x0, x1, ...], ...]} (n rows, same length).
Prints {"points": [[pc1, pc2], ...], "axis_variance": [v1, v2], "total_variance": t,
"axes": [[...], [...]]} as JSON: coordinates on the first two right singular vectors,
variances divided by n - 1. Signs of the axes are whatever LAPACK returns: the caller
compares up to the sign of each axis.
"""
import json
import sys

import numpy as np


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        rows = np.array(json.load(f)["rows"], dtype=np.float64)
    n = rows.shape[0]
    centred = rows - rows.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(2, vt.shape[0])
    axes = np.zeros((2, rows.shape[1]))
    axes[:k] = vt[:k]
    variance = np.zeros(2)
    variance[:k] = s[:k] ** 2 / (n - 1)
    points = centred @ axes.T
    out = {
        "points": points.tolist(),
        "axis_variance": variance.tolist(),
        "total_variance": float((centred ** 2).sum() / (n - 1)),
        "axes": axes.tolist(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
