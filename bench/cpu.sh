#!/usr/bin/env bash
# CPU benchmark: r1lab's GRPO step against the PyTorch + transformers reference on the same workloads, on the
# same machine, in the same run, with the same number of threads. Prints both lines and the ratios.
#   SIZES="tiny small"  shapes of torch_grpo_ref.py to run
#   THREADS=2           threads for both (OMP_NUM_THREADS for PyTorch)
#   TORCH_TIMEOUT=900   seconds before the reference is given up on (reported as a lower bound)
#   REPEATS=N           runs of each side per size, alternating, best of N taken for both (default: 3 for tiny,
#                       whose 3-second step is at the mercy of a noisy virtual machine; 1 for the others)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench_bin=${BENCH_BIN:-$root/build/rel/bench/bench_grpo}
ref=${TORCH_REF:-}
for cand in "$root/../shared/bench/torch_grpo_ref.py" "$root/bench/ref/torch_grpo_ref.py"; do
    [ -z "$ref" ] && [ -f "$cand" ] && ref=$cand
done
sizes=${SIZES:-tiny small}
threads=${THREADS:-2}
timeout_s=${TORCH_TIMEOUT:-900}
out=$root/bench/out
mkdir -p "$out"

echo "# $(date -u +%Y-%m-%dT%H:%MZ)  $(uname -m)  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')  threads=$threads"
: >"$out/r1lab.txt"
: >"$out/torch.txt"
have_torch=0
python3 -c "import torch, transformers" 2>/dev/null && [ -f "$ref" ] && have_torch=1
[ $have_torch = 1 ] || echo "# PyTorch reference not run (needs python3 with torch and transformers, and $ref)"
for size in $sizes; do
    repeats=${REPEATS:-$([ "$size" = tiny ] && echo 3 || echo 1)}
    for ((run = 1; run <= repeats; run++)); do
        # r1lab's threads wait as they do in the r1lab binary (passive unless the user chose; see r1lab(1))
        OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} "$bench_bin" --threads "$threads" "$size" | tee -a "$out/r1lab.txt"
        [ $have_torch = 1 ] || continue
        start=$(date +%s)
        if ! OMP_NUM_THREADS=$threads timeout "$timeout_s" python3 "$ref" cpu "$size" 2>/dev/null | tee -a "$out/torch.txt"; then
            echo "$size torch: did not finish within ${timeout_s}s (step > $((($(date +%s) - start) / 2))s)" | tee -a "$out/torch.txt"
        fi
    done
done

# Ratios r1lab / PyTorch for each size both finished.
awk '
function field(line, key,   i, n, a) { n = split(line, a, " "); for (i = 1; i <= n; i++) if (a[i] == key) return a[i + 1]; return "" }
FNR == 1 { file++ }
$0 !~ / dev=/ { next }  # the summary lines only, not the split lines under them
# best of the runs: highest throughputs, shortest step
function best(arr, key, v, lower) { if (!(key in arr) || (lower ? v + 0 < arr[key] + 0 : v + 0 > arr[key] + 0)) arr[key] = v }
{ size = $1; st = field($0, "step"); sub("s$", "", st)
  if (file == 1) { best(r_roll, size, field($0, "rollout"), 0); best(r_train, size, field($0, "train"), 0); best(r_step, size, st, 1) }
  else { best(t_roll, size, field($0, "rollout"), 0); best(t_train, size, field($0, "train"), 0); best(t_step, size, st, 1) } }
END {
  for (s in r_roll) {
    if (!(s in t_roll)) { printf "%-6s ratio: no PyTorch result\n", s; continue }
    printf "%-6s r1lab/PyTorch (best of each): rollout %.2fx  train %.2fx  step time %.2fx faster\n", s,
           r_roll[s] / t_roll[s], r_train[s] / t_train[s], t_step[s] / r_step[s]
  }
}' "$out/r1lab.txt" "$out/torch.txt"
