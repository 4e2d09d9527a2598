#!/usr/bin/env bash
# The GPU benchmark alone: the peak, q05b, small and table phases of bench/gpu_check.sh (r1lab's GRPO step at the
# q05b, tiny and small shapes of torch_grpo_ref.py and that script itself on the same GPU in the same run, with
# the ratios, MFU and distance to the floors of docs/performance.md computed from the device's measured copy
# bandwidth and bf16 GEMM rate). Every option of gpu_check.sh applies (OUT, SKIP_BUILD, GPU_CHECK_BUDGET,
# HBM_TBS / PEAK_TFLOPS to give the figures instead of measuring them). For a first look at a GPU, run
# gpu_check.sh instead: it checks correctness first.
exec env PHASES="${PHASES:-peak q05b small table}" OUT="${OUT:-$(cd "$(dirname "$0")/.." && pwd)/bench/out}" \
    bash "$(dirname "$0")/gpu_check.sh"
