"""Independent reader of cotrain image-text shards, written from the format comment
in src/cotrain/data/shards.h (not from the C++ reader).

  shards_ref.py SHARD   -> JSON on stdout: header fields, images (key, size, boxes,
                           features, class_probs as lists), captions (text, image, meta)
"""
import json
import struct
import sys

import numpy as np


def main(path):
    b = open(path, 'rb').read()
    assert b[:8] == b'CTVLSHD1', 'magic'
    version, dim, classes, _ = struct.unpack_from('<IIII', b, 8)
    n_images, n_captions, image_table, caption_table, file_size = struct.unpack_from('<QQQQQ', b, 24)
    assert file_size == len(b)
    images = []
    for i in range(n_images):
        key_off, key_len, n, w, h, boxes, feats, cls = struct.unpack_from('<QIIIIQQQ', b, image_table + 48 * i)
        assert boxes % 64 == 0 and feats % 64 == 0
        img = {'key': b[key_off:key_off + key_len].decode('utf-8'), 'n': n, 'w': w, 'h': h,
               'boxes': np.frombuffer(b, '<f4', n * 4, boxes).tolist(),
               'features': np.frombuffer(b, '<f4', n * dim, feats).tolist()}
        if classes:
            img['class_probs'] = np.frombuffer(b, '<f4', n * classes, cls).tolist()
        images.append(img)
    captions = []
    for j in range(n_captions):
        t_off, t_len, image, m_off, m_len, _ = struct.unpack_from('<QIIQII', b, caption_table + 32 * j)
        captions.append({'text': b[t_off:t_off + t_len].decode('utf-8'), 'image': image,
                         'meta': json.loads(b[m_off:m_off + m_len]) if m_len else {}})
    json.dump({'version': version, 'dim': dim, 'classes': classes, 'images': images, 'captions': captions},
              sys.stdout, ensure_ascii=False)


if __name__ == '__main__':
    main(sys.argv[1])
