#!/usr/bin/env python3
"""Checks that Hugging Face transformers loads a checkpoint r1lab wrote, and agrees with r1lab on it.

Usage (repository root, after `make`):  python3 tests/ref/check_hf_load.py CHECKPOINT_DIR [TEXT]
Needs torch and transformers. Loads the directory with AutoModelForCausalLM and AutoTokenizer, then compares
the tokenizer ids and per-token log-probs with `r1lab score --json` on the same text. Exits 1 on a mismatch.
"""
import json
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    ckpt = sys.argv[1]
    text = sys.argv[2] if len(sys.argv) > 2 else "Solve: 2x + 3 = 7. <think> 2x = 4 </think> <answer> 2 </answer>"
    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32, attn_implementation="eager")
    tok = AutoTokenizer.from_pretrained(ckpt)
    ids = tok(text)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    lp = logits.log_softmax(-1)[:-1].gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
    out = subprocess.run(["./r1lab", "score", ckpt, text, "--json", "--threads", "1"], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr)
        sys.exit(1)
    got = json.loads(out.stdout)
    ok = got["ids"] == ids
    diff = max(abs(a - b) for a, b in zip(got["logprobs"], lp.tolist())) if ok else float("inf")
    print(f"{ckpt}: transformers {type(model).__name__} loaded; ids {'equal' if ok else 'DIFFER'}; "
          f"max |logprob diff| {diff:.2e} over {len(ids) - 1} tokens")
    sys.exit(0 if ok and diff < 1e-4 else 1)


if __name__ == "__main__":
    main()
