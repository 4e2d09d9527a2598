# Copied unchanged (below this line) from ../shared/bench/torch_grpo_ref.py, the PyTorch reference of r1lab's benchmarks, so that
# bench/gpu.sh finds it on a GPU machine that receives only this repository. Do not edit: copy it again.
"""Reference GRPO step in PyTorch + HF transformers (what a TRL user without vLLM runs).

Random-init Qwen2-architecture models (no download). For each size: generate P*G completions of
fixed length with HF generate (KV cache, sampling), then old-policy and reference log-probs,
then one clipped-surrogate + k3-KL loss backward and AdamW step. Prints one line per size:
rollout tok/s, train tok/s, step seconds. Usage: python3 torch_grpo_ref.py [cpu|cuda] [sizes...]
"""
import sys, time, torch
from transformers import Qwen2Config, Qwen2ForCausalLM

SIZES = {  # name: (hidden, layers, heads, kv_heads, inter, vocab, P, G, Lp, Lc)
    "tiny":  (128, 4, 4, 4, 384, 64, 16, 8, 32, 96),
    "small": (512, 8, 8, 8, 1536, 4096, 16, 8, 64, 192),
    "q05b":  (896, 24, 14, 2, 4864, 151936, 32, 8, 128, 384),
}

def sync(dev):
    if dev == "cuda": torch.cuda.synchronize()

def run(name, dev):
    h, L, nh, nkv, inter, V, P, G, Lp, Lc = SIZES[name]
    cfg = Qwen2Config(hidden_size=h, num_hidden_layers=L, num_attention_heads=nh, num_key_value_heads=nkv,
                      intermediate_size=inter, vocab_size=V, max_position_embeddings=Lp + Lc + 8,
                      tie_word_embeddings=(name != "q05b"), use_cache=True)
    dtype = torch.bfloat16 if dev == "cuda" else torch.float32
    torch.manual_seed(0)
    pol = Qwen2ForCausalLM(cfg).to(dev, dtype)
    ref = Qwen2ForCausalLM(cfg).to(dev, dtype); ref.load_state_dict(pol.state_dict()); ref.eval()
    nparam = sum(p.numel() for p in pol.parameters())
    opt = torch.optim.AdamW(pol.parameters(), lr=1e-6, fused=(dev == "cuda"))
    prompts = torch.randint(3, V, (P, Lp), device=dev).repeat_interleave(G, 0)
    B = P * G
    res = []
    for it in range(2):  # warm-up, then timed
        sync(dev); t0 = time.perf_counter()
        with torch.no_grad():
            out = pol.generate(prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=Lc,
                               min_new_tokens=Lc, do_sample=True, temperature=1.0, top_p=1.0,
                               pad_token_id=0, eos_token_id=None)
        sync(dev); t1 = time.perf_counter()
        comp = out[:, Lp:]
        rewards = (comp[:, 0] % 2).float()  # stand-in verifiable reward
        r = rewards.view(P, G); adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(B, 1)
        def logps(model, ids):
            logits = model(ids).logits[:, Lp - 1:-1].float()
            return torch.gather(logits.log_softmax(-1), 2, ids[:, Lp:, None]).squeeze(-1)
        mb = max(1, B // 8)
        with torch.no_grad():
            old = torch.cat([logps(pol, out[i:i + mb]) for i in range(0, B, mb)])
            refl = torch.cat([logps(ref, out[i:i + mb]) for i in range(0, B, mb)])
        opt.zero_grad(set_to_none=True)
        for i in range(0, B, mb):
            lp = logps(pol, out[i:i + mb])
            ratio = torch.exp(lp - old[i:i + mb]); a = adv[i:i + mb]
            surr = torch.min(ratio * a, torch.clamp(ratio, 0.8, 1.2) * a)
            kl = torch.exp(refl[i:i + mb] - lp) - (refl[i:i + mb] - lp) - 1
            loss = -(surr - 0.04 * kl).mean(1).sum() / B
            loss.backward()
        torch.nn.utils.clip_grad_norm_(pol.parameters(), 1.0)
        opt.step()
        sync(dev); t2 = time.perf_counter()
        res = (t1 - t0, t2 - t1)
    gen_s, train_s = res
    tok = B * Lc
    print(f"{name:6s} dev={dev} params={nparam/1e6:.2f}M B={B} Lp={Lp} Lc={Lc} | rollout {tok/gen_s:10.0f} tok/s "
          f"({gen_s:.2f}s) | train {B*(Lp+Lc)/train_s:10.0f} tok/s ({train_s:.2f}s) | step {gen_s+train_s:.2f}s", flush=True)

if __name__ == "__main__":
    dev = sys.argv[1] if len(sys.argv) > 1 else ("cuda" if torch.cuda.is_available() else "cpu")
    for n in (sys.argv[2:] or list(SIZES)):
        run(n, dev)
