#!/usr/bin/env python3
"""What the tries in a set of countdown completions did: how often the first try hits, how often a miss is
followed by another try ("wait , let me try again") or given up, and how accurate completions with and without a
retry are. The numbers the search tier's section of docs/results.md quotes.

Reads a run's samples.jsonl (optionally only steps in a range) or `r1lab eval --samples FILE` output, for the
built-in countdown task with three numbers. Standard library only.

    python3 docs/search_stats.py runs/r1-zero-search/samples.jsonl --steps 1:50
    python3 docs/search_stats.py eval-samples.jsonl
"""
import argparse
import re
import sys
from fractions import Fraction

from samples_reader import groups

# "try 7 + 5 = 12 , 12 * 3 = 36" (or 试试 ...): the two steps of a try, then its verdict.
TRY = re.compile(r"(?:try|\u8bd5\u8bd5) (\d+) ([-+*/]) (\d+) = (\d+) , (\d+) ([-+*/]) (\d+) = (\d+)"
                 r"( \. (?:yes|\u5bf9) \.| , (?:not|\u4e0d\u662f) \d+ \.)?")
RETRY = re.compile(r"wait|\u7b49\u7b49", re.I)
HAN = re.compile(r"[\u4e00-\u9fff]")
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
PROMPT = re.compile(r"Using the numbers ([\d, ]+), make (\d+)")


def apply(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return Fraction(a, b) if b else None


def evaluate(expr, numbers, target):
    """Whether expr uses the numbers once each and makes target (+ - * / and parentheses only)."""
    expr = expr.strip()
    if not re.fullmatch(r"[\d+\-*/() ]+", expr):
        return False
    if sorted(int(x) for x in re.findall(r"\d+", expr)) != sorted(numbers):
        return False
    tokens = re.findall(r"\d+|[-+*/()]", expr)
    pos = 0

    def factor():
        nonlocal pos
        if pos < len(tokens) and tokens[pos] == "(":
            pos += 1
            v = add()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise ValueError
            pos += 1
            return v
        if pos < len(tokens) and tokens[pos].isdigit():
            pos += 1
            return Fraction(int(tokens[pos - 1]))
        raise ValueError

    def term():
        nonlocal pos
        v = factor()
        while pos < len(tokens) and tokens[pos] in "*/":
            op = tokens[pos]
            pos += 1
            v = apply(op, v, factor())
            if v is None:
                raise ValueError
        return v

    def add():
        nonlocal pos
        v = term()
        while pos < len(tokens) and tokens[pos] in "+-":
            op = tokens[pos]
            pos += 1
            v = apply(op, v, term())
        return v

    try:
        v = add()
        return pos == len(tokens) and v == target
    except (ValueError, ZeroDivisionError):
        return False


def completions(path, steps):
    for rec, items in groups(path, steps):
        m = PROMPT.search(rec.get("prompt", "") or rec.get("question", ""))
        if not m:
            continue
        numbers = [int(x) for x in m.group(1).replace(",", " ").split()]
        for c in items:
            yield c.get("text", ""), numbers, int(m.group(2))


def analyse(text, numbers, target):
    think = text.split("<think>", 1)[-1].split("</think>", 1)[0]
    tries = []
    for m in TRY.finditer(think):
        a, o1, b, r1, a2, o2, c, r2 = (m.group(i) for i in range(1, 9))
        v1 = apply(o1, int(a), int(b))
        v2 = apply(o2, int(a2), int(c))
        honest = v1 == int(r1) and int(r1) in (int(a2), int(c)) and v2 == int(r2)
        tries.append({"honest": honest, "hit": honest and int(r2) == target and sorted(
            [int(a), int(b), int(a2) if int(a2) != int(r1) else int(c)]) == sorted(numbers),
            "said_yes": bool(m.group(9)) and "not" not in m.group(9) and "\u4e0d" not in m.group(9)})
    answers = ANSWER.findall(text)
    right = bool(answers) and evaluate(answers[-1], numbers, target)
    return tries, right, bool(RETRY.search(think)), bool(HAN.search(think))


def pct(a, b):
    return "%.1f%%" % (100.0 * a / b) if b else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("samples")
    ap.add_argument("--steps", help="A:B, inclusive (samples.jsonl of a run)")
    args = ap.parse_args()
    steps = tuple(int(x) for x in args.steps.split(":")) if args.steps else None
    n = right = retried = retried_right = plain_right = first_hit = first_miss = 0
    miss_retry = miss_retry_right = miss_stop = miss_stop_right = false_yes = yes = mixed = 0
    n_tries = 0
    for text, numbers, target in completions(args.samples, steps):
        tries, ok, retry, zh = analyse(text, numbers, target)
        n += 1
        right += ok
        mixed += zh
        n_tries += len(tries)
        if retry:
            retried += 1
            retried_right += ok
        else:
            plain_right += ok
        for t in tries:
            if t["said_yes"]:
                yes += 1
                false_yes += not t["hit"]
        if tries:
            if tries[0]["hit"]:
                first_hit += 1
            else:
                first_miss += 1
                if len(tries) > 1:
                    miss_retry += 1
                    miss_retry_right += ok
                else:
                    miss_stop += 1
                    miss_stop_right += ok
    if not n:
        sys.exit("no countdown completions in %s" % args.samples)
    print("completions                         %d" % n)
    print("accuracy                            %s" % pct(right, n))
    print("tries per completion                %.2f" % (n_tries / n))
    print("first try hits the target           %s" % pct(first_hit, first_hit + first_miss))
    print("after a first miss: tries again     %s" % pct(miss_retry, first_miss))
    print("  accuracy if it tries again / not  %s / %s" % (pct(miss_retry_right, miss_retry),
                                                         pct(miss_stop_right, miss_stop)))
    print("with a retry (wait)                 %s" % pct(retried, n))
    print("  accuracy with / without           %s / %s" % (pct(retried_right, retried), pct(plain_right, n - retried)))
    print("a 'yes' on a try that misses        %s" % pct(false_yes, yes))
    print("mixing languages                    %s" % pct(mixed, n))


if __name__ == "__main__":
    main()
