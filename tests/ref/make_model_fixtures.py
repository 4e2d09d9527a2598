#!/usr/bin/env python3
"""Writes the model fixtures the C tests compare against (tests/fixtures/models/).

Run from the repository root:  python3 tests/ref/make_model_fixtures.py
Needs (pip): torch, transformers, tokenizers, safetensors. Runs on the CPU in a few seconds.

It builds a small byte-level BPE tokenizer and two tiny random models in Hugging Face layout:
  qwen2_tiny  Qwen2: GQA (4 heads / 2 kv heads), q/k/v biases, untied lm_head, rope_theta 1e4
  llama_tiny  Llama: MQA (4 heads / 1 kv head), head_dim 16 != hidden/heads, tied embeddings,
              llama3 RoPE scaling, saved sharded (model.safetensors.index.json)
plus qwen2_tiny_bf16 (the same Qwen2 weights stored as BF16). Weights are drawn with a larger spread than
HF's default init so that near-uniform outputs cannot hide a mistake.

For each model, ref.safetensors holds, for a batch of three sequences of different lengths: the logits of
every position, the log-probability of every next token, the entropy at every position, the mean
next-token loss and the gradient of that loss for every parameter ("grad.<name>"), and a greedy
continuation of a prompt made by transformers' generate.
"""
import json
import os
import sys

import torch
import transformers
import tokenizers
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, normalizers, Regex
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "models")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
CORPUS = [
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it.",
    "<think> 2x + 3 = 7, so 2x = 4 and x = 2. Wait, let me check: 2*2 + 3 = 7. </think> <answer> 2 </answer>",
    "Solve: 5x - 4 = 11. Compute: 47 * 23 = 1081. Using the numbers 3, 5, 7, make 22.",
    "The quick brown fox jumps over the lazy dog. 你好，世界。 Ça va très bien, merci!",
    "def f(x):\n    return x * x + 1\n\nprint(f(12345))",
]


def build_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=384, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer)
    tok.add_tokens(["<think>", "</think>", "<answer>", "</answer>"])
    return tok


def reinit(model, seed, embed_std=0.5):
    """Larger-than-default weights: std 0.15 matrices, embed_std embeddings, norms 1 +- 0.2, biases 0.1.
    A tied model gets a smaller embedding spread: otherwise each token mostly predicts itself and greedy
    decoding degenerates into repeating one id, which would make the greedy test too easy to pass."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed" in name:
                p.copy_(embed_std * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def reference(model, vocab, seed):
    g = torch.Generator().manual_seed(seed + 1)
    lens = [9, 17, 5]
    seqs = [torch.randint(0, vocab, (n,), generator=g) for n in lens]
    model.zero_grad(set_to_none=True)
    logits_all, logp_all, ent_all = [], [], []
    total_nll, count = 0.0, 0
    for ids in seqs:
        out = model(ids[None, :]).logits[0]  # (T, V)
        logsm = out.log_softmax(-1)
        lp = logsm[:-1].gather(1, ids[1:, None])[:, 0]
        ent = -(logsm.exp() * logsm).sum(-1)
        total_nll = total_nll - lp.sum()
        count += lp.numel()
        logits_all.append(out.detach())
        logp_all.append(lp.detach())
        ent_all.append(ent.detach())
    loss = total_nll / count
    loss.backward()
    ref = {
        "input_ids": torch.cat(seqs).to(torch.int32),
        "seq_lens": torch.tensor(lens, dtype=torch.int32),
        "logits": torch.cat(logits_all).contiguous(),
        "logprobs": torch.cat(logp_all).contiguous(),
        "entropy": torch.cat(ent_all).contiguous(),
        "loss": loss.detach().reshape(1),
    }
    for name, p in model.named_parameters():
        ref["grad." + name] = p.grad.detach().clone().contiguous()
    prompt = seqs[1][:6]
    with torch.no_grad():
        out = model.generate(prompt[None, :], attention_mask=torch.ones(1, 6, dtype=torch.long), max_new_tokens=24,
                             do_sample=False, eos_token_id=None, pad_token_id=0)
    assert len(set(out[0, 6:].tolist())) >= 8, "greedy continuation too repetitive to be a useful test"
    ref["greedy_prompt"] = prompt.to(torch.int32)
    ref["greedy_ids"] = out[0, 6:].to(torch.int32).contiguous()
    return ref


def cli_reference(model, tok, text, prompt):
    """What `r1lab score` and `r1lab generate` must print for this model: HF tokenizer ids, per-token
    log-probs of the text, and a greedy continuation of the prompt."""
    ids = tok.encode(text).ids
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
        lp = logits.log_softmax(-1)[:-1].gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
        pids = tok.encode(prompt).ids
        out = model.generate(torch.tensor([pids]), attention_mask=torch.ones(1, len(pids), dtype=torch.long),
                             max_new_tokens=12, do_sample=False, eos_token_id=None, pad_token_id=0)
    return {"text": text, "ids": ids, "logprobs": lp.tolist(), "sum": lp.sum().item(), "prompt": prompt,
            "prompt_ids": pids, "new_ids": out[0, len(pids):].tolist(),
            "parameters": sum(p.numel() for p in model.parameters())}


def save(model, tok, name, ref, **kw):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    model.save_pretrained(d, safe_serialization=True, **kw)
    tok.save(os.path.join(d, "tokenizer.json"))
    if ref is not None:
        save_file(ref, os.path.join(ROOT, name + ".ref.safetensors"), metadata={"format": "pt"})


def main():
    torch.manual_seed(0)
    os.makedirs(ROOT, exist_ok=True)
    tok = build_tokenizer()
    vocab = tok.get_vocab_size()
    common = dict(vocab_size=vocab, max_position_embeddings=128, rms_norm_eps=1e-6, use_cache=True,
                  bos_token_id=None, eos_token_id=0, pad_token_id=None)

    qcfg = Qwen2Config(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       intermediate_size=112, tie_word_embeddings=False, rope_theta=10000.0,
                       attn_implementation="eager", **common)
    qwen = Qwen2ForCausalLM(qcfg).float()
    reinit(qwen, 1)
    save(qwen, tok, "qwen2_tiny", reference(qwen, vocab, 1))
    cli = {"qwen2_tiny": cli_reference(qwen, tok, "Solve: 2x + 3 = 7. <think> 2x = 4 </think> <answer> 2 </answer>",
                                       "The user asks a question")}

    # The same weights rounded to BF16 on disk; its reference is the rounded model run in fp32.
    qbf = Qwen2ForCausalLM(qcfg).float()
    qbf.load_state_dict({k: v.to(torch.bfloat16).float() for k, v in qwen.state_dict().items()})
    ref_bf = reference(qbf, vocab, 1)
    qbf_disk = Qwen2ForCausalLM(qcfg)
    qbf_disk.load_state_dict(qbf.state_dict())
    save(qbf_disk.to(torch.bfloat16), tok, "qwen2_tiny_bf16",
         {k: v for k, v in ref_bf.items() if not k.startswith("grad.")})

    lcfg = LlamaConfig(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                       head_dim=16, intermediate_size=96, tie_word_embeddings=True,
                       rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 32},
                       attn_implementation="eager", **common)
    llama = LlamaForCausalLM(lcfg).float()
    reinit(llama, 2, embed_std=0.12)
    save(llama, tok, "llama_tiny", reference(llama, vocab, 2), max_shard_size="60KB")
    cli["llama_tiny"] = cli_reference(llama, tok, "def f(x):\n    return x * x + 1  # 你好", "print(f(12345")
    with open(os.path.join(ROOT, "cli.json"), "w") as f:
        json.dump(cli, f, indent=1)

    with open(os.path.join(ROOT, "VERSION"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\n"
                f"tokenizers {tokenizers.__version__}\npython {sys.version.split()[0]}\n")
    print("wrote", ROOT)


if __name__ == "__main__":
    main()
