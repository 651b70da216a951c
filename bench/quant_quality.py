#!/usr/bin/env python3
"""Quantization quality: seek's quantizer against llama.cpp's on the same F32/F16 GGUF, both measured by seek.

For each type (default Q8_0, Q4_0, Q4_K_M, Q4_K_S) the script makes two files from BASE:
  seek       `seek quantize BASE OUT TYPE` (plus --pure in --pure mode)
  llama.cpp  llama_cpp.llama_model_quantize (llama-cpp-python 0.3.16, llama.cpp's own quantizer) with
             llama_model_quantize_default_params(), ftype = LLAMA_FTYPE_MOSTLY_<TYPE> (pure = True in --pure
             mode), in a child process (llama.cpp aborts the process on some inputs, e.g. --pure K-quants of
             rows that are not a multiple of 256)
and scores both with the same engine and the same tokens:
  seek perplexity -m BASE -f TEXT -c CTX --chunks N --save-logits base.sklp      (once)
  seek perplexity -m FILE -f TEXT --kl-base base.sklp                              (each file)
So the files differ only in how the weights were rounded (and in the per-tensor types, which the script
compares: the "types" column and a per-tensor diff on stderr). KL is KL(base || quantized) per scored token,
in nats; PPL and KL use the second half of each chunk (runtime/perplexity.h). Bits per weight = 8 * tensor
bytes / elements, over all tensors.

Run with the venv that has llama_cpp (the GGUF header reader below needs nothing else):
  /work/llamavenv/bin/python bench/quant_quality.py --seek build/bin/seek --base smol-f32.gguf \\
      --text /usr/share/common-licenses/GPL-3 --workdir /tmp/qq [-c 512 --chunks 16 -t 2] [--pure]
An F32 base can be made from any GGUF with `seek quantize IN OUT F32 [--allow-requantize]`.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

LLAMA_FTYPES = {"Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9, "Q6_K": 18, "Q4_K_S": 14, "Q4_K_M": 15,
                "Q5_K_S": 16, "Q5_K_M": 17, "Q3_K_M": 12, "Q2_K": 10}
# Pure-mode llama.cpp ftype for seek's plain K types (llama.cpp has no pure-Q4_K ftype; --pure with the
# Q4_K_M ftype gives every tensor Q4_K).
PURE_FTYPE = {"Q4_K": 15, "Q5_K": 17, "Q6_K": 18, "Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9}

# GGML type id -> (name, block elements, block bytes)
GGML_TYPES = {0: ("f32", 1, 4), 1: ("f16", 1, 2), 2: ("q4_0", 32, 18), 3: ("q4_1", 32, 20), 6: ("q5_0", 32, 22),
              7: ("q5_1", 32, 24), 8: ("q8_0", 32, 34), 10: ("q2_K", 256, 84), 11: ("q3_K", 256, 110),
              12: ("q4_K", 256, 144), 13: ("q5_K", 256, 176), 14: ("q6_K", 256, 210), 20: ("iq4_nl", 32, 18),
              30: ("bf16", 1, 2)}


def read_gguf_tensors(path):
    """[(name, ne, type name, bytes)] from a GGUF header (v2/v3), without gguf-py."""
    with open(path, "rb") as f:
        head = f.read(64 << 20)
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, head, off)[0]
        off += struct.calcsize("<" + fmt)
        return v

    def string():
        nonlocal off
        n = take("Q")
        s = head[off:off + n].decode("utf-8", "replace")
        off += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            for _ in range(n):
                value(et)
            return None
        return take(scalar[t])

    if head[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    off = 4
    take("I")
    n_tensors, n_kv = take("Q"), take("Q")
    for _ in range(n_kv):
        string()
        value(take("I"))
    out = []
    for _ in range(n_tensors):
        name = string()
        ne = tuple(take("Q") for _ in range(take("I")))
        t = take("I")
        take("Q")
        tname, blk, nbytes = GGML_TYPES.get(t, (f"type{t}", 1, 0))
        n = 1
        for d in ne:
            n *= d
        out.append((name, ne, tname, n // blk * nbytes))
    return out


def type_summary(tensors):
    c = Counter(t for _, _, t, _ in tensors)
    return ", ".join(f"{t} x{c[t]}" for t in sorted(c))


def bits_per_weight(tensors):
    n = sum(n_elements(ne) for _, ne, _, _ in tensors)
    return 8.0 * sum(b for _, _, _, b in tensors) / n


def n_elements(ne):
    p = 1
    for d in ne:
        p *= d
    return p


def run(cmd, what):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}): {' '.join(map(str, cmd))}\n{r.stderr[-3000:]}")
    return r, time.perf_counter() - t0


def parse_ppl(stdout):
    """Figures from `seek perplexity` output."""
    d = {}
    m = re.search(r"^PPL = ([\d.]+) \+/- ([\d.]+)", stdout, re.M)
    d["ppl"], d["ppl_se"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"scored tokens: (\d+)", stdout)
    d["n_scored"] = int(m.group(1))
    m = re.search(r"^base PPL = ([\d.]+)", stdout, re.M)
    if m:
        d["base_ppl"] = float(m.group(1))
    m = re.search(r"KL\(base \|\| model\): mean ([\d.e+-]+) \+/- ([\d.e+-]+), median ([\d.e+-]+), 99% ([\d.e+-]+), "
                  r"(?:99\.9% ([\d.e+-]+), )?max ([\d.e+-]+)", stdout)
    if m:
        d.update(kl_mean=float(m.group(1)), kl_se=float(m.group(2)), kl_median=float(m.group(3)),
                 kl_p99=float(m.group(4)), kl_p999=float(m.group(5)) if m.group(5) else None,
                 kl_max=float(m.group(6)))
    m = re.search(r"top-1 agreement = ([\d.]+)%", stdout)
    if m:
        d["top1"] = float(m.group(1))
    return d


LLAMA_CHILD = r"""
import sys, llama_cpp as L
inp, out, ftype, pure, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5])
p = L.llama_model_quantize_default_params()
p.ftype = ftype
p.pure = pure
p.nthread = threads
sys.exit(L.llama_model_quantize(inp.encode(), out.encode(), p))
"""


def llama_quantize(base, out, ftype, pure, threads):
    cmd = [sys.executable, "-c", LLAMA_CHILD, str(base), str(out), str(ftype), "1" if pure else "0", str(threads)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        tail = [l for l in r.stderr.splitlines() if "ASSERT" in l or "error" in l.lower()][-2:]
        return None, dt, f"llama.cpp quantize failed (exit {r.returncode}): {' / '.join(tail)}"
    fallbacks = sorted(set(re.findall(r"using fallback quantization (\w+)", r.stderr)))
    return r.stderr, dt, ("fallbacks: " + ", ".join(fallbacks)) if fallbacks else ""


def diff_types(a, b, label):
    ta = {n: t for n, _, t, _ in a}
    tb = {n: t for n, _, t, _ in b}
    diffs = [(n, ta[n], tb.get(n)) for n in ta if ta[n] != tb.get(n)]
    if diffs:
        print(f"  {label}: {len(diffs)} tensors differ in type (seek vs llama.cpp):", file=sys.stderr)
        for n, x, y in diffs[:20]:
            print(f"    {n}: {x} vs {y}", file=sys.stderr)
    return len(diffs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seek", default=str(Path(__file__).resolve().parent.parent / "build" / "bin" / "seek"))
    ap.add_argument("--base", required=True, help="F32 or F16 GGUF to quantize (and the KL reference)")
    ap.add_argument("--text", required=True, help="text file to score")
    ap.add_argument("--workdir", required=True, help="where the quantized files and base log-probs go")
    ap.add_argument("--types", nargs="+", default=["Q8_0", "Q4_0", "Q4_K_M", "Q4_K_S"])
    ap.add_argument("--pure", action="store_true",
                    help="one type for every tensor on both sides (seek --pure, llama.cpp pure=true); use plain "
                         "types (Q8_0 Q4_0 Q4_K)")
    ap.add_argument("-c", "--ctx", type=int, default=512)
    ap.add_argument("--chunks", type=int, default=16)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--keep", action="store_true",
                    help="reuse existing quantized files and base log-probs from an earlier run in --workdir")
    ap.add_argument("--json", help="also write every figure here")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    base = Path(a.base)
    seek = a.seek
    thr = ["-t", str(a.threads)]

    base_lp = work / f"{base.stem}.c{a.ctx}.n{a.chunks}.sklp"
    base_t = read_gguf_tensors(base)
    base_fig = None
    if not (a.keep and base_lp.exists()):
        print(f"== base log-probs: {base_lp}", file=sys.stderr)
        r, dt = run([seek, "perplexity", "-m", base, "-f", a.text, "-c", str(a.ctx), "--chunks", str(a.chunks),
                     "--save-logits", base_lp, *thr], "seek perplexity (base)")
        base_fig = parse_ppl(r.stdout)
        print(f"   base PPL {base_fig['ppl']:.4f} over {base_fig['n_scored']} tokens ({dt:.0f} s)", file=sys.stderr)

    cache_path = work / "scores.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    rows = []
    for typ in a.types:
        for who in ("seek", "llama.cpp"):
            tag = ("pure-" if a.pure else "") + typ
            out = work / f"{base.stem}.{'seek' if who == 'seek' else 'llamacpp'}.{tag}.gguf"
            note, qtime = "", None
            if not (a.keep and out.exists()):
                print(f"== {who} quantize {tag}", file=sys.stderr)
                if who == "seek":
                    cmd = [seek, "quantize", base, out, typ, *thr] + (["--pure"] if a.pure else [])
                    r, qtime = run(cmd, "seek quantize")
                    fb = sorted(set(re.findall(r"^note: .* using (\w+) instead of", r.stderr, re.M)))
                    note = ("fallbacks: " + ", ".join(fb)) if fb else ""
                else:
                    ftype = (PURE_FTYPE if a.pure else LLAMA_FTYPES).get(typ)
                    if ftype is None:
                        note = f"no llama.cpp ftype for {typ}"
                        rows.append(dict(type=tag, engine=who, note=note))
                        continue
                    log, qtime, note = llama_quantize(base, out, ftype, a.pure, a.threads)
                    if log is None:
                        rows.append(dict(type=tag, engine=who, note=note))
                        print(f"   {note}", file=sys.stderr)
                        continue
            tensors = read_gguf_tensors(out)
            # With --keep, a file unchanged since an earlier run (same size and mtime, same base log-probs) is
            # not scored again.
            st = out.stat()
            key = f"{out.name}|{st.st_size}|{st.st_mtime_ns}|{base_lp.name}"
            if a.keep and key in cache:
                fig, dt = cache[key], 0.0
            else:
                r, dt = run([seek, "perplexity", "-m", out, "-f", a.text, "--kl-base", base_lp, *thr],
                            "seek perplexity")
                fig = parse_ppl(r.stdout)
                cache[key] = fig
                cache_path.write_text(json.dumps(cache, indent=1))
            if base_fig is None:  # reused base log-probs: every KL run reports the base's PPL
                base_fig = dict(ppl=fig["base_ppl"], n_scored=fig["n_scored"])
            row = dict(type=tag, engine=who, file=str(out), file_mb=os.path.getsize(out) / 1e6,
                       bpw=bits_per_weight(tensors), types=type_summary(tensors), quantize_s=qtime, note=note,
                       **fig)
            rows.append(row)
            print(f"   {who} {tag}: PPL {fig['ppl']:.4f}, mean KL {fig.get('kl_mean', 0):.6f} "
                  f"+/- {fig.get('kl_se', 0):.6f} ({dt:.0f} s)", file=sys.stderr)
        done = [x for x in rows if x["type"] == ("pure-" if a.pure else "") + typ and "file" in x]
        if len(done) == 2:
            diff_types(read_gguf_tensors(done[0]["file"]), read_gguf_tensors(done[1]["file"]), typ)

    print(f"\nBase: {base.name} ({type_summary(base_t)}), text {Path(a.text).name}, {base_fig['n_scored']} scored "
          f"tokens ({a.chunks} chunks of {a.ctx}), base PPL {base_fig['ppl']:.4f}. KL(base || quantized) in nats, "
          f"all files scored by `seek perplexity`.\n")
    print("| type | quantizer | tensor types | file MB | bpw | PPL | mean KL | median KL | 99% KL | 99.9% KL | "
          "max KL | top-1 | notes |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for x in rows:
        if "file" not in x:
            print(f"| {x['type']} | {x['engine']} | - | - | - | - | - | - | - | - | - | - | {x['note']} |")
            continue
        p999 = f"{x['kl_p999']:.5f}" if x.get("kl_p999") is not None else "-"
        print(f"| {x['type']} | {x['engine']} | {x['types']} | {x['file_mb']:.2f} | {x['bpw']:.3f} | "
              f"{x['ppl']:.4f} | {x['kl_mean']:.6f} ± {x['kl_se']:.6f} | {x['kl_median']:.6f} | {x['kl_p99']:.5f} | "
              f"{p999} | {x['kl_max']:.4f} | {x['top1']:.2f}% | {x['note']} |")
    print()
    for typ in a.types:
        tag = ("pure-" if a.pure else "") + typ
        s = [x for x in rows if x["type"] == tag and x["engine"] == "seek" and "kl_mean" in x]
        l = [x for x in rows if x["type"] == tag and x["engine"] == "llama.cpp" and "kl_mean" in x]
        if s and l:
            s, l = s[0], l[0]
            verdict = "no worse" if s["kl_mean"] <= l["kl_mean"] else "WORSE"
            print(f"{tag}: mean KL seek / llama.cpp = {s['kl_mean'] / l['kl_mean']:.4f} ({verdict})"
                  + (f"; quantize time seek {s['quantize_s']:.1f} s, llama.cpp {l['quantize_s']:.1f} s" if s["quantize_s"] and l["quantize_s"] else ""))
    if a.json:
        Path(a.json).write_text(json.dumps(dict(base=str(base), base_figures=base_fig, text=a.text, ctx=a.ctx,
                                                chunks=a.chunks, pure=a.pure, rows=rows), indent=2))


if __name__ == "__main__":
    main()
