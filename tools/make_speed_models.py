#!/usr/bin/env python3
"""Speed-reference models: seeded random weights with the EXACT shapes of real models, as GGUF files.

Speed depends on shapes and tensor types, not on what the weights say, so these files let `seek bench` and
bench/compare_llamacpp.py measure real-model speed without downloading real weights (no Hugging Face here).
Each file carries the real model's metadata and, where ../shared has one, its real tokenizer, so both seek and
llama.cpp load it as they would the real thing.

  shape                   arch   layers  embd  ff    heads/kv  vocab   tied  tokenizer
  qwen2.5-0.5b            qwen2  24      896   4864  14/2      151936  yes   Qwen2 BPE (shared/tokenizers/qwen3)
  r1-distill-qwen-1.5b    qwen2  28      1536  8960  12/2      151936  no    R1-Distill-Qwen BPE (shared/tokenizers)
  tinyllama-1.1b          llama  22      2048  5632  32/4      32000   no    Llama SPM (shared/vocab-gguf)
  deepseek-v2-lite        deepseek2 27   2048  10944 16/MLA    102400  no    DeepSeek-LLM BPE (shared/vocab-gguf)

deepseek-v2-lite is deepseek-ai/DeepSeek-V2-Lite (shared/deepseek-configs/config_16B.json and the HF config):
MLA with kv_lora_rank 512, no q_lora (plain attn_q), qk_nope/rope/v 128/64/128, layer 0 dense (n_ff 10944),
layers 1..26 MoE with 64 routed experts (6 used, softmax gate, greedy top-k, no renormalisation, scale 1.0)
of width 1408 plus 2 shared experts, YaRN factor 40 over 4096 (mscale = mscale_all_dim = 0.707), context
163840. Written in the MLA layout of llama.cpp#12801 (attn_k_b + attn_v_b, key/value_length 576/512 and the
*_mla lengths 192/128, one KV head), which llama.cpp since #12801 (llama-cpp-python 0.3.16 included) runs with
its absorbed MLA, and which seek also reads. 15.7 B parameters (2.7 B active per token with the
embeddings); F16 ~31 GB, so it is meant to be quantized with `seek quantize` to Q4_0 / Q4_K_M (~9-10 GB).

Weights: numpy's PCG64 seeded from (--seed, tensor name), standard normal * 0.02; norm weights are 1, Qwen2's
Q/K/V biases normal * 0.02. The forward pass stays finite at this scale. Every tensor is generated and written
in row chunks, so memory stays bounded (a few hundred MB) even for the 151936-row embeddings.

Types: F16 is written directly (norms and biases F32, as llama.cpp's converter does). Q8_0 / Q4_0 variants are
made by `seek quantize F16FILE OUT TYPE` when the seek binary has that command (--seek); otherwise (or with
--quantizer gguf-py) this script quantizes the same fp32 weights itself with gguf-py's reference quantizer
(gguf.quants.quantize, the same block formats as llama.cpp), every 2-D weight to the one type. Note that
llama-quantize would keep output.weight at a higher type (Q6_K); a uniform type is used here on purpose so
that both engines run the same tensor types everywhere.

Files go to ~/.cache/seek/speed/ (never committed), named SHAPE-TYPE.gguf. Run with gguf-py installed:
  /work/refvenv/bin/python tools/make_speed_models.py --shape tinyllama-1.1b --types f16 q8_0 q4_0
The V2-Lite files (F16 written by this script in ~25 min on the loaded 2 cores, 29.3 GiB; then `seek quantize`,
~7 min for Q4_0, ~50 min for Q4_K_M under load; delete the F16 afterwards, ~62 GB of disk is needed at the peak):
  /work/refvenv/bin/python tools/make_speed_models.py --shape deepseek-v2-lite --types f16 --quantizer gguf-py
  build/bin/seek quantize ~/.cache/seek/speed/deepseek-v2-lite-f16.gguf ~/.cache/seek/speed/deepseek-v2-lite-q4_0.gguf Q4_0
  (or: --types q4_0 q4_k_m, which runs `seek quantize` from the F16 file)
"""
import argparse
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent.parent / "shared"

SHAPES = {
    # Qwen/Qwen2.5-0.5B-Instruct config.json
    "qwen2.5-0.5b": dict(
        name="Qwen2.5-0.5B-Instruct (random weights)", arch="qwen2", n_vocab=151936, n_embd=896, n_layer=24,
        n_head=14, n_head_kv=2, n_ff=4864, n_ctx=32768, rope_theta=1000000.0, eps=1e-6, tied=True,
        tokenizer=dict(kind="bpe", dir="tokenizers/qwen3", pre="qwen2", bos=151643, eos=151645, add_bos=False,
                       template="tokenizers/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja")),
    # deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B config.json
    "r1-distill-qwen-1.5b": dict(
        name="DeepSeek-R1-Distill-Qwen-1.5B (random weights)", arch="qwen2", n_vocab=151936, n_embd=1536,
        n_layer=28, n_head=12, n_head_kv=2, n_ff=8960, n_ctx=131072, rope_theta=10000.0, eps=1e-6, tied=False,
        tokenizer=dict(kind="bpe", dir="tokenizers/deepseek-r1-distill-qwen", pre="deepseek-r1-qwen", bos=151646,
                       eos=151643, add_bos=True,
                       template="tokenizers/chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja")),
    # TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json
    "tinyllama-1.1b": dict(
        name="TinyLlama-1.1B (random weights)", arch="llama", n_vocab=32000, n_embd=2048, n_layer=22,
        n_head=32, n_head_kv=4, n_ff=5632, n_ctx=2048, rope_theta=10000.0, eps=1e-5, tied=False,
        tokenizer=dict(kind="vocab-gguf", file="vocab-gguf/ggml-vocab-llama-spm.gguf")),
    # deepseek-ai/DeepSeek-V2-Lite config.json (= shared/deepseek-configs/config_16B.json)
    "deepseek-v2-lite": dict(
        name="DeepSeek-V2-Lite (random weights)", arch="deepseek2", n_vocab=102400, n_embd=2048, n_layer=27,
        n_head=16, n_ff=10944, n_ctx=163840, rope_theta=10000.0, eps=1e-6, tied=False,
        kv_lora_rank=512, qk_nope=128, qk_rope=64, v_head=128, n_dense=1, n_expert=64, n_expert_used=6,
        n_expert_shared=2, n_ff_exp=1408, route_scale=1.0, norm_topk=False,
        yarn=dict(factor=40.0, orig_ctx=4096, beta_fast=32.0, beta_slow=1.0, mscale=0.707, mscale_all_dim=0.707),
        tokenizer=dict(kind="vocab-gguf", file="vocab-gguf/ggml-vocab-deepseek-llm.gguf")),
}

TYPES = {"f16": QT.F16, "q8_0": QT.Q8_0, "q4_0": QT.Q4_0, "q4_k_m": QT.Q4_K}
FILE_TYPE = {"f16": 1, "q8_0": 7, "q4_0": 2, "q4_k_m": 15}  # general.file_type (llama_ftype)
ROWS_PER_CHUNK = 2048
SCALE = 0.02


def tensor_list(s):
    """(name, numpy shape (rows, cols) or (n,), kind) in file order. kind: weight / norm / bias."""
    if s["arch"] == "deepseek2":
        return tensor_list_deepseek2(s)
    e, q, kv, ff, v = s["n_embd"], s["n_head"] * (s["n_embd"] // s["n_head"]), \
        s["n_head_kv"] * (s["n_embd"] // s["n_head"]), s["n_ff"], s["n_vocab"]
    out = [("token_embd.weight", (v, e), "weight")]
    for i in range(s["n_layer"]):
        b = f"blk.{i}."
        out += [(b + "attn_norm.weight", (e,), "norm"),
                (b + "attn_q.weight", (q, e), "weight"),
                (b + "attn_k.weight", (kv, e), "weight"),
                (b + "attn_v.weight", (kv, e), "weight")]
        if s["arch"] == "qwen2":
            out += [(b + "attn_q.bias", (q,), "bias"), (b + "attn_k.bias", (kv,), "bias"),
                    (b + "attn_v.bias", (kv,), "bias")]
        out += [(b + "attn_output.weight", (e, q), "weight"),
                (b + "ffn_norm.weight", (e,), "norm"),
                (b + "ffn_gate.weight", (ff, e), "weight"),
                (b + "ffn_up.weight", (ff, e), "weight"),
                (b + "ffn_down.weight", (e, ff), "weight")]
    out.append(("output_norm.weight", (e,), "norm"))
    if not s["tied"]:
        out.append(("output.weight", (v, e), "weight"))
    return out


def tensor_list_deepseek2(s):
    """llama.cpp's deepseek2 tensors (post-#12801 MLA layout); 3-D shapes are (n_head or n_expert, rows, cols),
    the reverse of GGUF's ne. The router (ffn_gate_inp) is F32 as llama.cpp's converter writes it."""
    e, h, v = s["n_embd"], s["n_head"], s["n_vocab"]
    L, N, R, V = s["kv_lora_rank"], s["qk_nope"], s["qk_rope"], s["v_head"]
    x, fe, sh = s["n_expert"], s["n_ff_exp"], s["n_expert_shared"] * s["n_ff_exp"]
    out = [("token_embd.weight", (v, e), "weight")]
    for i in range(s["n_layer"]):
        b = f"blk.{i}."
        out += [(b + "attn_norm.weight", (e,), "norm"),
                (b + "attn_q.weight", (h * (N + R), e), "weight"),
                (b + "attn_kv_a_mqa.weight", (L + R, e), "weight"),
                (b + "attn_kv_a_norm.weight", (L,), "norm"),
                (b + "attn_k_b.weight", (h, L, N), "weight"),
                (b + "attn_v_b.weight", (h, V, L), "weight"),
                (b + "attn_output.weight", (e, h * V), "weight"),
                (b + "ffn_norm.weight", (e,), "norm")]
        if i < s["n_dense"]:
            out += [(b + "ffn_gate.weight", (s["n_ff"], e), "weight"), (b + "ffn_up.weight", (s["n_ff"], e), "weight"),
                    (b + "ffn_down.weight", (e, s["n_ff"]), "weight")]
        else:
            out += [(b + "ffn_gate_inp.weight", (x, e), "router"),
                    (b + "ffn_gate_exps.weight", (x, fe, e), "weight"),
                    (b + "ffn_up_exps.weight", (x, fe, e), "weight"),
                    (b + "ffn_down_exps.weight", (x, e, fe), "weight"),
                    (b + "ffn_gate_shexp.weight", (sh, e), "weight"),
                    (b + "ffn_up_shexp.weight", (sh, e), "weight"),
                    (b + "ffn_down_shexp.weight", (e, sh), "weight")]
    out.append(("output_norm.weight", (e,), "norm"))
    out.append(("output.weight", (v, e), "weight"))
    return out


def add_deepseek2_metadata(w, s):
    """The deepseek2.* keys llama.cpp reads (llama-model.cpp load_hparams, LLM_ARCH_DEEPSEEK2), in the MLA form of
    llama.cpp#12801; the same keys tools/hf_to_gguf.py writes with --mla-layout kb."""
    a = "deepseek2."
    L, N, R, V = s["kv_lora_rank"], s["qk_nope"], s["qk_rope"], s["v_head"]
    w.add_head_count_kv(1)
    w.add_key_length(L + R)
    w.add_value_length(L)
    w.add_uint32(a + "attention.key_length_mla", N + R)
    w.add_uint32(a + "attention.value_length_mla", V)
    w.add_uint32(a + "attention.kv_lora_rank", L)
    w.add_uint32(a + "leading_dense_block_count", s["n_dense"])
    w.add_uint32(a + "expert_feed_forward_length", s["n_ff_exp"])
    w.add_uint32(a + "expert_count", s["n_expert"])
    w.add_uint32(a + "expert_used_count", s["n_expert_used"])
    w.add_uint32(a + "expert_shared_count", s["n_expert_shared"])
    w.add_float32(a + "expert_weights_scale", s["route_scale"])
    w.add_bool(a + "expert_weights_norm", s["norm_topk"])
    w.add_uint32(a + "expert_gating_func", 1)  # softmax
    y = s["yarn"]
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(y["factor"])
    w.add_rope_scaling_orig_ctx_len(y["orig_ctx"])
    w.add_float32(a + "rope.scaling.yarn_beta_fast", y["beta_fast"])
    w.add_float32(a + "rope.scaling.yarn_beta_slow", y["beta_slow"])
    w.add_float32(a + "rope.scaling.yarn_log_multiplier", 0.1 * y["mscale_all_dim"])


def rng_for(seed, name):
    return np.random.Generator(np.random.PCG64([seed, zlib.crc32(name.encode())]))


def row_chunks(rng, shape):
    """Yields fp32 chunks of rows of a 2-D weight (normal * SCALE), in order, from one generator."""
    rows, cols = shape
    for r0 in range(0, rows, ROWS_PER_CHUNK):
        n = min(ROWS_PER_CHUNK, rows - r0)
        yield r0, rng.standard_normal((n, cols), dtype=np.float32) * np.float32(SCALE)


def weight_bytes(shape, qtype):
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    bs, ts = gguf.GGML_QUANT_SIZES[qtype]
    assert cols % bs == 0, (shape, qtype)
    return rows * (cols // bs) * ts


def make_weight(seed, name, shape, qtype):
    """The whole tensor in its file encoding: float16 [rows, cols] or uint8 [rows, bytes per row]; a 3-D shape is
    generated as its 2-D [prod(leading), cols] view and reshaped."""
    if len(shape) == 3:
        flat = make_weight(seed, name, (shape[0] * shape[1], shape[2]), qtype)
        return flat.reshape(shape[0], shape[1], flat.shape[1])
    rng = rng_for(seed, name)
    if qtype == QT.F16:
        out = np.empty(shape, dtype=np.float16)
        for r0, chunk in row_chunks(rng, shape):
            out[r0:r0 + len(chunk)] = chunk
        return out
    out = np.empty((shape[0], weight_bytes((1, shape[1]), qtype)), dtype=np.uint8)
    for r0, chunk in row_chunks(rng, shape):
        out[r0:r0 + len(chunk)] = gguf.quants.quantize(chunk, qtype)
    return out


def make_small(seed, name, shape, kind):
    if kind == "norm":
        return np.ones(shape, dtype=np.float32)
    if kind == "router":  # ~N(0, 0.3^2)-scale logits over the experts would be as random; 0.02 keeps it tame
        return rng_for(seed, name).standard_normal(shape, dtype=np.float32) * np.float32(SCALE)
    return rng_for(seed, name).standard_normal(shape, dtype=np.float32) * np.float32(SCALE)


def add_bpe_tokenizer(w, s, t, shared):
    tj = json.loads((shared / t["dir"] / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    added = {a["id"]: a for a in tj["added_tokens"]}
    n = s["n_vocab"]
    tokens, types = [], []
    by_id = {i: tok for tok, i in vocab.items()}
    for i in range(n):
        if i in added:
            tokens.append(added[i]["content"])
            types.append(gguf.TokenType.CONTROL if added[i]["special"] else gguf.TokenType.USER_DEFINED)
        elif i in by_id:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
        else:  # the embedding table is padded past the tokenizer (151936 rows); llama.cpp's converter does this
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(t["pre"])
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(t["bos"])
    w.add_eos_token_id(t["eos"])
    w.add_pad_token_id(151643)
    w.add_add_bos_token(t["add_bos"])
    w.add_chat_template((shared / t["template"]).read_text(encoding="utf-8"))


def add_vocab_gguf_tokenizer(w, s, t, shared):
    r = gguf.GGUFReader(shared / t["file"])
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    if len(tokens) != s["n_vocab"]:
        sys.exit(f"{t['file']}: {len(tokens)} tokens, the shape needs {s['n_vocab']}")
    w.add_tokenizer_model(r.fields["tokenizer.ggml.model"].contents())
    w.add_tokenizer_pre(r.fields["tokenizer.ggml.pre"].contents())
    w.add_token_list(tokens)
    if "tokenizer.ggml.scores" in r.fields:
        w.add_token_scores(r.fields["tokenizer.ggml.scores"].contents())
    w.add_token_types(r.fields["tokenizer.ggml.token_type"].contents())
    if "tokenizer.ggml.merges" in r.fields:
        w.add_token_merges(r.fields["tokenizer.ggml.merges"].contents())
    for key, fn in (("bos_token_id", w.add_bos_token_id), ("eos_token_id", w.add_eos_token_id),
                    ("unknown_token_id", w.add_unk_token_id), ("padding_token_id", w.add_pad_token_id),
                    ("add_bos_token", w.add_add_bos_token),
                    ("add_eos_token", w.add_add_eos_token)):
        f = r.fields.get("tokenizer.ggml." + key)
        if f is not None:
            fn(f.contents())


def write_model(shape_name, type_name, path, seed, shared):
    s = SHAPES[shape_name]
    qtype = TYPES[type_name]
    head_dim = s["n_embd"] // s["n_head"]
    w = gguf.GGUFWriter(str(path), s["arch"])
    w.add_name(s["name"])
    w.add_description(f"seek speed-reference model: random weights (seed {seed}), real shape {shape_name}")
    w.add_file_type(FILE_TYPE[type_name])
    if qtype != QT.F16:
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_context_length(s["n_ctx"])
    w.add_embedding_length(s["n_embd"])
    w.add_block_count(s["n_layer"])
    w.add_feed_forward_length(s["n_ff"])
    w.add_head_count(s["n_head"])
    w.add_layer_norm_rms_eps(s["eps"])
    w.add_rope_freq_base(s["rope_theta"])
    if s["arch"] == "deepseek2":
        w.add_rope_dimension_count(s["qk_rope"])
        add_deepseek2_metadata(w, s)
    else:
        w.add_head_count_kv(s["n_head_kv"])
        w.add_rope_dimension_count(head_dim)
    w.add_vocab_size(s["n_vocab"])
    t = s["tokenizer"]
    if t["kind"] == "bpe":
        add_bpe_tokenizer(w, s, t, shared)
    else:
        add_vocab_gguf_tokenizer(w, s, t, shared)

    tensors = tensor_list(s)
    for name, shape, kind in tensors:
        if kind == "weight":
            if qtype == QT.F16:
                w.add_tensor_info(name, shape, np.dtype(np.float16), int(np.prod(shape)) * 2)
            else:
                nb = weight_bytes(shape, qtype)
                rows = int(np.prod(shape[:-1]))
                w.add_tensor_info(name, tuple(shape[:-1]) + (nb // rows,), np.dtype(np.uint8), nb, raw_dtype=qtype)
        else:
            w.add_tensor_info(name, shape, np.dtype(np.float32), int(np.prod(shape)) * 4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    n_params = 0
    for name, shape, kind in tensors:
        data = make_weight(seed, name, shape, qtype) if kind == "weight" else make_small(seed, name, shape, kind)
        n_params += int(np.prod(shape))
        w.write_tensor_data(data)
        del data
    w.close()
    return n_params


def seek_has_quantize(seek):
    if not seek or not Path(seek).exists():
        return False
    r = subprocess.run([seek, "quantize", "--help"], capture_output=True)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", nargs="+", default=["tinyllama-1.1b"], choices=sorted(SHAPES) + ["all"])
    ap.add_argument("--types", nargs="+", default=["f16", "q8_0", "q4_0"], choices=sorted(TYPES))
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/seek/speed"))
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--shared", default=str(DEFAULT_SHARED), help="the shared/ folder (tokenizers, vocab-gguf)")
    ap.add_argument("--seek", default=str(HERE.parent / "build" / "bin" / "seek"), help="seek binary (quantize)")
    ap.add_argument("--quantizer", choices=["auto", "seek", "gguf-py"], default="auto",
                    help="who makes Q8_0/Q4_0: `seek quantize` from the F16 file, or gguf-py here (auto: seek "
                         "when it has the command)")
    ap.add_argument("--force", action="store_true", help="rewrite files that exist")
    a = ap.parse_args()
    shapes = sorted(SHAPES) if "all" in a.shape else a.shape
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    shared = Path(a.shared)
    use_seek = a.quantizer == "seek" or (a.quantizer == "auto" and seek_has_quantize(a.seek))
    if a.quantizer == "seek" and not seek_has_quantize(a.seek):
        sys.exit(f"{a.seek}: no `quantize` command")
    if "q4_k_m" in a.types and not use_seek:
        sys.exit("q4_k_m (a per-tensor mix) is made by `seek quantize` only")
    for shape in shapes:
        types = list(a.types)
        if use_seek and any(t != "f16" for t in types) and "f16" not in types:
            types.insert(0, "f16")  # seek quantizes from the F16 file
        for tn in types:
            path = out / f"{shape}-{tn}.gguf"
            if path.exists() and not a.force:
                print(f"{path}: exists (--force rewrites it)")
                continue
            t0 = time.time()
            tmp = path.with_suffix(".gguf.tmp")
            if tn != "f16" and use_seek:
                src = out / f"{shape}-f16.gguf"
                subprocess.run([a.seek, "quantize", str(src), str(tmp), tn.upper()], check=True)
                how = "seek quantize"
            else:
                n = write_model(shape, tn, tmp, a.seed, shared)
                how = f"{n / 1e9:.3f} B params, gguf-py"
            tmp.rename(path)
            print(f"{path}: {path.stat().st_size / 2**30:.2f} GiB ({how}) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
