#!/usr/bin/env python3
"""What the self-checks in a set of completions did: how often a first attempt slips, how often a check
catches a slip (and raises a false alarm), and how accurate completions with and without a check are.

Reads `r1lab eval --samples FILE` output or a run's samples.jsonl (optionally only steps in a range), for the
built-in linear task (answers are numbers). Standard library only.

    python3 docs/reflection_stats.py eval-samples.jsonl
    python3 docs/reflection_stats.py runs/r1-zero-aha/samples.jsonl --steps 1:20
"""
import argparse
import re
import sys
from fractions import Fraction

from samples_reader import groups

# A self-check opens with one of these; a phrase ("wait , let me check") counts once.
CHECK = re.compile(r"wait\s*,?\s*let me (?:re)?check|\u7b49\u7b49\s*,?\s*\u8ba9\u6211\u68c0\u67e5|"
                   r"wait|(?:re)?check|verify|\u7b49\u7b49|\u68c0\u67e5|\u9a8c\u8bc1", re.I)
VERDICT = re.compile(r"\byes\b|not equal|\u4e0d\u76f8\u7b49|\u5bf9")
NUMBER = re.compile(r"-?\d+(?:/\d+)?")
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def value(text):
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return None


def completions(path, steps):
    for rec, items in groups(path, steps):
        gold = value(str(rec.get("answer", "")))
        for c in items:
            yield c.get("text", ""), gold


def analyse(text, gold):
    """(first claim right?, [(claim right?, check said 'fine'?)...], final right?, reflected?)"""
    think = text.split("<think>", 1)[-1].split("</think>", 1)[0]
    answers = ANSWER.findall(text)
    final = value(answers[-1]) if answers else None
    pieces = CHECK.split(think)
    checks = []
    for before, after in zip(pieces, pieces[1:]):
        nums = NUMBER.findall(before)
        claim = value(nums[-1]) if nums else None
        v = VERDICT.search(after)
        fine = None if not v else v.group(0) in ("yes", "\u5bf9")
        checks.append((claim == gold, fine))
    first_nums = NUMBER.findall(pieces[0])
    first = value(first_nums[-1]) == gold if first_nums else None
    return first, checks, final == gold, len(pieces) > 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--steps", help="A:B, only these steps of a run's samples.jsonl")
    a = ap.parse_args()
    steps = tuple(int(x) for x in a.steps.split(":")) if a.steps else None
    n = refl = refl_right = plain = plain_right = 0
    first_n = first_wrong = 0
    caught = missed = alarms = passed = 0
    for text, gold in completions(a.file, steps):
        if gold is None:
            continue
        first, checks, right, reflected = analyse(text, gold)
        n += 1
        if first is not None:
            first_n += 1
            first_wrong += not first
        if reflected:
            refl += 1
            refl_right += right
        else:
            plain += 1
            plain_right += right
        for claim_right, fine in checks[:1]:  # the first check judges the first attempt
            if fine is None:
                continue
            if claim_right:
                passed += fine
                alarms += not fine
            else:
                caught += not fine
                missed += fine

    def pct(x, d):
        return f"{100 * x / d:5.1f}% ({x}/{d})" if d else "  n/a"

    print(f"completions               {n}")
    print(f"first attempt wrong       {pct(first_wrong, first_n)}   (slip or guess, before any check)")
    print(f"with a self-check         {pct(refl, n)}")
    print(f"  accuracy with a check   {pct(refl_right, refl)}")
    print(f"  accuracy without        {pct(plain_right, plain)}")
    print(f"first check on a wrong claim says 'not equal'   {pct(caught, caught + missed)}   (catch rate)")
    print(f"first check on a right claim says 'not equal'   {pct(alarms, alarms + passed)}   (false alarms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
