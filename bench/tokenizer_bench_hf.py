#!/usr/bin/env python3
"""Tokenizer speed of HF `tokenizers` (single thread) on the text tokenizer_bench encodes, and the ratio to seek.

With --bench (the tokenizer_bench binary) it starts `tokenizer_bench --serve` and alternates one seek encode and
one HF encode per round (the order flips every round), so both sides share the machine's noise; it reports the
median of --runs rounds each, the ratio seek/HF of tokens per second (> 1: seek is faster), and checks that
the token ids are identical. Without --bench it times HF alone.

  /work/refvenv/bin/python bench/tokenizer_bench_hf.py --bench build-bench/bench/tokenizer_bench
"""
import os

# Single thread, set before tokenizers is imported. encode() of one string does not use rayon anyway.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import array  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import tokenizers  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


class SeekServer:
    """tokenizer_bench --serve: one line with a tokenizer name in, one JSON line with the timing out."""

    def __init__(self, binary, text_path, specs, ids_dir):
        cmd = [binary, "--serve", "--text", text_path, "--ids-dir", ids_dir]
        for spec in specs:
            cmd += ["--tokenizer", spec]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = json.loads(self.proc.stdout.readline() or "{}")
        if not ready.get("ready"):
            raise RuntimeError(f"{binary} --serve did not start")

    def encode(self, name):
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["seconds"], reply["cpu_seconds"], reply["tokens"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def hf_encode(tok, text):
    """One encode: wall seconds, process CPU seconds (steadier on a shared machine), ids."""
    c0, t0 = time.process_time(), time.perf_counter()
    enc = tok.encode(text, add_special_tokens=False)
    t1, c1 = time.perf_counter(), time.process_time()
    return t1 - t0, c1 - c0, enc.ids


def first_mismatch(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", default=str(HERE.parent / "build-bench" / "bench_text.txt"),
                    help="text to encode; written with make_bench_text.py when missing")
    ap.add_argument("--bench", help="tokenizer_bench binary; with it, seek and HF alternate and the ratio is shown")
    ap.add_argument("--tokenizer", action="append", metavar="NAME=PATH",
                    help="tokenizer.json; repeatable (default: deepseek-v3 and qwen3 from ../shared/tokenizers)")
    ap.add_argument("--runs", type=int, default=7, help="rounds; the median is reported")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()

    specs = args.tokenizer or [f"deepseek-v3={SHARED}/tokenizers/deepseek-v3/tokenizer.json",
                               f"qwen3={SHARED}/tokenizers/qwen3/tokenizer.json"]
    text_path = pathlib.Path(args.text)
    if not text_path.exists():
        text_path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_bench_text.py"), str(text_path)], check=True)
    # Decode the same bytes the C++ side reads (the file is valid UTF-8 by construction).
    text = text_path.read_bytes().decode("utf-8")
    n_bytes = len(text.encode("utf-8"))

    ids_dir = tempfile.mkdtemp(prefix="tokbench-")
    seek = SeekServer(args.bench, str(text_path), specs, ids_dir) if args.bench else None

    print(f"text: {text_path} ({n_bytes} bytes), tokenizers {tokenizers.__version__}, single thread, "
          f"{args.runs} alternating rounds, median reported")
    try:
        load1 = os.getloadavg()[0]
    except OSError:
        load1 = float("nan")
    print(f"load average (1 min) at start: {load1:.2f}")
    header = (f"{'tokenizer':<14} {'tokens':>9} {'seek tok/s':>11} {'HF tok/s':>10} {'seek/HF':>8}   "
              f"{'seek cpu':>10} {'HF cpu':>10} {'seek/HF':>8} {'ids':>6}")
    print(f"{'':<25}{'--- wall time ---':^33}   {'--- process CPU time ---':^31}")
    print(header)
    results = []
    for spec in specs:
        name, path = spec.split("=", 1)
        tok = tokenizers.Tokenizer.from_file(path)
        hf_times, hf_cpu, seek_times, seek_cpu, seek_tokens = [], [], [], [], None
        # Warm-up, not timed: page faults, caches, lazy tables on both sides.
        _, _, hf_ids = hf_encode(tok, text)
        if seek:
            seek.encode(name)
        for r in range(args.runs):
            order = ("seek", "hf") if r % 2 == 0 else ("hf", "seek")
            for side in order:
                if side == "hf":
                    t, c, hf_ids = hf_encode(tok, text)
                    hf_times.append(t)
                    hf_cpu.append(c)
                elif seek:
                    t, c, seek_tokens = seek.encode(name)
                    seek_times.append(t)
                    seek_cpu.append(c)
        n = len(hf_ids)
        hf_tps = n / statistics.median(hf_times)
        hf_cps = n / statistics.median(hf_cpu)
        row = {"name": name, "path": path, "tokens_hf": n, "hf_tokens_per_second": hf_tps,
               "hf_cpu_tokens_per_second": hf_cps, "hf_seconds": hf_times, "hf_cpu_seconds": hf_cpu}
        line = f"{name:<14} {n:>9}"
        if seek:
            seek_ids = array.array("i")
            seek_ids.frombytes((pathlib.Path(ids_dir) / f"{name}.seek.ids").read_bytes())
            if sys.byteorder != "little":
                seek_ids.byteswap()
            mismatch = first_mismatch(seek_ids, hf_ids)
            seek_tps = seek_tokens / statistics.median(seek_times)
            seek_cps = seek_tokens / statistics.median(seek_cpu)
            row.update({"tokens_seek": seek_tokens, "seek_tokens_per_second": seek_tps,
                        "seek_cpu_tokens_per_second": seek_cps, "seek_seconds": seek_times,
                        "seek_cpu_seconds": seek_cpu, "ratio_seek_over_hf": seek_tps / hf_tps,
                        "cpu_ratio_seek_over_hf": seek_cps / hf_cps, "ids_identical": mismatch < 0,
                        "first_mismatch": mismatch})
            same = "same" if mismatch < 0 else f"DIFF@{mismatch}"
            if seek_tokens != n:
                same = f"COUNT {seek_tokens}"
            line += (f" {seek_tps:>11.0f} {hf_tps:>10.0f} {seek_tps / hf_tps:>8.2f}   "
                     f"{seek_cps:>10.0f} {hf_cps:>10.0f} {seek_cps / hf_cps:>8.2f} {same:>6}")
        else:
            line += f" {'-':>11} {hf_tps:>10.0f} {'-':>8}   {'-':>10} {hf_cps:>10.0f} {'-':>8} {'-':>6}"
        print(line, flush=True)
        results.append(row)
    if seek:
        seek.close()
    try:
        load1 = os.getloadavg()[0]
    except OSError:
        pass
    print(f"load average (1 min) at end: {load1:.2f}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"text": str(text_path), "bytes": n_bytes,
                                                       "tokenizers_version": tokenizers.__version__,
                                                       "runs": args.runs, "results": results}, indent=2))
    ok = all(r.get("ids_identical", True) for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
