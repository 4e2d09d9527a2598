#!/usr/bin/env bash
# The table of docs/results.md, in the format of the paper's Tables 2/5/6: every model evaluated on the same
# held-out two-sided equations (the test split of the aha tier) with the paper's sampling (temperature 0.6,
# top-p 0.95, K samples per problem; TEMPERATURE=1.0 for the training temperature, where language mixing shows).
# Prints one markdown row per model.
#   [TEMPERATURE=T] bash docs/results_table.sh [K] [PROBLEMS] NAME=CHECKPOINT ...
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:-8}
n=${2:-200}
temperature=${TEMPERATURE:-0.6}
shift 2 || true
world='{"tasks": {"linear": 1, "arith": 0, "countdown": 0, "plain": 0}, "task_params": {"linear": {"max_coef": 9,
  "max_solution": 15, "max_const": 40, "negative_share": 0, "two_sided_share": 1}}}'
echo "| model | pass@1 | cons@$k | format (Table 1 / R1) | language | readability | mixed | reflection | length |"
echo "|---|---|---|---|---|---|---|---|---|"
for spec in "$@"; do
    name=${spec%%=*} ckpt=${spec#*=}
    ./r1lab eval "$ckpt" --task linear --world "$world" --k "$k" --problems "$n" --max-tokens 256 --temperature "$temperature" --json |
        python3 -c '
import json, sys
r = json.loads(sys.stdin.read()); name = sys.argv[1]
pct = lambda x: "%.1f" % (100 * x)
cells = [name, pct(r["pass@1"]), pct(r["cons@k"]), pct(r["format"]) + " / " + pct(r["format_r1"]),
         "%.3f" % r["language"], "%.2f" % r["readability"], pct(r.get("language/mixed_rate", 0)),
         pct(r.get("reflection/rate", 0)), "%.1f" % r["mean_length"]]
print("| " + " | ".join(cells) + " |")' "$name"
done
