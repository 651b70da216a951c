#!/usr/bin/env python3
"""An independent plain-numpy re-implementation of llama2.c's run.c (Karpathy, MIT), used as the oracle for
seek on the real trained model stories260K.

    /work/refvenv/bin/python tools/llama2c_ref.py [--model /work/shared/models/stories260K/stories260K.bin]
        [--tokenizer .../tok512.bin] [--prompt "Once upon a time"] [--steps 64]
        [--out tests/testdata/models/stories260K_greedy.json] [--check-hf]

What it reproduces from run.c (https://github.com/karpathy/llama2.c/blob/master/run.c), written from its
description, not copied:
  - checkpoint: 7 int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative
    vocab_size means an unshared classifier), then fp32 arrays in this order: token_embedding [vocab, dim],
    rms_att [layer, dim], wq [layer, dim, n_heads*hs], wk/wv [layer, n_kv_heads*hs, dim], wo [layer, dim,
    n_heads*hs], rms_ffn [layer, dim], w1 [layer, hidden, dim], w2 [layer, dim, hidden], w3 [layer, hidden, dim],
    rms_final [dim], two legacy RoPE tables [seq_len, hs/2] each (skipped), then wcls [vocab, dim] if unshared.
    Every matrix is stored (out, in), row-major: y = W @ x.
  - tokenizer.bin: int32 max_token_length, then per token: float32 score, int32 len, len bytes.
  - encode(text, bos=1, eos=0): BOS (id 1), the " " token as a dummy prefix (text non-empty), each UTF-8
    code point as its token or else byte-fallback ids (byte + 3), then repeatedly merge the adjacent pair whose
    concatenation is in the vocabulary with the highest score (first such pair on ties), until none is left.
  - forward: rmsnorm (eps 1e-5), interleaved RoPE on pairs (2i, 2i+1) with theta = pos * 10000^(-(i mod hs)/hs)
    over q (all of dim) and k (kv_dim), causal softmax attention with GQA (head h reads kv head h / kv_mul),
    SwiGLU FFN, residuals, final rmsnorm, classifier.
  - greedy: argmax of the logits (first index on ties), the prompt forced first as run.c's generate() does.
  - decode(prev, tok): the piece, without its leading space when prev is BOS; "<0xXX>" pieces are raw bytes.

Output JSON: prompt, prompt_ids (with BOS), generated (steps ids after the prompt), text (what run.c prints:
the decoded prompt and continuation), generated_text (only the continuation's pieces), bos_in_generated (run.c
itself would stop at a generated BOS; this script does not).
All arithmetic is float32 except the score accumulation in softmax, as in run.c.
"""

import argparse
import json
import os
import struct

import numpy as np


def load_checkpoint(path):
    with open(path, "rb") as f:
        header = struct.unpack("7i", f.read(28))
        data = np.frombuffer(f.read(), dtype="<f4")
    dim, hidden, n_layers, n_heads, n_kv_heads, vocab, seq_len = header
    shared = vocab > 0
    vocab = abs(vocab)
    hs = dim // n_heads
    kv_dim = n_kv_heads * hs
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        a = data[off:off + n].reshape(shape)
        off += n
        return a

    w = {}
    w["tok"] = take(vocab, dim)
    w["rms_att"] = take(n_layers, dim)
    w["wq"] = take(n_layers, n_heads * hs, dim)
    w["wk"] = take(n_layers, kv_dim, dim)
    w["wv"] = take(n_layers, kv_dim, dim)
    w["wo"] = take(n_layers, dim, n_heads * hs)
    w["rms_ffn"] = take(n_layers, dim)
    w["w1"] = take(n_layers, hidden, dim)
    w["w2"] = take(n_layers, dim, hidden)
    w["w3"] = take(n_layers, hidden, dim)
    w["rms_final"] = take(dim)
    take(seq_len, hs // 2)  # freq_cis_real (unused)
    take(seq_len, hs // 2)  # freq_cis_imag (unused)
    w["wcls"] = w["tok"] if shared else take(vocab, dim)
    cfg = dict(dim=dim, hidden_dim=hidden, n_layers=n_layers, n_heads=n_heads, n_kv_heads=n_kv_heads,
               vocab_size=vocab, seq_len=seq_len, shared_classifier=shared)
    return cfg, w


def load_tokenizer(path, vocab_size):
    pieces, scores = [], []
    with open(path, "rb") as f:
        (max_len,) = struct.unpack("i", f.read(4))
        for _ in range(vocab_size):
            score, n = struct.unpack("fi", f.read(8))
            pieces.append(f.read(n))
            scores.append(score)
    return pieces, np.array(scores, dtype=np.float32)


def encode(text, pieces, scores, bos=True, eos=False):
    lookup = {p: i for i, p in enumerate(pieces)}
    ids = []
    if bos:
        ids.append(1)
    if text:
        ids.append(lookup[b" "])  # dummy prefix, as SentencePiece's add_dummy_prefix
    for ch in text:
        b = ch.encode("utf-8")
        if b in lookup:
            ids.append(lookup[b])
        else:
            ids.extend(x + 3 for x in b)  # byte fallback: <0x00> is id 3
    start = 1 if bos else 0
    while True:
        best_score, best_i, best_id = -1e10, -1, -1
        for i in range(start, len(ids) - 1):
            merged = pieces[ids[i]] + pieces[ids[i + 1]]
            j = lookup.get(merged)
            if j is not None and scores[j] > best_score:
                best_score, best_i, best_id = scores[j], i, j
        if best_i < 0:
            break
        ids[best_i:best_i + 2] = [best_id]
    if eos:
        ids.append(2)
    return ids


def decode_piece(prev, tok, pieces):
    p = pieces[tok]
    if prev == 1 and p.startswith(b" "):
        p = p[1:]
    if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
        return bytes([int(p[3:5], 16)])
    return p


def rmsnorm(x, weight):
    ss = np.float32(np.sum(x * x, dtype=np.float32) / np.float32(x.size) + np.float32(1e-5))
    return (weight * (x * np.float32(1.0 / np.sqrt(ss)))).astype(np.float32)


class RunState:
    def __init__(self, cfg):
        hs = cfg["dim"] // cfg["n_heads"]
        kv_dim = cfg["n_kv_heads"] * hs
        self.k_cache = np.zeros((cfg["n_layers"], cfg["seq_len"], kv_dim), np.float32)
        self.v_cache = np.zeros((cfg["n_layers"], cfg["seq_len"], kv_dim), np.float32)


def forward(cfg, w, s, token, pos):
    dim, n_heads, n_kv = cfg["dim"], cfg["n_heads"], cfg["n_kv_heads"]
    hs = dim // n_heads
    kv_dim = n_kv * hs
    kv_mul = n_heads // n_kv
    x = w["tok"][token].copy()
    # RoPE angles for this position, one per pair (run.c recomputes them with powf/cosf/sinf in float32)
    i = np.arange(0, dim, 2)
    freq = (np.float32(1.0) / np.power(np.float32(10000.0), ((i % hs).astype(np.float32) / np.float32(hs)))).astype(
        np.float32)
    val = (np.float32(pos) * freq).astype(np.float32)
    fcr, fci = np.cos(val).astype(np.float32), np.sin(val).astype(np.float32)

    def rope(vec, n):
        v0, v1 = vec[0:n:2].copy(), vec[1:n:2].copy()
        vec[0:n:2] = v0 * fcr[:n // 2] - v1 * fci[:n // 2]
        vec[1:n:2] = v0 * fci[:n // 2] + v1 * fcr[:n // 2]

    for l in range(cfg["n_layers"]):
        xb = rmsnorm(x, w["rms_att"][l])
        q = w["wq"][l] @ xb
        k = w["wk"][l] @ xb
        v = w["wv"][l] @ xb
        rope(q, dim)
        rope(k, kv_dim)
        s.k_cache[l, pos] = k
        s.v_cache[l, pos] = v
        out = np.zeros(dim, np.float32)
        for h in range(n_heads):
            qh = q[h * hs:(h + 1) * hs]
            kvh = (h // kv_mul) * hs
            keys = s.k_cache[l, :pos + 1, kvh:kvh + hs]  # [pos+1, hs]
            att = (keys @ qh) / np.float32(np.sqrt(np.float32(hs)))
            att = np.exp(att - att.max()).astype(np.float32)
            att = att / att.sum(dtype=np.float32)
            out[h * hs:(h + 1) * hs] = att @ s.v_cache[l, :pos + 1, kvh:kvh + hs]
        x = x + w["wo"][l] @ out
        xb = rmsnorm(x, w["rms_ffn"][l])
        hb = w["w1"][l] @ xb
        hb2 = w["w3"][l] @ xb
        hb = hb * (np.float32(1.0) / (np.float32(1.0) + np.exp(-hb))) * hb2
        x = x + w["w2"][l] @ hb
    x = rmsnorm(x, w["rms_final"])
    return w["wcls"] @ x


def check_with_hf(cfg, w, prompt_ids, generated):
    """Runs the same checkpoint through HF transformers' LlamaForCausalLM (rotate-half RoPE, so the q/k rows
    are un-interleaved per head) and checks that its greedy continuation equals ours."""
    import torch
    import transformers
    torch.set_num_threads(1)
    hs = cfg["dim"] // cfg["n_heads"]
    hc = transformers.LlamaConfig(vocab_size=cfg["vocab_size"], hidden_size=cfg["dim"],
                                  intermediate_size=cfg["hidden_dim"], num_hidden_layers=cfg["n_layers"],
                                  num_attention_heads=cfg["n_heads"], num_key_value_heads=cfg["n_kv_heads"],
                                  max_position_embeddings=cfg["seq_len"], rms_norm_eps=1e-5, rope_theta=10000.0,
                                  tie_word_embeddings=cfg["shared_classifier"], bos_token_id=1, eos_token_id=None)
    model = transformers.LlamaForCausalLM(hc).eval()

    def unpair(m, n_head):  # adjacent pairs (2i, 2i+1) -> halves (i, i + hs/2), per head
        return m.reshape(n_head, hs // 2, 2, -1).swapaxes(1, 2).reshape(m.shape)

    sd = {"model.embed_tokens.weight": w["tok"], "model.norm.weight": w["rms_final"], "lm_head.weight": w["wcls"]}
    for l in range(cfg["n_layers"]):
        p = f"model.layers.{l}."
        sd[p + "self_attn.q_proj.weight"] = unpair(w["wq"][l], cfg["n_heads"])
        sd[p + "self_attn.k_proj.weight"] = unpair(w["wk"][l], cfg["n_kv_heads"])
        sd[p + "self_attn.v_proj.weight"] = w["wv"][l]
        sd[p + "self_attn.o_proj.weight"] = w["wo"][l]
        sd[p + "mlp.gate_proj.weight"] = w["w1"][l]
        sd[p + "mlp.down_proj.weight"] = w["w2"][l]
        sd[p + "mlp.up_proj.weight"] = w["w3"][l]
        sd[p + "input_layernorm.weight"] = w["rms_att"][l]
        sd[p + "post_attention_layernorm.weight"] = w["rms_ffn"][l]
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in sd.items()})
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids]), do_sample=False, max_new_tokens=len(generated),
                             pad_token_id=0)
    hf = out[0, len(prompt_ids):].tolist()
    print("HF transformers greedy", "matches" if hf == generated else f"DIFFERS: {hf}")
    return hf == generated


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/work/shared/models/stories260K/stories260K.bin")
    ap.add_argument("--tokenizer", default="")
    ap.add_argument("--prompt", default="Once upon a time")
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "testdata", "models",
                                                  "stories260K_greedy.json"))
    ap.add_argument("--check-hf", action="store_true", help="also check the result with HF transformers")
    args = ap.parse_args()
    cfg, w = load_checkpoint(args.model)
    tok_path = args.tokenizer or os.path.join(os.path.dirname(args.model), f"tok{cfg['vocab_size']}.bin")
    pieces, scores = load_tokenizer(tok_path, cfg["vocab_size"])
    prompt_ids = encode(args.prompt, pieces, scores, bos=True)

    s = RunState(cfg)
    token, generated, margins = prompt_ids[0], [], []
    n_total = len(prompt_ids) + args.steps
    for pos in range(n_total - 1):
        logits = forward(cfg, w, s, token, pos)
        if pos < len(prompt_ids) - 1:
            nxt = prompt_ids[pos + 1]
        else:
            nxt = int(np.argmax(logits))
            top2 = np.sort(logits)[-2:]
            margins.append(float(top2[1] - top2[0]))
            generated.append(nxt)
        token = nxt

    all_ids = prompt_ids + generated
    text = b"".join(decode_piece(all_ids[i - 1], all_ids[i], pieces) for i in range(1, len(all_ids)))
    gen_text = b"".join(
        decode_piece(all_ids[i - 1], all_ids[i], pieces) for i in range(len(prompt_ids), len(all_ids)))
    out = dict(
        model="stories260K.bin",
        tokenizer=os.path.basename(tok_path),
        config=cfg,
        prompt=args.prompt,
        prompt_ids=prompt_ids,
        steps=args.steps,
        generated=generated,
        text=text.decode("utf-8", errors="replace"),
        generated_text=gen_text.decode("utf-8", errors="replace"),
        bos_in_generated=1 in generated,
        greedy_min_margin=min(margins),
    )
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps({k: out[k] for k in ("prompt_ids", "text", "bos_in_generated", "greedy_min_margin")},
                     ensure_ascii=False))
    if args.check_hf and not check_with_hf(cfg, w, prompt_ids, generated):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
