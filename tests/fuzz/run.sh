#!/usr/bin/env bash
# Runs one libFuzzer target (make fuzz / make fuzz-smoke call it once per target).
#   tests/fuzz/run.sh [--smoke] BUILD_DIR TARGET SECONDS
# The committed seeds (tests/fuzz/corpus/TARGET) and crash regressions (tests/fuzz/regressions/TARGET) are read,
# never written: new inputs go to BUILD_DIR/corpus/TARGET (kept between runs; --smoke uses a scratch directory),
# crashes to BUILD_DIR/artifacts/TARGET/. Runs under nice -n 15 (FUZZ_NICE), one process. Prints one summary line:
#   TARGET: N execs in S s (R exec/s), corpus C: ok        or ... : FAILED (crash-… written)
# and appends it to BUILD_DIR/fuzz-results.txt. Exit status 1 when the target found a crash, leak or timeout.
# FUZZ_RUNS=N stops after N executions (whichever of that and SECONDS comes first).
set -uo pipefail
smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
build=$1 target=$2 seconds=$3
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/fuzz-$target
[ -x "$bin" ] || { echo "$bin: not built (make fuzz-bin)"; exit 1; }

seeds=()
for d in "$here/corpus/$target" "$here/regressions/$target"; do [ -d "$d" ] && seeds+=("$d"); done
if [ $smoke = 1 ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
else
    work=$build/corpus/$target
    mkdir -p "$work"
fi
mkdir -p "$build/artifacts/$target"
opts=(-max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -timeout=20 -rss_limit_mb=4096 -print_final_stats=1
      -artifact_prefix="$build/artifacts/$target/")
[ -f "$here/dict/$target.dict" ] && opts+=(-dict="$here/dict/$target.dict")
log=$build/fuzz-$target.log
start=$(date +%s.%N)
nice -n "${FUZZ_NICE:-15}" "$bin" "${opts[@]}" "$work" "${seeds[@]}" >"$log" 2>&1
rc=$?
end=$(date +%s.%N)

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
units=$(find "$work" -type f | wc -l)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
if [ $rc = 0 ]; then
    result=ok
else
    artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    result="FAILED (${artifact:-exit $rc}; log $log)"
fi
line="$target: ${runs:-?} execs in $secs s (${rate:-?} exec/s), coverage ${cov:-?}, corpus $units: $result"
echo "$line"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $line" >>"$build/fuzz-results.txt"
if [ $rc != 0 ]; then
    grep -a -A30 -m1 'ERROR: \|==ERROR\|runtime error\|deadly signal' "$log" | head -40
    exit 1
fi
exit 0
