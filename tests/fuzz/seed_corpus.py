#!/usr/bin/env python3
"""Writes the fuzz seed corpora, tests/fuzz/corpus/<target>/, from the test fixtures (run from the repository root;
standard library only). Seeds are kept small — large fixtures are cut down to the same structure (a tokenizer
keeps its normalizer, pre-tokenizer, post-processor, decoder and added tokens but only a few hundred vocabulary
entries) — so that the fuzzers start from every format feature the fixtures show without spending their time on
megabytes of data. The corpora are committed; rerun this after changing a fixture and commit the difference."""
import hashlib
import json
import os
import shutil
import struct

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode(errors="surrogateescape")  # keeps the invalid UTF-8 of the malicious fixtures
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lines(rel, n=None, maxlen=None):
    out = []
    for line in read(rel).decode(errors="surrogateescape").split("\n"):
        if not line.strip():
            continue
        if maxlen is None or len(line) <= maxlen:
            out.append(line)
        if n is not None and len(out) == n:
            break
    return out


# ---- safetensors ---------------------------------------------------------------------------------------------
def shrink_safetensors(raw, max_numel=4):
    """The same header (names, dtypes, metadata) with every tensor cut to at most max_numel elements."""
    hlen = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + hlen])
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1, "F64": 8}
    out, data, off = {}, b"", 0
    for name, t in header.items():
        if name == "__metadata__":
            out[name] = t
            continue
        shape = [min(d, 2) for d in t["shape"]][:2] or []
        numel = 1
        for d in shape:
            numel *= d
        nb = numel * sizes[t["dtype"]]
        out[name] = {"dtype": t["dtype"], "shape": shape, "data_offsets": [off, off + nb]}
        data += bytes((i * 37) & 0x7f for i in range(nb))
        off += nb
    h = json.dumps(out, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


for rel in ["tests/fixtures/safetensors/values.safetensors",
            "tests/fixtures/safetensors/sharded/model-00001-of-00002.safetensors",
            "tests/fixtures/safetensors/sharded/model-00002-of-00002.safetensors"]:
    put("safetensors", read(rel))
put("safetensors", shrink_safetensors(read("tests/fixtures/models/qwen2_tiny/model.safetensors")))
put("safetensors", shrink_safetensors(read("tests/fixtures/models/qwen2_tiny_bf16/model.safetensors")))
put("safetensors", shrink_safetensors(read("tests/fixtures/models/llama_tiny/model-00001-of-00005.safetensors")))

# ---- safetensors index: the harness's own shards (see safetensors_index.c) and the fixtures' indexes -----------
put("safetensors_index", json.dumps({"metadata": {"total_size": 40}, "weight_map": {
    "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
    "model.norm.weight": "model-00001-of-00002.safetensors",
    "lm_head.weight": "model-00002-of-00002.safetensors",
    "model.layers.0.input_layernorm.weight": "model-00002-of-00002.safetensors"}}, indent=2))
put("safetensors_index", read("tests/fixtures/safetensors/sharded/model.safetensors.index.json"))
put("safetensors_index", read("tests/fixtures/models/llama_tiny/model.safetensors.index.json"))


# ---- tokenizers ----------------------------------------------------------------------------------------------
def shrink_tokenizer(raw, keep_merges=60):
    """Byte-level base tokens + the tokens the first merges build + added tokens; ids renumbered densely."""
    tok = json.loads(raw)
    model = tok["model"]
    merges = model.get("merges", [])[:keep_merges]
    vocab = model["vocab"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    keep = [t for t, _ in by_id[:256]]
    for m in merges:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        for t in (a, b, a + b):
            if t in vocab and t not in keep:
                keep.append(t)
    merges = [m for m in merges
              if all(t in keep for t in ((m.split(" ", 1) if isinstance(m, str) else m)))]
    new_vocab = {t: i for i, t in enumerate(keep)}
    base = len(new_vocab)
    for i, a in enumerate(tok.get("added_tokens") or []):
        a["id"] = base + i
    model["vocab"] = new_vocab
    model["merges"] = merges
    # Post-processors name special tokens by id: point them at the renumbered added tokens.
    ids = {a["content"]: a["id"] for a in tok.get("added_tokens") or []}

    def fix(node):
        if isinstance(node, dict):
            if "special_tokens" in node and isinstance(node["special_tokens"], dict):
                for name, spec in node["special_tokens"].items():
                    if name in ids:
                        spec["ids"] = [ids[name]]
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)
    fix(tok.get("post_processor"))
    return json.dumps(tok, ensure_ascii=False, indent=1)


put("tokenizer", read("models/world/tokenizer.json"))
for name in ["gpt2", "llama3", "qwen2", "misc_a", "misc_b"]:
    put("tokenizer", shrink_tokenizer(read(f"tests/fixtures/tokenizers/{name}/tokenizer.json")), name)

cases = [json.loads(l) for l in lines("tests/fixtures/tokenizers/cases.jsonl")]
texts = []
for c in cases:
    t = c.get("text")
    if isinstance(t, str) and t not in texts and len(t.encode()) < 400:
        texts.append(t)
for i, t in enumerate(texts[:48]):
    put("tokenizer_encode", bytes([i % 4 | (0x80 if i % 3 == 0 else 0)]) + t.encode())

# ---- configs -------------------------------------------------------------------------------------------------
for rel in ["tests/fixtures/models/qwen2_tiny/config.json", "tests/fixtures/models/llama_tiny/config.json",
            "tests/fixtures/models/qwen2_tiny_bf16/config.json", "models/base/config.json",
            "tests/fixtures/models/llama_tiny/generation_config.json", "models/base/generation_config.json"]:
    put("model_config", read(rel))
for rel in ["configs/base.json", "configs/r1-zero.json", "tests/fixtures/grpo/tiny.json"]:
    put("train_config", read(rel))
# training_config.json inside a checkpoint: the configs above, and the resolved ones a demo and a tiny
# pretraining run wrote (tests/fuzz/corpus/training_config/grpo-demo, pretrain-tiny, kept as committed).
for rel in ["configs/base.json", "configs/r1-zero.json", "tests/fixtures/grpo/tiny.json"]:
    put("training_config", read(rel))
put("train_config", '{"stage": "sft", "model_name_or_path": "models/base", "dataset": "data.jsonl",'
                    ' "max_seq_length": 64, "learning_rate": 1e-4, "resume_from_checkpoint": "runs/x@latest"}')
for ov in ["learning_rate=1e-4\nmax_steps=20", "world.tasks.linear=0.5\nworld.task_params.arith.digits=2",
           'reward_funcs=["accuracy", {"name": "format", "soft": true}]', "output_dir=runs/try2\nseed=7",
           'max_steps="many"', "dataset=world:nope", "temperature=0\nbeta=0.04\nloss_type=dr_grpo",
           "resume_from_checkpoint=true", "template=r1\nnum_generations=8\nepsilon_high=0.28",
           "lerning_rate=0.1", "=3", "a.b.c=1"]:
    put("config_overrides", ov)

# ---- datasets ------------------------------------------------------------------------------------------------
put("dataset", read("tests/fixtures/datasets/valid.jsonl"))
put("dataset", '{"question": "Natalia sold 48 clips.", "answer": "She sold 48/2 = <<48/2=24>>24.\\n#### 1,234"}\n'
               '{"prompt": "2+2?", "answer": 4}\r\n\n{"prompt": "half", "answer": "1/2"}\n')
put("dataset", '{"prompt": "make 24", "numbers": [3, 7, 25, 50], "target": 96}\n'
               '{"prompt": "tinyzero", "nums": [1, 2, 3], "target": 6}\n')
put("sft_data", b"\x00" + b'{"prompt": "Solve: 2x + 3 = 7", "completion": " <think> 2x = 4 </think> <answer> 2 </answer>"}\n'
                          b'{"prompt": "Q", "completion": "A"}\n')
put("sft_data", b"\x01" + b'{"text": "a document of the corpus"}\n{"text": "another one, longer than that"}\n')

# ---- the remote client ---------------------------------------------------------------------------------------
def chunk(delta, finish=None):
    return "data: " + json.dumps({"id": "c", "object": "chat.completion.chunk",
                                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"


put("sse_stream", "\ufeff: comment line\r\ndata: {\"a\":1}\r\n\r\nevent: ping\ndata:no-space\n\n"
                  "data: line one\rdata: line two\r\rid: 7\nretry: 100\nunknown: x\ndata\n\n"
                  "data: caf\u00e9 \U0001F600\n\n: keep-alive\n\ndata: [DONE]\n\n")
put("sse_stream", chunk({"role": "assistant"}) + chunk({"reasoning_content": "think"}) +
    chunk({"content": "Hello"}) + chunk({}, "stop") +
    'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7}}\n\ndata: [DONE]\n\n')
put("sse_stream", chunk({"reasoning": "r"}) + "data: {not json at all\n\n")
put("sse_stream", 'event: error\ndata: {"error":{"message":"model overloaded","code":503}}\n\n')
put("sse_stream", 'data: {"error":{"message":"rate limited"}}\n\ndata: [DONE]\n\n')
put("oai_response", json.dumps({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {
    "role": "assistant", "content": "<think>a</think> 2", "reasoning_content": "r"}, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 9}}))
for body in ['{"error": {"message": "invalid api key", "type": "auth"}}', '{"error": "quota exceeded"}',
             '{"message": "not found"}', "<html>502 Bad Gateway</html>", ""]:
    put("oai_response", body)

# ---- run directories -----------------------------------------------------------------------------------------
rec = "tests/fixtures/runs/recorded"
mal = "tests/fixtures/runs/malicious"
metrics = lines(f"{rec}/metrics.jsonl", 24)
put("metrics_line", "\n".join(metrics[:8]))
put("metrics_line", "\n".join(metrics[8:24]))
put("metrics_line", read(f"{mal}/metrics.jsonl"))
samples = lines(f"{rec}/samples.jsonl", 6) + lines(f"{mal}/samples.jsonl", maxlen=4000)
for s in samples:
    put("samples_line", s)
for rel in [f"{rec}/status.json", f"{mal}/status.json"]:
    put("status_json", read(rel))
put("control_channel", b"\x40" + b'{"time": 1.5, "cmd": "pause"}\n{"time": 2, "cmd": "resume"}\n'
                                 b'{"time": 3, "cmd": "save"}\n{"cmd": "eval"}\n{"cmd": "stop"}\n')
put("control_channel", b"\x10" + b'{"cmd": "nope"}\nnot json\n{"cmd": 3}\n\n{"time": 1, "cmd": "save"}')
sep = "\n@@\n"
put("run_source", sep.join(["\n".join(metrics[:6]), "\n".join(lines(f"{rec}/samples.jsonl", 2)),
                            read(f"{rec}/events.jsonl").decode(errors="surrogateescape"), read(f"{rec}/status.json").decode(errors="surrogateescape"),
                            read(f"{rec}/config.json").decode(errors="surrogateescape"), "checkpoints/step-000300"]))
put("run_source", sep.join([read(f"{mal}/metrics.jsonl").decode(errors="surrogateescape"),
                            "\n".join(lines(f"{mal}/samples.jsonl", maxlen=4000)),
                            read(f"{mal}/events.jsonl").decode(errors="surrogateescape"), read(f"{mal}/status.json").decode(errors="surrogateescape")]))
for step, rel in [(3, f"{rec}/metrics.jsonl"), (0, f"{mal}/metrics.jsonl")]:
    put("jsonl_truncate", struct.pack("<q", step) + "\n".join(lines(rel, 6)).encode(errors="surrogateescape") + b"\n{\"step\": 9")

# ---- themes and answers --------------------------------------------------------------------------------------
for name in sorted(os.listdir(os.path.join(ROOT, "themes"))):
    put("theme", read(f"themes/{name}"))
seen = set()
for c in (json.loads(l) for l in lines("tests/fixtures/rewards/cases.jsonl")):
    comp = c.get("completion")
    if isinstance(comp, str) and comp not in seen:
        seen.add(comp)
        put("answer", comp)
for extra in ["\\boxed{\\frac{7}{3}}", "$\\dfrac{-1}{2}$", "x = 1,234,567.", "**0042**", "\\boxed{12", "1/0",
              "<answer> 123456789012345678901234567890.500 </answer>", "<think>wait, let me recheck</think>"]:
    put("answer", extra)

# ---- pipelines: recipes (r1lab-pipeline(1) and tests/test_pipeline.c) and the state file (docs/run-format.md) ---
SFT = {"stage": "sft", "model_name_or_path": "base", "dataset": "world:coldstart", "max_steps": 3}
GRPO = {"stage": "grpo", "model_name_or_path": "@a", "dataset": "world:linear", "max_steps": 3}
put("pipeline_config", json.dumps({"output_dir": "runs/r1", "defaults": {"seed": 1, "threads": 2}, "stages": [
    {"name": "cold_start", "kind": "train", "config": "configs/base.json"},
    {"name": "rl", "kind": "train", "config": "configs/r1-zero.json", "overrides": {"model_name_or_path": "@cold_start"}},
    {"name": "rejection", "kind": "rejection_sample", "model": "@rl", "dataset": "world:mix", "samples_per_prompt": 4,
     "extra": [{"world": "nonreasoning", "n": 500}]},
    {"name": "sft", "kind": "train", "config": SFT, "overrides": {"dataset": "@rejection"}},
    {"name": "small", "kind": "distill", "teacher": "@sft", "student": dict(SFT, model_name_or_path="s"),
     "sample": {"prompts": 512}}]}, indent=1))
put("pipeline_config", json.dumps({"defaults": {"seed": 1, "eval_steps": 5, "threads": 2}, "stages": [
    {"name": "a", "kind": "train", "config": dict(SFT, output_dir="elsewhere", resume_from_checkpoint=True)},
    {"name": "b", "kind": "train", "config": dict(GRPO, seed=4), "overrides": {"max_steps": 7}},
    {"name": "r", "kind": "rejection_sample", "model": "@b", "stop_strings": ["@@x"]},
    {"name": "c", "kind": "train", "config": SFT, "overrides": {"dataset": "@r", "model_name_or_path": "@a"}}]})
    + "\n--\nb.learning_rate=0.25\ndefaults.seed=9\noutput_dir=runs/x/\nr.top_k=3")
put("pipeline_config", json.dumps({"stages": [{"name": "small", "kind": "distill", "teacher": "runs/t@latest",
    "student": {"model_name_or_path": "s", "max_steps": 2}, "sample": {"prompts": 8}, "overrides": {"max_steps": 5}}]})
    + "\n--\nsmall-sample.prompts=4\nsmall.max_steps=1")
for bad in ['{"stages": []}', '{"stages": [{"name": "a", "kind": "cook"}]}',
            json.dumps({"stages": [{"name": "a", "kind": "train", "config": dict(SFT, model_name_or_path="@b")},
                                   {"name": "b", "kind": "train", "config": SFT}]})]:
    put("pipeline_config", bad)
put("pipeline_status", '{"version": 1, "state": "running", "pid": 4242, "started": 1763830000.5, "updated": 1763830412.1,\n'
    ' "stages": [{"name": "cold_start", "kind": "train", "detail": "sft", "dir": "1-cold_start",\n'
    '             "state": "finished", "started": 1763830000.6, "ended": 1763830200.2, "message": ""},\n'
    '            {"name": "rl", "kind": "train", "detail": "grpo", "dir": "2-rl", "state": "running", "started": 1763830200.3}]}\n')
put("pipeline_status", json.dumps({"version": 1, "state": "stopped", "pid": 77, "started": 5, "updated": 6, "stages": [
    {"name": "a", "kind": "train", "detail": "sft", "dir": "1-a", "state": "finished", "started": 1, "ended": 2, "message": ""},
    {"name": "b", "kind": "rejection_sample", "detail": "", "dir": "2-b", "state": "failed", "started": 3, "ended": 4,
     "message": "it \"broke\"\n: r\u00e9sum\u00e9 \U0001F600"}]}, indent=2, ensure_ascii=False))
put("pipeline_status", '{"stages": [{"name": "a", "dir": "../../etc"}]}')
