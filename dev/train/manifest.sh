#!/bin/sh
# manifest.sh -- SHIP_DIR/SHA256SUMS: the SHA-256 of every shipped file, and
# of each gzip-compressed model's own bytes (as `tritcheck inspect` and the
# receipts report them), under the name without .gz.  Check with
#   cd vectors/models && sha256sum -c --ignore-missing SHA256SUMS
# (the .gguf lines verify once the models are decompressed beside them).
set -eu
cd "${1:?usage: manifest.sh SHIP_DIR}"
{
    for f in $(ls | LC_ALL=C sort); do
        case $f in SHA256SUMS*) ;; *) sha256sum "$f" ;; esac
    done
    for f in $(ls | LC_ALL=C sort); do
        case $f in
        *.gguf.gz) echo "$(gzip -dc "$f" | sha256sum | cut -d' ' -f1)  ${f%.gz}" ;;
        esac
    done
} > SHA256SUMS.tmp
mv SHA256SUMS.tmp SHA256SUMS
