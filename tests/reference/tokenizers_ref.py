#!/usr/bin/python3
"""Independent Python reference of the two tokenizers, written from
shared/spec/formats.md ("Vocabularies and tokenizers") with Python's own Unicode
machinery (unicodedata, str.lower, str.split, re) -- not from cotrain's C++.

Commands (all file arguments are paths):
  wordpiece-vocab --out vocab.txt --size N [--uncased]
      a small WordPiece vocabulary built from the corpus below and the random pool
      (specials, characters, ##characters, frequent words, prefixes, ##suffixes);
      characters from U+1F000 up are withheld so that emoji become [UNK].
  bpe-train --out DIR --merges N
      byte-level BPE trained on the corpus below (most frequent pair first, ties by
      the smaller pair): DIR/vocab.json + DIR/merges.txt, RoBERTa's specials.
  wordpiece --vocab vocab.txt [--uncased] --inputs in.json --out out.json [--random N --seed S]
  bpe --dir DIR --inputs in.json --out out.json [--random N --seed S]
      tokenize every string of in.json (a JSON list) plus N random strings; out.json
      gets [{"text", "ids", "tokens"}, ...].
  corpus --out FILE
      writes the corpus, one paragraph a line.
"""
import argparse
import collections
import json
import os
import random
import re
import sys
import unicodedata

CORPUS = [
    "The quick brown fox jumps over the lazy dog. It's what they'd say: we're sure you'll see.",
    "Tokenizers split text into words, then words into sub-word pieces; unknown words become [UNK].",
    "Caf\u00e9s in Z\u00fcrich serve cr\u00e8me br\u00fbl\u00e9e and na\u00efve p\u00e2tisserie, says the ma\u00eetre d'h\u00f4tel.",
    "Se\u00f1or Mu\u00f1oz \u00e9crit \u00e0 S\u00e3o Paulo; \u00c5ngstr\u00f6m measured the stra\u00dfe in \u00d8sterbro.",
    "\u4eca\u5929\u5929\u6c14\u5f88\u597d\uff0c\u6211\u4eec\u53bb\u516c\u56ed\u6563\u6b65\u5427\u3002\u4e2d\u6587\u5206\u8bcd\u662f\u4e00\u4e2a\u95ee\u9898\u3002",
    "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002\u3072\u3089\u304c\u306a\u3068\u30ab\u30bf\u30ab\u30ca\u3082\u3042\u308a\u307e\u3059\u3002",
    "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\ub3c4 \uc788\uc2b5\ub2c8\ub2e4.",
    "\u039f\u0394\u039f\u03a3 \u03ba\u03b1\u03b9 \u0391\u0398\u0397\u039d\u0391 \u2014 \u03b7 \u03bf\u03b4\u03cc\u03c2 \u03c3\u03c4\u03b7\u03bd \u0391\u03b8\u03ae\u03bd\u03b1.",
    "\u041c\u043e\u0441\u043a\u0432\u0430 \u2014 \u0441\u0442\u043e\u043b\u0438\u0446\u0430 \u0420\u043e\u0441\u0441\u0438\u0438; \u00ab\u043f\u0440\u0438\u0432\u0435\u0442\u00bb, \u0441\u043a\u0430\u0437\u0430\u043b \u043e\u043d.",
    "\u0130stanbul'da \u0131\u015f\u0131k var. Numbers: 3.14, 2,718, 1e-9, 42%, $100, #1 and @user ^_^ `code` ~tilde~.",
    "Emoji \U0001F600 \U0001F44D\U0001F3FD and \u2764\ufe0f are fun \u2014 \u201cquoted\u201d \u2018text\u2019 \u2026 \u00bfs\u00ed? \u00a1no!",
    "running runner runs ran unbelievable unbelievably believing believer tokenization tokenizing tokenized",
    "   multiple   spaces\tand\ttabs\nand new lines   at the end   ",
]

SPECIALS_WP = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Characters the random strings are made of: every class the tokenizers treat apart.
RANDOM_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["'s", "'re", "'ll", "'t", "'d", "'m", "'ve", "'S"]
    + [" "] * 8 + ["\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u00a0", "\u3000", "\u2028", "\u2029",
                   "\u2003", "\u180e", "\u200b", "  ", "   \n"]
    + ["\x00", "\ufffd", "\x01", "\x7f", "\u200d", "\ufeff", "\u00ad", "\ue000", "\U000F0000"]
    + list("\u00e9\u00e8\u00ea\u00f1\u00c5\u00df\u00fc\u00d6\u00e7\u00c7\u0153\u00e6\u00f8")
    + ["e\u0301", "a\u0308", "c\u0327", "o\u0323\u0301", "o\u0301\u0323", "\u0301", "\u1e69", "\u1ea0\u0300"]
    + list("\u03a3\u03c3\u03c2\u0391\u039f\u0394\u03ac\u0390\u1f00\u1fef\u037e\u0387")
    + ["\u0130", "\u0131", "I\u0307", "\u0041\u030a", "\u212b", "\u2126"]
    + list("\u041c\u043e\u0441\u043a\u0432\u0430\u0419\u0439\u0401")
    + list("\u4e2d\u6587\u5b57\u4eca\u5929\u3002\uff0c\uff01\uff1f\u3001\u300c\u300d\uf900\ufa0e\U00020000\U0002f800")
    + list("\u3072\u3089\u304c\u306a\u30ab\u30bf\u30ab\u30ca\u30fc\u3099\u304b\u3099")
    + list("\ud55c\uad6d\uc5b4\u1100\u1161")
    + ["\U0001F600", "\U0001F44D\U0001F3FD", "\u2764\ufe0f", "\U0001F468\u200d\U0001F469", "\u00a9", "\u20ac",
       "\u00bf", "\u00a1", "\u201c", "\u201d", "\u2018", "\u2019", "\u2014", "\u2026", "\u00ab", "\u00bb"]
    + list("\u0663\u0664\uff21\uff41\ufb01\u00b2\u00bd\u2163")
    + ["\u05e9\u05c1\u05b8", "\u0915\u093f", "\u0e01\u0e34", "\u0627\u064e"]
)


# ---------------------------------------------------------------- WordPiece (BERT)

def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(ch):
    cp = ord(ch)
    return any(a <= cp <= b for a, b in CJK_RANGES)


def basic_tokenize(text, uncased):
    kept = []
    for ch in text:
        if ch in ("\x00", "\ufffd") or is_control(ch):
            continue
        kept.append(" " if is_whitespace(ch) else ch)
    spaced = "".join((" " + ch + " ") if is_cjk(ch) else ch for ch in kept)
    words = []
    for token in spaced.split():
        if uncased:
            token = token.lower()
            token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        current = ""
        for c in token:
            if is_punctuation(c):
                if current:
                    words.append(current)
                    current = ""
                words.append(c)
            else:
                current += c
        if current:
            words.append(current)
    return words


def wordpiece_word(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces = []
    start = 0
    while start < len(word):
        match = None
        for end in range(len(word), start, -1):
            candidate = ("##" if start else "") + word[start:end]
            if candidate in vocab:
                match = (candidate, end)
                break
        if match is None:
            return ["[UNK]"]
        pieces.append(match[0])
        start = match[1]
    return pieces


def read_wordpiece_vocab(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        tokens = [line[:-1] if line.endswith("\n") else line for line in f]
    return {t: i for i, t in enumerate(tokens)}


def wordpiece_vocab(out, size, uncased):
    words = collections.Counter()
    chars_first, chars_rest = set(), set()
    texts = CORPUS + RANDOM_POOL
    for text in texts:
        for w in basic_tokenize(text, uncased):
            words[w] += 1
            chars_first.add(w[0])
            chars_rest.update(w[1:])
            chars_rest.update(w)  # so that the random strings' words rarely lack a piece
    withheld = lambda c: ord(c) >= 0x1F000
    vocab = list(SPECIALS_WP)
    vocab += sorted(c for c in chars_first if not withheld(c))
    vocab += sorted("##" + c for c in chars_rest if not withheld(c))
    prefixes, suffixes = collections.Counter(), collections.Counter()
    for w, n in words.items():
        for k in range(2, 6):
            if len(w) > k:
                prefixes[w[:k]] += n
                suffixes["##" + w[-k:]] += n
    candidates = [w for w, _ in words.most_common() if len(w) > 1]
    candidates += [p for p, _ in prefixes.most_common()] + [s for s, _ in suffixes.most_common()]
    seen = set(vocab)
    for c in candidates:
        if len(vocab) >= size:
            break
        if c not in seen and not any(withheld(ch) for ch in c):
            vocab.append(c)
            seen.add(c)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in vocab))


# ---------------------------------------------------------------- byte-level BPE (GPT-2 / RoBERTa)

def byte_to_char():
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = byte_to_char()


def char_class(predicate):
    """A regex character class (without brackets) of every code point for which
    predicate(chr(cp)) holds, as ranges."""
    parts, start = [], None
    for cp in range(0x110001):
        inside = cp <= 0x10FFFF and not (0xD800 <= cp <= 0xDFFF) and predicate(chr(cp))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            end = cp - 1
            parts.append("\\U%08x" % start if start == end else "\\U%08x-\\U%08x" % (start, end))
            start = None
    return "".join(parts)


# The Unicode White_Space property, which is what \s means in GPT-2's pattern.
WHITE_SPACE = set(range(0x09, 0x0E)) | {0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} \
    | set(range(0x2000, 0x200B))


def gpt2_pattern():
    letters = char_class(lambda c: unicodedata.category(c)[0] == "L")
    numbers = char_class(lambda c: unicodedata.category(c)[0] == "N")
    spaces = char_class(lambda c: ord(c) in WHITE_SPACE)
    return re.compile(
        r"'s|'t|'re|'ve|'m|'ll|'d"
        r"| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+"
        r"|[{S}]+(?![^{S}])|[{S}]+".format(L=letters, N=numbers, S=spaces))


def bpe_apply(symbols, ranks):
    word = list(symbols)
    while len(word) > 1:
        pairs = [(ranks.get((word[i], word[i + 1])), i) for i in range(len(word) - 1)]
        pairs = [p for p in pairs if p[0] is not None]
        if not pairs:
            break
        rank, i = min(pairs)
        first, second = word[i], word[i + 1]
        merged, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = merged
    return word


def to_symbols(piece):
    return [BYTE_TO_CHAR[b] for b in piece.encode("utf-8")]


def bpe_train(out_dir, num_merges):
    pattern = gpt2_pattern()
    words = collections.Counter()
    for text in CORPUS:
        for piece in pattern.findall(text):
            words[tuple(to_symbols(piece))] += 1
    merges = []
    words = {w: n for w, n in words.items()}
    for _ in range(num_merges):
        pairs = collections.Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new_words = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + n
        words = new_words
    vocab = ["<s>", "<pad>", "</s>", "<unk>"] + [BYTE_TO_CHAR[b] for b in range(256)]
    for a, b in merges:
        if a + b not in vocab:
            vocab.append(a + b)
    vocab.append("<mask>")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n" + "".join("%s %s\n" % m for m in merges))


def read_bpe(directory):
    with open(os.path.join(directory, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    ranks = {}
    with open(os.path.join(directory, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[0].startswith("#version"):
        lines = lines[1:]
    for line in lines:
        if line:
            a, b = line.split(" ")
            ranks.setdefault((a, b), len(ranks))
    return vocab, ranks


# ---------------------------------------------------------------- driver

def random_strings(count, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.randint(0, 30)
        out.append("".join(rng.choice(RANDOM_POOL) for _ in range(n)))
    # a few long words: exactly 100 and 101 characters, and long mixed ones
    out += ["a" * 100, "b" * 101, "\u00e9" * 100 + " end", "x" * 99 + "\u0301", "ab" * 60 + "!"]
    return out


def read_inputs(args):
    with open(args.inputs, encoding="utf-8") as f:
        texts = json.load(f)
    if args.random:
        texts += CORPUS + random_strings(args.random, args.seed)
    return texts


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("wordpiece-vocab")
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--uncased", action="store_true")
    p = sub.add_parser("bpe-train")
    p.add_argument("--out", required=True)
    p.add_argument("--merges", type=int, required=True)
    p = sub.add_parser("corpus")
    p.add_argument("--out", required=True)
    for name in ("wordpiece", "bpe"):
        p = sub.add_parser(name)
        if name == "wordpiece":
            p.add_argument("--vocab", required=True)
            p.add_argument("--uncased", action="store_true")
        else:
            p.add_argument("--dir", required=True)
        p.add_argument("--inputs", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--random", type=int, default=0)
        p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.command == "wordpiece-vocab":
        wordpiece_vocab(args.out, args.size, args.uncased)
    elif args.command == "bpe-train":
        bpe_train(args.out, args.merges)
    elif args.command == "corpus":
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(line + "\n" for line in CORPUS))
    elif args.command == "wordpiece":
        vocab = read_wordpiece_vocab(args.vocab)
        results = []
        for text in read_inputs(args):
            tokens = [p for w in basic_tokenize(text, args.uncased) for p in wordpiece_word(w, vocab)]
            results.append({"text": text, "tokens": tokens, "ids": [vocab[t] for t in tokens]})
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f)
    elif args.command == "bpe":
        vocab, ranks = read_bpe(args.dir)
        pattern = gpt2_pattern()
        results = []
        for text in read_inputs(args):
            tokens = []
            for piece in pattern.findall(text):
                tokens += bpe_apply(to_symbols(piece), ranks)
            results.append({"text": text, "tokens": tokens, "ids": [vocab.get(t, vocab["<unk>"]) for t in tokens]})
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f)


if __name__ == "__main__":
    sys.exit(main())
