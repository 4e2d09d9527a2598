# The comparison table of bench/gpu.sh and bench/gpu_check.sh: reads the summary lines of bench_grpo (first file)
# and of torch_grpo_ref.py (second file), prints for each shape and side the throughputs, MFU and the distance
# to the floors of docs/performance.md, then the r1lab / PyTorch ratios.
#   awk -v peak=TFLOPS -v bw=TBS -v src="where the figures come from" -f bench/gpu_summary.awk r1lab.txt torch.txt
# peak: dense bf16 TFLOP/s and bw: device copy TB/s, measured on the device by bench/gpu_peak.cu when possible.
# Floors: decode reads the bf16 weights that take part in matmuls and a bf16 KV cache of the average context once
# per step, at bw; training does 10 N tokens FLOPs (old-policy and reference forwards, 2N each, plus forward and
# backward, 6N) at peak. N counts the parameters in matmuls (the input embedding is a lookup).
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
    s = k == 1 ? "q05b" : k == 2 ? "small" : "tiny"
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
  printf "MFU = 10 N tokens / train time / %s TFLOP/s; floors at %s TB/s and %s TFLOP/s (%s)\n", peak, bw, peak, src
}
