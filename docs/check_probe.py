#!/usr/bin/env python3
"""Can a checkpoint check its own work? For the first sample of each problem in `r1lab eval --samples`
output, cut the completion before </think>, append " wait , let me check :" and let the checkpoint go on.
Reports how often the check says "not equal" for a wrong claim (catch rate) and for a right one (false
alarm), and how often the completion then ends right. This measures the ability reflection relies on,
whether or not the model chooses to reflect. Needs the r1lab binary; standard library otherwise.

    python3 docs/check_probe.py models/base-aha eval-samples.jsonl [--r1lab ./r1lab] [--n 64]
"""
import argparse
import json
import os
import subprocess
import sys
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflection_stats as rs  # noqa: E402

TABLE1 = ("A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
          "assistant first thinks about the reasoning process in the mind and then provides the user with the "
          "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> "
          "tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("samples")
    ap.add_argument("--r1lab", default="./r1lab")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--temperature", default="0.6")
    a = ap.parse_args()
    caught = missed = alarms = passed = fixed = broken = kept_right = kept_wrong = 0
    with open(a.samples, encoding="utf-8") as f:
        recs = [json.loads(line) for line in f][: a.n]
    for i, rec in enumerate(recs):
        gold = Fraction(str(rec["answer"]))
        text = rec["samples"][0]["text"]
        if "</think>" not in text:
            continue
        head = text.split("</think>", 1)[0]
        claim_right = rs.analyse(text, gold)[0]
        prompt = f"{TABLE1} User: {rec['prompt']}. Assistant:{head}wait , let me check :"
        out = subprocess.run([a.r1lab, "generate", a.checkpoint, "--prompt", "-", "-n", "160", "--temperature",
                              a.temperature, "--top-p", "0.95", "--seed", str(i), "--stop", "</answer>", "--json",
                              "--threads", "1"], input=prompt, capture_output=True, text=True, check=True)
        cont = json.loads(out.stdout.splitlines()[0])["text"]
        v = rs.VERDICT.search(cont)
        fine = v and v.group(0) in ("yes", "\u5bf9")
        answers = rs.ANSWER.findall(cont)
        right = bool(answers) and rs.value(answers[-1]) == gold
        if claim_right:
            passed += bool(fine)
            alarms += not fine
            kept_right += right
            broken += not right
        else:
            caught += not fine
            missed += bool(fine)
            fixed += right
            kept_wrong += not right

    def pct(x, d):
        return f"{100 * x / d:5.1f}% ({x}/{d})" if d else "  n/a"

    print(f"wrong claims: the check says 'not equal'   {pct(caught, caught + missed)}   (catch rate)")
    print(f"              and the answer ends right    {pct(fixed, fixed + kept_wrong)}")
    print(f"right claims: the check says 'not equal'   {pct(alarms, alarms + passed)}   (false alarms)")
    print(f"              and the answer stays right   {pct(kept_right, kept_right + broken)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
