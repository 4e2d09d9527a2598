#!/usr/bin/env python3
"""The fuzzing table of docs/testing.md from tests/fuzz/run.sh's log (BUILD/fuzz-results.txt): for every target,
its longest run (most executions) that ended without a finding, and any runs that found something.

    python3 tests/fuzz/results_table.py build/fuzz/fuzz-results.txt
"""
import re
import sys

LINE = re.compile(r"^(\S+) (\w+): (\S+) execs in (\d+) s \((\S+) exec/s\), coverage (\S+), corpus (\d+): (.*)$")


def main():
    best, found = {}, {}
    for raw in open(sys.argv[1], encoding="utf-8", errors="replace"):
        m = LINE.match(raw.strip())
        if not m:
            continue
        when, target, runs, secs, rate, cov, corpus, result = m.groups()
        runs = int(runs) if runs.isdigit() else 0
        if result == "ok":
            if runs > best.get(target, (0,))[0]:
                best[target] = (runs, int(secs), rate, cov, when[:10])
        elif "/crash-" in result or "/leak-" in result or "/timeout-" in result or "/oom-" in result:
            found[target] = found.get(target, 0) + 1  # a run stopped from outside ("exit N") found nothing
    print("| target | executions | time | exec/s | coverage | runs with a finding (fixed) |")
    print("|---|---:|---:|---:|---:|---:|")
    for t in sorted(set(best) | set(found)):
        runs, secs, rate, cov, _ = best.get(t, (0, 0, "-", "-", ""))
        mark = "" if runs >= 10_000_000 else " (short of 10M)"
        print(f"| {t} | {runs:,}{mark} | {secs // 60} min | {rate} | {cov} | {found.get(t, 0)} |")


if __name__ == "__main__":
    main()
