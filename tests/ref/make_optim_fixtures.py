#!/usr/bin/env python3
"""Writes tests/fixtures/optim/adamw.json: AdamW + gradient clipping + learning-rate schedules in PyTorch.

Run from the repository root:  python3 tests/ref/make_optim_fixtures.py   (needs torch, transformers)

The parameters are those of a tiny Qwen2 model (HF names and shapes), so the C test drives r1lab's optimiser
through the model's own parameter table. Weight decay applies to 2-D tensors only (HF Trainer's default
grouping). Each case runs 6 steps of random gradients through torch.optim.AdamW, clip_grad_norm_ and the
schedule from transformers.get_scheduler, and records every parameter after every step.
"""
import json
import os

import torch
import transformers
from transformers import get_scheduler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "optim", "adamw.json")
C, I, V = 4, 6, 5
SHAPES = {
    "model.embed_tokens.weight": (V, C),
    "model.layers.0.input_layernorm.weight": (C,),
    "model.layers.0.self_attn.q_proj.weight": (C, C),
    "model.layers.0.self_attn.k_proj.weight": (C, C),
    "model.layers.0.self_attn.v_proj.weight": (C, C),
    "model.layers.0.self_attn.q_proj.bias": (C,),
    "model.layers.0.self_attn.k_proj.bias": (C,),
    "model.layers.0.self_attn.v_proj.bias": (C,),
    "model.layers.0.self_attn.o_proj.weight": (C, C),
    "model.layers.0.post_attention_layernorm.weight": (C,),
    "model.layers.0.mlp.gate_proj.weight": (I, C),
    "model.layers.0.mlp.up_proj.weight": (I, C),
    "model.layers.0.mlp.down_proj.weight": (C, I),
    "model.norm.weight": (C,),
    "lm_head.weight": (V, C),
}


def run(schedule, warmup, clip, wd, steps=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = {n: torch.nn.Parameter(torch.randn(s, generator=g)) for n, s in SHAPES.items()}
    init = {n: p.detach().clone() for n, p in params.items()}
    groups = [{"params": [p for n, p in params.items() if p.dim() == 2], "weight_decay": wd},
              {"params": [p for n, p in params.items() if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.95), eps=1e-8, foreach=False)
    sched = get_scheduler(schedule, opt, num_warmup_steps=warmup, num_training_steps=steps)
    grads, after, lrs, norms = [], [], [], []
    for _ in range(steps):
        step_grads = {n: 3 * torch.randn(s, generator=g) for n, s in SHAPES.items()}
        for n, p in params.items():
            p.grad = step_grads[n].clone()
        lrs.append(opt.param_groups[0]["lr"])
        norms.append(torch.nn.utils.clip_grad_norm_(list(params.values()), clip if clip > 0 else float("inf")).item())
        opt.step()
        sched.step()
        opt.zero_grad()
        grads.append({n: t.flatten().tolist() for n, t in step_grads.items()})
        after.append({n: p.detach().flatten().tolist() for n, p in params.items()})
    return {"schedule": schedule, "warmup": warmup, "clip": clip, "weight_decay": wd, "steps": steps,
            "init": {n: t.flatten().tolist() for n, t in init.items()}, "grads": grads, "after": after,
            "lr": lrs, "grad_norm": norms}


def main():
    cases = [run("cosine", 2, 1.0, 0.1), run("linear", 0, 5.0, 0.0, seed=1), run("constant", 0, 0.0, 0.01, seed=2),
             run("constant_with_warmup", 3, 1.0, 0.1, seed=3)]
    data = {"torch": torch.__version__, "transformers": transformers.__version__, "lr": 1e-2, "beta1": 0.9,
            "beta2": 0.95, "eps": 1e-8, "hidden": C, "intermediate": I, "vocab": V, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
