#!/usr/bin/env python3
"""Builds the tokenizer fixtures that tests/test_tokenizer.c and tests/test_tokenize_cli.c compare against.

The Hugging Face hub is not needed: every tokenizer is trained here, with the `tokenizers` library, on a small
corpus written below, and configured the way the real models configure theirs:

  gpt2     ByteLevel pre-tokenizer with the GPT-2 regex, ByteLevel decoder, <|endoftext|>; merges saved in the
           legacy "a b" spelling
  qwen2    NFC, Split(Qwen2 regex, isolated) + ByteLevel(use_regex=False), chat and reasoning added tokens
  llama3   Split(Llama-3 regex) + ByteLevel(use_regex=False), ignore_merges, TemplateProcessing adding
           <|begin_of_text|>
  misc_a   exercises the less common parts: NFKC+Lowercase, Split(String) merged_with_previous, Digits,
           ByteLevel(add_prefix_space=True), lstrip/rstrip/single_word/normalized added tokens, a Sequence
           post-processor with a two-sided template
  misc_b   NFD, Split with removed / contiguous / merged_with_next / invert, Oniguruma-only regex syntax
           (\\h, ^ and $ at line ends, \\s including U+0085), Sequence decoder

Outputs (all committed, < 1 MB together):
  tests/fixtures/tokenizers/<name>/tokenizer.json
  tests/fixtures/tokenizers/cases.jsonl    one line per (tokenizer, text): ids without and with special tokens,
                                            decode(ids) and decode(ids, skip_special_tokens=True)
  tests/fixtures/tokenizers/VERSION        the tokenizers version that produced them

cases.jsonl is also the golden-text fixture: to add a case, append a text to TEXTS below and rerun.

Rerun (from the repository root; needs `pip install tokenizers`, no network):
    python3 tests/ref/make_tokenizer_fixtures.py
then `make test`. Training is deterministic for a given tokenizers version, so an unchanged script
reproduces the same files."""
import json
import os
import random
import sys
import unicodedata

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from tokenizers import trainers

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizers")

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def training_corpus():
    """A few hundred lines of mixed text. Seeded, so training is reproducible."""
    rng = random.Random(1234)
    english = [
        "The quick brown fox jumps over the lazy dog.",
        "Reinforcement learning with verifiable rewards teaches the model to reason step by step.",
        "Wait, let me check that again: the answer should be positive.",
        "I'm sure they're right, but we'll see what you've done and what he'd say.",
        "It's the model's policy that we update with group relative advantages.",
        "Solve: 2x + 3 = 7. Subtract 3 from both sides, then divide by 2, so x = 2.",
        "The reward rises while the response length grows during training.",
        "Hello world! How are you today? Fine, thanks.",
        "DeepSeek-R1 was trained with GRPO, a variant of PPO without a value network.",
        "THE CAT SAT ON THE MAT. IT'S LOUD. THEY'LL KNOW.",
    ]
    cjk = [
        "我们使用强化学习来训练语言模型。", "让我们一步一步地思考这个问题。", "答案是四十二。",
        "日本語のテキストも少し含めます。", "ひらがなとカタカナと漢字。", "한국어 문장도 포함합니다.",
        "中文、日本語、한국어を混ぜた文。",
    ]
    accents = [
        "café naïve résumé façade coöperate señor jalapeño", "Ærøskøbing Đakovo Łódź Zürich São Paulo",
        "crème brûlée à la carte", "Ελληνικά και русский язык", "¿Qué tal? ¡Muy bien!",
    ]
    emoji = ["I love this 😀😃😄", "family 👨‍👩‍👧‍👦 and thumbs 👍🏽👍🏿", "flags 🇫🇷🇯🇵 hearts ❤️💙",
             "rocket 🚀 fire 🔥 check ✅"]
    code = [
        "def add(a, b):\n    return a + b\n",
        "for (int i = 0; i < n; i++) {\n\tsum += x[i];\n}\n",
        '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
        "if (x != NULL && y >= 0) { printf(\"%d\\n\", y); }",
        "import numpy as np\narr = np.zeros((3, 4), dtype=np.float32)\n",
        "<think>First, compute 12 * 7 = 84.</think><answer>84</answer>",
    ]
    digits = ["1", "12", "123", "1234", "3.14159", "2024-06-01", "1,000,000", "0x1F", "42nd", "9999"]
    lines = []
    for _ in range(60):
        lines.append(rng.choice(english) + " " + rng.choice(english))
        lines.append(rng.choice(cjk) + rng.choice(cjk))
        acc = rng.choice(accents)
        lines.append(acc)
        lines.append(unicodedata.normalize("NFD", acc))
        lines.append(rng.choice(emoji) + " " + rng.choice(english))
        lines.append(rng.choice(code))
        lines.append(" ".join(rng.choice(digits) for _ in range(6)))
        lines.append("  ".join(rng.choice(english).split()) + "\t\n")
    return lines


def train(name, vocab_size, normalizer=None, pre_tokenizer=None, special=(), ignore_merges=False):
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(special), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_corpus(), trainer)
    if not ignore_merges:
        return tok
    # Rebuild with ignore_merges and a few vocabulary entries that no merge produces, so that the fixture
    # actually depends on ignore_merges (a pre-token found in the vocabulary is emitted whole).
    model = json.loads(tok.to_str())["model"]
    vocab = dict(model["vocab"])
    for word in ["ĠGRPO", "Ġreinforcement", "Ġverifiable", "Ġpolicy", "Ġadvantages", "ĠDeepSeek"]:
        if word not in vocab:
            vocab[word] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    new = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    if normalizer is not None:
        new.normalizer = normalizer
    new.pre_tokenizer = pre_tokenizer
    return new


def build_gpt2():
    tok = train("gpt2", 1000, pre_tokenizer=pre_tokenizers.ByteLevel(add_prefix_space=False),
                special=["<|endoftext|>"])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def build_qwen2():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok = train("qwen2", 1200, normalizer=normalizers.NFC(), pre_tokenizer=pre)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    # Real Qwen checkpoints mark <think> as normalized=false; <answer> is normalized here so that the
    # second (normalized) matching pass is exercised too.
    tok.add_tokens([AddedToken("<think>", special=False, normalized=False),
                    AddedToken("</think>", special=False, normalized=False),
                    AddedToken("<answer>", special=False, normalized=True),
                    AddedToken("</answer>", special=False, normalized=True)])
    return tok


def build_llama3():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok = train("llama3", 1500, pre_tokenizer=pre, ignore_merges=True)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|eot_id|>"]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    return tok


def build_misc_a():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split("-", behavior="merged_with_previous"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True),
    ])
    norm = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok = train("misc_a", 900, normalizer=norm, pre_tokenizer=pre, special=["<s>", "</s>"])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("[MASK]", special=True, normalized=False, lstrip=True)])
    tok.add_tokens([AddedToken("<TOOL>", special=False, normalized=True, rstrip=True),
                    AddedToken("word", special=False, normalized=False, single_word=True),
                    AddedToken("<raw>", special=False, normalized=False, lstrip=True, rstrip=True)])
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=True),
        processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
                                      special_tokens=[("<s>", tok.token_to_id("<s>")),
                                                      ("</s>", tok.token_to_id("</s>"))]),
    ])
    return tok


def build_misc_b():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"^\h+|x$|\s"), behavior="isolated"),
        pre_tokenizers.Split(Regex(r"[ \t]*\n"), behavior="removed"),
        pre_tokenizers.Split(Regex(r"[,;]"), behavior="contiguous"),
        pre_tokenizers.Split(Regex(r"\p{L}+"), behavior="merged_with_next", invert=True),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok = train("misc_b", 800, normalizer=normalizers.NFD(), pre_tokenizer=pre, special=["<|end|>"])
    tok.decoder = decoders.Sequence([decoders.ByteLevel()])
    return tok


TEXTS = [
    "",
    " ",
    "  ",
    "a",
    "Hello world",
    "Hello world!",
    " Hello world",
    "Hello  world",
    "Hello world   ",
    "hello\nworld",
    "hello\r\nworld\r\n",
    "line one\n\nline three\n\n\n",
    "\t\ttabbed\tline",
    "trailing spaces   \n  leading",
    "mixed \t \n \r\n  whitespace",
    "\n",
    "\r\n",
    " \n ",
    "unicode\u00a0no-break\u2003em\u3000ideographic spaces",
    "next\u0085line and line\u2028separator",
    "a \u0085b \u0085\u0085  c\u0085 \u0085",
    "x  \u0085 and    \u0085",
    "mongolian  \u180evowel  \u180e separator",
    "zero\u200bwidth\u200dspace",
    "I'm can't won't they're we've she'll he'd it's",
    "I'M CAN'T THEY'RE WE'VE SHE'LL HE'D IT'S",
    "Mixed'S 'Ll 'rE 'vE 'M 'D",
    "he'ſ long s",
    "rock 'n' roll 'quoted' ''",
    "The quick brown fox jumps over the lazy dog.",
    "Reinforcement learning with verifiable rewards teaches the model to reason step by step.",
    "GRPO reinforcement verifiable policy advantages DeepSeek",
    " GRPO and PPO, reinforcement learning",
    "Solve: 2x + 3 = 7",
    "2x + 3 = 7 => x = 2",
    "x^2 - 5x + 6 = 0, so x ∈ {2, 3}",
    "∫₀¹ x² dx = 1/3",
    "√2 ≈ 1.41421356, π ≈ 3.14159265358979",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678901234567890",
    "3.14159",
    "1,000,000 and 1.000.000",
    "0x1F 0b1010 1e-9 -42 +7",
    "2024-06-01T12:34:56Z",
    "Call 555-0123 or +1 (800) 555-0199",
    "٣٤٥ ١٢ Arabic-Indic digits",
    "१२३ Devanagari digits",
    "Ⅻ roman numeral ½ ¾ ⁴",
    "phone: 1 2 3 4",
    "我们使用强化学习来训练语言模型。",
    "让我们一步一步地思考这个问题。答案是四十二。",
    "日本語のテキストも少し含めます。",
    "ひらがなとカタカナと漢字",
    "한국어 문장도 포함합니다.",
    "中文English混合text",
    "数学：2x+3=7，所以x=2。",
    "「引用」と『二重引用』",
    "😀",
    "I love this 😀😃😄",
    "family 👨‍👩‍👧‍👦 emoji",
    "👍🏽👍🏿👋🏻",
    "flags 🇫🇷🇯🇵🇺🇸",
    "❤️ heart with variation selector",
    "🧑🏽‍🚀 astronaut",
    "🏳️‍🌈 rainbow flag",
    "emoji😀glued😀together",
    "café",
    "cafe\u0301",
    "naïve résumé façade",
    "nai\u0308ve re\u0301sume\u0301 fac\u0327ade",
    "Ærøskøbing Đakovo Łódź Zürich",
    "Zu\u0308rich with combining diaeresis",
    "ﬁne ﬂour ligatures",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "ℌ𝔢𝔩𝔩𝔬 math letters",
    "Ελληνικά και русский язык",
    "ΣΊΣΥΦΟΣ final sigma ΟΔΟΣ",
    "İstanbul ISTANBUL ıi",
    "Straße STRASSE",
    "¿Qué tal? ¡Muy bien!",
    "Å vs Å (angstrom sign)",
    "\ufffd replacement char",
    "a\ufffdb\ufffd\ufffd",
    "\ufeffbyte order mark",
    "\u0001\u0002 control \u001b[31mred\u001b[0m",
    "tab\tseparated\tvalues",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; i++) {\n\tsum += x[i];\n}\n",
    '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
    "if (x != NULL && y >= 0) { printf(\"%d\\n\", y); }",
    "import numpy as np\narr = np.zeros((3, 4), dtype=np.float32)\n",
    "    indented four\n        indented eight",
    "#include <stdio.h>\nint main(void) { return 0; }",
    "a-b-c --double-- dash-",
    "well-known state-of-the-art",
    "x,y;;z,,;w",
    "semi;colon, comma",
    "hex abc12def 0x\nx\n  xx",
    "cafe\nbeef12 x\nfacade\n\tdead",
    "spaces" + " " * 300 + "end",
    "\n" * 40,
    "<|endoftext|>",
    "Hello<|endoftext|>world",
    "Hello <|endoftext|> world",
    "<|endoftext|><|endoftext|>",
    "text<|endoftext|>",
    "<|im_start|>user\nSolve 2x + 3 = 7<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>",
    "<|im_end|> <|im_start|>",
    "<|im_start|",
    "<|begin_of_text|>Hello",
    "<|begin_of_text|><|begin_of_text|>",
    "<|eot_id|>assistant<|end_of_text|>",
    "<|reserved_special_token_0|> reserved",
    "<think>Let me think. 2x = 4, so x = 2.</think><answer>2</answer>",
    "<think>\nWait, let me check: 12 * 7 = 84.\n</think>\n<answer>84</answer>",
    " <think> spaced </think> ",
    "<think><think></think></think>",
    "<answer>",
    "<ANSWER>upper</ANSWER>",
    "no<think>space</think>here",
    "<thinking> is not <think>",
    "<s> and </s> inside text",
    "[MASK]",
    "fill the   [MASK] here",
    "a[MASK]b",
    "<TOOL>call</TOOL> <tool>   lower",
    "<tool>   x",
    "word words sword word, (word) wordy",
    "a word",
    "swordfish",
    "a  <raw>  b <raw>",
    "x <raw>\n<raw>y",
    "Wait, wait. Let me re-check: is 17 prime? Yes.",
    "The answer is \\boxed{42}.",
    "Therefore, $x = \\frac{3}{4}$ and $y=\\sqrt{2}$.",
    "Countdown: use 3, 7, 25, 50 to make 125",
    "   leading and trailing   ",
    "multiple     internal      spaces",
    "..., ?!?! ... ---",
    "!!!???",
    "email@example.com https://example.org/path?q=1&r=2#frag",
    "C:\\Users\\name\\file.txt",
    "snake_case camelCase PascalCase SCREAMING_CASE kebab-case",
    "ALLCAPS lowercase MiXeD",
    "A.B.C. e.g. i.e. etc.",
    "1st 2nd 3rd 4th 21st 42nd",
    "$100.00 €50 £30 ¥2000 ₹500",
    "50% off, 3/4 cup, 2:30pm",
    "```python\nprint('hi')\n```",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Mixed: 中文 English 日本語 한국어 😀 café 123",
]


def long_text():
    rng = random.Random(42)
    pieces = ["the", "model", "reward", "我们", "日本", "😀", "é", "e\u0301", "123", "45678", " ", "  ", "\n",
              "\t", "'s", "'LL", "<think>", "</think>", "<|endoftext|>", "x=2", "{", "}", "-", ",", "🇫🇷", "ß"]
    return "".join(rng.choice(pieces) + (" " if rng.random() < 0.5 else "") for _ in range(600))


def main():
    builders = [("gpt2", build_gpt2), ("qwen2", build_qwen2), ("llama3", build_llama3),
                ("misc_a", build_misc_a), ("misc_b", build_misc_b)]
    texts = TEXTS + [long_text()]
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for name, build in builders:
        tok = build()
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "tokenizer.json")
        data = json.loads(tok.to_str())
        if name == "gpt2":
            # The legacy merges spelling ("a b" strings), still found in many published tokenizer.json files.
            data["model"]["merges"] = [" ".join(m) for m in data["model"]["merges"]]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        # The reference is what tokenizers makes of the saved file, exactly what the C code will read.
        ref = Tokenizer.from_file(path)
        for text in texts:
            ids = ref.encode(text, add_special_tokens=False).ids
            ids_special = ref.encode(text, add_special_tokens=True).ids
            lines.append(json.dumps({
                "tokenizer": name,
                "text": text,
                "ids": ids,
                "ids_special": ids_special,
                "decoded": ref.decode(ids_special, skip_special_tokens=False),
                "decoded_skip": ref.decode(ids_special, skip_special_tokens=True),
            }, ensure_ascii=False))
    with open(os.path.join(OUT, "cases.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write(f"tokenizers {tokenizers.__version__}\npython {sys.version.split()[0]}\n"
                f"generated by tests/ref/make_tokenizer_fixtures.py\n")
    print(f"wrote {len(lines)} cases for {len(builders)} tokenizers to {OUT}")


if __name__ == "__main__":
    main()
