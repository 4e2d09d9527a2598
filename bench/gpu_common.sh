# shellcheck shell=bash
# Sourced by bench/gpu_check.sh, gpu.sh and gpu_world.sh: gets r1lab's binaries onto the GPU machine.
#   1. When the image has r1lab's C dependencies (pkg-config finds them), it builds everything there
#      (make CUDA=1, native to that machine).
#   2. Otherwise it unpacks .gpu-bundle.tar.xz (made by bench/gpu_bundle.sh on the CPU machine and carried with
#      the call: portable x86-64-v2 binaries plus the libraries they load) into build/bundle, and builds the CUDA
#      library there with nvcc alone (make cuda BUILD=build/device, for the device's own compute capability),
#      which needs nothing but the CUDA toolkit; the bundle's prebuilt library is the fallback if that fails.
# SKIP_BUILD=1 reuses what an earlier call on the same machine built or unpacked, and fails when there is none.
# GPU_BUNDLE=1 takes the bundle even where a build would work (to rehearse that path on the CPU machine).
# Expects $root and $out. Sets R1LAB R1LAB_TESTS R1LAB_FAKE BENCH_GRPO (the binaries), exports R1LAB_CUDA_LIB
# (the library they load), sets R1ENV (an array: `timeout 9 "${R1ENV[@]}" CMD` runs CMD with the bundle's
# libraries, if any) and defines r1 CMD ... (the same as a function).

BUNDLE_DIR=$root/build/bundle
BUNDLE_LIB=
GPU_BINS_HOW=
R1ENV=(env)

gpu_bins_from_build() {
    R1LAB=$root/r1lab
    R1LAB_TESTS=$root/build/rel/tests/r1lab-tests
    R1LAB_FAKE=$root/build/rel/tests/fake-trainer
    BENCH_GRPO=$root/build/rel/bench/bench_grpo
    BUNDLE_LIB=
    R1ENV=(env)
    export R1LAB_CUDA_LIB=$root/build/rel/libr1lab-cuda.so
    GPU_BINS_HOW="built on this machine"
}

gpu_bins_from_bundle() {
    R1LAB=$BUNDLE_DIR/bin/r1lab
    R1LAB_TESTS=$BUNDLE_DIR/bin/r1lab-tests
    R1LAB_FAKE=$BUNDLE_DIR/bin/fake-trainer
    BENCH_GRPO=$BUNDLE_DIR/bin/bench_grpo
    BUNDLE_LIB=$BUNDLE_DIR/lib
    R1ENV=(env "LD_LIBRARY_PATH=$BUNDLE_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
    if [ -f "$root/build/device/libr1lab-cuda.so" ]; then
        export R1LAB_CUDA_LIB=$root/build/device/libr1lab-cuda.so
        GPU_BINS_HOW="bundle (revision $(cat "$BUNDLE_DIR/REVISION" 2>/dev/null)) + CUDA library built on this machine"
    else
        export R1LAB_CUDA_LIB=$BUNDLE_DIR/bin/libr1lab-cuda.so
        GPU_BINS_HOW="bundle (revision $(cat "$BUNDLE_DIR/REVISION" 2>/dev/null)) with its prebuilt CUDA library"
    fi
}

r1() {
    if [ -n "$BUNDLE_LIB" ]; then
        LD_LIBRARY_PATH=$BUNDLE_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"
    else
        "$@"
    fi
}

# The -gencode flags for the GPU of this machine (nvidia-smi's compute capability), else the Makefile's default.
gpu_cuda_arch() {
    local cap
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
    case $cap in
    [0-9][0-9] | [0-9][0-9][0-9]) echo "-gencode arch=compute_${cap},code=sm_${cap}" ;;
    *) echo "" ;;
    esac
}

# Every binary the scripts run is there (and executable).
gpu_bins_present() {
    local b
    for b in "$R1LAB" "$R1LAB_TESTS" "$R1LAB_FAKE" "$BENCH_GRPO"; do [ -x "$b" ] || return 1; done
    [ -f "$R1LAB_CUDA_LIB" ]
}

gpu_have_c_deps() {
    pkg-config --exists libcjson libpcre2-8 libutf8proc ncursesw readline libcurl criterion 2>/dev/null &&
        { [ -e /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so ] || pkg-config --exists openblas 2>/dev/null; }
}

# gpu_prepare: the binaries by the first way that works (see the top). Prints one line saying which; returns
# non-zero with the reason when none does. Logs go to $out/build.log.
gpu_prepare() {
    local jobs arch
    jobs=$(nproc 2>/dev/null || echo 4)
    arch=$(gpu_cuda_arch)
    if [ "${SKIP_BUILD:-0}" = 1 ]; then
        if [ -x "$BUNDLE_DIR/bin/r1lab" ]; then gpu_bins_from_bundle; else gpu_bins_from_build; fi
        if ! gpu_bins_present; then
            echo "SKIP_BUILD=1 but no binaries on this machine (looked for $R1LAB, $R1LAB_TESTS, $BENCH_GRPO and" \
                 "$R1LAB_CUDA_LIB): a fresh machine needs a build; run without SKIP_BUILD"
            return 1
        fi
        echo "# binaries: $GPU_BINS_HOW (SKIP_BUILD=1)"
        return 0
    fi
    : >"$out/build.log"
    if [ "${GPU_BUNDLE:-0}" != 1 ] && gpu_have_c_deps; then
        if make -j"$jobs" CUDA=1 ${arch:+CUDA_ARCH="$arch"} all bench-bin build/rel/tests/r1lab-tests \
            build/rel/tests/fake-trainer >>"$out/build.log" 2>&1; then
            gpu_bins_from_build
            grep -E "warning" "$out/build.log" | head -20
            echo "# binaries: $GPU_BINS_HOW"
            return 0
        fi
        echo "# make failed here ($(grep -m1 -E 'error|Error' "$out/build.log" | cut -c1-200)); trying the bundle"
    fi
    if [ ! -f "$root/.gpu-bundle.tar.xz" ]; then
        echo "cannot get binaries: this image lacks r1lab's C libraries (cJSON, criterion, OpenBLAS, ...) and no" \
             ".gpu-bundle.tar.xz came with the call; run bash bench/gpu_bundle.sh on the CPU machine and carry it" \
             "(run(carry=[\".gpu-bundle.tar.xz\"]))"
        return 1
    fi
    rm -rf "$BUNDLE_DIR" && mkdir -p "$BUNDLE_DIR" && tar -C "$BUNDLE_DIR" -xJf "$root/.gpu-bundle.tar.xz" || {
        echo "cannot unpack .gpu-bundle.tar.xz"
        return 1
    }
    rm -f "$root/build/device/libr1lab-cuda.so"
    if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
        if ! make -j"$jobs" CUDA=1 BUILD=build/device ${arch:+CUDA_ARCH="$arch"} cuda >>"$out/build.log" 2>&1; then
            echo "# nvcc could not build the CUDA library here ($(grep -m1 -E 'error' "$out/build.log" | cut -c1-200));" \
                 "using the bundle's"
            rm -f "$root/build/device/libr1lab-cuda.so"
        fi
    fi
    gpu_bins_from_bundle
    local rev head
    rev=$(cat "$BUNDLE_DIR/REVISION" 2>/dev/null)
    head=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "")
    [ -n "$head" ] && [ "$rev" != "$head" ] && echo "# warning: bundle revision $rev, checkout $head: rebuild the bundle"
    if ! gpu_bins_present; then
        echo "the bundle lacks a binary (wanted $R1LAB, $R1LAB_TESTS, $R1LAB_FAKE, $BENCH_GRPO, $R1LAB_CUDA_LIB)"
        return 1
    fi
    echo "# binaries: $GPU_BINS_HOW"
    return 0
}
