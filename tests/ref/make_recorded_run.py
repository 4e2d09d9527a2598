#!/usr/bin/env python3
"""Writes the run directories the dashboard tests read (docs/run-format.md):

  tests/fixtures/runs/recorded/   a finished 300-step GRPO run of a tiny model on linear equations: reward,
                                  accuracy and format rising, response length dipping then growing, eval/pass@1
                                  every 20 steps, two logged groups of G=4 completions per step whose <think>
                                  traces start terse and wrong and learn format, correctness and reflection
                                  ("wait", "check").  Kept under 1 MB.
  tests/fixtures/runs/malicious/  a run whose files attack the reader: escape sequences (CSI, OSC 0 title,
                                  OSC 52 clipboard), C1 controls, bidi overrides, invalid UTF-8, a 1 MB line,
                                  broken JSON lines, NaN-ish values, missing keys and a torn last line.

The output is deterministic (fixed seed, fixed clock). Python 3 standard library only; `make test` does not run
this script, it reads the committed output. Regenerate with:  python3 tests/ref/make_recorded_run.py
"""
import json
import math
import os
import random

FORMAT_VERSION = 1
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "runs")
T0 = 1763830000.0


def dumps(obj):
    # compact but readable, like the trainer's writer; keys in insertion order
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def equation(rng):
    a = rng.randint(2, 9)
    x = rng.randint(-9, 12)
    b = rng.randint(1, 20)
    c = a * x + b
    return a, b, c, x


def completion_text(rng, a, b, c, x, skill, fmt, reflect, correct):
    """A tiny model's completion at a given stage of training."""
    ans = x if correct else x + rng.choice([-2, -1, 1, 2, 3])
    steps = [f"{a}x + {b} = {c}.", f"subtract {b}: {a}x = {c - b}.", f"divide by {a}: x = {ans}."]
    if skill < 0.3:
        steps = steps[rng.randint(1, 2):]
    think = " ".join(steps)
    if reflect:
        check = a * ans + b
        if correct:
            think += rng.choice([f" wait, check: {a}*{ans} + {b} = {check}. yes.",
                                 f" let me verify: {a}*{ans} + {b} = {check}, correct.",
                                 f" hmm, check again: {a}*{ans} + {b} = {check}. ok."])
        else:
            think += f" wait, check: {a}*{ans} + {b} = {check}, not {c}. hmm."
    if fmt:
        return f"<think> {think} </think> <answer> {ans} </answer>"
    return rng.choice([f"{think} so x = {ans}", f"x = {ans}", f"<think> {think} the answer is {ans}"])


def write_recorded():
    rng = random.Random(20250101)
    out = os.path.join(ROOT, "recorded")
    os.makedirs(out, exist_ok=True)
    steps, G, groups_per_step, cap = 300, 4, 2, 128
    config = {"r1lab_fixture_version": FORMAT_VERSION, "stage": "grpo", "model": "embedded tiny (6.1M params)",
              "task": "linear", "max_steps": steps, "num_generations": G, "per_device_train_batch_size": 16,
              "max_completion_length": cap, "learning_rate": 1e-6, "beta": 0.04, "epsilon": 0.2,
              "epsilon_high": 0.28, "loss_type": "grpo", "temperature": 1.0, "reward_funcs": ["accuracy", "format"],
              "eval_steps": 20, "seed": 1234, "output_dir": "runs/recorded"}
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")

    t = T0
    metrics, samples, events = [], [], []
    events.append({"time": round(t, 3), "level": "info", "msg": "grpo: 300 steps, G=4, CPU (OpenBLAS, 2 threads)"})
    for s in range(1, steps + 1):
        p = s / steps
        acc = min(0.95, max(0.0, 0.12 + 0.68 * sigmoid((p - 0.45) * 7) + rng.gauss(0, 0.04)))
        fmt = min(1.0, max(0.0, 0.25 + 0.73 * sigmoid((p - 0.2) * 12) + rng.gauss(0, 0.03)))
        length = 30 - 10 * math.exp(-((p - 0.22) / 0.1) ** 2) + 55 * max(0.0, p - 0.3) ** 1.3 + rng.gauss(0, 1.5)
        lmin = max(6, length * 0.35 + rng.gauss(0, 2))
        lmax = min(cap, length * 2.0 + rng.gauss(0, 4) + (25 if p > 0.8 else 0))
        clipped = round(max(0.0, (lmax - 100) / 700), 4) if lmax > 100 else 0.0
        step_time = 1.05 + 0.004 * length + rng.gauss(0, 0.03)
        t += step_time
        m = {"step": s, "time": round(t, 3), "stage": "grpo",
             "loss": round(0.02 * rng.gauss(0, 1) + 0.04 * 0.01 * s / 30, 5),
             "grad_norm": round(abs(0.9 + 0.4 * rng.gauss(0, 1)) + 0.1, 4),
             "learning_rate": 1e-6 * min(1.0, s / 10), "skipped_steps": 0,
             "reward": round(acc + fmt, 4), "reward_std": round(0.55 - 0.15 * p + rng.gauss(0, 0.03), 4),
             "rewards/accuracy/mean": round(acc, 4), "rewards/accuracy/std": round(math.sqrt(acc * (1 - acc)), 4),
             "rewards/format/mean": round(fmt, 4), "rewards/format/std": round(math.sqrt(fmt * (1 - fmt)), 4),
             "frac_reward_zero_std": round(min(1.0, max(0.0, 0.12 + 0.25 * p + rng.gauss(0, 0.05))), 4),
             "completions/mean_length": round(length, 2), "completions/min_length": round(lmin),
             "completions/max_length": round(lmax), "completions/clipped_ratio": round(clipped, 4),
             "kl": round(0.021 * (1 - math.exp(-3 * p)) + abs(rng.gauss(0, 0.001)), 5),
             "entropy": round(1.62 - 0.85 * p + rng.gauss(0, 0.02), 4),
             "clip_ratio/low_mean": round(abs(rng.gauss(0.002, 0.001)), 5),
             "clip_ratio/high_mean": round(abs(rng.gauss(0.004, 0.002)), 5),
             "clip_ratio/region_mean": 0.0,
             "reflection_rate": round(min(1.0, max(0.0, 0.02 + 0.38 * sigmoid((p - 0.55) * 8) + rng.gauss(0, 0.02))), 4),
             "tokens_per_second/rollout": round(1800 + rng.gauss(0, 60), 1),
             "tokens_per_second/train": round(5200 + rng.gauss(0, 150), 1),
             "time/step": round(step_time, 4), "time/rollout": round(step_time * 0.64, 4),
             "time/score": round(0.004 + abs(rng.gauss(0, 0.001)), 4), "time/train": round(step_time * 0.35, 4),
             "memory/host_bytes": 412 * 1024 * 1024 + rng.randint(0, 8) * 1024 * 1024}
        m["clip_ratio/region_mean"] = round(m["clip_ratio/low_mean"] + m["clip_ratio/high_mean"], 5)
        if s % 20 == 0:
            pass1 = min(0.9, max(0.0, 0.1 + 0.58 * sigmoid((p - 0.5) * 7) + rng.gauss(0, 0.015)))
            m.update({"eval/pass@1": round(pass1, 4), "eval/cons@k": round(min(1.0, pass1 + 0.08), 4),
                      "eval/pass@k": round(min(1.0, pass1 + 0.2), 4), "eval/format": round(min(1.0, fmt + 0.01), 4),
                      "eval/mean_length": round(length * 1.02, 2), "eval/k": 8})
        metrics.append(m)

        for gi in range(groups_per_step):
            a, b, c, x = equation(rng)
            comps = []
            for _ in range(G):
                correct = rng.random() < acc
                has_fmt = rng.random() < fmt
                reflect = rng.random() < m["reflection_rate"] * 1.4
                text = completion_text(rng, a, b, c, x, p, has_fmt, reflect, correct)
                r_acc = 1.0 if correct and has_fmt else 0.0
                r_fmt = 1.0 if has_fmt else 0.0
                comps.append({"text": text, "reward": r_acc + r_fmt, "rewards": {"accuracy": r_acc, "format": r_fmt},
                              "length": max(4, len(text) // 3), "clipped": False})
            rs = [cmp["reward"] for cmp in comps]
            mean = sum(rs) / G
            std = math.sqrt(sum((r - mean) ** 2 for r in rs) / G)
            for cmp in comps:
                cmp["advantage"] = round((cmp["reward"] - mean) / std, 4) if std > 0 else 0.0
            samples.append({"step": s, "group": gi, "task": "linear", "prompt": f"Solve: {a}x + {b} = {c}",
                            "answer": str(x), "completions": comps})
        if s % 100 == 0:
            events.append({"time": round(t + 0.5, 3), "level": "info", "msg": f"saved checkpoint step-{s:06d}"})
    events.append({"time": round(t + 1.0, 3), "level": "info", "msg": "finished: 300 steps"})
    status = {"state": "finished", "pid": 4242, "step": steps, "max_steps": steps, "stage": "grpo",
              "started": T0, "updated": round(t + 1.0, 3), "device": "CPU (OpenBLAS, 2 threads)", "message": ""}
    with open(os.path.join(out, "metrics.jsonl"), "w") as f:
        for m in metrics:
            f.write(dumps(m) + "\n")
    with open(os.path.join(out, "samples.jsonl"), "w") as f:
        for sm in samples:
            f.write(dumps(sm) + "\n")
    with open(os.path.join(out, "events.jsonl"), "w") as f:
        for e in events:
            f.write(dumps(e) + "\n")
    with open(os.path.join(out, "status.json"), "w") as f:
        f.write(dumps(status) + "\n")
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"recorded: {steps} steps, {len(samples)} groups, {total} bytes")
    assert total < 1_000_000, "the recorded fixture must stay under 1 MB"


def write_malicious():
    out = os.path.join(ROOT, "malicious")
    os.makedirs(out, exist_ok=True)
    ESC, BEL = "\x1b", "\x07"
    attacks = [
        "clear " + ESC + "[2J" + ESC + "[H home",
        "title " + ESC + "]0;pwned-title" + BEL + " done",
        "clipboard " + ESC + "]52;c;cHduZWQtY2xpcGJvYXJk" + BEL + " done",
        "c1 csi \u009b31m red \u009d0;x\u009c",
        "bidi \u202eevil\u202c and \u2066isolate\u2069 marks \u200e\u200f",
        "controls nul\u0000after",
        "del \u007f bell \u0007 backspace \b\b\b cr \roverwrite",
        "colour " + ESC + "[31;1mRED" + ESC + "[0m reset " + ESC + "[?1049l altscreen-off",
        "wide 你好 emoji 😀 zalgo a\u0301\u0302\u0303\u0304\u0305\u0306\u0307 tab\tend",
        "<think> wait " + ESC + "[8m hidden </think> <answer> " + ESC + "]8;;http://evil" + ESC + "\\link </answer>",
    ]
    lines = []

    def group(step, gi, texts, prompt="Solve: 2x + 3 = 7"):
        comps = [{"text": t, "reward": float(i % 2), "advantage": (1.0 if i % 2 else -1.0), "length": len(t),
                  "clipped": False, "rewards": {"accuracy": float(i % 2)}} for i, t in enumerate(texts)]
        return dumps({"step": step, "group": gi, "task": "attack" + ESC + "[5m", "prompt": prompt,
                      "answer": "2" + ESC + "[0m", "completions": comps}).encode()

    lines.append(group(1, 0, attacks[:5], prompt="prompt " + ESC + "]0;pwned-title" + BEL + " \u202eevil"))
    lines.append(group(1, 1, attacks[5:]))
    # invalid UTF-8 written raw inside JSON strings (a writer that passes bytes through)
    raw = group(2, 0, ["INVALIDUTF8MARK", "ok text"]).replace(b"INVALIDUTF8MARK", b"bad \xff\xfe \xc0\x80 \xed\xa0\x80 end")
    lines.append(raw)
    lines.append(b'{"step": 2, "group": 1, "completions": [{"text": "torn')  # broken JSON
    lines.append(b"not json at all \x1b[31m red \x1b]0;pwned-title\x07")
    lines.append(b'{"step": "three", "completions": []}')
    lines.append(b'{"step": 3, "group": 0, "completions": "not a list"}')
    big = "A" * (1 << 20)
    big = big[:1000] + ESC + "]0;pwned-title" + BEL + big[1000:-1000] + ESC + "[2J" + big[-1000:]
    lines.append(group(3, 1, [big, "short after huge"]))
    lines.append(group(4, 0, ["last group " + ESC + "[41m", "fine"]))
    with open(os.path.join(out, "samples.jsonl"), "wb") as f:
        for ln in lines:
            f.write(ln + b"\n")

    mlines = [
        dumps({"step": 1, "time": T0 + 1, "stage": "grpo", "reward": 0.5, "rewards/accuracy/mean": 0.25,
               "completions/mean_length": 40, "kl": 0.001, "entropy": 1.2, "loss": 0.1}),
        dumps({"step": 2, "time": T0 + 2, "stage": "grpo", "reward": 0.75, "loss": "NaN", "kl": None,
               "entropy": "inf", "rewards/accuracy/mean": 0.5, "completions/mean_length": 44}),
        '{"step": 3, "time": 1763830003, "reward": NaN, "loss": Infinity}',  # not JSON: skipped
        dumps({"step": 3, "time": T0 + 3}),  # missing keys
        dumps({"step": 4, "time": T0 + 4, "reward": 0.8, "unknown/key": [1, 2, {"x": ESC}],
               "rewards/" + ESC + "[31m/mean": 1.0, "rewards/accuracy/mean": 0.55,
               "completions/mean_length": 47, "skipped_steps": 2}),
        "garbage \x1b[2J line",
        '{"step": 999, "time": 1763830999, "reward": 42.0',  # torn last line: no newline, never shown
    ]
    with open(os.path.join(out, "metrics.jsonl"), "w") as f:
        f.write("\n".join(mlines))  # the last line has no newline
    status = {"state": "failed", "pid": 0, "step": 4, "max_steps": 10, "stage": "grpo" + ESC + "[5m",
              "started": T0, "updated": T0 + 5, "device": "GPU " + ESC + "]0;pwned-title" + BEL + "\u202e",
              "message": "boom " + ESC + "[31mred" + ESC + "[0m"}
    with open(os.path.join(out, "status.json"), "w") as f:
        f.write(dumps(status) + "\n")
    with open(os.path.join(out, "events.jsonl"), "w") as f:
        f.write(dumps({"time": T0 + 5, "level": "error", "msg": "event " + ESC + "]52;c;cHduZWQ=" + BEL + " x"}) + "\n")
    print(f"malicious: {len(lines)} sample lines, {len(mlines)} metrics lines")


if __name__ == "__main__":
    write_recorded()
    write_malicious()
