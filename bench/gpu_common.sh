# Sourced by bench/gpu_check.sh, gpu.sh and gpu_world.sh: gets r1lab's binaries onto the GPU machine. It builds them
# there (make CUDA=1) when the image has r1lab's C dependencies; when the build fails and .gpu-bundle.tar.xz (made
# by bench/gpu_bundle.sh on the CPU machine, carried with the call) is there, it unpacks that instead. Sets:
#   R1LAB R1LAB_TESTS R1LAB_FAKE BENCH_GRPO   the binaries (libr1lab-cuda.so lies next to them or in the build dir)
#   r1 CMD ...                                 runs one of them with the bundle's libraries, if any
# Expects $root and $out; honours SKIP_BUILD=1 (reuse what an earlier call on the same machine built or unpacked).

gpu_bins_from_build() {
    R1LAB=$root/r1lab
    R1LAB_TESTS=$root/build/rel/tests/r1lab-tests
    R1LAB_FAKE=$root/build/rel/tests/fake-trainer
    BENCH_GRPO=$root/build/rel/bench/bench_grpo
    BUNDLE_LIB=
}

gpu_bins_from_bundle() {
    local dir=/tmp/r1lab-bundle
    if [ ! -x "$dir/bin/r1lab" ]; then
        rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xJf "$root/.gpu-bundle.tar.xz" || return 1
    fi
    R1LAB=$dir/bin/r1lab
    R1LAB_TESTS=$dir/bin/r1lab-tests
    R1LAB_FAKE=$dir/bin/fake-trainer
    BENCH_GRPO=$dir/bin/bench_grpo
    BUNDLE_LIB=$dir/lib
    echo "# using the prebuilt bundle (revision $(cat "$dir/REVISION" 2>/dev/null), checkout $(git -C "$root" rev-parse --short HEAD 2>/dev/null))"
}

r1() {
    if [ -n "$BUNDLE_LIB" ]; then
        LD_LIBRARY_PATH=$BUNDLE_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$@"
    else
        "$@"
    fi
}

# gpu_prepare TARGETS...: make the targets here, else fall back to the bundle. Returns non-zero when neither works.
gpu_prepare() {
    if [ "${SKIP_BUILD:-0}" = 1 ]; then
        if [ -x /tmp/r1lab-bundle/bin/r1lab ] && [ ! -x "$root/r1lab" ]; then gpu_bins_from_bundle; else gpu_bins_from_build; fi
        return 0
    fi
    if make -j"$(nproc)" CUDA=1 "$@" >"$out/build.log" 2>&1; then
        grep -m1 "CUDA backend" "$out/build.log"
        grep -E "warning" "$out/build.log" | grep -v test_optim | head -20
        gpu_bins_from_build
        return 0
    fi
    if [ -f "$root/.gpu-bundle.tar.xz" ]; then
        echo "# make failed here ($(grep -m1 -E 'error|fatal' "$out/build.log" | cut -c1-160)); falling back to the bundle"
        gpu_bins_from_bundle && return 0
    fi
    tail -30 "$out/build.log"
    echo "build failed (full log in $out/build.log); if this image lacks r1lab's C libraries, run bench/gpu_bundle.sh on" \
         "the CPU machine and carry .gpu-bundle.tar.xz with the call"
    return 1
}
