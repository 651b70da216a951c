#!/usr/bin/env python3
"""seek against llama.cpp on the same GGUF files, the same threads and the same tests, side by side.

Tests (as llama-bench defines them, and as `seek bench` runs them):
  pp P  one decode of P random token ids from an empty cache, logits for the last token only -> tokens/s
  tg N  N decodes of one random token each from an empty cache -> tokens/s
With -d D (llama-bench's -d) both tests start from a cache that already holds D random tokens ("tg128 @ d4096":
decode 4096 tokens into a conversation); each engine evaluates the D tokens once, untimed, and rolls its cache
back to them before every run.
Both engines: the same thread count for batch and single-token work, n_ctx = P + N, one batch of P tokens
(llama.cpp: n_batch = n_ubatch = P), random ids drawn before timing (no sampling, no tokenizer work timed), one
untimed warm-up before the timed runs, the cache emptied before each run. llama.cpp keeps its defaults
otherwise: mmap on, f16 KV cache (seek's KV cache is f32), flash attention off, OpenMP threads that spin while
they wait (on an oversubscribed machine that slows llama.cpp by 10x or more; --omp-passive makes them sleep).

Method: R rounds; each round runs one pp and one tg on both engines, alternating which goes first, so both
see the same machine noise. seek runs as `seek bench -m MODEL -p P -n N -r 1 -o json` (a fresh process per
round, with its own untimed warm-up); llama.cpp runs in this process through llama-cpp-python's low-level API
(llama_decode on a llama_batch, timed around the call; the model is loaded and warmed up once). The report
gives medians, min-max and the seek / llama.cpp ratio of the medians, plus the machine's limits measured by
`seek bench --machine` and each figure as a fraction of its limit.

llama.cpp comes from PyPI llama-cpp-python==0.3.16, built from source for this CPU:
  python3 -m venv VENV && CMAKE_ARGS="-DGGML_NATIVE=ON" VENV/bin/pip install llama-cpp-python==0.3.16
(`./seek.sh bench` does this once, into ~/.cache/seek/llamavenv, and then runs this script.) Run:
  VENV/bin/python bench/compare_llamacpp.py --seek build/bin/seek -t 2 \\
      --model ~/.cache/seek/speed/tinyllama-1.1b-q4_0.gguf ~/.cache/seek/speed/tinyllama-1.1b-q8_0.gguf
Speed-reference models come from tools/make_speed_models.py.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

LLAMA_CPP_PYTHON_VERSION = "0.3.16"


def stats(xs):
    return dict(median=statistics.median(xs), min=min(xs), max=max(xs),
                stdev=statistics.stdev(xs) if len(xs) > 1 else 0.0, samples=list(xs))


def run_seek(seek, args):
    r = subprocess.run([seek, "bench", *args, "-o", "json"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"seek bench {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return json.loads(r.stdout)


class LlamaCpp:
    """One model and context in llama.cpp, driven through llama_decode."""

    def __init__(self, path, n_prompt, n_gen, threads, seed, depth=0):
        import llama_cpp as L
        self.L = L
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(str(path).encode(), mp)
        if not self.model:
            sys.exit(f"llama.cpp cannot load {path}")
        cp = L.llama_context_default_params()
        self.n_ctx = depth + n_prompt + n_gen
        self.depth, self.filled = depth, False
        batch = max(n_prompt, min(depth, 512), 1)  # the depth is filled in batches of up to 512, as seek does
        cp.n_ctx = self.n_ctx
        cp.n_batch = batch
        cp.n_ubatch = batch
        cp.n_threads = threads
        cp.n_threads_batch = threads
        cp.n_seq_max = 1
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            sys.exit(f"llama.cpp cannot make a context for {path}")
        vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(vocab)
        self.batch = L.llama_batch_init(batch, 0, 1)
        import random
        self.rng = random.Random(seed)

    def close(self):
        L = self.L
        L.llama_batch_free(self.batch)
        L.llama_free(self.ctx)
        L.llama_model_free(self.model)

    def _clear(self):
        L = self.L
        if hasattr(L, "llama_memory_clear"):
            L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
        else:
            L.llama_kv_self_clear(self.ctx)

    def _start(self):
        """The cache every run starts from: the depth's tokens (evaluated once), nothing after them."""
        L = self.L
        if self.filled:
            if hasattr(L, "llama_memory_seq_rm"):
                L.llama_memory_seq_rm(L.llama_get_memory(self.ctx), 0, self.depth, -1)
            else:
                L.llama_kv_self_seq_rm(self.ctx, 0, self.depth, -1)
            return
        self._clear()
        ids = self._ids(self.depth)
        for at in range(0, self.depth, self.batch_size()):
            self._decode(ids[at:at + self.batch_size()], at)
        self.L.llama_synchronize(self.ctx)
        self.filled = True

    def batch_size(self):
        return max(1, min(512, self.depth))

    def _decode(self, ids, pos0):
        b = self.batch
        n = len(ids)
        b.n_tokens = n
        for i, t in enumerate(ids):
            b.token[i] = t
            b.pos[i] = pos0 + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if i == n - 1 else 0
        rc = self.L.llama_decode(self.ctx, b)
        if rc != 0:
            sys.exit(f"llama_decode returned {rc}")

    def _ids(self, n):
        return [self.rng.randrange(self.n_vocab) for _ in range(n)]

    def warm_up(self, n_prompt):
        self._clear()
        self.filled = False
        self._decode(self._ids(max(1, min(n_prompt, 32))), 0)
        self._decode(self._ids(1), max(1, min(n_prompt, 32)))
        self.L.llama_synchronize(self.ctx)

    def pp(self, n):
        ids = self._ids(n)
        self._start()
        t0 = time.perf_counter()
        self._decode(ids, self.depth)
        self.L.llama_synchronize(self.ctx)
        return time.perf_counter() - t0

    def tg(self, n):
        ids = self._ids(n)
        self._start()
        t0 = time.perf_counter()
        for k in range(n):
            self._decode(ids[k:k + 1], self.depth + k)
        self.L.llama_synchronize(self.ctx)
        return time.perf_counter() - t0


def compare_model(a, path, machine):
    print(f"== {path.name}", file=sys.stderr)
    common = ["-m", str(path), "-p", str(a.p), "-n", str(a.n), "-t", str(a.threads), "-d", str(a.depth)]
    llama = LlamaCpp(path, a.p, a.n, a.threads, a.seed, a.depth)
    llama.warm_up(a.p)
    seek_pp, seek_tg, ll_pp, ll_tg = [], [], [], []
    # seek's decode is also paired inside its own process (`seek bench --paired-read`): read passes just before,
    # every 16 tokens during (off the clock) and just after the run, on the same cores and threads. That sets
    # the run against the bandwidth of the same seconds; the probes around a round are seconds to tens of
    # seconds away from its decode (process start, model load, the other engine's run).
    seek_inproc, seek_inproc_read = [], []
    paired_args = ["--paired-read", "--machine-mib", str(a.machine_mib)] if machine is not None and a.n else []
    # Paired read probes: the host's memory bandwidth drifts by up to 1.5x within a minute (other tenants), so a
    # limit measured once, minutes away from a run, says little about that run. Probe k is taken just before
    # round k (and one after the last), and each round's decode is set against the mean of its two probes.
    probes = []
    info = None
    for rnd in range(a.rounds):
        if machine is not None and a.n:
            probes.append(read_probe(a))
        order = ("seek", "llama") if rnd % 2 == 0 else ("llama", "seek")
        for who in order:
            if who == "seek":
                j = run_seek(a.seek, common + ["-r", "1", "-s", str(a.seed + rnd)] + paired_args)
                info = j
                if a.p:
                    seek_pp.append(j["pp"]["tok_s"]["median"])
                if a.n:
                    seek_tg.append(j["tg"]["tok_s"]["median"])
                    if paired_args:
                        seek_inproc.append(j["tg"]["paired_fraction"]["median"])
                        seek_inproc_read.append(j["tg"]["paired_read_gbps"]["median"])
            else:
                if a.p:
                    ll_pp.append(a.p / llama.pp(a.p))
                if a.n:
                    ll_tg.append(a.n / llama.tg(a.n))
        print(f"  round {rnd + 1}/{a.rounds}: seek pp {seek_pp[-1] if seek_pp else 0:.2f} tg "
              f"{seek_tg[-1] if seek_tg else 0:.2f} | llama.cpp pp {ll_pp[-1] if ll_pp else 0:.2f} tg "
              f"{ll_tg[-1] if ll_tg else 0:.2f} tok/s", file=sys.stderr)
    if machine is not None and a.n:
        probes.append(read_probe(a))
    llama.close()
    m = info["model"]
    flops = info["pp"]["flops"] if a.p else 0
    out = dict(model=str(path), types=m["types"], n_params=m["n_params"], file_bytes=m["file_bytes"],
               decode_bytes_per_token=m["decode_bytes_per_token"], prefill_flops=flops, tests=[])
    at = f" @ d{a.depth}" if a.depth else ""
    for name, n, s, l in ((f"pp{a.p}{at}", a.p, seek_pp, ll_pp), (f"tg{a.n}{at}", a.n, seek_tg, ll_tg)):
        if not n:
            continue
        t = dict(test=name, seek=stats(s), llama_cpp=stats(l), ratio=statistics.median(s) / statistics.median(l))
        if name.startswith("tg") and len(probes) == len(s) + 1:
            bound = [(probes[i] + probes[i + 1]) / 2 for i in range(len(s))]
            per_token = m["decode_bytes_per_token"] / 1e9
            t["paired_read_gbps"] = stats(bound)
            t["seek_paired_fraction"] = stats([per_token * x / b for x, b in zip(s, bound)])
            t["llama_cpp_paired_fraction"] = stats([per_token * x / b for x, b in zip(l, bound)])
        if name.startswith("tg") and seek_inproc:
            t["seek_inprocess_paired_fraction"] = stats(seek_inproc)
            t["seek_inprocess_read_gbps"] = stats(seek_inproc_read)
        out["tests"].append(t)
    return out


def read_probe(a):
    """The machine's 2-thread read bandwidth now (median of `seek bench --machine`'s passes), GB/s."""
    return run_seek(a.seek, ["--machine", "--machine-mib", str(a.machine_mib), "-t", str(a.threads)])[
        "machine"]["read_gbps"]["median"]


def fmt_paired(t, who):
    f = t.get(who + "_paired_fraction")
    if not f:
        return ""
    return f"{100 * f['median']:.1f}% ({100 * f['min']:.1f}-{100 * f['max']:.1f})"


def fmt_limit(test, tok_s, model, machine):
    """Throughput of a tok/s figure, and its fraction of the machine limit."""
    if test.startswith("pp"):
        n = int(test.split()[0][2:])
        g = model["prefill_flops"] * tok_s / n / 1e9
        lim = machine["fma_gflops"]["median"] if machine else 0
        return f"{g:.1f} GFLOP/s" + (f" ({100 * g / lim:.1f}%)" if lim else "")
    g = model["decode_bytes_per_token"] * tok_s / 1e9
    lim = machine["read_gbps"]["median"] if machine else 0
    return f"{g:.2f} GB/s" + (f" ({100 * g / lim:.1f}%)" if lim else "")


def markdown(results, machine, a, llama_version):
    lines = []
    if machine:
        lines += [f"Machine limits (`seek bench --machine -t {a.threads}`, {machine['isa']}): memory read bandwidth "
                  f"**{machine['read_gbps']['median']:.2f} GB/s** "
                  f"({machine['read_gbps']['min']:.2f}-{machine['read_gbps']['max']:.2f}), f32 FMA peak "
                  f"**{machine['fma_gflops']['median']:.1f} GFLOP/s** (one thread "
                  f"{machine['fma_gflops_1thread']:.1f})"
                  + (f", int8 multiply-add peak {machine['int8_gops']['median']:.1f} GOP/s" if "int8_gops" in machine
                     else "") + "."]
        if "before" in machine:
            b, e = machine["before"], machine["after"]
            lines += [f"(each limit is the higher of two measurements, before the runs: read {b['read_gbps']['median']:.2f}"
                      f" GB/s, FMA {b['fma_gflops']['median']:.1f} GFLOP/s; after: read {e['read_gbps']['median']:.2f}"
                      f" GB/s, FMA {e['fma_gflops']['median']:.1f} GFLOP/s)"]
        lines += [""]
    omp = "OMP_WAIT_POLICY=PASSIVE" if a.omp_passive else "OpenMP defaults"
    lines += [f"seek vs llama.cpp (llama-cpp-python {llama_version}, {omp}), {a.threads} threads, {a.rounds} alternating "
              f"rounds, tok/s median (min-max); throughput in brackets as a fraction of the machine limit "
              f"(prefill: FMA peak, decode: read bandwidth).", "",
              "Paired: decode GB/s of each round over the mean of the read probes taken just before and just after "
              "that round (separate `seek bench --machine` processes), median of the rounds (min-max). seek "
              "in-process: the same run's decode GB/s over read passes taken in the seek process just before, every "
              "16 tokens during (off the clock) and just after it (`seek bench --paired-read`), median of the "
              "rounds (min-max).", "",
              "| model | types | test | seek tok/s | llama.cpp tok/s | seek / llama.cpp | seek throughput | "
              "llama.cpp throughput | seek paired | llama.cpp paired | seek paired in-process |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for t in r["tests"]:
            s, l = t["seek"], t["llama_cpp"]
            lines.append(
                f"| {Path(r['model']).name} | {r['types']} | {t['test']} | {s['median']:.2f} ({s['min']:.2f}-"
                f"{s['max']:.2f}) | {l['median']:.2f} ({l['min']:.2f}-{l['max']:.2f}) | **{t['ratio']:.2f}x** | "
                f"{fmt_limit(t['test'], s['median'], r, machine)} | {fmt_limit(t['test'], l['median'], r, machine)} | "
                f"{fmt_paired(t, 'seek')} | {fmt_paired(t, 'llama_cpp')} | {fmt_paired(t, 'seek_inprocess')} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seek", default=str(Path(__file__).resolve().parent.parent / "build" / "bin" / "seek"))
    ap.add_argument("--model", nargs="+", required=True, help="GGUF files (both engines load each)")
    ap.add_argument("-p", type=int, default=512, help="prefill tokens (default 512; 0 skips)")
    ap.add_argument("-n", type=int, default=128, help="decode tokens (default 128; 0 skips)")
    ap.add_argument("-d", "--depth", type=int, default=0,
                    help="tokens already in the cache when each test starts (llama-bench's -d; default 0)")
    ap.add_argument("-r", "--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--machine-mib", type=int, default=1024, help="read-bandwidth buffer for --machine")
    ap.add_argument("--no-machine", action="store_true", help="skip `seek bench --machine`")
    ap.add_argument("--json", help="also write every figure here")
    ap.add_argument("--omp-passive", action="store_true",
                    help="OMP_WAIT_POLICY=PASSIVE for llama.cpp's OpenMP threads (sleep instead of spin). On an "
                         "oversubscribed machine spinning threads wait for descheduled ones and llama.cpp slows "
                         "down by 10x or more; on a quiet machine leave it off (llama.cpp's default)")
    a = ap.parse_args()
    if a.rounds < 1 or a.threads < 1 or a.p < 0 or a.n < 0 or a.depth < 0 or (a.p == 0 and a.n == 0):
        sys.exit("bad -r/-t/-p/-n/-d")
    if not Path(a.seek).exists():
        sys.exit(f"{a.seek}: no seek binary (build it, or pass --seek)")
    if a.omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read by libgomp when llama.cpp first starts its threads
    try:
        import llama_cpp
    except ImportError:
        sys.exit(f"llama_cpp is missing: pip install llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION} "
                 "(or run ./seek.sh bench)")
    llama_version = getattr(llama_cpp, "__version__", "?")
    if llama_version != LLAMA_CPP_PYTHON_VERSION:
        print(f"note: llama-cpp-python {llama_version}, the figures in docs used {LLAMA_CPP_PYTHON_VERSION}",
              file=sys.stderr)
    models = [Path(os.path.expanduser(m)) for m in a.model]
    for m in models:
        if not m.exists():
            sys.exit(f"{m}: no such file (make it with tools/make_speed_models.py)")

    load0 = os.getloadavg()[0]
    machine = None
    if not a.no_machine:
        print("== machine limits", file=sys.stderr)
        machine = run_seek(a.seek, ["--machine", "--machine-mib", str(a.machine_mib), "-t", str(a.threads)])["machine"]
    results = [compare_model(a, m, machine) for m in models]
    load1 = os.getloadavg()[0]
    if machine:
        # The limits again after the runs: the machine's speed drifts (shared host), and a limit measured in a
        # slow moment would flatter every fraction. Each limit is the higher median of the two measurements.
        print("== machine limits again", file=sys.stderr)
        after = run_seek(a.seek, ["--machine", "--machine-mib", str(a.machine_mib), "-t", str(a.threads)])["machine"]
        merged = dict(machine, before=machine, after=after)
        for k in ("read_gbps", "fma_gflops", "int8_gops"):
            if k in machine and k in after and after[k]["median"] > machine[k]["median"]:
                merged[k] = after[k]
        machine = merged

    md = markdown(results, machine, a, llama_version)
    print(md)
    print(f"CPU: {platform.processor() or platform.machine()}; 1-minute load average {load0:.1f} at the start, "
          f"{load1:.1f} at the end. llama.cpp system info: "
          f"{llama_cpp.llama_print_system_info().decode(errors='replace').strip()}")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(machine=machine, results=results, threads=a.threads, rounds=a.rounds,
                                                n_prompt=a.p, n_gen=a.n, llama_cpp_python=llama_version,
                                                omp_passive=a.omp_passive, load_average=[load0, load1]),
                                           indent=2))


if __name__ == "__main__":
    main()
