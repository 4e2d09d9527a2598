#!/usr/bin/env bash
# Run on the CPU machine before a device call: builds r1lab, its tests, bench_grpo and the CUDA library here and
# packs them with the shared libraries they need beyond glibc and CUDA into .gpu-bundle.tar.xz (about 15 MiB,
# ignored by git). The GPU machine's image may lack r1lab's C dependencies (cJSON, criterion, OpenBLAS, ncurses,
# readline, curl, pcre2, utf8proc) and nothing can be installed there; the GPU scripts build there when they can
# and otherwise unpack this bundle. Carry it: the device tool's run(carry=[".gpu-bundle.tar.xz"]).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
make -j"$(nproc)" CUDA=1 all bench-bin build/rel/tests/r1lab-tests build/rel/tests/fake-trainer >/dev/null
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp r1lab build/rel/tests/r1lab-tests build/rel/tests/fake-trainer build/rel/bench/bench_grpo \
    build/rel/libr1lab-cuda.so "$stage/bin/"
# Every library the binaries load, except glibc itself (the target's must be used) and CUDA (the target's
# toolkit and driver are the ones that match its GPU).
for b in "$stage"/bin/*; do ldd "$b"; done | awk '/=>/ { print $3 }' | sort -u |
    grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv|ld-linux-x86-64)\.so|libcuda|libcublas|libcudart' |
    while read -r lib; do cp -L "$lib" "$stage/lib/"; done
git rev-parse --short HEAD >"$stage/REVISION"
tar -C "$stage" -cJf .gpu-bundle.tar.xz REVISION bin lib
echo "$(du -h .gpu-bundle.tar.xz | cut -f1) .gpu-bundle.tar.xz ($(ls "$stage/lib" | wc -l) libraries, revision $(cat "$stage/REVISION"))"
