#!/usr/bin/env python3
"""Peak memory of seek against llama.cpp on the same GGUF, same context size, same prompt and decode length.

Each engine runs in its own fresh child process:
  seek       `seek run -m MODEL -c CTX -f PROMPT -n N --temp 0 --ignore-eos -t T [--seek-args ...]`
  llama.cpp  a Python child (llama-cpp-python 0.3.16, low-level API, so no Python-side logits arrays): model
             loaded with llama_model_default_params() (mmap on), context with llama_context_default_params()
             except n_ctx = CTX and the thread counts (so llama.cpp's defaults hold: f16 KV cache, flash
             attention auto, n_batch 2048 / n_ubatch 512); the prompt is tokenized by llama.cpp, decoded in one
             llama_decode, then N greedy tokens are decoded one at a time.
  python     the same child stopping right after `import llama_cpp` (the interpreter's own footprint, reported
             so it can be subtracted from llama.cpp's figure).
Figures per child:
  peak RSS   ru_maxrss from wait4() on that child (the kernel's high-water mark of its resident set);
  RssFile / RssAnon at the sampled peak: /proc/<pid>/status polled every 10 ms. RssFile is file-backed
             resident pages (the mmap'd GGUF), RssAnon is private memory (KV cache, scratch, and any weights
             copied out of the mapping, e.g. llama.cpp's repacked Q4_0). The polled maxima can miss a
             short-lived peak; ru_maxrss cannot.
Every run is repeated R times (default 3, alternating engines) and the median is reported. The page cache is
not dropped: both engines map the same file, so a warm cache favours neither.

Run:
  /work/llamavenv/bin/python bench/memory_compare.py --seek build/bin/seek \\
      --model ~/.cache/seek/speed/r1-distill-qwen-1.5b-q4_0.gguf --prompt /usr/share/common-licenses/GPL-3 \\
      [-c 4096 --prompt-tokens 512 -n 64 -t 2 -r 3] [--seek-args "--kv-type f16"]
--prompt-tokens cuts the prompt file (whole lines) to at most that many tokens by llama.cpp's tokenizer (seek's
matches it for GGUF vocabularies) and gives both engines that text through a temp file.
--llama-no-repack adds llama.cpp with use_extra_bufts = false: no repacked weight copies.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LLAMA_CHILD = r"""
import sys
import numpy as np
import llama_cpp as L
if sys.argv[1] == "import-only":
    sys.exit(0)
model_path, prompt_path, n_ctx, n_gen, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
L.llama_backend_init()
mp = L.llama_model_default_params()
if sys.argv[6] == "no-repack":
    mp.use_extra_bufts = False  # no CPU_REPACK buffers: weights stay in the mapping
model = L.llama_model_load_from_file(model_path.encode(), mp)
assert model, "load failed"
cp = L.llama_context_default_params()
cp.n_ctx = n_ctx
cp.n_threads = threads
cp.n_threads_batch = threads
ctx = L.llama_init_from_model(model, cp)
assert ctx, "context failed"
vocab = L.llama_model_get_vocab(model)
n_vocab = L.llama_vocab_n_tokens(vocab)
text = open(prompt_path, "rb").read()
toks = (L.llama_token * (len(text) + 16))()
n = L.llama_tokenize(vocab, text, len(text), toks, len(text) + 16, True, True)
assert n > 0
batch = L.llama_batch_init(max(n, 1), 0, 1)
def decode(ids, pos0):
    batch.n_tokens = len(ids)
    for i, t in enumerate(ids):
        batch.token[i] = t
        batch.pos[i] = pos0 + i
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = 1 if i == len(ids) - 1 else 0
    assert L.llama_decode(ctx, batch) == 0
def argmax():
    return int(np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,)).argmax())
decode(list(toks[:n]), 0)
pos = n
for _ in range(n_gen):
    t = argmax()
    decode([t], pos)
    pos += 1
L.llama_synchronize(ctx)
print(f"prompt_tokens={n} generated={n_gen}", file=sys.stderr)
"""

STATUS_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")


def read_status(pid):
    d = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in STATUS_KEYS:
                    d[k] = int(v.split()[0]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return d


def measure(cmd, env=None):
    """Runs cmd; returns peak RSS (wait4), the /proc sample with the largest VmRSS, wall time and stderr."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        best = {}
        hwm = 0
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            s = read_status(p.pid)
            hwm = max(hwm, s.get("VmHWM", 0))
            if s.get("VmRSS", 0) >= best.get("VmRSS", 0):
                best = s
            time.sleep(0.01)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({code}):\n{stderr[-3000:]}")
    return dict(peak_rss=ru.ru_maxrss * 1024, hwm_polled=hwm, rss_anon=best.get("RssAnon", 0),
                rss_file=best.get("RssFile", 0), seconds=time.perf_counter() - t0), stderr


def cut_prompt(path, n_tokens, model):
    """The longest prefix of the text (in whole lines) with at most n_tokens tokens by llama.cpp's tokenizer."""
    import llama_cpp as L
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.vocab_only = True
    m = L.llama_model_load_from_file(str(model).encode(), mp)
    vocab = L.llama_model_get_vocab(m)
    buf = (L.llama_token * 65536)()

    def count(b):
        return L.llama_tokenize(vocab, b, len(b), buf, 65536, True, True)

    lines = Path(path).read_bytes().splitlines(keepends=True)
    text = b""
    for line in lines:
        if count(text + line) > n_tokens:
            break
        text += line
    n = count(text)
    L.llama_model_free(m)
    return text, n


def mib(b):
    return b / (1 << 20)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seek", default=str(Path(__file__).resolve().parent.parent / "build" / "bin" / "seek"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", required=True, help="text file; cut to --prompt-tokens")
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("-c", "--ctx", type=int, default=4096)
    ap.add_argument("-n", type=int, default=64, help="tokens to decode after the prompt")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-r", "--rounds", type=int, default=3)
    ap.add_argument("--seek-args", default="", help="extra arguments for `seek run`, e.g. \"--kv-type f16\"")
    ap.add_argument("--llama-no-repack", action="store_true",
                    help="also run llama.cpp with use_extra_bufts = false (weights used in place from the mapping "
                         "instead of repacked copies)")
    ap.add_argument("--json", help="also write every figure here")
    a = ap.parse_args()
    model = Path(os.path.expanduser(a.model))
    if not model.exists():
        sys.exit(f"{model}: no such file")

    text, n_prompt = cut_prompt(a.prompt, a.prompt_tokens, model)
    fd, prompt_file = tempfile.mkstemp(suffix=".txt")
    os.write(fd, text)
    os.close(fd)

    seek_cmd = [a.seek, "run", "-m", str(model), "-c", str(a.ctx), "-f", prompt_file, "-n", str(a.n), "--temp", "0",
                "--ignore-eos", "-t", str(a.threads), *shlex.split(a.seek_args)]
    llama_cmd = [sys.executable, "-c", LLAMA_CHILD, str(model), prompt_file, str(a.ctx), str(a.n), str(a.threads)]
    cmds = {"seek": seek_cmd, "llama.cpp": llama_cmd + ["default"],
            "llama.cpp no-repack": llama_cmd + ["no-repack"]}
    py_cmd = [sys.executable, "-c", LLAMA_CHILD, "import-only"]
    engines = ["seek", "llama.cpp"] + (["llama.cpp no-repack"] if a.llama_no_repack else [])
    runs = {who: [] for who in engines + ["python"]}
    for rnd in range(a.rounds):
        order = engines if rnd % 2 == 0 else engines[::-1]
        for who in order:
            m, _ = measure(cmds[who])
            runs[who].append(m)
            print(f"  round {rnd + 1}: {who}: peak RSS {mib(m['peak_rss']):.1f} MiB (anon {mib(m['rss_anon']):.1f}, "
                  f"file {mib(m['rss_file']):.1f}), {m['seconds']:.1f} s", file=sys.stderr)
    runs["python"].append(measure(py_cmd)[0])
    os.unlink(prompt_file)

    def med(who, key):
        return statistics.median(r[key] for r in runs[who])

    info = subprocess.run([a.seek, "info", "-m", str(model), "-c", str(a.ctx), *shlex.split(a.seek_args)],
                          capture_output=True, text=True)
    file_mib = mib(model.stat().st_size)
    print(f"\n{model.name} ({file_mib:.1f} MiB), n_ctx {a.ctx}, {n_prompt}-token prompt + {a.n} decoded tokens, "
          f"{a.threads} threads, median of {a.rounds} runs per engine (fresh process each). seek: "
          f"`seek {' '.join(shlex.quote(str(x)) for x in seek_cmd[1:])}` (prompt file: a temp copy of the cut text); "
          f"llama.cpp: llama-cpp-python {getattr(__import__('llama_cpp'), '__version__', '?')}, default "
          f"model/context params except n_ctx and threads.\n")
    print("| engine | peak RSS (MiB) | RssFile at peak (mmap'd weights) | RssAnon at peak (private) | wall s |")
    print("|---|---:|---:|---:|---:|")
    for who in engines + ["python"]:
        label = {"python": "python + import llama_cpp (baseline)",
                 "llama.cpp no-repack": "llama.cpp, use_extra_bufts = false (no repacking)"}.get(who, who)
        print(f"| {label} | {mib(med(who, 'peak_rss')):.1f} | {mib(med(who, 'rss_file')):.1f} | "
              f"{mib(med(who, 'rss_anon')):.1f} | {med(who, 'seconds'):.1f} |")
    s, l, py = med("seek", "peak_rss"), med("llama.cpp", "peak_rss"), med("python", "peak_rss")
    print(f"\nseek / llama.cpp peak RSS = **{s / l:.3f}** ({(s / l - 1) * 100:+.1f}%); against llama.cpp minus the "
          f"interpreter baseline: {s / (l - py):.3f} ({(s / (l - py) - 1) * 100:+.1f}%).")
    if info.returncode == 0:
        print("\n`seek info` memory estimate:\n```\n" +
              "\n".join(l for l in info.stdout.splitlines() if l.startswith(("memory", "  "))) + "\n```")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(model=str(model), n_ctx=a.ctx, n_prompt=n_prompt, n_gen=a.n,
                                                threads=a.threads, seek_args=a.seek_args, runs=runs), indent=2))


if __name__ == "__main__":
    main()
