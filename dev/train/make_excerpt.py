#!/usr/bin/python3
"""make_excerpt.py -- the held-out text shipped for accuracy tests.

From each held-out document (extract.py's heldout.txt, in order), its
leading paragraphs up to --per-doc bytes (whole paragraphs, at least one),
so that every held-out page contributes; paragraphs joined by one blank
line, documents by one blank line too (no separator character: plain text
for `tritcheck accuracy --corpus`).

Usage: make_excerpt.py HELDOUT.txt OUT.txt [--per-doc 3300]
"""
import argparse

DOC_SEPARATOR = "\n\x1e\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("heldout")
    ap.add_argument("out")
    ap.add_argument("--per-doc", type=int, default=3300)
    o = ap.parse_args()
    with open(o.heldout, encoding="utf-8") as f:
        docs = f.read().split(DOC_SEPARATOR)
    parts = []
    for d in docs:
        paras, size = [], 0
        for p in d.strip("\n").split("\n\n"):
            if paras and size + len(p.encode()) > o.per_doc:
                break
            paras.append(p)
            size += len(p.encode()) + 2
        parts.append("\n\n".join(paras))
    with open(o.out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
