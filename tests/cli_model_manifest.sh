#!/bin/sh
# The trained model's manifest (vectors/models/SHA256SUMS, written by
# dev/train/manifest.sh): every shipped file is listed, every listed file
# is there, and every SHA-256 matches -- of the files as shipped and of the
# decompressed models, the latter also as `tritcheck inspect` reports them
# (the hash that receipts bind).  The note, README.md, is not listed.
set -u
T=${TRITCHECK:-./tritcheck}
V=${TC_VECTORS:-$(dirname "$0")/../vectors}
M="$V/models"
d=$(mktemp -d) || exit 99
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

[ -f "$M/SHA256SUMS" ] || fail "no $M/SHA256SUMS"
# one "HEX  NAME" per line, each name once
grep -Ev '^[0-9a-f]{64}  [A-Za-z0-9._-]+$' "$M/SHA256SUMS" && fail "malformed manifest line (above)"
cut -c67- "$M/SHA256SUMS" | sort | uniq -d | grep . && fail "a name listed twice (above)"

n=0
while read -r sum name; do
    if [ -f "$M/$name" ]; then
        got=$(sha256sum < "$M/$name" | cut -d' ' -f1)
    elif [ -f "$M/$name.gz" ]; then
        # a model's own bytes: gzip -dc, and tritcheck's reading of them
        gzip -dc "$M/$name.gz" > "$d/$name" || fail "$name.gz does not decompress"
        got=$(sha256sum < "$d/$name" | cut -d' ' -f1)
        tc=$($T inspect "$d/$name" | sed -n 's/^sha256: //p')
        [ "$tc" = "$sum" ] || fail "$name: tritcheck inspect says sha256 $tc, the manifest $sum"
        rm -f "$d/$name"
    else
        fail "$name is listed but not shipped"
    fi
    [ "$got" = "$sum" ] || fail "$name: sha256 $got, the manifest says $sum"
    n=$((n + 1))
done < "$M/SHA256SUMS"

# every shipped file is listed (a file added or renamed without a new manifest)
for f in "$M"/*; do
    b=$(basename "$f")
    case $b in SHA256SUMS|README.md) continue ;; esac
    grep -q "  $b\$" "$M/SHA256SUMS" || fail "$b is shipped but not in SHA256SUMS (dev/train/manifest.sh)"
done
# both models, compressed and decompressed
for b in pydoc-bitnet-i2s.gguf pydoc-bitnet-latent-f32.gguf; do
    grep -q "  $b\$" "$M/SHA256SUMS" || fail "$b missing from the manifest"
    grep -q "  $b.gz\$" "$M/SHA256SUMS" || fail "$b.gz missing from the manifest"
done
echo "cli_model_manifest: ok ($n files)"
