#!/usr/bin/env python3
"""The attacker's toolkit of tests/cli_hostile.sh: edit a receipt and seal
it again as its maker would (so that only the checks after the digest can
catch the edit), write documents two readers read differently, damaged
recordings and golden vectors.  Shares no code with tritcheck.

    hostile.py form RECEIPT                  which digest this tritcheck uses
    hostile.py edit IN OUT [--raw] [--key KEY] [--form F] PATH=JSON|DELETE ... [--dup PATH=JSON] [--append TEXT]
    hostile.py tcv OUT META_JSON [--entries N] [--bad-crc] [--zeros BYTES]
    hostile.py bigreceipt OUT KIND N        a sealed receipt with N taps (compare) or N bins (accuracy)
    hostile.py gzbomb OUT BYTES              BYTES of zeros, gzip'd
    hostile.py tcvbomb OUT BYTES             a golden vector of BYTES zeros and a wrong CRC
    hostile.py vecmeta IN OUT FIELD[=JSON]   a golden vector with a meta field removed or set

PATH is dotted ("engines.cand.id", "results.3.max_abs"); JSON a JSON value.
--dup adds a second member with the key of PATH's last part to its object,
after the first (a digest is computed with the first, as tritcheck's reader
kept it).  --form: "jcs" (RFC 8785, this tritcheck) or "legacy" (the
cJSON form of tritcheck before issue 16), so that the same attack is
sealed correctly for the old binary as for the new.
"""
import gzip
import hashlib
import json
import struct
import sys
import zlib

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from verify_receipt import es_number  # noqa: E402  (the digits ECMAScript writes)


class Obj(list):
    """A JSON object as its (key, value) pairs, duplicates kept in order."""

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default

    def set(self, key, value):
        for i, (k, _) in enumerate(self):
            if k == key:
                self[i] = (k, value)
                return
        self.append((key, value))

    def remove(self, key):
        self[:] = [(k, v) for k, v in self if k != key]


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"), object_pairs_hook=Obj)


def dump(v, indent=0):
    pad = "\t" * indent
    if isinstance(v, Obj):
        if not v:
            return "{}"
        return "{\n" + ",\n".join(pad + "\t" + json.dumps(k, ensure_ascii=False) + ":\t" + dump(x, indent + 1)
                                  for k, x in v) + "\n" + pad + "}"
    if isinstance(v, list):
        return "[" + ", ".join(dump(x, indent + 1) for x in v) + "]"
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else "null"
    return json.dumps(v, ensure_ascii=False)


# ---- the two digests ----

def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return es_number(float(v))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Obj):
        items = sorted(v, key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jcs(x) for k, x in items) + "}"
    return "[" + ",".join(jcs(x) for x in v) + "]"


def cjson_number(d):
    """cJSON 1.7.15's print_number."""
    d = float(d)
    if d != d or abs(d) == float("inf"):
        return "null"
    vi = 2147483647 if d >= 2147483647 else -2147483648 if d <= -2147483648 else int(d)
    if d == float(vi):
        return "%d" % vi
    s = "%1.15g" % d
    t = float(s)
    if not abs(t - d) <= max(abs(t), abs(d)) * 2.220446049250313e-16:
        s = "%1.17g" % d
    return s


def legacy(v):
    """The canonical text of tritcheck before issue 16: keys sorted by
    byte value (a stable sort: duplicates stay in order), cJSON's
    unformatted printing."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return cjson_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Obj):
        items = sorted(v, key=lambda kv: kv[0].encode("utf-8"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + legacy(x) for k, x in items) + "}"
    return "[" + ",".join(legacy(x) for x in v) + "]"


def seal(doc, form, key=None):
    doc.remove("digest")
    doc.remove("signature")
    text = (jcs if form == "jcs" else legacy)(doc).encode("utf-8")
    md = hashlib.sha256(text).digest()
    if key:
        from cryptography.hazmat.primitives import serialization
        with open(key, "rb") as f:
            k = serialization.load_pem_private_key(f.read(), password=None)
        pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        doc.append(("signature", Obj([("algorithm", "ed25519"), ("signed", "the 32 bytes of digest.value"),
                                      ("public_key", pub.hex()), ("value", k.sign(md).hex())])))
    doc.append(("digest", Obj([("algorithm", "sha256"), ("over", "canonical"), ("value", md.hex())])))
    return doc


# ---- editing ----

def walk_to(doc, path):
    parts = path.split(".")
    node = doc
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) and not isinstance(node, Obj) else node.get(p)
    return node, parts[-1]


def assign(doc, spec):
    path, _, value = spec.partition("=")
    node, last = walk_to(doc, path)
    v = json.loads(value, object_pairs_hook=Obj)
    if isinstance(node, Obj):
        if v is None and value == "DELETE":
            node.remove(last)
        else:
            node.set(last, v)
    else:
        node[int(last)] = v


def cmd_edit(args):
    src, out = args[0], args[1]
    key, form, edits, dups, append, raw = None, "jcs", [], [], b"", False
    i = 2
    while i < len(args):
        a = args[i]
        if a == "--raw":   # not a receipt: edit, do not seal
            raw, i = True, i + 1
        elif a == "--key":
            key, i = args[i + 1], i + 2
        elif a == "--form":
            form, i = args[i + 1], i + 2
        elif a == "--dup":
            dups.append(args[i + 1])
            i += 2
        elif a == "--append":   # raw bytes after the document (Python escapes: \\x00)
            append, i = args[i + 1].encode("latin-1").decode("unicode_escape").encode("latin-1"), i + 2
        else:
            edits.append(a)
            i += 1
    doc = load(src)
    for e in edits:
        if e.endswith("=DELETE"):
            node, last = walk_to(doc, e[:-7])
            node.remove(last)
        else:
            assign(doc, e)
    for d in dups:   # a second member of the same key, after the first
        path, _, value = d.partition("=")
        node, last = walk_to(doc, path)
        node.append((last, json.loads(value, object_pairs_hook=Obj)))
    # sealed over every member, as the old reader's canonical form printed
    # both duplicates (a stable sort keeps them in order)
    if not raw:
        seal(doc, form, key)
    with open(out, "wb") as f:
        f.write(dump(doc).encode("utf-8") + b"\n" + append)


def cmd_form(args):
    """Print the digest form the receipt at args[0] was sealed with."""
    doc = load(args[0])
    want = doc.get("digest").get("value")
    body = Obj([(k, v) for k, v in doc if k not in ("digest", "signature")])
    for name, f in (("jcs", jcs), ("legacy", legacy)):
        if hashlib.sha256(f(body).encode("utf-8")).hexdigest() == want:
            print(name)
            return 0
    print("unknown")
    return 1


# ---- golden vectors (TCV1, src/format/tcv.h) ----

def cmd_tcv(args):
    out, meta = args[0], args[1]
    n_entries, bad_crc, entries = None, False, []
    i = 2
    while i < len(args):
        if args[i] == "--entries":
            n_entries, i = int(args[i + 1], 0), i + 2
        elif args[i] == "--bad-crc":
            bad_crc, i = True, i + 1
        elif args[i] == "--entry":   # NAME:DTYPE:D0xD1:FILL
            name, dt, dims, fill = args[i + 1].split(":")
            entries.append((name, int(dt), [int(x) for x in dims.split("x")], int(fill)))
            i += 2
    body = b"TCVEC1\n\0" + struct.pack("<I", 1)
    m = meta.encode("utf-8")
    body += struct.pack("<I", len(m)) + m
    body += struct.pack("<I", len(entries) if n_entries is None else n_entries)
    size = {0: 4, 1: 1, 2: 4, 3: 2}
    for name, dt, dims, fill in entries:
        count = 1
        for x in dims:
            count *= x
        body += struct.pack("<I", len(name)) + name.encode() + struct.pack("<II", dt, len(dims))
        body += b"".join(struct.pack("<Q", x) for x in dims)
        body += bytes([fill]) * (count * size[dt])
    crc = zlib.crc32(body) & 0xffffffff
    body += struct.pack("<I", crc ^ (1 if bad_crc else 0))
    with gzip.open(out, "wb") as f:
        f.write(body)


def cmd_tcvbomb(args):
    """A .tcv.gz of BYTES decompressed bytes (a valid header claiming one
    entry of that size, zeros, a wrong CRC), a few MB on disk."""
    out, total = args[0], int(args[1])
    head = b"TCVEC1\n\0" + struct.pack("<I", 1) + struct.pack("<I", 2) + b"{}" + struct.pack("<I", 1)
    head += struct.pack("<I", 1) + b"x" + struct.pack("<II", 1, 1) + struct.pack("<Q", total)
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(out, "wb") as f:
        f.write(z.compress(head))
        chunk = bytes(1 << 20)
        left = total
        while left > 0:
            n = min(left, len(chunk))
            f.write(z.compress(chunk[:n]))
            left -= n
        f.write(z.compress(b"\x01\x02\x03\x04"))
        f.write(z.flush())


def cmd_vecmeta(args):
    """A golden vector with one meta field removed (FIELD) or set
    (FIELD=JSON), its CRC recomputed."""
    src, dst, field = args
    img = gzip.open(src).read()[:-4]
    mlen = struct.unpack_from("<I", img, 12)[0]
    meta = json.loads(img[16:16 + mlen])
    if "=" in field:
        k, v = field.split("=", 1)
        meta[k] = json.loads(v)
    else:
        del meta[field]
    m = json.dumps(meta).encode()
    img = img[:12] + struct.pack("<I", len(m)) + m + img[16 + mlen:]
    with gzip.open(dst, "wb") as f:
        f.write(img + struct.pack("<I", zlib.crc32(img) & 0xffffffff))


def cmd_gzbomb(args):
    out, total = args[0], int(args[1])
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(out, "wb") as f:
        chunk = bytes(1 << 20)
        left = total
        while left > 0:
            n = min(left, len(chunk))
            f.write(z.compress(chunk[:n]))
            left -= n
        f.write(z.flush())


# ---- receipts large enough to show quadratic time ----

def cmd_bigreceipt(args):
    out, kind, n, form = args[0], args[1], int(args[2]), args[3] if len(args) > 3 else "jcs"
    doc = load(args[4]) if len(args) > 4 else None
    if kind == "compare":
        doc.set("results", [Obj([("tap", "t%d" % i), ("layer", 0), ("kind", "f32"), ("positions", 1),
                                 ("max_abs", 0), ("scaled_err", 0), ("sha256_ref", "0"), ("sha256_cand", "0"),
                                 ("pass", True)]) for i in range(n)])
    else:
        doc.get("kl").get("histogram").set("counts", [0] * n)
        doc.get("kl").get("histogram").set("edges", [float(i) for i in range(n + 1)])
    seal(doc, form)
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc_to_plain(doc)))


def doc_to_plain(v):
    if isinstance(v, Obj):
        return {k: doc_to_plain(x) for k, x in v}
    if isinstance(v, list):
        return [doc_to_plain(x) for x in v]
    return v


if __name__ == "__main__":
    cmds = {"edit": cmd_edit, "form": cmd_form, "tcv": cmd_tcv, "tcvbomb": cmd_tcvbomb, "gzbomb": cmd_gzbomb, "vecmeta": cmd_vecmeta,
            "bigreceipt": cmd_bigreceipt}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]) or 0)
