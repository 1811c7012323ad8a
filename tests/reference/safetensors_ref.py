#!/usr/bin/env python3
"""Independent safetensors writer and checker, written from the format description
(docs/formats.md: 8-byte little-endian header length, JSON header, data buffer)
with only struct and json, so that it shares no code or library with cotrain.

  safetensors_ref.py write OUT   writes the contract tensors below into OUT
  safetensors_ref.py check IN    reads IN (written by cotrain) and checks every value

The contract: each tensor's element i (row-major) is VALUE[name](i); the C++ test
uses the same formulas. Exit status is non-zero on any mismatch.
"""
import json
import struct
import sys

# name -> (dtype, shape, value of element i)
TENSORS = {
    "f32": ("F32", [2, 3], lambda i: (i - 2.5) * 0.75),
    "f16": ("F16", [4], lambda i: i * 0.5 - 1.0),
    "bf16": ("BF16", [2, 2], lambda i: (i - 1) * 1.5),
    "f64": ("F64", [3], lambda i: i / 3.0),
    "i64": ("I64", [3], lambda i: (i - 1) * 10**12 - 5),
    "i32": ("I32", [2, 2], lambda i: -i * 100000 + 7),
    "i16": ("I16", [5], lambda i: i * 1000 - 2000),
    "i8": ("I8", [4], lambda i: i * 40 - 80),
    "u8": ("U8", [3], lambda i: 250 - i * 100),
    "bool": ("BOOL", [5], lambda i: i % 2 == 0),
    "scalar": ("F32", [], lambda i: 42.5),
    "empty": ("F32", [0, 3], lambda i: 0.0),
    "encoder.layer.0.\u00fcml\u00e4ut": ("F32", [2], lambda i: -i - 0.25),
}
METADATA = {"format": "pt", "author": "h\u00e9llo \u2713", "n": "3"}

# struct codes, little-endian; BF16 is the upper half of an F32.
CODES = {"F32": "f", "F16": "e", "F64": "d", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B", "BOOL": "?"}
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def encode(dtype, value):
    if dtype == "BF16":
        return struct.pack("<f", value)[2:]
    return struct.pack("<" + CODES[dtype], value)


def decode(dtype, raw):
    if dtype == "BF16":
        return struct.unpack("<f", b"\x00\x00" + raw)[0]
    return struct.unpack("<" + CODES[dtype], raw)[0]


def write(path):
    # Data in reverse name order and the header's keys in yet another order, so a
    # reader that ignores data_offsets or relies on key order gets it wrong.
    data = b""
    header = {}
    for name in sorted(TENSORS, reverse=True):
        dtype, shape, value = TENSORS[name]
        blob = b"".join(encode(dtype, value(i)) for i in range(numel(shape)))
        header[name] = {"shape": shape, "data_offsets": [len(data), len(data) + len(blob)], "dtype": dtype}
        data += blob
    header["__metadata__"] = METADATA
    # ensure_ascii: non-ASCII names arrive as \u escapes, which the reader must decode.
    text = json.dumps(header, ensure_ascii=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def check(path):
    errors = []
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        sys.exit("header length %d beyond file of %d bytes" % (n, len(raw)))
    if n % 8 != 0:
        errors.append("header length %d is not a multiple of 8" % n)

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            errors.append("duplicate keys in header")
        return dict(pairs)

    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    buffer = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    for k, v in METADATA.items():
        if meta.get(k) != v:
            errors.append("metadata %r: got %r, want %r" % (k, meta.get(k), v))
    if set(header) != set(TENSORS):
        errors.append("tensor names %s, want %s" % (sorted(header), sorted(TENSORS)))
    spans = []
    for name, entry in header.items():
        if name not in TENSORS:
            continue
        dtype, shape, value = TENSORS[name]
        if entry["dtype"] != dtype or entry["shape"] != shape:
            errors.append("%s: dtype/shape %s %s, want %s %s" % (name, entry["dtype"], entry["shape"], dtype, shape))
            continue
        begin, end = entry["data_offsets"]
        size = SIZES[dtype]
        if end - begin != numel(shape) * size or end > len(buffer):
            errors.append("%s: bad data_offsets %s" % (name, entry["data_offsets"]))
            continue
        if begin % size != 0:
            errors.append("%s: offset %d not aligned to %d" % (name, begin, size))
        spans.append((begin, end, name))
        for i in range(numel(shape)):
            got = decode(dtype, buffer[begin + i * size:begin + (i + 1) * size])
            want = decode(dtype, encode(dtype, value(i)))  # the value as that dtype holds it
            if got != want:
                errors.append("%s[%d]: got %r, want %r" % (name, i, got, want))
    # Hugging Face's reader also insists that the tensors tile the buffer exactly.
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            errors.append("%s starts at %d, expected %d (gap or overlap)" % (name, begin, position))
        position = end
    if position != len(buffer):
        errors.append("tensors cover %d bytes of a %d-byte buffer" % (position, len(buffer)))
    if errors:
        sys.exit("\n".join(errors))
    print("ok %d tensors" % len(spans))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit("usage: safetensors_ref.py write OUT | check IN")
    write(sys.argv[2]) if sys.argv[1] == "write" else check(sys.argv[2])
