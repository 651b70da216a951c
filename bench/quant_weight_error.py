#!/usr/bin/env python3
"""Weight-space error of quantized GGUFs against their F32/F16 base, decoded with gguf-py (independent of seek).

For every tensor that is quantized in all the given files with the same type, sums (x - dequant)^2 and x^2 and
reports the relative RMSE per type and file, so two quantizers (e.g. seek's and llama.cpp's, from
bench/quant_quality.py) can be compared tensor for tensor without running a model. Tensors whose type differs
between the files are skipped (and counted). Companion of bench/quant_quality.py, which measures the KL
divergence; this isolates the rounding itself and is meaningful on random-weight models too.

  /work/refvenv/bin/python bench/quant_weight_error.py BASE.gguf seek.Q4_K.gguf llamacpp.Q4_K.gguf [--max-tensors N]
"""
import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def tensors(path):
    return {t.name: t for t in GGUFReader(path).tensors}


def as_f32(t):
    shape = [int(d) for d in reversed(t.shape)]  # gguf-py shapes are ne order; rows last
    return dequantize(t.data, t.tensor_type).reshape(-1).astype(np.float64), shape


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--max-tensors", type=int, default=0, help="stop after this many compared tensors (0: all)")
    a = ap.parse_args()
    base = tensors(a.base)
    files = [tensors(f) for f in a.files]
    err = [defaultdict(float) for _ in files]
    ref = defaultdict(float)
    count = defaultdict(int)
    skipped = 0
    for name, bt in base.items():
        if len(bt.shape) < 2:
            continue
        types = {f[name].tensor_type for f in files}
        if len(types) != 1:
            skipped += 1
            continue
        qtype = types.pop()
        if qtype == bt.tensor_type:
            continue
        x, _ = as_f32(bt)
        key = qtype.name
        ref[key] += float(np.dot(x, x))
        count[key] += 1
        for i, f in enumerate(files):
            y, _ = as_f32(f[name])
            d = x - y
            err[i][key] += float(np.dot(d, d))
        if a.max_tensors and sum(count.values()) >= a.max_tensors:
            break
    names = [Path(f).name for f in a.files]
    print("| type | tensors | " + " | ".join(f"rel. RMSE {n}" for n in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for key in sorted(ref):
        cells = " | ".join(f"{np.sqrt(e[key] / ref[key]):.5f}" for e in err)
        print(f"| {key} | {count[key]} | {cells} |")
    if skipped:
        print(f"\n{skipped} tensors skipped (their types differ between the files).")


if __name__ == "__main__":
    main()
