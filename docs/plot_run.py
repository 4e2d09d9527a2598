#!/usr/bin/env python3
"""Draws the curves of docs/results.md from a GRPO run directory's metrics.jsonl.

Usage: python3 docs/plot_run.py RUN_DIR OUT.png [TITLE]   (needs matplotlib)
Four panels, as the DeepSeek-R1 paper shows R1-Zero training: training reward (total and per reward
function), held-out pass@1 (and cons@k), mean response length (min/max band), reflection rate.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    run, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else run
    rows = [json.loads(l) for l in open(f"{run}/metrics.jsonl") if l.strip()]
    train = [r for r in rows if "reward" in r]
    evals = {}
    for r in rows:
        if "eval/pass@1" in r:
            evals[r["step"]] = r
    t0 = train[0]["time"] - train[0]["time/step"] if train else 0
    minutes = lambda r: (r["time"] - t0) / 60
    fig, ax = plt.subplots(2, 2, figsize=(11, 7))
    fig.suptitle(title)
    steps = [r["step"] for r in train]

    a = ax[0][0]
    a.plot(steps, [r["reward"] for r in train], label="reward (total)", lw=1.5)
    for key in sorted({k for r in train for k in r if k.startswith("rewards/") and k.endswith("/mean")}):
        a.plot(steps, [r.get(key, float("nan")) for r in train], label=key.split("/")[1], lw=1, alpha=0.8)
    a.set_title("training reward (temperature 1.0)")
    a.set_xlabel("step")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)

    a = ax[0][1]
    es = sorted(evals)
    a.plot(es, [evals[s]["eval/pass@1"] for s in es], "o-", label="pass@1 (mean of k)")
    a.plot(es, [evals[s]["eval/cons@k"] for s in es], "s--", label="cons@k", alpha=0.8)
    a.set_ylim(0, 1)
    a.set_title("held-out problems (temperature 0.6, top-p 0.95)")
    a.set_xlabel("step")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)

    a = ax[1][0]
    a.fill_between(steps, [r["completions/min_length"] for r in train], [r["completions/max_length"] for r in train],
                   alpha=0.2, label="min-max")
    a.plot(steps, [r["completions/mean_length"] for r in train], label="mean")
    a.set_title("response length (tokens)")
    a.set_xlabel("step")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)

    a = ax[1][1]
    a.plot(steps, [r["reflection_rate"] for r in train], label="training completions")
    a.plot(es, [evals[s].get("eval/reflection_rate", float("nan")) for s in es], "o-", label="held-out")
    a.set_title('reflection rate ("wait", "check", ... in <think>)')
    a.set_xlabel("step")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    if train:
        fig.text(0.99, 0.01, f"{minutes(train[-1]):.1f} minutes, {len(train)} steps", ha="right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print("wrote", out)


if __name__ == "__main__":
    main()
