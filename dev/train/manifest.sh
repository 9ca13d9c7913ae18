#!/bin/sh
# manifest.sh -- SHIP_DIR/SHA256SUMS: the SHA-256 of every shipped file but
# the note (README.md, which is edited as figures are added), and of each
# gzip-compressed model's own bytes (as `tritcheck inspect` and the receipts
# report them), under the name without .gz.  tests/cli_model_manifest.sh
# checks it.  Check by hand with
#   cd vectors/models && sha256sum -c --ignore-missing SHA256SUMS
# (the .gguf lines verify once the models are decompressed beside them).
set -eu
cd "${1:?usage: manifest.sh SHIP_DIR}"
{
    for f in $(ls | LC_ALL=C sort); do
        case $f in SHA256SUMS*|README.md) ;; *) sha256sum "$f" ;; esac
    done
    for f in $(ls | LC_ALL=C sort); do
        case $f in
        *.gguf.gz) echo "$(gzip -dc "$f" | sha256sum | cut -d' ' -f1)  ${f%.gz}" ;;
        esac
    done
} > SHA256SUMS.tmp
mv SHA256SUMS.tmp SHA256SUMS
