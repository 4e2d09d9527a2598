#!/usr/bin/env python3
"""Writes tests/fixtures/grpo/loss_cases.json: GRPO advantages and losses computed with PyTorch autograd.

Run from the repository root:  python3 tests/ref/make_grpo_fixtures.py   (needs torch)

The reference is written the way TRL's GRPOTrainer computes it, on padded (B, L) tensors: ratio =
exp(logp - old), the clipped surrogate of equation 1 with the k3 KL of equation 2, aggregated per loss
type, then autograd for d loss / d logp. Advantages follow equation 3 with torch.std (unbiased) + 1e-4.
Cases cover every loss_type, epsilon_high != epsilon, beta = 0 and beta > 0, masked (truncated) tokens,
ratios inside and outside the clip range, and a zero-advantage group.
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "grpo", "loss_cases.json")


def advantages(rewards, G, scale):
    r = rewards.view(-1, G)
    a = r - r.mean(1, keepdim=True)
    if scale:
        a = a / (r.std(1, keepdim=True) + 1e-4)
    equal = (r == r[:, :1]).all(1, keepdim=True).expand_as(r)
    return torch.where(equal, torch.zeros_like(a), a).reshape(-1)


def loss_ref(logp, old, ref, mask, adv, eps, eps_high, beta, loss_type, max_len):
    logp = logp.clone().requires_grad_(True)
    ratio = torch.exp(logp - old)
    c2 = torch.clamp(ratio, 1 - eps, 1 + eps_high)
    per_token = -torch.min(ratio * adv[:, None], c2 * adv[:, None])
    if beta != 0:
        per_token = per_token + beta * (torch.exp(ref - logp) - (ref - logp) - 1)
    if loss_type == "grpo":
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "dapo":
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
    else:
        loss = (per_token * mask).sum() / (per_token.size(0) * max_len)
    loss.backward()
    return loss.item(), logp.grad


def main():
    g = torch.Generator().manual_seed(7)
    P, G, L = 2, 4, 9
    B = P * G
    lens = [9, 3, 6, 9, 1, 7, 5, 8]
    mask = torch.zeros(B, L, dtype=torch.float64)
    for i, n in enumerate(lens):
        mask[i, :n] = 1
    mask[3, :] = 0  # a truncated completion excluded from the loss (mask_truncated_completions)
    logp = -torch.rand(B, L, generator=g, dtype=torch.float64) * 3
    old = logp + 0.35 * torch.randn(B, L, generator=g, dtype=torch.float64)  # ratios spread across the clip range
    ref = logp + 0.5 * torch.randn(B, L, generator=g, dtype=torch.float64)
    rewards = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.5, 1.5, 1.5, 1.5], dtype=torch.float64)  # group 2: zero std
    cases = []
    for scale in (True, False):
        adv = advantages(rewards, G, scale)
        for loss_type in ("grpo", "dapo", "dr_grpo"):
            for eps_high in (0.2, 0.28):
                for beta in (0.0, 0.04):
                    loss, grad = loss_ref(logp, old, ref, mask, adv, 0.2, eps_high, beta, loss_type, L)
                    cases.append({"scale_rewards": "group" if scale else "none", "loss_type": loss_type,
                                  "epsilon": 0.2, "epsilon_high": eps_high, "beta": beta, "max_completion_length": L,
                                  "advantages": adv.tolist(), "loss": loss,
                                  "dlogp": [[grad[i, t].item() for t in range(lens[i])] for i in range(B)]})
    data = {"torch": torch.__version__, "P": P, "G": G, "lens": lens, "rewards": rewards.tolist(),
            "mask": [[mask[i, t].item() for t in range(lens[i])] for i in range(B)],
            "logp": [[logp[i, t].item() for t in range(lens[i])] for i in range(B)],
            "old_logp": [[old[i, t].item() for t in range(lens[i])] for i in range(B)],
            "ref_logp": [[ref[i, t].item() for t in range(lens[i])] for i in range(B)], "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f)
    print("wrote", OUT, len(cases), "cases")


if __name__ == "__main__":
    main()
