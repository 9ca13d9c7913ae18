#!/bin/sh
# llama-probe.sh TREE [BUILD] -- how to build tritcheck-record against a
# llama.cpp or bitnet.cpp tree that its user built.  Prints shell
# assignments for configure (--with-llama) and `make record-with`:
#
#   TC_LLAMA_FLAVOR   llama.cpp | bitnet.cpp
#   TC_LLAMA_TREE     the tree named (bitnet.cpp: the BitNet checkout)
#   TC_LLAMA_SRC      the llama.cpp sources (bitnet.cpp: 3rdparty/llama.cpp)
#   TC_LLAMA_BUILD    the CMake build directory (default TREE/build)
#   TC_LLAMA_NEW_API  1 when llama.h has llama_model_load_from_file and
#                     llama_init_from_model (mainline since early 2025),
#                     0 for the older llama_load_model_from_file API
#   TC_LLAMA_CPPFLAGS, TC_LLAMA_LIBS   compile and link flags (with rpath)
#
# On a tree it cannot use it prints one line saying what is missing and
# what to do to standard error, and exits 1.
set -u
tree=${1:-}
[ -n "$tree" ] || { echo "llama-probe: usage: llama-probe.sh TREE [BUILD]" >&2; exit 1; }
[ -d "$tree" ] || { echo "--with-llama=$tree: no such directory" >&2; exit 1; }
tree=$(cd "$tree" && pwd)
if [ -f "$tree/3rdparty/llama.cpp/include/llama.h" ]; then
    flavor=bitnet.cpp; src=$tree/3rdparty/llama.cpp
elif [ -f "$tree/include/llama.h" ]; then
    flavor=llama.cpp; src=$tree
else
    echo "--with-llama=$tree: no include/llama.h (nor 3rdparty/llama.cpp/include/llama.h): name a llama.cpp or bitnet.cpp source tree" >&2
    exit 1
fi
for h in ggml.h ggml-backend.h; do
    [ -f "$src/ggml/include/$h" ] || { echo "--with-llama=$tree: $src/ggml/include/$h is missing: is this a llama.cpp tree of 2024 or later?" >&2; exit 1; }
done
build=${2:-$tree/build}
[ -d "$build" ] || { echo "--with-llama=$tree: no build directory $build: build the tree first (cmake -B build && cmake --build build), or name it with --with-llama-build=DIR" >&2; exit 1; }
build=$(cd "$build" && pwd)
# the shared libraries, wherever this tree's CMake put them
find_lib() { find "$build" -name "lib$1.so" 2>/dev/null | head -n 1; }
libllama=$(find_lib llama)
libggml=$(find_lib ggml)
[ -n "$libllama" ] && [ -n "$libggml" ] || {
    echo "--with-llama=$tree: no libllama.so and libggml.so under $build: build the tree's shared libraries (cmake -B build -DBUILD_SHARED_LIBS=ON && cmake --build build)" >&2; exit 1; }
libs=""; dirs=""
for l in "$libllama" "$libggml" "$(find_lib ggml-base)"; do
    [ -n "$l" ] || continue
    d=$(dirname "$l"); n=$(basename "$l" .so); n=${n#lib}
    case " $dirs " in *" $d "*) ;; *) dirs="$dirs $d"; libs="$libs -L$d -Wl,-rpath,$d" ;; esac
    libs="$libs -l$n"
done
new_api=0
grep -q 'llama_model_load_from_file' "$src/include/llama.h" && grep -q 'llama_init_from_model' "$src/include/llama.h" && new_api=1
cat <<EOF
TC_LLAMA_FLAVOR='$flavor'
TC_LLAMA_TREE='$tree'
TC_LLAMA_SRC='$src'
TC_LLAMA_BUILD='$build'
TC_LLAMA_NEW_API=$new_api
TC_LLAMA_CPPFLAGS='-I$src/include -I$src/ggml/include'
TC_LLAMA_LIBS='$libs'
EOF
