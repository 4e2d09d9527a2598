#!/usr/bin/env python3
# Writes the safetensors fixtures that tests/test_safetensors.c reads, into tests/fixtures/safetensors/.
#
# Run from the repository root:   python3 tests/ref/make_safetensors_fixtures.py
# Needs torch, safetensors and numpy. The versions that made the committed files are written to
# tests/fixtures/safetensors/VERSION (the committed ones: see that file). The output is deterministic
# (fixed values, fixed seed), so rerunning with the same versions changes nothing.
#
# What is written, and why:
#   values.safetensors      one tensor of every dtype r1lab reads, written by the Python safetensors library
#                           (so the C reader is tested on files it did not write): F32 / F16 / BF16 tensors of
#                           edge values (signed zeros, subnormals, min normal, max, inf, NaN) plus random bit
#                           patterns, a 0-d scalar, a zero-element tensor, a non-ASCII name, and "__metadata__".
#   sharded/                a two-shard checkpoint with model.safetensors.index.json in the Hugging Face layout.
#   expected.json           what torch says: for every tensor its dtype, shape, raw bytes (hex) and, for the
#                           float dtypes, its fp32 values as bit patterns (JSON has no inf / NaN); and for
#                           fp32 inputs chosen around rounding ties, the bits of .to(torch.bfloat16) and
#                           .to(torch.float16), which st_write's conversions must reproduce.
import json
import os
import platform
import struct
import sys

import numpy as np
import safetensors
import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "safetensors")


def f32_from_bits(bits):
    return torch.from_numpy(np.array(bits, dtype=np.uint32).view(np.float32).copy())


def u16_tensor(bits, dtype):
    return torch.from_numpy(np.array(bits, dtype=np.uint16).view(np.int16).copy()).view(dtype)


def bits_of(t):
    """Bit patterns of a float tensor as Python ints (unsigned)."""
    t = t.contiguous()
    if t.dtype == torch.float32:
        return [int(x) for x in t.view(torch.int32).numpy().view(np.uint32).ravel()]
    if t.dtype in (torch.float16, torch.bfloat16):
        return [int(x) for x in t.view(torch.int16).numpy().view(np.uint16).ravel()]
    raise TypeError(t.dtype)


def raw_hex(t):
    t = t.contiguous()
    if t.numel() == 0:
        return ""
    # Through uint8 so that every dtype (bf16, uint64 ...) gives its little-endian bytes.
    return t.view(-1).view(torch.uint8).numpy().tobytes().hex()


def f32_edge_values():
    bits = [
        0x00000000, 0x80000000,  # +0, -0
        0x00000001, 0x80000001,  # smallest subnormal
        0x007FFFFF, 0x00400000,  # largest subnormal, a middle one
        0x00800000, 0x00800001,  # smallest normal
        0x7F7FFFFF, 0xFF7FFFFF,  # max, -max
        0x7F800000, 0xFF800000,  # inf, -inf
        0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FC12345,  # NaNs (quiet, negative, signalling, payload)
        0x3F800000, 0xBF800000, 0x3EAAAAAB, 0x40490FDB,  # 1, -1, 1/3, pi
        0x477FE000, 0x33800000, 0x33000000,  # 65504, 2^-24, 2^-25
    ]
    return bits


def tie_inputs():
    """fp32 inputs around the rounding decisions of bf16 and f16, plus random values over many scales."""
    v = list(f32_edge_values())
    # bf16 keeps the top 16 bits. For a few bases: exact, just below half, exactly half (tie to even both ways),
    # just above half, and an all-ones low half that carries into the next value (and the exponent).
    for base in (0x3F800000, 0x3F810000, 0xBF800000, 0xBF810000, 0x00010000, 0x00000000, 0x7F7F0000, 0x3FFF0000):
        for low in (0x0000, 0x7FFF, 0x8000, 0x8001, 0xFFFF):
            v.append(base | low)
    # f16 keeps 10 of fp32's 23 mantissa bits (13 dropped) for normal values.
    for base in (0x3F800000, 0x3F802000, 0xBF800000, 0x477FE000, 0x38800000, 0x46FFE000):
        for low in (0x0000, 0x0FFF, 0x1000, 0x1001, 0x1FFF):
            v.append(base | low)
    # f16 overflow threshold: 65504 is the largest f16, 65520 is the tie with infinity.
    v += [struct.unpack("<I", struct.pack("<f", x))[0] for x in (65504.0, 65519.0, 65519.996, 65520.0, -65520.0, 1e5)]
    # f16 subnormal range: ties at odd and even multiples of 2^-25, and the edge to zero.
    for k in (1, 2, 3, 4, 5, 6, 7, 2045, 2046, 2047, 2048, 2049):
        v.append(struct.unpack("<I", struct.pack("<f", k * 2.0**-25))[0])
    v.append(struct.unpack("<I", struct.pack("<f", 2.0**-25 * 1.0000001))[0])  # just above the zero tie
    v.append(struct.unpack("<I", struct.pack("<f", 2.0**-26))[0])
    v.append(struct.unpack("<I", struct.pack("<f", 6.0975552e-05))[0])  # f16 smallest normal
    v.append(struct.unpack("<I", struct.pack("<f", 6.0975552e-05 * (1 - 2**-12)))[0])  # rounds up to it
    # Random values over many binades (fixed seed) and fully random bit patterns.
    rng = np.random.default_rng(20250101)
    x = (rng.standard_normal(192) * np.exp2(rng.integers(-30, 20, 192))).astype(np.float32)
    v += [int(b) for b in x.view(np.uint32)]
    v += [int(b) for b in rng.integers(0, 2**32, 64, dtype=np.uint64).astype(np.uint32)]
    return v


def main():
    os.makedirs(os.path.join(OUT, "sharded"), exist_ok=True)
    rng = np.random.default_rng(1234)
    f16_bits = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0200, 0x0400, 0x0401, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                0x7E00, 0xFE00, 0x7C01, 0x7D55, 0x3C00, 0xBC00, 0x3555, 0x4248]
    f16_bits += [int(b) for b in rng.integers(0, 2**16, 12)]
    bf16_bits = [0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x0040, 0x0080, 0x0081, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80,
                 0x7FC0, 0xFFC0, 0x7F81, 0x7FD5, 0x3F80, 0xBF80, 0x3EAB, 0x4049]
    bf16_bits += [int(b) for b in rng.integers(0, 2**16, 12)]

    tensors = {
        "f32.edge": f32_from_bits(f32_edge_values()),
        "f16.edge": u16_tensor(f16_bits, torch.float16).reshape(4, 8),
        "bf16.edge": u16_tensor(bf16_bits, torch.bfloat16).reshape(2, 4, 4),
        "f32.scalar": torch.tensor(3.5, dtype=torch.float32),
        "f32.empty": torch.zeros(0, 4, dtype=torch.float32),
        "f64.small": torch.tensor([1.0 / 3.0, -2.5e-300], dtype=torch.float64),
        "bool.mask": torch.tensor([True, False, True]),
        "u8.bytes": torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8),
        "i8.bytes": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "i16.small": torch.tensor([-32768, 0, 32767], dtype=torch.int16),
        "u16.small": torch.tensor([0, 1, 65535], dtype=torch.uint16),
        "i32.ids": torch.tensor([[-1, 0], [7, 2147483647]], dtype=torch.int32),
        "u32.ids": torch.tensor([0, 4294967295], dtype=torch.uint32),
        "i64.steps": torch.tensor([-(2**63), 2**63 - 1], dtype=torch.int64),
        "u64.big": torch.tensor([0, 2**64 - 1], dtype=torch.uint64),
        "unicode.r\u00e9sum\u00e9.\u2713": torch.tensor([0.25, -0.5], dtype=torch.float32),
    }
    # One metadata key only: safetensors keeps metadata in a Rust HashMap, so the order of several keys (and with
    # it the file's bytes) would change from run to run. Non-ASCII text is tested through a tensor name instead.
    metadata = {"format": "pt"}
    save_file(tensors, os.path.join(OUT, "values.safetensors"), metadata=metadata)

    # Two shards and an index, as transformers' save_pretrained lays them out.
    g = torch.Generator().manual_seed(7)
    shard1 = {
        "model.embed_tokens.weight": torch.randn(4, 3, generator=g),
        "model.layers.0.mlp.up_proj.weight": torch.randn(2, 3, generator=g).to(torch.bfloat16),
    }
    shard2 = {
        "model.norm.weight": torch.randn(3, generator=g),
        "lm_head.weight": torch.randn(4, 3, generator=g).to(torch.float16),
    }
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    total = 0
    weight_map = {}
    for shard, name in zip((shard1, shard2), names):
        save_file(shard, os.path.join(OUT, "sharded", name), metadata={"format": "pt"})
        for k, t in shard.items():
            weight_map[k] = name
            total += t.numel() * t.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(OUT, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")

    def describe(t):
        d = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "hex": raw_hex(t)}
        if t.is_floating_point() and t.dtype != torch.float64:
            d["f32_bits"] = bits_of(t.float())
        return d

    inputs = tie_inputs()
    x = f32_from_bits(inputs)
    expected = {
        "versions": versions(),
        "metadata": metadata,
        "tensors": {k: describe(t) for k, t in tensors.items()},
        "sharded": {k: describe(t) for k, t in {**shard1, **shard2}.items()},
        "conversions": {
            "input_f32_bits": inputs,
            "bf16_bits": bits_of(x.to(torch.bfloat16)),
            "f16_bits": bits_of(x.to(torch.float16)),
        },
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write("made by tests/ref/make_safetensors_fixtures.py with %s\n" %
                " ".join("%s=%s" % kv for kv in versions().items()))
    size = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print("wrote %s (%d bytes in all); %s" % (os.path.normpath(OUT), size, versions()))


def versions():
    return {"python": platform.python_version(), "torch": torch.__version__, "safetensors": safetensors.__version__,
            "numpy": np.__version__}


if __name__ == "__main__":
    sys.exit(main())
