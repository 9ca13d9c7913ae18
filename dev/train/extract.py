#!/usr/bin/python3
"""extract.py -- the training corpus: Python 3.11's HTML documentation as text.

Source: Debian 12 package python3.11-doc (3.11.2-6+deb12u9), installed at
/usr/share/doc/python3.11/html; licence: the PSF License Agreement (version
2), see /usr/share/doc/python3.11-doc/copyright and html/license.html.

Every page's main body (Sphinx's <div class="body" role="main">) becomes one
document of plain text: block elements become paragraph breaks, running
text has its white space collapsed, <pre> blocks (code examples) keep
theirs, and the pilcrow permalinks are dropped.  Pages that are lists of
links rather than prose (the indexes, search, the changelog) are left out.

Split (deterministic, independent of the order of the file system): a page
is held out when the first byte of SHA-256(its relative path) is < 13, about
5 % of the pages, spread over every part of the documentation.  Documents
are written in sorted path order, separated by a line holding only
DOC_SEPARATOR so that the tokenizer and the trainer can find them again.

Usage: extract.py [--html DIR] --out DIR
Writes DIR/train.txt, DIR/heldout.txt and DIR/corpus.json (counts, hashes).
"""
import argparse
import hashlib
import html.parser
import json
import os
import re
import sys

DOC_SEPARATOR = "\x1e"   # ASCII record separator, alone on a line: never in the docs
EXCLUDE = re.compile(r"^(genindex.*|py-modindex|search|whatsnew/changelog|contents|bugs|copyright)\.html$")
BLOCK = {"p", "div", "section", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "tr",
         "table", "blockquote", "ul", "ol", "dl", "br", "hr", "figure", "caption", "aside"}
SKIP = {"script", "style", "head", "title"}


class BodyText(html.parser.HTMLParser):
    """Collects the text of the first <div class="body" role="main">."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []        # text pieces and "\n\n" block breaks
        self.depth = 0         # open <div>s inside the body (0: outside it)
        self.done = False
        self.pre = 0           # inside <pre>: keep white space
        self.skip = 0          # inside script/style or a permalink <a>
        self.a_skip = []       # per open <a>: whether it is a headerlink

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if not self.depth:
            if tag == "div" and "body" in (a.get("class") or "").split() and a.get("role") == "main":
                self.depth = 1
            return
        if tag == "div":
            self.depth += 1
        if tag in SKIP:
            self.skip += 1
        if tag == "a":
            hl = "headerlink" in (a.get("class") or "").split()
            self.a_skip.append(hl)
            self.skip += hl
        if tag == "pre":
            self.pre += 1
        if tag in BLOCK:
            self.parts.append("\n\n")
        elif tag == "td" or tag == "th":
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if self.done or not self.depth:
            return
        if tag == "div":
            self.depth -= 1
            if not self.depth:
                self.done = True
        if tag in SKIP:
            self.skip -= 1
        if tag == "a" and self.a_skip:
            self.skip -= self.a_skip.pop()
        if tag == "pre":
            self.pre -= 1
        if tag in BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.depth or self.done or self.skip:
            return
        if self.pre:
            self.parts.append(("pre", data))
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self):
        """Paragraphs with single spaces, code verbatim, at most one blank line."""
        out, para = [], []

        def flush():
            s = "".join(para).strip()
            if s:
                out.append(s)
            para.clear()

        for p in self.parts:
            if p == "\n\n":
                flush()
            elif isinstance(p, tuple):
                para.append(p[1])
            else:
                # a space only between words, never doubled
                if p == " " and (not para or para[-1].endswith((" ", "\n"))):
                    continue
                para.append(p)
        flush()
        lines = []
        for block in out:
            for line in block.split("\n"):
                lines.append(line.rstrip())
            lines.append("")
        s = "\n".join(lines)
        s = re.sub(r"\n{3,}", "\n\n", s).strip("\n")
        return s + "\n"


def page_text(path):
    with open(path, encoding="utf-8") as f:
        p = BodyText()
        p.feed(f.read())
        p.close()
    t = p.text()
    # odd characters that only cost vocabulary: no-break and zero-width spaces
    t = t.replace("\u00a0", " ").replace("\u200b", "")
    return t.replace(DOC_SEPARATOR, "")


def held_out(rel):
    return hashlib.sha256(rel.encode()).digest()[0] < 13


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", default="/usr/share/doc/python3.11/html")
    ap.add_argument("--out", required=True)
    o = ap.parse_args()
    pages = []
    for root, dirs, files in os.walk(o.html):
        dirs[:] = [d for d in dirs if not d.startswith("_")]
        for f in files:
            if f.endswith(".html"):
                rel = os.path.relpath(os.path.join(root, f), o.html)
                if not EXCLUDE.match(rel):
                    pages.append(rel)
    pages.sort()
    os.makedirs(o.out, exist_ok=True)
    split = {"train": [], "heldout": []}
    for rel in pages:
        t = page_text(os.path.join(o.html, rel))
        if len(t) < 200:   # a stub page (redirects, empty indexes)
            continue
        split["heldout" if held_out(rel) else "train"].append((rel, t))
    info = {"source": o.html, "separator": "U+001E on its own line", "split": "sha256(path)[0] < 13 held out"}
    for name, docs in split.items():
        text = ("\n" + DOC_SEPARATOR + "\n").join(t for _, t in docs)
        data = text.encode("utf-8")
        with open(os.path.join(o.out, name + ".txt"), "wb") as f:
            f.write(data)
        info[name] = {"documents": len(docs), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                      "pages": [r for r, _ in docs] if name == "heldout" else len(docs)}
        print(f"{name}: {len(docs)} documents, {len(data)} bytes", file=sys.stderr)
    with open(os.path.join(o.out, "corpus.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
