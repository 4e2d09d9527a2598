#!/usr/bin/env bash
# The built-in world on the GPU against the CPU (issue: "a GRPO run of the built-in world on the GPU reaches the
# same held-out pass@1 as on the CPU, in a fraction of the time"). Pretrains the base model of configs/base.json
# once, then runs configs/r1-zero.json from it on the GPU and on the CPU (all cores) with the same config, and
# prints eval/pass@1 at the start and end of each run with the wall time.
#
#   PHASES="base gpu cpu"   which phases to run (the cpu phase can run on any machine: copy $OUT/world/base there
#                           and run PHASES=cpu BASE=path)
#   BASE=path               an existing base run directory (skips pretraining)
#   PRETRAIN_STEPS=3000 GRPO_STEPS=150   shorter runs for a quick look
#   BASE_DEVICE=cuda        where the base model is pretrained (cpu to try the script without a GPU)
#   OUT=dir                 (the device tool's $OUT, else bench/out)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$root/bench/out}/world
mkdir -p "$out"
phases=${PHASES:-base gpu cpu}
base=${BASE:-$out/base}
steps=${GRPO_STEPS:-150}
. "$root/bench/gpu_common.sh"
gpu_prepare || exit 1

run() { # name, then r1lab train arguments
    local name=$1
    shift
    local start=$(date +%s)
    r1 "$R1LAB" train --headless "$@" >"$out/$name.log" 2>&1
    local code=$?
    echo "$name: exit $code in $(($(date +%s) - start)) s"
    [ $code = 0 ] || tail -5 "$out/$name.log"
}

pass1() { # run dir: first and last eval/pass@1
    grep -o '"eval/pass@1":[0-9.eE+-]*' "$1/metrics.jsonl" 2>/dev/null | sed 's/.*://' | awk 'NR == 1 { f = $1 } { l = $1 } END { if (NR) printf "pass@1 %s -> %s over %d evaluations\n", f, l, NR; else print "no evaluations" }'
}

for phase in $phases; do
    case $phase in
    base)
        rm -rf "$out/base"
        run base configs/base.json output_dir="$out/base" device="${BASE_DEVICE:-cuda}" max_steps="${PRETRAIN_STEPS:-3000}"
        ;;
    gpu | cpu)
        rm -rf "$out/zero-$phase"
        threads=$([ "$phase" = cpu ] && nproc || echo 1)
        device=$([ "$phase" = cpu ] && echo cpu || echo cuda)
        run "zero-$phase" configs/r1-zero.json model_name_or_path="$base@latest" output_dir="$out/zero-$phase" \
            device="$device" threads="$threads" max_steps="$steps"
        echo "  $(pass1 "$out/zero-$phase")"
        ;;
    esac
done
