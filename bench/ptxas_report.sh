#!/usr/bin/env bash
# Kernel resources from ptxas, without a GPU: for every kernels/*.cu, each kernel's registers per thread, spill
# stores / loads, stack frame and static shared memory, as a markdown table (docs/cuda.md keeps the last one).
# Usage: bash bench/ptxas_report.sh [NVCC] [CUDA_ARCH]   (make cuda-resources passes the Makefile's own)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
nvcc=${1:-nvcc}
arch=${2:--gencode arch=compute_90,code=sm_90}
echo "| file | kernel | registers | spill stores / loads (bytes) | stack (bytes) | static shared (bytes) |"
echo "|---|---|---|---|---|---|"
for cu in kernels/*.cu; do
    # shellcheck disable=SC2086
    "$nvcc" -std=c++17 -O3 $arch -Isrc -Ikernels -Xptxas -v -c -o /dev/null "$cu" 2>&1 |
        awk -v file="$(basename "$cu")" '
        /Compiling entry function/ { match($0, /function .[^ ]+. for/); name = substr($0, RSTART + 10, RLENGTH - 15) }
        /bytes stack frame/ { stack = $1; st = $5; ld = $9 }
        /Used [0-9]+ registers/ {
            regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
            smem = 0; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
            print file "\t" name "\t" regs "\t" st " / " ld "\t" stack "\t" smem
        }'
done | while IFS=$'\t' read -r file name regs spill stack smem; do
    pretty=$(echo "$name" | c++filt | sed -e 's/(.*//' -e 's/^void //')
    echo "| $file | \`$pretty\` | $regs | $spill | $stack | $smem |"
done
