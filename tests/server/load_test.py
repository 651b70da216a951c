#!/usr/bin/env python3
"""Load test for `seek serve` (ctest label soak; not in the default run).

For each client count N in --clients, starts a server with --parallel N on SmolLM2 (env SEEK_SMOLLM2), runs N
concurrent streaming chat clients for --seconds, and prints: completed streams, errors, generated tokens,
aggregate tokens/s, mean time to first token, and the server's RSS sampled over time. Fails (exit 1) on any
error, or if the RSS grows by more than --max-rss-growth-mb from a quarter into a run to its end
(a leak check). Exit 77 when the model or binary is missing.

  load_test.py --seek build/bin/seek --clients 1,2,4 --seconds 20 [--threads 2] [--max-tokens 64]
"""
import argparse
import http.client
import json
import os
import socket
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


def stream_once(port, max_tokens, prompt):
    """One streaming chat request; returns (tokens, ttft seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    body = {"messages": [{"role": "user", "content": prompt}], "stream": True, "max_tokens": max_tokens,
            "temperature": 0.8, "stream_options": {"include_usage": True}}
    t0 = time.time()
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    ttft, tokens, done = None, 0, False
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
        if chunk.get("choices") and ttft is None and chunk["choices"][0]["delta"].get("content"):
            ttft = time.time() - t0
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
    conn.close()
    if not done:
        raise RuntimeError("stream ended without [DONE]")
    return tokens, ttft if ttft is not None else time.time() - t0


def run(args, n_clients):
    port = free_port()
    proc = subprocess.Popen([args.seek, "serve", "-m", args.model, "--port", str(port), "--parallel", str(n_clients),
                             "-c", "1024", "-t", str(args.threads)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("server exited")
            time.sleep(0.1)
        stats = {"streams": 0, "errors": 0, "tokens": 0, "ttft": [], "messages": []}
        lock = threading.Lock()
        stop_at = time.time() + args.seconds
        prompts = ["Tell me about the sea.", "Write a haiku about rain.", "Explain gravity simply.",
                   "List three fruits and describe them."]

        def client(i):
            k = 0
            while time.time() < stop_at:
                try:
                    tokens, ttft = stream_once(port, args.max_tokens, prompts[(i + k) % len(prompts)])
                    with lock:
                        stats["streams"] += 1
                        stats["tokens"] += tokens
                        stats["ttft"].append(ttft)
                except Exception as e:  # noqa: BLE001
                    with lock:
                        stats["errors"] += 1
                        stats["messages"].append(str(e))
                k += 1

        t0 = time.time()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n_clients)]
        for t in threads:
            t.start()
        rss = []
        while any(t.is_alive() for t in threads):
            rss.append(rss_mb(proc.pid))
            time.sleep(1)
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        rss.append(rss_mb(proc.pid))
        ttft = sum(stats["ttft"]) / max(1, len(stats["ttft"]))
        print(f"clients={n_clients} streams={stats['streams']} errors={stats['errors']} tokens={stats['tokens']} "
              f"elapsed={elapsed:.1f}s aggregate={stats['tokens'] / elapsed:.1f} tok/s mean_ttft={ttft:.3f}s "
              f"rss_mb=[{', '.join(f'{x:.0f}' for x in rss[::max(1, len(rss) // 8)])}] "
              f"rss_warm={rss[len(rss) // 4]:.0f} rss_last={rss[-1]:.0f}", flush=True)
        for m in stats["messages"][:5]:
            print("  error:", m)
        # Leak check from a warm point (a quarter into the run: model pages and KV caches touched by then).
        growth = rss[-1] - rss[len(rss) // 4]
        ok = stats["errors"] == 0 and stats["streams"] > 0 and growth <= args.max_rss_growth_mb
        return ok
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seek", default=os.environ.get("SEEK_BIN", ""))
    ap.add_argument("--model", default=os.environ.get("SEEK_SMOLLM2", ""))
    ap.add_argument("--clients", default="1,2,4")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--max-rss-growth-mb", type=float, default=64)
    args = ap.parse_args()
    if not args.model or not os.path.exists(args.model) or not os.path.exists(args.seek):
        print("skipped: needs SEEK_SMOLLM2 and the seek binary")
        return 77
    ok = True
    for n in [int(x) for x in args.clients.split(",")]:
        ok &= run(args, n)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
