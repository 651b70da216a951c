#!/usr/bin/env python3
"""Makes tests/testdata/quant/quant_fixture.bin: reference (de)quantization results for kernels/quant.

The reference is gguf-py's numpy implementation (gguf.quants, tested with gguf 0.17.1), which was written
independently of seek from GGML's C reference. Where gguf-py has no implementation, this script says so:
  - Q8_1 (quantize + dequantize) and Q8_K (quantize + dequantize): small numpy ports of GGML's
    quantize_row_q8_1_ref / quantize_row_q8_K_ref written here (marked "port").
  - F8_E4M3 (dequantize): torch.float8_e4m3fn, all 256 bit patterns.

Run by hand (not part of the default test run):
  /work/refvenv/bin/python tools/make_quant_fixture.py [out_path]

Format (little-endian):
  header:  b"SQFX", u32 version (1), u32 n_records
  record:  u32 kind (0: dequantize, 1: quantize), u32 GGML type id (1000: F8_E4M3), u32 n_elements,
           u32 n_bytes, u8 bytes[n_bytes] (the quantized row), f32 values[n_elements]
           kind 0: values = expected dequantization of bytes
           kind 1: values = the input row, bytes = expected quantization
"""
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from gguf import GGMLQuantizationType as T
from gguf import quants

QK_K = 256
F8_E4M3_ID = 1000

# (type, block size, block bytes, byte offsets of fp16 scale fields) for every dequantizable block type.
BLOCK_TYPES = [
    (T.Q4_0, 32, 18, [0]),
    (T.Q4_1, 32, 20, [0, 2]),
    (T.Q5_0, 32, 22, [0]),
    (T.Q5_1, 32, 24, [0, 2]),
    (T.Q8_0, 32, 34, [0]),
    (T.Q8_1, 32, 36, [0, 2]),
    (T.Q2_K, 256, 84, [80, 82]),
    (T.Q3_K, 256, 110, [108]),
    (T.Q4_K, 256, 144, [0, 2]),
    (T.Q5_K, 256, 176, [0, 2]),
    (T.Q6_K, 256, 210, [208]),
    (T.Q8_K, 256, 292, []),  # f32 d at offset 0, handled below
]


def round_away(v):
    """C roundf: half away from zero."""
    a = np.abs(v)
    f = np.floor(a)
    return np.sign(v) * (f + np.floor(2 * (a - f)))


def port_quantize_q8_1(x):
    """Port of GGML quantize_row_q8_1_ref: d = amax / 127, q = roundf(x / d), s = fp16(d * sum(q))."""
    out = []
    for blk in x.reshape(-1, 32):
        d = np.float32(np.abs(blk).max()) / np.float32(127)
        inv = np.float32(0) if d == 0 else np.float32(1) / d
        q = round_away(blk * inv).astype(np.int8)
        s = np.float32(int(q.astype(np.int32).sum())) * d
        out.append(np.float16(d).tobytes() + np.float16(s).tobytes() + q.tobytes())
    return b"".join(out)


def port_dequantize_q8_1(raw):
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 36)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    return (b[:, 4:].view(np.int8).astype(np.float32) * d).reshape(-1)


def port_quantize_q8_k(x):
    """Port of GGML quantize_row_q8_K_ref: iscale = -127 / (signed absmax), q = min(127, rint(iscale x))."""
    out = []
    for blk in x.reshape(-1, QK_K):
        i = int(np.argmax(np.abs(blk)))
        if blk[i] == 0:
            out.append(bytes(292))
            continue
        iscale = np.float32(-127) / blk[i]
        q = np.minimum(127, np.rint(iscale * blk)).astype(np.int8)  # rint: half to even, as nearest_int
        bsums = q.astype(np.int32).reshape(16, 16).sum(axis=1).astype(np.int16)
        out.append(np.float32(np.float32(1) / iscale).tobytes() + q.tobytes() + bsums.tobytes())
    return b"".join(out)


def port_dequantize_q8_k(raw):
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 292)
    d = b[:, 0:4].copy().view(np.float32)
    return (b[:, 4:260].view(np.int8).astype(np.float32) * d).reshape(-1)


def dequantize(raw, qtype):
    if qtype == T.Q8_1:
        return port_dequantize_q8_1(raw)
    if qtype == T.Q8_K:
        return port_dequantize_q8_k(raw)
    return quants.dequantize(np.frombuffer(raw, dtype=np.uint8), qtype).astype(np.float32).reshape(-1)


def quantize(x, qtype):
    if qtype == T.Q8_1:
        return port_quantize_q8_1(x)
    if qtype == T.Q8_K:
        return port_quantize_q8_k(x)
    return quants.quantize(x, qtype).tobytes()


def random_fp16_scales(rng, n):
    mag = 10.0 ** rng.uniform(-3, 1, size=n)
    sign = rng.choice([-1.0, 1.0], size=n)
    return (mag * sign).astype(np.float16)


def random_blocks(rng, block_bytes, scale_offsets, n_blocks, qtype):
    raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for off in scale_offsets:
        raw[:, off:off + 2] = random_fp16_scales(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if qtype == T.Q8_K:
        d = (10.0 ** rng.uniform(-4, 0, size=n_blocks) * rng.choice([-1, 1], size=n_blocks)).astype(np.float32)
        raw[:, 0:4] = d.view(np.uint8).reshape(n_blocks, 4)
    return raw.tobytes()


def awkward_row(rng, n_blocks):
    """Blocks of 32 cycling through awkward patterns (all finite, fp16-representable scales)."""
    patterns = [
        lambda: rng.standard_normal(32),
        lambda: np.zeros(32),
        lambda: np.full(32, 0.7),                                  # identical values: max == min
        lambda: np.full(32, -2.5),
        lambda: rng.standard_normal(32) * 1000.0,                  # large
        lambda: rng.standard_normal(32) * 1e-5,                    # tiny: fp16 scale is subnormal
        lambda: np.concatenate([[127.0], rng.integers(-126, 126, 31) + 0.5]),  # exact .5 ties for Q8
        lambda: rng.uniform(-1, 1, 32),
        lambda: np.eye(32)[rng.integers(32)] * -3.0,               # a single spike
        lambda: rng.uniform(1, 2, 32),                             # all positive
        lambda: rng.standard_normal(32) * 1e4,
        lambda: np.round(rng.uniform(-8, 8, 32) * 2) / 2,          # half-integers
    ]
    blocks = [patterns[i % len(patterns)]() for i in range(n_blocks)]
    return np.concatenate(blocks).astype(np.float32)


def main():
    out_path = Path(sys.argv[1] if len(sys.argv) > 1 else
                    Path(__file__).resolve().parent.parent / "tests/testdata/quant/quant_fixture.bin")
    rng = np.random.default_rng(20240611)
    records = []

    def add(kind, type_id, values, raw):
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        records.append(struct.pack("<IIII", kind, int(type_id), values.size, len(raw)) + raw + values.tobytes())

    # Dequantization of random blocks.
    for qtype, bs, nbytes, offs in BLOCK_TYPES:
        n_blocks = 4 if bs == 32 else 2
        raw = random_blocks(rng, nbytes, offs, n_blocks, qtype)
        add(0, qtype, dequantize(raw, qtype), raw)
    f8 = torch.arange(256, dtype=torch.uint8).view(torch.float8_e4m3fn).to(torch.float32).numpy()
    add(0, F8_E4M3_ID, f8, bytes(range(256)))
    bf16_bits = rng.integers(0, 1 << 16, size=512, dtype=np.uint16)
    add(0, T.BF16, quants.dequantize(bf16_bits.view(np.uint8), T.BF16).reshape(-1), bf16_bits.tobytes())

    # Quantization of an awkward row (24 blocks of 32 = 3 super-blocks), plus fp16/bf16 special values.
    row = awkward_row(rng, 24)
    for qtype in [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q8_1, T.Q8_K]:
        add(1, qtype, row, quantize(row, qtype))
    specials = np.array([np.inf, -np.inf, np.nan, 1e5, 65504, 65519, 65520, -65520, 6e-8, 3e-8, 2.9e-8,
                         1e-40, -0.0, 1.00048828125, 1.0009765625 * 3, 3.4e38], dtype=np.float32)
    for qtype in [T.F16, T.BF16]:
        add(1, qtype, specials, quantize(specials, qtype))

    data = b"SQFX" + struct.pack("<II", 1, len(records)) + b"".join(records)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)
    print(f"wrote {out_path} ({len(data)} bytes, {len(records)} records)")


if __name__ == "__main__":
    main()
