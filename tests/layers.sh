#!/bin/sh
# The layering of SPEC 7, checked on the source and on the built libraries:
# every #include of a project header and every symbol a layer's library
# uses must come from its own layer or one listed before it, and no
# engine (ref, fast/cpu, fast/cuda) uses another's.  A call that points
# the wrong way fails here even where the link order would let it pass
# (an object already pulled in by another reference).
set -u
S=${TC_SRCDIR:-.}/src
B=${TC_BUILDDIR:-.}/src
fail=0
# folder, library, rank; engines share rank 4 and may not use each other
layers="base:base/libtcbase.a:0 format:format/libtcformat.a:1 receipt:receipt/libtcreceipt.a:2
engine:engine/libtcengine.a:3 ref:ref/libtcref.a:4 fast/cpu:fast/cpu/libtcfastcpu.a:4
fast/cuda:fast/cuda/libtccuda.a:4 registry:engine/libtcregistry.a:5 tools:tools/libtctools.a:6
check:check/libtccheck.a:7 audit:audit/libtcaudit.a:8"
rank_of() {   # a header path under src/ -> its layer's rank and name
    case $1 in
    engine/registry.h) echo "5 registry" ;;
    base/*) echo "0 base" ;; format/*) echo "1 format" ;; receipt/*) echo "2 receipt" ;;
    engine/*) echo "3 engine" ;; ref/*) echo "4 ref" ;; fast/cpu/*) echo "4 fast/cpu" ;;
    fast/cuda/*) echo "4 fast/cuda" ;; tools/*) echo "6 tools" ;; check/*) echo "7 check" ;;
    audit/*) echo "8 audit" ;; *) echo "9 cli" ;;
    esac
}
# 1. includes
for f in $(cd "$S" && find . -name '*.[ch]' -o -name '*.cu' | sed 's|^\./||' | sort); do
    set -- $(rank_of "$f"); r=$1; me=$2
    [ "$f" = engine/registry.c ] && { r=5; me=registry; }
    for h in $(sed -n 's/^#include "\([a-z/_]*\.h\)".*/\1/p' "$S/$f"); do
        [ -f "$S/$h" ] || continue
        set -- $(rank_of "$h"); hr=$1; hn=$2
        if [ "$hr" -gt "$r" ] || { [ "$hr" -eq 4 ] && [ "$r" -eq 4 ] && [ "$hn" != "$me" ]; }; then
            echo "FAIL: src/$f ($me) includes $h ($hn): a dependency that points the wrong way"; fail=1
        fi
    done
done
# 2. symbols of the built libraries
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
for l in $layers; do
    name=${l%%:*}; rest=${l#*:}; lib=${rest%%:*}
    [ -f "$B/$lib" ] || { echo "SKIP: $B/$lib not built"; exit 77; }
    nm -g --defined-only "$B/$lib" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u > "$tmp/def.$(echo $name | tr / _)"
    nm -u "$B/$lib" 2>/dev/null | awk '{print $NF}' | sort -u > "$tmp/use.$(echo $name | tr / _)"
done
for l in $layers; do
    name=${l%%:*}; r=${l##*:}; n=$(echo $name | tr / _)
    for m in $layers; do
        other=${m%%:*}; orank=${m##*:}; o=$(echo $other | tr / _)
        [ "$other" = "$name" ] && continue
        if [ "$orank" -gt "$r" ] || { [ "$orank" -eq 4 ] && [ "$r" -eq 4 ]; }; then
            comm -12 "$tmp/use.$n" "$tmp/def.$o" | while read -r sym; do
                echo "FAIL: the $name library uses $sym from $other: a dependency that points the wrong way"
            done > "$tmp/bad"
            [ -s "$tmp/bad" ] && { cat "$tmp/bad"; fail=1; }
        fi
    done
done
[ $fail -eq 0 ] && echo "layers: ok (every include and symbol from the same or a lower layer)"
exit $fail
