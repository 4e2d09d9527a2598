#!/usr/bin/env bash
# Run on the CPU machine before a device call: builds r1lab, its tests, bench_grpo and the CUDA library for a
# portable x86-64 level (MARCH, default x86-64-v2: no AVX, AVX2 or AVX-512, which the GPU host's CPU may lack;
# this machine's -march=native build would not do) in its own build directory (build/portable), and packs them
# with the shared libraries they need beyond glibc and CUDA into .gpu-bundle.tar.xz (about 15 MiB, ignored by
# git). The GPU machine's image may lack r1lab's C dependencies (cJSON, criterion, OpenBLAS, ncurses, readline,
# curl, pcre2, utf8proc); bench/gpu_common.sh builds there when it can, and otherwise unpacks this bundle and still
# builds the CUDA library there with nvcc (the bundle's copy is the fallback). Carry it with the call:
# run(carry=[".gpu-bundle.tar.xz"]).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
march=${MARCH:-x86-64-v2}
build=build/portable
# MPI=0: the GPU machine has no Open MPI of this build's version; a build made there (gpu_common.sh) finds its own.
make -j"$(nproc)" CUDA=1 MPI=0 BUILD=$build MARCH="$march" $build/r1lab $build/libr1lab-cuda.so $build/bench/bench_grpo \
    $build/tests/r1lab-tests $build/tests/fake-trainer >/dev/null
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp $build/r1lab $build/tests/r1lab-tests $build/tests/fake-trainer $build/bench/bench_grpo $build/libr1lab-cuda.so \
    "$stage/bin/"
# No instruction beyond the chosen level may slip in (a stray -march=native would bring AVX-512 on this machine).
for b in "$stage"/bin/*; do
    wide=$(objdump -d --no-show-raw-insn "$b" | grep -c -E '%[yz]mm[0-9]' || true)
    if [ "$march" = x86-64-v2 ] && [ "$wide" != 0 ]; then
        echo "gpu_bundle: $b holds $wide AVX/AVX-512 instructions; it would not run on every x86-64 machine" >&2
        exit 1
    fi
done
# Every library the binaries load, except glibc itself (the target's must be used) and CUDA (the target's
# toolkit and driver are the ones that match its GPU).
for b in "$stage"/bin/*; do ldd "$b"; done | awk '/=>/ { print $3 }' | sort -u |
    grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv|ld-linux-x86-64)\.so|libcuda|libcublas|libcudart' |
    while read -r lib; do cp -L "$lib" "$stage/lib/"; done
git rev-parse --short HEAD >"$stage/REVISION"
tar -C "$stage" -cJf .gpu-bundle.tar.xz REVISION bin lib
echo "$(du -h .gpu-bundle.tar.xz | cut -f1) .gpu-bundle.tar.xz ($(ls "$stage/lib" | wc -l) libraries, revision $(cat "$stage/REVISION"), $march)"
