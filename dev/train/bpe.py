#!/usr/bin/python3
"""bpe.py -- a byte-level BPE tokenizer in the Llama 3 style, trained here.

What tritcheck's src/format/tokenizer.c reads as tokenizer.ggml.model
"gpt2", tokenizer.ggml.pre "llama-bpe":

  * the text is split by Llama 3's pre-tokenizer expression (run here by
    the `regex` module, there by PCRE2 with Unicode properties);
  * a piece whose bytes are a token is that token (Llama 3's
    ignore_merges); otherwise its bytes start as the 256 byte tokens and
    the merges apply in rank order, the leftmost pair first among equals;
  * token strings are written in GPT-2's byte-to-unicode alphabet
    (printable bytes stand for themselves, the other 68 for U+0100 + rank),
    merges as "A B" in that alphabet.

Vocabulary: ids 0..255 are the bytes 0..255, then one token per learned
merge, then the special tokens (token_type CONTROL): <|begin_of_text|> (BOS)
and <|end_of_text|> (EOS), last, as in Llama 3.

Training: classic BPE over the pre-tokenized pieces of the training text
(the pieces' frequencies, never across a piece boundary); at each step the
most frequent adjacent pair is merged, ties going to the smaller (left id,
right id).  Deterministic.

Usage: bpe.py train --text train.txt --vocab 4096 --out tokenizer.json
       bpe.py encode --tokenizer tokenizer.json --file F   (ids, one line per input line)
"""
import argparse
import collections
import heapq
import json
import sys

import regex

LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
             r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>"]
DOC_SEPARATOR = "\x1e"
TYPE_NORMAL, TYPE_CONTROL = 1, 3


def gpt2_alphabet():
    """byte -> its character in GPT-2's byte-level alphabet."""
    printable = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or b >= 174]
    out, k = {}, 0
    for b in range(256):
        if b in printable:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + k)
            k += 1
    return out


BYTE_CHAR = gpt2_alphabet()


def as_piece(bs):
    """Raw bytes -> the token string in GPT-2's alphabet."""
    return "".join(BYTE_CHAR[b] for b in bs)


_pre = regex.compile(LLAMA3_RE)


def pre_tokenize(text):
    """The pre-tokenizer's pieces of text, as UTF-8 byte strings."""
    return [m.encode("utf-8") for m in _pre.findall(text)]


# ---- training ----

def train(text, vocab_size):
    """Merges (a list of (left id, right id)) and the token bytes (list by id)."""
    words = collections.Counter()
    for doc in text.split("\n" + DOC_SEPARATOR + "\n"):
        words.update(pre_tokenize(doc))
    tokens = [bytes([b]) for b in range(256)]
    index = {t: i for i, t in enumerate(tokens)}
    seqs = [list(w) for w in words]            # each distinct piece as ids
    freq = [words[w] for w in words]
    pairs = collections.Counter()               # (a, b) -> weighted count
    where = collections.defaultdict(set)        # (a, b) -> word indices
    for i, s in enumerate(seqs):
        for p in zip(s, s[1:]):
            pairs[p] += freq[i]
            where[p].add(i)
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    merges = []
    n_normal = vocab_size - len(SPECIALS)
    while len(tokens) < n_normal and heap:
        c, p = heapq.heappop(heap)
        if -c != pairs.get(p, 0) or -c <= 0:
            continue                             # stale entry
        a, b = p
        new = tokens[a] + tokens[b]
        if new in index:                         # the same bytes by another merge: reuse the id
            t = index[new]
        else:
            t = len(tokens)
            tokens.append(new)
            index[new] = t
        merges.append(p)
        changed = set()
        for i in sorted(where.pop(p)):
            s, f = seqs[i], freq[i]
            if len(s) < 2:
                continue
            for q in zip(s, s[1:]):              # take the word's pairs out ...
                pairs[q] -= f
                changed.add(q)
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(t)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out
            for q in zip(out, out[1:]):          # ... and put the new ones in
                pairs[q] += f
                where[q].add(i)
                changed.add(q)
        pairs.pop(p, None)
        for q in changed:
            if q != p and pairs.get(q, 0) > 0:
                heapq.heappush(heap, (-pairs[q], q))
    return merges, tokens


# ---- the tokenizer ----

class Tokenizer:
    def __init__(self, tokens, merges):
        """tokens: bytes by id (normal tokens); merges: (left id, right id) in rank order."""
        self.tokens = list(tokens)
        self.id_of = {}
        for i, t in enumerate(self.tokens):
            self.id_of.setdefault(t, i)
        self.rank = {}
        for r, (a, b) in enumerate(merges):
            self.rank.setdefault((a, b), (r, self.id_of[self.tokens[a] + self.tokens[b]]))
        self.merges = list(merges)
        self.bos = len(self.tokens)
        self.eos = len(self.tokens) + 1
        self.n_vocab = len(self.tokens) + len(SPECIALS)
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path) as f:
            d = json.load(f)
        return cls([bytes.fromhex(h) for h in d["tokens"]], [tuple(m) for m in d["merges"]])

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"model": "gpt2", "pre": "llama-bpe", "specials": SPECIALS,
                       "tokens": [t.hex() for t in self.tokens], "merges": self.merges}, f)

    def piece_ids(self, s):
        """One pre-tokenizer piece (bytes) as ids."""
        ids = self.cache.get(s)
        if ids is not None:
            return ids
        whole = self.id_of.get(s)
        if whole is not None:                    # ignore_merges
            ids = [whole]
        else:
            ids = list(s)
            while len(ids) > 1:
                best = None
                for j in range(len(ids) - 1):    # lowest rank, leftmost among equals
                    m = self.rank.get((ids[j], ids[j + 1]))
                    if m is not None and (best is None or m[0] < best[0]):
                        best = (m[0], j, m[1])
                if best is None:
                    break
                _, j, t = best
                ids[j:j + 2] = [t]
        self.cache[s] = ids
        return ids

    def encode(self, text, bos=False):
        out = [self.bos] if bos else []
        for s in pre_tokenize(text):
            out.extend(self.piece_ids(s))
        return out

    def decode(self, ids):
        return b"".join(self.tokens[i] if i < len(self.tokens) else SPECIALS[i - len(self.tokens)].encode()
                        for i in ids).decode("utf-8", errors="replace")

    # GGUF metadata (tokenizer.ggml.*)
    def gguf_tokens(self):
        return [as_piece(t) for t in self.tokens] + SPECIALS

    def gguf_types(self):
        return [TYPE_NORMAL] * len(self.tokens) + [TYPE_CONTROL] * len(SPECIALS)

    def gguf_merges(self):
        return [as_piece(self.tokens[a]) + " " + as_piece(self.tokens[b]) for a, b in self.merges]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--text", required=True)
    t.add_argument("--vocab", type=int, default=4096)
    t.add_argument("--out", required=True)
    e = sub.add_parser("encode")
    e.add_argument("--tokenizer", required=True)
    e.add_argument("--file", required=True)
    e.add_argument("--bos", action="store_true")
    o = ap.parse_args()
    if o.cmd == "train":
        with open(o.text, encoding="utf-8") as f:
            text = f.read()
        merges, tokens = train(text, o.vocab)
        tok = Tokenizer(tokens, merges)
        tok.save(o.out)
        print(f"{len(merges)} merges, {tok.n_vocab} tokens", file=sys.stderr)
    else:
        tok = Tokenizer.load(o.tokenizer)
        with open(o.file, "rb") as f:
            text = f.read().decode("utf-8")
        print(" ".join(map(str, tok.encode(text, bos=o.bos))))


if __name__ == "__main__":
    main()
