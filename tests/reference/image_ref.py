"""Independent reference for image resizing and grid-patch regions (issue 4).

  image_ref.py IN.f32 H W S G P OUT.json

IN.f32 holds an H x W x 3 float32 RGB image (little-endian). Writes JSON with
"resized" (S x S x 3, PyTorch bilinear, align_corners=False, no antialias) and
"features" (G*G patches, row-major, each the ImageNet-normalised patch average-pooled
to P x P, flattened as row, column, channel) and "boxes" (patch rectangles in the
original image's pixels).
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main():
    path, h, w, s, g, p, out = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
    img = torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(h, w, 3).copy())
    x = img.permute(2, 0, 1).unsqueeze(0).double()
    resized = F.interpolate(x, size=(s, s), mode='bilinear', align_corners=False)
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)
    normed = (resized - mean) / std
    pooled = F.avg_pool2d(normed, kernel_size=s // g // p)        # 1 x 3 x (G*P) x (G*P)
    q = pooled[0].view(3, g, p, g, p).permute(1, 3, 2, 4, 0)     # gy, gx, py, px, c
    features = q.reshape(g * g, p * p * 3)
    boxes = [[gx * w / g, gy * h / g, (gx + 1) * w / g, (gy + 1) * h / g]
             for gy in range(g) for gx in range(g)]
    json.dump({'resized': resized[0].permute(1, 2, 0).reshape(-1).tolist(),
               'features': features.reshape(-1).tolist(), 'boxes': sum(boxes, [])}, open(out, 'w'))


if __name__ == '__main__':
    main()
