#!/usr/bin/env bash
# GPU correctness in one command, on the GPU machine: builds everything with the CUDA backend, runs the CUDA
# parity tests (tests/test_cuda_parity.c: every op vs the CPU backend, the whole model vs the CPU engine and the
# PyTorch fixtures, greedy decoding, rollouts with and without CUDA graphs, a two-step GRPO run) and the backend
# registry tests, then compute-sanitizer memcheck and racecheck (and initcheck, synccheck) on a two-step GRPO run
# of the fixture model. Prints a summary last; full logs go to $OUT (the device tool's output folder) or
# bench/out/check.
#
# The device tool allows ten minutes per command: the default (build, parity tests, memcheck, racecheck) is
# meant to fit; initcheck and synccheck can follow in a second call:
#   SKIP_BUILD=1 SKIP_TESTS=1 SANITIZERS="initcheck synccheck" bash bench/gpu_check.sh
#
#   SKIP_BUILD=1            reuse the build            SKIP_TESTS=1   no parity tests
#   SANITIZERS="memcheck racecheck"                    SANITIZER_TIMEOUT=180 seconds per tool
#   TEST_FILTER='cuda_*/*'  criterion filter for the parity run
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$root/bench/out/check}
mkdir -p "$out"
summary=()

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
. "$root/bench/gpu_common.sh"
gpu_prepare all build/rel/tests/r1lab-tests build/rel/tests/fake-trainer || exit 1

# --- parity tests -------------------------------------------------------------------------------------------
export R1LAB_ROOT=$root R1LAB_BIN=$R1LAB R1LAB_FAKE_TRAINER=$R1LAB_FAKE OMP_NUM_THREADS=1
tests=$R1LAB_TESTS
if [ "${SKIP_TESTS:-0}" != 1 ]; then
    start=$(date +%s)
    timeout 300 env ${BUNDLE_LIB:+LD_LIBRARY_PATH=$BUNDLE_LIB} "$tests" --filter "${TEST_FILTER:-cuda_*/*}" --verbose -j4 >"$out/parity.log" 2>&1
    rc=$?
    grep -E "device:|rel .*FAIL|greedy on the GPU|rollout .* differ|sample T=|\[FAIL\]|\[SKIP\] cuda_|CRASH|Synthesis" \
        "$out/parity.log" | head -80
    summary+=("parity tests ($(($(date +%s) - start)) s): $(grep -m1 Synthesis "$out/parity.log" || echo "no result (rc $rc)")")
    r1 "$tests" --filter 'backend_*/*' >"$out/registry.log" 2>&1
    summary+=("registry tests: $(grep -m1 Synthesis "$out/registry.log" || echo "no result")")
fi

# --- compute-sanitizer on a two-step GRPO run ------------------------------------------------------------------
# Small enough for the slow tools, and still every path: prefill, decode steps run eagerly, captured as graphs
# (a batch size seen the second time) and replayed, a reference model, two optimisation passes, AdamW.
cat >"$out/grpo.json" <<EOF
{"stage": "grpo", "model_name_or_path": "$root/tests/fixtures/models/qwen2_tiny", "dataset": "world:linear",
 "template": "r1-zero", "reward_funcs": ["accuracy", "format"], "prompts_per_step": 2, "num_generations": 4,
 "max_prompt_length": 256, "max_completion_length": 16, "per_device_train_batch_size": 4, "beta": 0.04,
 "num_iterations": 2, "learning_rate": 0.0005, "max_steps": 2, "eval_steps": 0, "save_steps": 100, "seed": 3,
 "device": "cuda"}
EOF
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
if [ -z "$sanitizer" ]; then
    summary+=("compute-sanitizer: not found")
else
    for tool in ${SANITIZERS:-memcheck racecheck}; do
        rm -rf "$out/run-$tool"
        extra=""
        [ "$tool" = memcheck ] && extra="--leak-check full"
        [ "$tool" = racecheck ] && extra="--racecheck-report all"
        start=$(date +%s)
        r1 timeout "${SANITIZER_TIMEOUT:-180}" "$sanitizer" --tool "$tool" $extra --error-exitcode 99 \
            "$R1LAB" train --headless "$out/grpo.json" output_dir="$out/run-$tool" >"$out/sanitizer-$tool.log" 2>&1
        code=$?
        errors=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY" "$out/sanitizer-$tool.log" | tr '\n' ' ')
        summary+=("compute-sanitizer $tool: exit $code, $((($(date +%s) - start)))s: ${errors:-no summary line (see $out/sanitizer-$tool.log)}")
        if [ "$code" != 0 ]; then grep -m10 -E "=========  (Invalid|Race|Uninit|Barrier|Error|Leaked)|at .*\.cu:" "$out/sanitizer-$tool.log"; fi
    done
fi

echo
echo "== summary"
for line in "${summary[@]}"; do echo "$line"; done
