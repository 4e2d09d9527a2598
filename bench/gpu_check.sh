#!/usr/bin/env bash
# The whole GPU verification in one command, for a short GPU window (one device call of at most 10 minutes):
#
#   timeout 590 bash bench/gpu_check.sh        (device tool: run(command=..., timeout_s=600,
#                                                             carry=[".gpu-bundle.tar.xz"]))
#
# Phases, in this order, each under its own time cap and all of them under one budget, so that a hang in one
# still leaves time for the others; each result is appended to $OUT/summary.txt the moment it ends:
#   setup      binaries: built here, or the carried bundle plus the CUDA library built here (bench/gpu_common.sh)
#   probe      the CUDA backend opens and moves data (bench_grpo --probe); if not, the check stops at once and
#              the summary says why (no driver, no device, a library built for another GPU, ...)
#   peak       the device's own copy bandwidth and bf16 GEMM rate (bench/gpu_peak.cu), for floors and MFU
#   parity     the CUDA parity tests with R1LAB_REQUIRE_CUDA=1 (a test that cannot reach the GPU fails, it does
#              not skip), plus the CPU-side tests of the backend's planning code and of padded decode steps
#   nccl       the NCCL tests (R1LAB_REQUIRE_NCCL=1: a one-rank communicator's sum, a set-up whose second rank
#              never comes timing out), then a 3-step GRPO run under mpirun: 2 ranks summing gradients through
#              NCCL when the machine has 2 GPUs, else 1 rank (launcher and GPU; a group of one needs no NCCL)
#   q05b       r1lab's GRPO step at the Qwen2.5-0.5B shape, then the PyTorch reference at the same shape
#   memcheck   compute-sanitizer memcheck (with leak check) on a two-step GRPO run of the fixture model
#   racecheck  compute-sanitizer racecheck on the same run
#   small      r1lab and PyTorch at the tiny and small shapes
#   world      a short GRPO run of the built-in world (configs/r1-zero.json from models/base) on the GPU
#   table      the r1lab / PyTorch table with MFU and floors from the measured figures (bench/gpu_summary.awk)
# Everything lands in $OUT (the device tool's output folder; else bench/out/check): summary.txt, one log per phase.
# Exit status: 0 when every phase that ran passed, 1 when one failed, 2 when the GPU could not be reached.
#
#   GPU_CHECK_BUDGET=560   seconds for everything (the caps below are cut to what is left)
#   PHASES="..."           a subset, in the order above (setup and probe always run)
#   SKIP_BUILD=1           reuse the binaries of an earlier call on the same (warm) machine
#   GPU_CHECK_DRY=1        a rehearsal without a GPU: the CPU backend instead of CUDA, the tiny shape only, no
#                          sanitizers, a two-step world run; it exercises every step of this script except the GPU
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
out=${OUT:-$root/bench/out/check}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
budget=${GPU_CHECK_BUDGET:-560}
t_start=$(date +%s)
dry=${GPU_CHECK_DRY:-0}
phases=${PHASES:-peak parity nccl q05b memcheck racecheck small world table}
device=cuda
[ "$dry" = 1 ] && device=cpu
failed=0

note() { echo "$*" | tee -a "$summary"; }
elapsed() { echo $(($(date +%s) - t_start)); }
want() { case " $phases " in *" $1 "*) return 0 ;; esac; return 1; }

# run_phase NAME CAP CMD...: runs CMD with its output in $OUT/NAME.log under min(CAP, what the budget has left);
# sets phase_rc (124: timed out) and phase_s. Returns non-zero when it did not run for lack of time.
run_phase() {
    local name=$1 cap=$2 left
    shift 2
    left=$((budget - $(elapsed) - 5))
    [ "$cap" -gt "$left" ] && cap=$left
    if [ "$cap" -lt 10 ]; then
        note "$name: not run (the ${budget} s budget is spent)"
        phase_rc=125
        return 1
    fi
    local t0
    t0=$(date +%s)
    timeout -k 5 "$cap" "$@" >"$out/$name.log" 2>&1
    phase_rc=$?
    phase_s=$(($(date +%s) - t0))
    [ $phase_rc = 124 ] || [ $phase_rc = 137 ] && phase_rc=124
    phase_cap=$cap
    return 0
}

verdict() { # NAME DETAIL: one summary line from phase_rc (nothing when run_phase already said it did not run)
    local name=$1 detail=$2
    if [ "$phase_rc" = 125 ]; then
        return 0
    elif [ "$phase_rc" = 0 ]; then
        note "$name: PASS (${phase_s} s) $detail"
    elif [ "$phase_rc" = 124 ]; then
        failed=1
        note "$name: TIMEOUT after ${phase_cap} s $detail (log: $out/$name.log)"
    else
        failed=1
        note "$name: FAIL (exit $phase_rc, ${phase_s} s) $detail (log: $out/$name.log)"
    fi
}

drynote=""
[ "$dry" = 1 ] && drynote=" (dry run: the CPU backend stands in for the GPU)"
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
note "# gpu_check $(date -u +%Y-%m-%dT%H:%MZ) on $(hostname): ${gpu:-no GPU listed by nvidia-smi}$drynote"
note "# checkout $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '(no git)'), budget ${budget} s, phases: $phases"

# --- setup ------------------------------------------------------------------------------------------------------
. "$root/bench/gpu_common.sh"
t0=$(date +%s)
gpu_prepare >"$out/setup.log" 2>&1 # not in a subshell: it sets the binaries' variables
setup_rc=$?
prep=$(cat "$out/setup.log")
if [ $setup_rc != 0 ]; then
    note "setup: FAIL ($(($(date +%s) - t0)) s): $(echo "$prep" | tail -3 | tr '\n' ' ')"
    note "verdict: nothing could run (no binaries)"
    exit 2
fi
note "setup: PASS ($(($(date +%s) - t0)) s) $(echo "$prep" | grep '^# binaries' | sed 's/^# //')"
echo "$prep" | grep -v '^# binaries' | head -20 | sed 's/^/  /' | tee -a "$summary"
export R1LAB_ROOT=$root R1LAB_BIN=$R1LAB R1LAB_FAKE_TRAINER=$R1LAB_FAKE

# --- probe ------------------------------------------------------------------------------------------------------
run_phase probe 30 "${R1ENV[@]}" "$BENCH_GRPO" --probe --device "$device"
if [ "$phase_rc" != 0 ]; then
    note "probe: FAIL: $(grep -m2 '^probe' "$out/probe.log" | tr '\n' ' ')"
    note "verdict: the CUDA backend does not open here, so nothing else ran; library: $R1LAB_CUDA_LIB"
    exit 2
fi
note "probe: PASS $(grep -m1 '^probe' "$out/probe.log" | sed 's/^probe: ok: //')"

# --- peak -------------------------------------------------------------------------------------------------------
bw=${HBM_TBS:-} peak=${PEAK_TFLOPS:-} src="given in HBM_TBS / PEAK_TFLOPS"
if want peak && [ -z "$bw$peak" ] && [ "$dry" != 1 ]; then
    nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    arch=$(gpu_cuda_arch)
    run_phase peak 45 bash -c "'$nvcc_bin' -O2 ${arch:--arch=sm_90} -o '$out/gpu_peak' '$root/bench/gpu_peak.cu' -lcublas && '$out/gpu_peak'"
    line=$(grep -m1 '^gpu_peak: copy_tbs' "$out/peak.log")
    bw=$(echo "$line" | sed -n 's/.*copy_tbs=\([0-9.]*\).*/\1/p')
    peak=$(echo "$line" | sed -n 's/.*gemm_bf16_tflops=\([0-9.]*\).*/\1/p')
    src="measured on this device by bench/gpu_peak.cu"
    verdict peak "${line#gpu_peak: }"
fi
if [ -z "$bw" ] || [ -z "$peak" ]; then
    bw=${bw:-3.35} peak=${peak:-989}
    src="H100 SXM datasheet figures, not measured"
fi

# --- parity -----------------------------------------------------------------------------------------------------
if want parity; then
    req=1
    [ "$dry" = 1 ] && req=0
    jobs=$(($(nproc 2>/dev/null || echo 4) / 2))
    [ "$jobs" -lt 1 ] && jobs=1
    [ "$jobs" -gt 8 ] && jobs=8
    run_phase parity 150 "${R1ENV[@]}" R1LAB_REQUIRE_CUDA=$req OMP_NUM_THREADS=1 \
        "$R1LAB_TESTS" --filter "@(cuda_*|decode_padding)/*" --verbose -j"$jobs"
    verdict parity "$(grep -m1 Synthesis "$out/parity.log" | sed 's/\[====\] //')"
    grep -E "^\[(FAIL|CRASH)|^\[----\] .*(Assertion|Timed out|signal)" "$out/parity.log" | head -15 | sed 's/^/  /' |
        tee -a "$summary"
    grep -E " FAIL$|^  device:" "$out/parity.log" | sort -u | head -15 | sed 's/^/  /' | tee -a "$summary"
    skipped=$(grep '^\[SKIP\] ' "$out/parity.log" | grep -vc 'Test is disabled')
    [ "$skipped" != 0 ] && note "  $skipped tests skipped$([ "$dry" = 1 ] && echo ' (dry run: no GPU)')"
fi

# --- nccl -------------------------------------------------------------------------------------------------------
# docs/cuda.md ("Data-parallel: NCCL") says what each line should read.
if want nccl; then
    if [ "$dry" = 1 ]; then
        note "nccl: not run (dry run: no GPU)"
    else
        run_phase nccl 60 "${R1ENV[@]}" R1LAB_REQUIRE_CUDA=1 R1LAB_REQUIRE_NCCL=1 "$R1LAB_TESTS" --filter "nccl/*" \
            --verbose
        verdict nccl "$(grep -E '^  nccl:' "$out/nccl.log" | sed 's/^  nccl: //' | tr '\n' ';')"
        grep -E "^\[(FAIL|CRASH)|^\[----\] .*(Assertion|Timed out|signal)" "$out/nccl.log" | head -8 | sed 's/^/  /' |
            tee -a "$summary"
    fi
    if ! command -v mpirun >/dev/null 2>&1; then
        note "ddp: not run (no mpirun on this machine)"
    elif ! "${R1ENV[@]}" "$R1LAB" --version 2>/dev/null | grep -q 'data-parallel training: MPI'; then
        note "ddp: not run (this r1lab was built without MPI)"
    else
        ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
        ranks=1
        [ "${ngpu:-0}" -ge 2 ] && [ "$dry" != 1 ] && ranks=2
        rm -rf "$out/ddp"
        run_phase ddp 90 "${R1ENV[@]}" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
            OMPI_MCA_rmaps_base_oversubscribe=1 mpirun -np $ranks "$R1LAB" train --headless \
            tests/fixtures/grpo/tiny.json device="$device" output_dir="$out/ddp" max_steps=3 save_steps=100 \
            ddp_timeout=60
        done_steps=$(cat "$out/ddp/metrics.jsonl" 2>/dev/null | grep -c '"loss"')
        how=$(grep -m1 -oE 'NCCL [0-9][^ ]* \(.*' "$out/ddp.log" || echo "no device communicator")
        verdict ddp "$ranks rank(s) on ${ngpu:-0} GPU(s): $done_steps of 3 GRPO steps; $how"
    fi
fi

# --- benchmarks -------------------------------------------------------------------------------------------------
ref=${TORCH_REF:-}
for cand in "$root/../shared/bench/torch_grpo_ref.py" "$root/bench/ref/torch_grpo_ref.py"; do
    [ -z "$ref" ] && [ -f "$cand" ] && ref=$cand
done
have_torch=0
if [ -n "$ref" ] && python3 -c "import torch, transformers" 2>/dev/null; then
    if [ "$dry" = 1 ] || python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then have_torch=1; fi
fi
: >"$out/r1lab.txt"
: >"$out/torch.txt"
bench() { # NAME CAP SIZES...: r1lab, then PyTorch, on the same device in the same run
    local name=$1 cap=$2
    shift 2
    local sizes=$*
    [ "$dry" = 1 ] && sizes=tiny
    run_phase "$name-r1lab" "$cap" "${R1ENV[@]}" OMP_WAIT_POLICY=passive "$BENCH_GRPO" --device "$device" $sizes
    grep " dev=" "$out/$name-r1lab.log" >>"$out/r1lab.txt"
    verdict "$name-r1lab" "$(grep -E ' dev=|^ |rollout:|train:' "$out/$name-r1lab.log" | sed 's/  */ /g' | tr '\n' ';' | cut -c1-600)"
    if [ $have_torch = 1 ]; then
        local tdev=cuda
        [ "$dry" = 1 ] && tdev=cpu
        run_phase "$name-torch" $((cap + 30)) env OMP_NUM_THREADS="$([ "$dry" = 1 ] && echo 2 || echo 8)" \
            python3 "$ref" "$tdev" $sizes
        grep " dev=" "$out/$name-torch.log" >>"$out/torch.txt"
        verdict "$name-torch" "$(grep ' dev=' "$out/$name-torch.log" | sed 's/  */ /g' | tr '\n' ';')"
    else
        note "$name-torch: not run (needs python3 with torch and transformers, a GPU, and ${ref:-torch_grpo_ref.py})"
    fi
}
want q05b && bench q05b 90 q05b

# --- compute-sanitizer ------------------------------------------------------------------------------------------
# Small enough for the slow tools, and still every path: prefill, decode steps run eagerly, captured as graphs
# and replayed, batched KV copies, a reference model, two optimisation passes, AdamW.
cat >"$out/grpo.json" <<EOF
{"stage": "grpo", "model_name_or_path": "$root/tests/fixtures/models/qwen2_tiny", "dataset": "world:linear",
 "template": "r1-zero", "reward_funcs": ["accuracy", "format"], "prompts_per_step": 2, "num_generations": 4,
 "max_prompt_length": 256, "max_completion_length": 16, "per_device_train_batch_size": 4, "beta": 0.04,
 "num_iterations": 2, "learning_rate": 0.0005, "max_steps": 2, "eval_steps": 0, "save_steps": 100, "seed": 3,
 "device": "cuda"}
EOF
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
for tool in memcheck racecheck; do
    want $tool || continue
    if [ "$dry" = 1 ]; then
        note "$tool: not run (dry run)"
        continue
    elif [ -z "$sanitizer" ]; then
        failed=1
        note "$tool: FAIL (compute-sanitizer not found)"
        continue
    fi
    rm -rf "$out/run-$tool"
    extra=""
    [ $tool = memcheck ] && extra="--leak-check full"
    [ $tool = racecheck ] && extra="--racecheck-report all"
    run_phase "$tool" 75 "${R1ENV[@]}" "$sanitizer" --tool $tool $extra --error-exitcode 99 \
        "$R1LAB" train --headless "$out/grpo.json" output_dir="$out/run-$tool"
    verdict "$tool" "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY' "$out/$tool.log" | tr '\n' ' ')"
    [ "$phase_rc" != 0 ] && grep -m8 -E "=========  (Invalid|Race|Uninit|Barrier|Error|Leaked)|at .*\.cu:" \
        "$out/$tool.log" | sed 's/^/  /' | tee -a "$summary"
done

if want small && [ "$dry" = 1 ]; then
    note "small: not run (dry run: the q05b phase already ran the tiny shape)"
elif want small; then
    bench small 40 tiny small
fi

# --- the built-in world -----------------------------------------------------------------------------------------
if want world; then
    steps=40
    [ "$dry" = 1 ] && steps=2
    rm -rf "$out/world"
    run_phase world 75 "${R1ENV[@]}" "$R1LAB" train --headless configs/r1-zero.json model_name_or_path=models/base \
        output_dir="$out/world" device="$device" max_steps=$steps eval_steps=$((steps / 2)) save_steps=100000
    pass=$(grep -o '"eval/pass@1":[0-9.eE+-]*' "$out/world/metrics.jsonl" 2>/dev/null | sed 's/.*://' | tr '\n' ' ')
    done_steps=$(grep -c '"loss"' "$out/world/metrics.jsonl" 2>/dev/null || echo 0)
    verdict world "$done_steps of $steps GRPO steps; eval/pass@1 over the run: ${pass:-none} (the CPU, 2 cores: 300 steps in 228 s, docs/results.md)"
fi

# --- the table --------------------------------------------------------------------------------------------------
if want table && [ -s "$out/r1lab.txt" ]; then
    awk -v peak="$peak" -v bw="$bw" -v src="$src" -f "$root/bench/gpu_summary.awk" "$out/r1lab.txt" "$out/torch.txt" |
        tee "$out/table.txt" | tee -a "$summary"
fi
note "verdict: $([ $failed = 0 ] && echo 'every phase that ran passed' || echo 'FAILURES above') ($(elapsed) s in all)"
exit $failed
