#!/usr/bin/env python3
"""Validates a GGUF written by seek (GgufWriter / `seek quantize`) with gguf-py, independently of seek.

    /work/refvenv/bin/python tools/check_gguf_with_gguf_py.py OUT.gguf [--base IN.gguf]

Run by hand (not in CI). Checks:
  1. gguf-py's GGUFReader parses the file (magic, version, every metadata value, tensor infos, alignment,
     tensor data inside the file) and every tensor dequantizes (gguf.quants.dequantize) to finite values.
  2. With --base (the F32/F16/BF16 GGUF the file was quantized from): every metadata key of the base is present
     with the same value (general.file_type excepted), every tensor has the base's shape, and each tensor's
     relative RMSE ||dequant(out) - base|| / ||base|| is within the budget of its type (BUDGETS below; the same
     figures as tests/kernels/quant_k_quantize_test.cc's Student-t budgets, which real weights resemble, with
     legacy types added). gguf-py cannot quantize K-quants, so this is the independent check of seek's K-quant
     bytes: they are decoded by gguf-py's dequantizer, not seek's.
Exit status 0 when everything passes; prints one line per tensor.
"""
import argparse
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

BUDGETS = {
    T.F32: 0.0, T.F16: 1e-3, T.BF16: 8e-3, T.Q8_0: 0.01, T.Q6_K: 0.025, T.Q5_K: 0.05, T.Q5_1: 0.06,
    T.Q5_0: 0.07, T.Q4_K: 0.10, T.Q4_1: 0.12, T.Q4_0: 0.14, T.Q3_K: 0.20, T.Q2_K: 0.40,
}


def field_value(f):
    if f.types and f.types[0] == gguf.GGUFValueType.ARRAY:
        return [bytes(f.parts[i]).decode("utf-8", "replace") if f.types[-1] == gguf.GGUFValueType.STRING
                else f.parts[i].tolist() for i in f.data]
    if f.types and f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[-1]).decode("utf-8", "replace")
    return f.parts[-1].tolist()


def dequant(t):
    return np.asarray(quants.dequantize(t.data, t.tensor_type), dtype=np.float64).reshape(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf_file")
    ap.add_argument("--base")
    args = ap.parse_args()
    r = gguf.GGUFReader(args.gguf_file)
    print(f"{args.gguf_file}: {len(r.fields)} fields, {len(r.tensors)} tensors, alignment {r.alignment}")
    ok = True
    base = gguf.GGUFReader(args.base) if args.base else None
    if base:
        for k, f in base.fields.items():
            if k.startswith("GGUF.") or k == "general.file_type":
                continue
            if k not in r.fields:
                print(f"FAIL metadata key {k} missing")
                ok = False
            elif field_value(f) != field_value(r.fields[k]):
                print(f"FAIL metadata key {k} differs")
                ok = False
        base_tensors = {t.name: t for t in base.tensors}
    for t in r.tensors:
        x = dequant(t)
        if not np.all(np.isfinite(x)):
            print(f"FAIL {t.name}: non-finite values")
            ok = False
            continue
        line = f"{t.name:32s} {t.tensor_type.name:5s} {list(t.shape)}"
        if base:
            b = base_tensors.get(t.name)
            if b is None or list(b.shape) != list(t.shape):
                print(f"FAIL {t.name}: missing from base or shape differs")
                ok = False
                continue
            ref = dequant(b)
            rel = float(np.linalg.norm(x - ref) / max(np.linalg.norm(ref), 1e-30))
            budget = BUDGETS.get(t.tensor_type)
            passed = budget is not None and rel <= budget
            ok &= passed
            line += f" rel. RMSE {rel:.5f} (budget {budget}) {'ok' if passed else 'FAIL'}"
        print(line)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
