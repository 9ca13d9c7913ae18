#!/usr/bin/env python3
"""Verify a tritcheck receipt without tritcheck (tritcheck-receipt(5),
VERIFYING WITHOUT TRITCHECK): Python's standard library for the JSON, the
RFC 8785 canonical form and SHA-256, and python3-cryptography for Ed25519.

    verify_receipt.py RECEIPT [--pubkey KEY.pub] [--print-canonical]

Prints one line per check; exit status 0 when the digest matches and any
signature verifies (by the --pubkey key, when one is given), 1 when not,
2 when the file is not a receipt.  It shares no code with tritcheck.
"""
import hashlib
import json
import math
import sys


def no_duplicates(pairs):
    """Objects with two members of one key are refused (RFC 8259 leaves
    them undefined; readers disagree on them)."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate key %r" % key)
        obj[key] = value
    return obj


def refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def es_number(v):
    """A double as ECMAScript's Number.prototype.toString (RFC 8785 3.2.2.3)."""
    if not math.isfinite(v):
        raise ValueError("a non-finite number has no canonical form")
    if v == 0:
        return "0"
    sign = "-" if v < 0 else ""
    # repr gives the shortest digits that read back as v
    mant, _, exp = repr(abs(v)).partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    # v = 0.DIGITS x 10^n
    n = (len(whole.lstrip("0")) if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")))) + int(exp or 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + text


def canonical(v):
    """RFC 8785: keys sorted by UTF-16 code units, no whitespace, strings
    with the RFC's escapes only (json.dumps with ensure_ascii=False writes
    exactly those), numbers as ECMAScript writes them."""
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
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(v[k]) for k in keys) + "}"


def main(argv):
    path, pubkey, show = None, None, False
    args = iter(argv[1:])
    for a in args:
        if a == "--pubkey":
            pubkey = next(args, None)
        elif a == "--print-canonical":
            show = True
        elif path is None:
            path = a
        else:
            path = None
            break
    if path is None:
        print("usage: verify_receipt.py RECEIPT [--pubkey KEY.pub] [--print-canonical]", file=sys.stderr)
        return 2
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")   # strict: bytes that are not UTF-8 fail
        doc = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=refuse_constant)
        if not isinstance(doc, dict) or doc.get("schema") != "tritcheck.receipt/1":
            raise ValueError("not a tritcheck.receipt/1 document")
        body = {k: v for k, v in doc.items() if k not in ("digest", "signature")}
        text = canonical(body).encode("utf-8")
    except (OSError, ValueError, OverflowError, RecursionError) as e:   # JSONDecodeError is a ValueError
        print("%s: not a receipt: %s" % (path, e))
        return 2
    if show:
        sys.stdout.write(text.decode("utf-8") + "\n")
        return 0
    digest = hashlib.sha256(text).digest()
    recorded = (doc.get("digest") or {}).get("value")
    if recorded != digest.hex():
        print("digest: MISMATCH (recorded %s, computed %s)" % (recorded, digest.hex()))
        return 1
    print("digest: ok, sha256 %s" % digest.hex())
    sig = doc.get("signature")
    if sig is None:
        if pubkey:
            print("signature: MISSING, but --pubkey asks for one")
            return 1
        print("signature: none")
        return 0
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        raw = bytes.fromhex(sig["public_key"])
        value = bytes.fromhex(sig["value"])
        if sig.get("algorithm") != "ed25519" or len(raw) != 32 or len(value) != 64:
            raise ValueError("expected algorithm ed25519, a 32-byte key and a 64-byte value")
        Ed25519PublicKey.from_public_bytes(raw).verify(value, digest)
    except (KeyError, TypeError, ValueError, InvalidSignature) as e:
        print("signature: DOES NOT VERIFY (%s)" % (e or "bad signature"))
        return 1
    fingerprint = hashlib.sha256(raw).hexdigest()
    if pubkey is None:
        print("signature: verifies with the key it carries, sha256:%s; NOT AUTHENTICATED (no --pubkey)" % fingerprint)
        return 0
    with open(pubkey, "rb") as f:
        trusted = serialization.load_pem_public_key(f.read())
    trusted_raw = trusted.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if trusted_raw != raw:
        print("signature: by ANOTHER key (sha256:%s) than %s" % (fingerprint, pubkey))
        return 1
    print("signature: ok, by %s (sha256:%s)" % (pubkey, fingerprint))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
