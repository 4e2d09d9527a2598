#!/usr/bin/env python3
"""Writes tests/fixtures/sampler/warpers.json: sampling distributions computed with transformers' own logits
warpers (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, applied in generate's order).

Run from the repository root:  python3 tests/ref/make_sampler_fixtures.py   (needs torch, transformers)
"""
import json
import os

import torch
import transformers
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "sampler", "warpers.json")


def dist(logits, temperature, top_k, top_p):
    scores = logits[None, :].clone()
    ids = torch.zeros(1, 1, dtype=torch.long)
    scores = TemperatureLogitsWarper(temperature)(ids, scores)
    if top_k > 0:
        scores = TopKLogitsWarper(top_k)(ids, scores)
    if top_p < 1.0:
        scores = TopPLogitsWarper(top_p)(ids, scores)
    return scores.softmax(-1)[0]


def main():
    g = torch.Generator().manual_seed(3)
    sets, cases = [], []
    r8 = lambda xs: [float("%.8g" % x) for x in xs]
    for V in (8, 64, 256):
        logits = 2.5 * torch.randn(V, generator=g, dtype=torch.float32)
        logits = torch.tensor(r8(logits.tolist()), dtype=torch.float32)  # the values the C test reads back
        sets.append(logits.tolist())
        for temperature in (1.0, 0.6, 1.7):
            for top_k in (0, 5, 20):
                for top_p in (1.0, 0.95, 0.7, 0.3):
                    p = dist(logits, temperature, top_k, top_p)
                    cases.append({"set": len(sets) - 1, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                                  "probs": r8(p.tolist())})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "logits": sets,
                   "cases": cases}, f)
    print("wrote", OUT, len(cases), "cases")


if __name__ == "__main__":
    main()
