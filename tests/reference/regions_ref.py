"""Independent reference for bottom-up-attention region TSV files (formats.md).

Writes and reads files the way the Python feature extractors do: numpy float32
arrays, .tobytes() (little-endian on every machine we run), base64.b64encode, one
tab-separated line per image. The C++ reader and writer are tested against it.

  regions_ref.py write OUT.tsv OUT.json SEED   random regions -> TSV, values -> JSON
  regions_ref.py read IN.tsv                    TSV -> JSON on stdout (values and
                                                5-d box encodings), for the C++ writer
"""
import base64
import json
import sys

import numpy as np


def encode(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype='<f4').tobytes()).decode('ascii')


def decode(field, shape):
    data = np.frombuffer(base64.b64decode(field, validate=True), dtype='<f4')
    return data.reshape(shape)


def box_encoding(boxes, w, h):
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.stack([boxes[:, 0] / w, boxes[:, 1] / h, boxes[:, 2] / w, boxes[:, 3] / h,
                     area / (w * h)], axis=1).astype(np.float32)


def write(tsv_path, json_path, seed):
    rng = np.random.default_rng(seed)
    records = []
    with open(tsv_path, 'w') as tsv:
        for i in range(5):
            w, h = int(rng.integers(100, 800)), int(rng.integers(100, 800))
            n = int(rng.integers(1, 12))
            x1 = rng.uniform(0, w / 2, n); y1 = rng.uniform(0, h / 2, n)
            x2 = x1 + rng.uniform(0, w / 2, n); y2 = y1 + rng.uniform(0, h / 2, n)
            boxes = np.stack([x1, y1, x2, y2], axis=1).astype(np.float32)
            feats = rng.standard_normal((n, 7)).astype(np.float32)
            probs = rng.dirichlet(np.ones(3), n).astype(np.float32)
            image_id = str(1000 + i)
            tsv.write('\t'.join([image_id, str(w), str(h), str(n), encode(boxes), encode(feats),
                                 encode(probs)]) + '\n')
            records.append({'image_id': image_id, 'w': w, 'h': h, 'n': n,
                            'boxes': boxes.ravel().tolist(), 'features': feats.ravel().tolist(),
                            'cls_prob': probs.ravel().tolist(),
                            'encoded': box_encoding(boxes, w, h).ravel().tolist()})
    with open(json_path, 'w') as out:
        json.dump(records, out)


def read(tsv_path):
    records = []
    for line in open(tsv_path):
        f = line.rstrip('\n').split('\t')
        n, w, h = int(f[3]), int(f[1]), int(f[2])
        boxes = decode(f[4], (n, 4))
        feats = decode(f[5], (n, -1))
        rec = {'image_id': f[0], 'w': w, 'h': h, 'n': n, 'boxes': boxes.ravel().tolist(),
               'features': feats.ravel().tolist(), 'dim': feats.shape[1],
               'encoded': box_encoding(boxes, w, h).ravel().tolist()}
        if len(f) == 7:
            rec['cls_prob'] = decode(f[6], (n, -1)).ravel().tolist()
        records.append(rec)
    json.dump(records, sys.stdout)


if __name__ == '__main__':
    if sys.argv[1] == 'write':
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        read(sys.argv[2])
