#!/usr/bin/env bash
# GPU benchmark in one command, on the GPU machine: builds r1lab with the CUDA backend, runs r1lab's GRPO step
# (bench_grpo --device cuda) at the tiny, small and q05b shapes of torch_grpo_ref.py, then that script itself on
# the same GPU in the same run, and prints both, the ratios r1lab / PyTorch, MFU, and how far each is from the
# floor worked out in docs/performance.md. Both sides time one step after one warm-up step.
#
#   SIZES="tiny small q05b"    shapes to run
#   TORCH_REF=path             the reference script (default: ../shared/bench, else bench/ref, a verbatim copy)
#   PEAK_TFLOPS=989            dense bf16 peak for MFU (H100 SXM datasheet; KINDS.md measured 798 on random data)
#   HBM_TBS=3.0                memory bandwidth for the decode floor (H100 copy measured here: about 3.0 TB/s)
#   OUT=dir                    where the logs go (the device tool's $OUT, else bench/out)
#   SKIP_BUILD=1 / SKIP_TORCH=1
# Builds on the GPU machine, or uses .gpu-bundle.tar.xz when the image cannot build r1lab (bench/gpu_common.sh).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sizes=${SIZES:-tiny small q05b}
out=${OUT:-$root/bench/out}
mkdir -p "$out"
peak=${PEAK_TFLOPS:-989}
bw=${HBM_TBS:-3.0}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
. "$root/bench/gpu_common.sh"
gpu_prepare r1lab bench-bin || exit 1

ref=${TORCH_REF:-}
for cand in "$root/../shared/bench/torch_grpo_ref.py" "$root/bench/ref/torch_grpo_ref.py"; do
    [ -z "$ref" ] && [ -f "$cand" ] && ref=$cand
done

: >"$out/r1lab.txt"
: >"$out/torch.txt"
for size in $sizes; do
    if ! r1 "$BENCH_GRPO" --device cuda "$size" 2>>"$out/r1lab.err" | tee -a "$out/r1lab.txt"; then
        echo "$size r1lab: failed ($(tail -1 "$out/r1lab.err"))" | tee -a "$out/r1lab.txt"
    fi
done
if [ "${SKIP_TORCH:-0}" != 1 ]; then
    if [ -n "$ref" ] && python3 -c "import torch, transformers; assert torch.cuda.is_available()" 2>/dev/null; then
        echo "# PyTorch reference: $ref"
        python3 "$ref" cuda $sizes 2>"$out/torch.err" | tee -a "$out/torch.txt" || echo "# PyTorch reference failed: $(tail -1 "$out/torch.err")"
    else
        echo "# PyTorch reference not run (needs python3 with torch + transformers on a GPU, and the script: ${ref:-not found})"
    fi
fi

# Ratios, MFU and floors. The floor of a step (docs/performance.md): decode reads the bf16 weights that take part in
# matmuls and a bf16 KV cache of the average context once per step, at HBM_TBS; training does 10 N tokens FLOPs
# (old-policy and reference forwards, 2N each, plus forward + backward, 6N) at PEAK_TFLOPS. N counts the parameters
# in matmuls (the input embedding is a lookup).
awk -v peak="$peak" -v bw="$bw" '
function field(line, key,   i, n, a) { n = split(line, a, " "); for (i = 1; i <= n; i++) if (a[i] == key) return a[i + 1]; return "" }
function shape(s) {
  # hidden layers heads kv inter vocab P G Lp Lc
  if (s == "tiny")  { h = 128; L = 4;  nh = 4;  nkv = 4; I = 384;  V = 64;     P = 16; G = 8; Lp = 32;  Lc = 96;  return 1 }
  if (s == "small") { h = 512; L = 8;  nh = 8;  nkv = 8; I = 1536; V = 4096;   P = 16; G = 8; Lp = 64;  Lc = 192; return 1 }
  if (s == "q05b")  { h = 896; L = 24; nh = 14; nkv = 2; I = 4864; V = 151936; P = 32; G = 8; Lp = 128; Lc = 384; return 1 }
  return 0
}
$0 ~ / dev=/ && $0 !~ /failed/ {  # the summary lines, not the split lines under them
  s = $1; r = field($0, "rollout"); t = field($0, "train"); st = field($0, "step"); sub("s$", "", st)
  if (FILENAME == ARGV[1]) { rr[s] = r; rt[s] = t; rs[s] = st } else { tr[s] = r; tt[s] = t; ts[s] = st }
}
END {
  printf "\n%-6s %-8s %12s %12s %9s %8s %10s %10s %9s\n", "size", "who", "rollout t/s", "train t/s", "step s", "MFU", "roll/floor", "train/flr", "step/flr"
  for (k = 1; k <= 3; k++) {
    s = k == 1 ? "tiny" : k == 2 ? "small" : "q05b"
    if (!shape(s) || (!(s in rr) && !(s in tr))) continue
    hs = h / nh; layer = h * nh * hs + 2 * h * nkv * hs + (nh + 2 * nkv) * hs + nh * hs * h + 3 * h * I + 2 * h
    Nmm = L * layer + V * h; B = P * G; tok = B * (Lp + Lc)
    kv_step = B * (Lp + (Lc - 1) / 2) * L * 2 * nkv * hs * 2
    floor_roll = Lc * (2 * Nmm + kv_step) / (bw * 1e12)
    floor_train = 10 * Nmm * tok / (peak * 1e12)
    for (w = 1; w <= 2; w++) {
      if (w == 1 && !(s in rr)) continue
      if (w == 2 && !(s in tr)) continue
      roll = w == 1 ? rr[s] : tr[s]; train = w == 1 ? rt[s] : tt[s]; step = w == 1 ? rs[s] : ts[s]
      roll_s = B * Lc / roll; train_s = tok / train
      printf "%-6s %-8s %12.0f %12.0f %9.2f %7.1f%% %9.1fx %9.1fx %8.1fx\n", s, w == 1 ? "r1lab" : "pytorch", roll, train, step,
             100 * 10 * Nmm * tok / train_s / (peak * 1e12), roll_s / floor_roll, train_s / floor_train, step / (floor_roll + floor_train)
    }
    if ((s in rr) && (s in tr))
      printf "%-6s r1lab/PyTorch: rollout %.2fx  train %.2fx  step time %.2fx faster   (floor: rollout %.3fs, train %.3fs)\n",
             s, rr[s] / tr[s], rt[s] / tt[s], ts[s] / rs[s], floor_roll, floor_train
  }
  printf "MFU = 10 N tokens / train time / %s TFLOP/s; floors at %s TB/s and %s TFLOP/s (docs/performance.md)\n", peak, bw, peak
}' "$out/r1lab.txt" "$out/torch.txt" | tee "$out/summary.txt"
