#!/usr/bin/python3
"""Exhaustive Unicode check of the tokenizers' character handling, from Python's own
machinery (see tokenizers_ref.py, whose functions it uses).

For every code point c of planes 0-3, plane 14 and samples of the private-use
planes, it tokenizes a few probe strings around c:
  1. BERT basic tokenizer, uncased, on "a" c "b"     (lowercase, NFD, accents, punctuation,
  2. BERT basic tokenizer, cased,   on "A" c "B"      control, whitespace, CJK)
  3. uncased on "A\u03a3" c   and   4. uncased on c "\u03a3"   (final sigma context)
  5. GPT-2 pre-tokenization of "a" c "b 1" c "?" c  (letter / number / other / space)
and serialises the results (words joined by U+001F, probes by U+001E, code points by
U+001D), then prints one JSON list [[first, last, crc32], ...] over chunks of code
points, the CRC32 of the UTF-8 bytes of the chunk's serialisation.
"""
import json
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizers_ref as ref  # noqa: E402

CHUNK = 1024
RANGES = [(0, 0x3FFFF), (0xE0000, 0xE0FFF), (0xF0000, 0xF00FF), (0x10FF00, 0x10FFFF)]


def describe(c, pattern):
    probes = [
        ref.basic_tokenize("a" + c + "b", True),
        ref.basic_tokenize("A" + c + "B", False),
        ref.basic_tokenize("A\u03a3" + c, True),
        ref.basic_tokenize(c + "\u03a3", True),
        pattern.findall("a" + c + "b 1" + c + "?" + c),
    ]
    return "\x1e".join("\x1f".join(words) for words in probes)


def chunks():
    for first, last in RANGES:
        cp = first
        while cp <= last:
            end = min(last, cp + CHUNK - 1)
            # surrogates are not characters: chunks stop before them and resume after
            if cp <= 0xDFFF and end >= 0xD800:
                if cp < 0xD800:
                    yield cp, 0xD7FF
                cp = 0xE000
                continue
            yield cp, end
            cp = end + 1


def main():
    pattern = ref.gpt2_pattern()
    if len(sys.argv) > 2 and sys.argv[1] == "--show":
        # --show HEX: the serialisation of one code point, for debugging a mismatch
        print(ascii(describe(chr(int(sys.argv[2], 16)), pattern)))
        return
    out = []
    for first, last in chunks():
        text = "\x1d".join(describe(chr(cp), pattern) for cp in range(first, last + 1))
        out.append([first, last, zlib.crc32(text.encode("utf-8"))])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
