#!/usr/bin/env python3
"""Load, soak and prefix-cache figures for `seek serve` on SmolLM2 (env SEEK_SMOLLM2). Not in the default run.

Three parts, each on its own server:

  --clients 1,2,4,8,16 --seconds 30   throughput sweep: for each N, `seek serve --parallel N` and N concurrent
                                      streaming chat clients, each sending its next request as soon as its
                                      stream ends (ignore_eos, --max-tokens each). Aggregate generated tok/s is
                                      read from the server's /metrics (seek_generated_tokens_total) over a
                                      steady window (after --warmup seconds, until the clients stop starting
                                      requests), so the tail of the last streams does not dilute it. Prints one
                                      table row per N and each N's speed-up over the first.
  --soak-seconds 120 --soak-clients 16
                                      soak: the same with 16 clients for 2 minutes; checks zero errors, every
                                      stream completed ([DONE], --max-tokens tokens), and RSS stable (growth
                                      from a quarter into the run to its end <= --max-rss-growth-mb).
  --prefix-pairs 5                    prefix cache: pairs of requests sharing a ~1,000-token document; the
                                      second asks a different question. Prints each pair's time to first token
                                      and the median TTFT2 / TTFT1. --max-prefix-ratio R fails when it is above
                                      R (only bench/soak runs pass it: timings are never checked by default).

Exit 1 on any error (or a failed check), 77 when the model or binary is missing. Timings are printed, never
asserted, except the explicit --max-prefix-ratio.

  load_test.py --seek build/bin/seek --clients 1,2,4,8,16 --seconds 30 --prefix-pairs 5 [--soak-seconds 120]
"""
import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


class Server:
    def __init__(self, args, parallel, n_ctx):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [args.seek, "serve", "-m", args.model, "--port", str(self.port), "--parallel", str(parallel), "-c",
             str(n_ctx), "-t", str(args.threads)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("server exited")
            time.sleep(0.1)

    def metric(self, name):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", "/metrics")
        for line in c.getresponse().read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise RuntimeError(f"no metric {name}")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def stream_once(port, messages, max_tokens, temperature=0.8, ignore_eos=True):
    """One streaming chat request; returns (completion tokens, prompt tokens, cached tokens, ttft seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = {"messages": messages, "stream": True, "max_tokens": max_tokens, "temperature": temperature,
            "ignore_eos": ignore_eos, "stream_options": {"include_usage": True}}
    t0 = time.time()
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    ttft, usage, done, finish = None, None, False, None
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            done = True
            break
        chunk = json.loads(data)
        if "error" in chunk:
            raise RuntimeError(chunk["error"]["message"])
        if chunk.get("choices"):
            choice = chunk["choices"][0]
            if ttft is None and choice["delta"].get("content"):
                ttft = time.time() - t0
            finish = choice.get("finish_reason") or finish
        if chunk.get("usage"):
            usage = chunk["usage"]
    conn.close()
    if not done or usage is None or finish is None:
        raise RuntimeError("stream ended without a finish_reason, usage and [DONE]")
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return usage["completion_tokens"], usage["prompt_tokens"], cached, ttft if ttft is not None else time.time() - t0


PROMPTS = ["Tell me about the sea.", "Write a haiku about rain.", "Explain gravity simply.",
           "List three fruits and describe them."]


def run_clients(args, n_clients, seconds, label):
    """N clients against a fresh --parallel N server; returns (ok, row dict)."""
    server = Server(args, n_clients, 1024)
    try:
        stats = {"streams": 0, "errors": 0, "short": 0, "tokens": 0, "ttft": [], "messages": []}
        lock = threading.Lock()
        t_start = time.time()
        stop_at = t_start + seconds

        def client(i):
            k = 0
            while time.time() < stop_at:
                try:
                    msgs = [{"role": "user", "content": PROMPTS[(i + k) % len(PROMPTS)]}]
                    tokens, _, _, ttft = stream_once(server.port, msgs, args.max_tokens)
                    with lock:
                        stats["streams"] += 1
                        stats["tokens"] += tokens
                        stats["short"] += tokens != args.max_tokens
                        stats["ttft"].append(ttft)
                except Exception as e:  # noqa: BLE001
                    with lock:
                        stats["errors"] += 1
                        stats["messages"].append(str(e))
                k += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(n_clients)]
        for t in threads:
            t.start()
        rss, window = [], None
        warm_at = t_start + min(args.warmup, seconds / 3)
        while any(t.is_alive() for t in threads):
            now = time.time()
            rss.append(rss_mb(server.proc.pid))
            if window is None and now >= warm_at:
                window = [(now, server.metric("seek_generated_tokens_total"), server.metric("seek_engine_steps_total"))]
            elif window is not None and len(window) == 1 and now >= stop_at:
                window.append((now, server.metric("seek_generated_tokens_total"),
                               server.metric("seek_engine_steps_total")))
            time.sleep(0.5)
        for t in threads:
            t.join()
        elapsed = time.time() - t_start
        rss.append(rss_mb(server.proc.pid))
        if window is None or len(window) < 2:
            raise RuntimeError("the run ended before the measurement window closed")
        (t0, g0, s0), (t1, g1, s1) = window
        row = {"clients": n_clients, "streams": stats["streams"], "errors": stats["errors"], "short": stats["short"],
               "tokens": stats["tokens"], "tok_s": (g1 - g0) / (t1 - t0), "steps_s": (s1 - s0) / (t1 - t0),
               "tok_per_step": (g1 - g0) / max(1.0, s1 - s0),
               "ttft": statistics.median(stats["ttft"]) if stats["ttft"] else float("nan"),
               "rss_warm": rss[len(rss) // 4], "rss_last": rss[-1], "rss_max": max(rss), "elapsed": elapsed,
               "load": load_average()}
        print(f"[{label}] clients={n_clients} streams={row['streams']} errors={row['errors']} "
              f"short_streams={row['short']} tokens={row['tokens']} elapsed={elapsed:.0f}s "
              f"window={t1 - t0:.0f}s aggregate={row['tok_s']:.2f} tok/s steps={row['steps_s']:.2f}/s "
              f"tokens/step={row['tok_per_step']:.2f} median_ttft={row['ttft']:.2f}s "
              f"rss_mb=[{', '.join(f'{x:.0f}' for x in rss[::max(1, len(rss) // 8)])}] "
              f"rss_warm={row['rss_warm']:.0f} rss_last={row['rss_last']:.0f} load1={row['load']}", flush=True)
        for m in stats["messages"][:5]:
            print("  error:", m)
        growth = row["rss_last"] - row["rss_warm"]
        ok = stats["errors"] == 0 and stats["short"] == 0 and stats["streams"] >= n_clients
        if growth > args.max_rss_growth_mb:
            print(f"  RSS grew by {growth:.0f} MiB > {args.max_rss_growth_mb} MiB")
            ok = False
        return ok, row
    finally:
        server.close()


def document(seed, n_sentences=60):
    """A made-up report of roughly 1,000 tokens: the shared prefix of a pair."""
    rng = random.Random(seed)
    towns = ["Arden", "Bexley", "Corran", "Dunmore", "Elsworth", "Fenwick", "Glenhaven", "Harrow"]
    goods = ["wool", "timber", "copper", "barley", "salt", "glass", "honey", "linen"]
    verbs = ["exported", "imported", "stored", "traded", "produced", "shipped"]
    lines = [f"Report number {seed}: the trade of the eight towns of the valley in the year {1700 + seed}."]
    for _ in range(n_sentences):
        t, g, v = rng.choice(towns), rng.choice(goods), rng.choice(verbs)
        lines.append(f"In {rng.choice(['spring', 'summer', 'autumn', 'winter'])}, {t} {v} "
                     f"{rng.randint(10, 990)} crates of {g} to {rng.choice(towns)}.")
    return " ".join(lines)


def run_prefix(args):
    server = Server(args, 2, 2048)
    ok, ratios = True, []
    try:
        for pair in range(args.prefix_pairs):
            doc = document(pair + 1)
            ttft, info = [], []
            for question in ["Which town exported the most wool?", "What happened to the copper in winter?"]:
                msgs = [{"role": "user", "content": doc + "\n\nQuestion: " + question}]
                _, n_prompt, cached, t = stream_once(server.port, msgs, 8, temperature=0.0, ignore_eos=True)
                ttft.append(t)
                info.append((n_prompt, cached))
            ratios.append(ttft[1] / ttft[0])
            print(f"[prefix] pair {pair}: request 1 prompt={info[0][0]} cached={info[0][1]} ttft={ttft[0]:.3f}s | "
                  f"request 2 prompt={info[1][0]} cached={info[1][1]} ttft={ttft[1]:.3f}s | "
                  f"ratio={ratios[-1]:.3f}", flush=True)
            if info[1][1] < 0.9 * info[0][0]:
                print("  request 2 did not reuse the shared prefix")
                ok = False
        median = statistics.median(ratios)
        print(f"[prefix] median TTFT2/TTFT1 over {len(ratios)} pairs: {median:.3f} load1={load_average()}",
              flush=True)
        if args.max_prefix_ratio > 0 and median > args.max_prefix_ratio:
            print(f"  above {args.max_prefix_ratio}")
            ok = False
        return ok
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seek", default=os.environ.get("SEEK_BIN", ""))
    ap.add_argument("--model", default=os.environ.get("SEEK_SMOLLM2", ""))
    ap.add_argument("--clients", default="1,2,4,8,16", help="the sweep's client counts ('' for none)")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=8, help="seconds before the throughput window opens")
    ap.add_argument("--soak-seconds", type=float, default=0, help="0: no soak run")
    ap.add_argument("--soak-clients", type=int, default=16)
    ap.add_argument("--prefix-pairs", type=int, default=0, help="0: no prefix-cache run")
    ap.add_argument("--max-prefix-ratio", type=float, default=0, help="fail above this median TTFT2/TTFT1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--max-rss-growth-mb", type=float, default=64)
    args = ap.parse_args()
    if not args.model or not os.path.exists(args.model) or not os.path.exists(args.seek):
        print("skipped: needs SEEK_SMOLLM2 and the seek binary")
        return 77
    ok = True
    rows = []
    for n in [int(x) for x in args.clients.split(",") if x]:
        good, row = run_clients(args, n, args.seconds, "load")
        ok &= good
        rows.append(row)
    if rows:
        print("\n| clients (= slots) | streams | errors | aggregate tok/s | x first | tokens/step | median TTFT "
              "| RSS warm -> end | load1 |")
        print("|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for r in rows:
            print(f"| {r['clients']} | {r['streams']} | {r['errors']} | {r['tok_s']:.1f} | "
                  f"{r['tok_s'] / rows[0]['tok_s']:.2f} | {r['tok_per_step']:.1f} | {r['ttft']:.2f} s | "
                  f"{r['rss_warm']:.0f} -> {r['rss_last']:.0f} MiB | {r['load']} |", flush=True)
    if args.soak_seconds > 0:
        good, _ = run_clients(args, args.soak_clients, args.soak_seconds, "soak")
        ok &= good
    if args.prefix_pairs > 0:
        ok &= run_prefix(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
