#!/usr/bin/python3
"""Naive twin of the WordPiece vocabulary trainer, from the algorithm as documented
(every score recomputed from scratch at every merge; no queue, no indexes):

  words from BERT's basic tokenizer (tokenizers_ref.basic_tokenize), counted, those
  over 100 characters left out (WordPiece makes them [UNK] anyway);
  alphabet = characters, most frequent first while specials + pieces fit the size
  (each character costs 2 entries, "c" and "##c", or 1 for punctuation and CJK
  ideographs, which are always words of their own), kept in code point order;
  words start as characters; repeatedly merge everywhere the pair (a, b) with the
  highest count(ab) * log(count(ab) * N / (count(a) * count(b))) among pairs seen at
  least min_frequency times (N = pieces before any merge), ties to the higher count,
  then to the smaller (id(a), id(b)); stop when the vocabulary is full or no pair is
  left. Output: the vocabulary as a JSON list on stdout.

usage: tok_trainer_ref.py CORPUS --size N [--min-frequency K] [--cased]
"""
import argparse
import collections
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizers_ref as ref  # noqa: E402

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def standalone(c):
    return ref.is_punctuation(c) or ref.is_cjk(c)


def train(lines, size, min_frequency, uncased):
    words = collections.Counter()
    for line in lines:
        words.update(w for w in ref.basic_tokenize(line, uncased) if len(w) <= 100)
    char_counts = collections.Counter()
    for w, n in words.items():
        for c in w:
            char_counts[c] += n
    by_count = sorted(sorted(char_counts), key=lambda c: -char_counts[c])
    budget, used, alphabet = size - len(SPECIALS), 0, []
    for c in by_count:
        cost = 1 if standalone(c) else 2
        if used + cost <= budget:
            used += cost
            alphabet.append(c)
    alphabet.sort()
    vocab = SPECIALS + alphabet + ["##" + c for c in alphabet if not standalone(c)]
    ids = {t: i for i, t in enumerate(vocab)}

    segmented = []  # [pieces (ids), count]
    for w in sorted(words):
        pieces = [ids.get(("##" if i else "") + c) for i, c in enumerate(w)]
        if None not in pieces:
            segmented.append([pieces, words[w]])

    def token_counts():
        counts = collections.Counter()
        for pieces, n in segmented:
            for p in pieces:
                counts[p] += n
        return counts

    total = float(sum(token_counts().values()))
    target = size - len(vocab)
    made = 0
    while made < target:
        counts = token_counts()
        pairs = collections.Counter()
        for pieces, n in segmented:
            for a, b in zip(pieces, pieces[1:]):
                pairs[(a, b)] += n
        best, best_key = None, None
        for (a, b), c in pairs.items():
            if c < min_frequency:
                continue
            cf = float(c)
            score = cf * math.log(cf * total / (float(counts[a]) * float(counts[b])))
            key = (score, c, -a, -b)
            if best_key is None or key > best_key:
                best, best_key = (a, b), key
        if best is None:
            break
        a, b = best
        merged = vocab[a] + vocab[b][2:]
        if merged not in ids:
            ids[merged] = len(vocab)
            vocab.append(merged)
            made += 1
        new_id = ids[merged]
        for entry in segmented:
            pieces, out, i = entry[0], [], 0
            while i < len(pieces):
                if i + 1 < len(pieces) and pieces[i] == a and pieces[i + 1] == b:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(pieces[i])
                    i += 1
            entry[0] = out
    return vocab


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--min-frequency", type=int, default=2)
    parser.add_argument("--cased", action="store_true")
    args = parser.parse_args()
    with open(args.corpus, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    json.dump(train(lines, args.size, args.min_frequency, not args.cased), sys.stdout)


if __name__ == "__main__":
    main()
