#!/usr/bin/env python3
"""seek's own converter: a Hugging Face model folder -> one GGUF file.

    hf_to_gguf.py IN_DIR OUT.gguf --type f32|f16|bf16|q8_0

Supported architectures: llama (LlamaForCausalLM, MistralForCausalLM -> GGUF "llama"), qwen2
(Qwen2ForCausalLM -> GGUF "qwen2") and deepseek2 (DeepseekV2ForCausalLM, DeepseekV3ForCausalLM -> GGUF
"deepseek2", incl. official FP8 folders; see convert_deepseek2 for the MLA layouts, --mla-layout).

What it writes, following the GGUF conventions that llama.cpp readers expect
(https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
  - hyper-parameters under "{arch}.*" (context_length, embedding_length, block_count, feed_forward_length,
    attention.head_count / head_count_kv / layer_norm_rms_epsilon, rope.freq_base / dimension_count,
    vocab_size) and the rope scaling keys:
      linear / yarn: {arch}.rope.scaling.type, .factor, .original_context_length (yarn also beta_fast/slow
                     and attn_factor when the config sets them);
      llama3:        a "rope_freqs.weight" F32 tensor [head_dim / 2] of per-frequency divisors, computed as
                     HF transformers' _compute_llama3_parameters does (theta_i = pos * base^(-2i/d) / divisor_i).
  - tensors under GGUF names (token_embd, blk.N.attn_q/k/v/output, ffn_gate/up/down, attn_norm, ffn_norm,
    output_norm, output; "output" is omitted when the embeddings are tied).
  - For llama only, the rows of attn_q / attn_k (and their biases) are permuted from HF's rotate-half RoPE
    layout (dims i and i + d/2 form a pair) into GGML's adjacent-pair layout (dims 2i and 2i+1), as
    llama.cpp's converter does. qwen2 uses NEOX-style RoPE in GGML (rotate-half), so it is not permuted.

numpy arrays are passed as [out, in] (row-major); GGUF's ne order is the reverse ([in, out]), and GGUFWriter
takes care of that. 1-D tensors (norms, biases) always stay F32, as llama.cpp keeps them; Q8_0 is used only
for 2-D tensors whose row length is a multiple of 32 (others fall back to F16).

If the folder has a byte-level BPE tokenizer.json, gpt2-style tokenizer keys are written too
(tokenizer.ggml.model "gpt2", tokens, token_type, merges, bos/eos ids, chat_template); the pre-tokenizer name
is taken from --tokenizer-pre (default "default").
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from safetensors.numpy import load_file as load_safetensors_numpy

ARCHES = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "llama",
    "Qwen2ForCausalLM": "qwen2",
    "DeepseekV2ForCausalLM": "deepseek2",
    "DeepseekV3ForCausalLM": "deepseek2",
}

FILE_TYPES = {"f32": 0, "f16": 1, "q8_0": 7, "bf16": 32}  # llama.cpp's LlamaFileType values


def load_tensors(in_dir):
    """All tensors of the folder as float32 numpy arrays, keyed by HF name."""
    index = os.path.join(in_dir, "model.safetensors.index.json")
    files = []
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for name in files:
        path = os.path.join(in_dir, name)
        try:
            part = load_safetensors_numpy(path)
        except TypeError:  # bf16 is not a numpy dtype: go through torch
            import torch
            from safetensors.torch import load_file
            part = {k: v.float().numpy() for k, v in load_file(path).items()}
        for k, v in part.items():
            out[k] = v.astype(np.float32)
    return out


def permute_rope_rows(w, n_head):
    """HF rotate-half -> GGML adjacent pairs, per head: new row 2i+j = old row i + j*(head_dim/2).

    w is [n_head * head_dim, ...] (a weight [out, in] or a bias [out]).
    """
    head_dim = w.shape[0] // n_head
    half = head_dim // 2
    rest = w.shape[1:]
    # [n_head, 2 (which half), half, ...] -> [n_head, half, 2, ...]
    return w.reshape(n_head, 2, half, *rest).swapaxes(1, 2).reshape(w.shape).copy()


def llama3_freq_divisors(cfg, head_dim):
    """Per-frequency divisors d_i with HF's llama3 inv_freq_i = base^(-2i/head_dim) / d_i.

    Follows transformers' _compute_llama3_parameters (modeling_rope_utils.py): frequencies whose wavelength
    is shorter than original_context / high_freq_factor are kept, longer than original_context /
    low_freq_factor are divided by `factor`, and those in between are blended smoothly.
    """
    rs = cfg["rope_scaling"]
    base = cfg.get("rope_theta", 10000.0)
    factor = rs["factor"]
    low = rs.get("low_freq_factor", 1.0)
    high = rs.get("high_freq_factor", 4.0)
    old_ctx = rs["original_max_position_embeddings"]
    low_wavelen = old_ctx / low
    high_wavelen = old_ctx / high
    out = []
    for i in range(0, head_dim, 2):
        freq = 1.0 / (base ** (i / head_dim))
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def add_weight(writer, name, arr, out_type):
    """Adds a tensor, converting 2-D tensors to the output type (1-D stay F32)."""
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.ndim == 1 or out_type == "f32":
        writer.add_tensor(name, arr)
    elif out_type == "f16":
        writer.add_tensor(name, arr.astype(np.float16))
    elif out_type == "bf16":
        writer.add_tensor(name, gguf.quants.quantize(arr, QT.BF16), raw_dtype=QT.BF16)
    elif out_type == "q8_0":
        if arr.shape[-1] % 32 == 0:
            writer.add_tensor(name, gguf.quants.quantize(arr, QT.Q8_0), raw_dtype=QT.Q8_0)
        else:
            writer.add_tensor(name, arr.astype(np.float16))
    else:
        raise ValueError(f"unknown type {out_type}")


def add_tokenizer(writer, in_dir, pre):
    path = os.path.join(in_dir, "tokenizer.json")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    model = tj.get("model", {})
    if model.get("type") != "BPE" or tj.get("pre_tokenizer") is None:
        print("tokenizer.json is not byte-level BPE: tokenizer keys not written", file=sys.stderr)
        return
    tc = {}
    tc_path = os.path.join(in_dir, "tokenizer_config.json")
    if os.path.exists(tc_path):
        with open(tc_path, encoding="utf-8") as f:
            tc = json.load(f)
    vocab = dict(model["vocab"])
    added = {t["content"]: t for t in tj.get("added_tokens", [])}
    for t in added.values():
        vocab[t["content"]] = t["id"]
    n = max(vocab.values()) + 1
    tokens = [f"[PAD{i}]" for i in range(n)]
    types = [gguf.TokenType.UNUSED] * n
    for text, i in vocab.items():
        tokens[i] = text
        if text in added:
            types[i] = gguf.TokenType.CONTROL if added[text].get("special") else gguf.TokenType.USER_DEFINED
        else:
            types[i] = gguf.TokenType.NORMAL
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)

    def token_name(v):
        return v.get("content") if isinstance(v, dict) else v

    for key, add in (("bos_token", writer.add_bos_token_id), ("eos_token", writer.add_eos_token_id)):
        name = token_name(tc.get(key))
        if name is not None and name in vocab:
            add(vocab[name])
    if "add_bos_token" in tc:
        writer.add_add_bos_token(bool(tc["add_bos_token"]))
    if isinstance(tc.get("chat_template"), str):
        writer.add_chat_template(tc["chat_template"])


def convert(in_dir, out_path, out_type, tokenizer_pre="default", mla_layout="kvb"):
    with open(os.path.join(in_dir, "config.json")) as f:
        cfg = json.load(f)
    hf_arch = cfg["architectures"][0]
    if hf_arch not in ARCHES:
        raise SystemExit(f"unsupported architecture {hf_arch} (supported: {', '.join(ARCHES)})")
    arch = ARCHES[hf_arch]
    if arch == "deepseek2":
        return convert_deepseek2(in_dir, out_path, out_type, cfg, tokenizer_pre, mla_layout)

    n_embd = cfg["hidden_size"]
    n_head = cfg["num_attention_heads"]
    n_head_kv = cfg.get("num_key_value_heads", n_head)
    head_dim = cfg.get("head_dim") or n_embd // n_head
    n_layer = cfg["num_hidden_layers"]
    tied = cfg.get("tie_word_embeddings", False)

    writer = gguf.GGUFWriter(out_path, arch)
    writer.add_name(os.path.basename(os.path.normpath(in_dir)))
    writer.add_file_type(FILE_TYPES[out_type])
    writer.add_context_length(cfg.get("max_position_embeddings", 2048))
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(cfg["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_layer_norm_rms_eps(cfg.get("rms_norm_eps", 1e-6))
    writer.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    writer.add_rope_dimension_count(head_dim)
    if head_dim != n_embd // n_head:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_vocab_size(cfg["vocab_size"])

    rope_freqs = None
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            writer.add_rope_scaling_factor(rs["factor"])
        elif kind == "yarn":
            writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
            writer.add_rope_scaling_factor(rs["factor"])
            writer.add_rope_scaling_orig_ctx_len(
                rs.get("original_max_position_embeddings") or cfg["max_position_embeddings"])
            arch_key = f"{arch}.rope.scaling."
            if rs.get("beta_fast"):
                writer.add_float32(arch_key + "yarn_beta_fast", rs["beta_fast"])
            if rs.get("beta_slow"):
                writer.add_float32(arch_key + "yarn_beta_slow", rs["beta_slow"])
            if rs.get("attention_factor") is not None:
                writer.add_rope_scaling_attn_factors(rs["attention_factor"])
        elif kind == "llama3":
            rope_freqs = llama3_freq_divisors(cfg, head_dim)
        elif kind not in (None, "default"):
            raise SystemExit(f"unsupported rope_scaling type {kind}")

    add_tokenizer(writer, in_dir, tokenizer_pre)

    t = load_tensors(in_dir)

    def take(name):
        if name not in t:
            raise SystemExit(f"{in_dir}: missing tensor {name}")
        return t.pop(name)

    add_weight(writer, "token_embd.weight", take("model.embed_tokens.weight"), out_type)
    if rope_freqs is not None:
        writer.add_tensor("rope_freqs.weight", rope_freqs)
    for il in range(n_layer):
        p = f"model.layers.{il}."
        b = f"blk.{il}."
        for hf, gg, heads in (("q_proj", "attn_q", n_head), ("k_proj", "attn_k", n_head_kv),
                              ("v_proj", "attn_v", None), ("o_proj", "attn_output", None)):
            for kind in ("weight", "bias"):
                name = f"{p}self_attn.{hf}.{kind}"
                if name not in t:
                    if kind == "weight":
                        take(name)  # raises
                    continue
                w = take(name)
                if arch == "llama" and heads is not None:
                    w = permute_rope_rows(w, heads)
                add_weight(writer, f"{b}{gg}.{kind}", w, out_type)
        add_weight(writer, f"{b}ffn_gate.weight", take(f"{p}mlp.gate_proj.weight"), out_type)
        add_weight(writer, f"{b}ffn_up.weight", take(f"{p}mlp.up_proj.weight"), out_type)
        add_weight(writer, f"{b}ffn_down.weight", take(f"{p}mlp.down_proj.weight"), out_type)
        add_weight(writer, f"{b}attn_norm.weight", take(f"{p}input_layernorm.weight"), out_type)
        add_weight(writer, f"{b}ffn_norm.weight", take(f"{p}post_attention_layernorm.weight"), out_type)
    add_weight(writer, "output_norm.weight", take("model.norm.weight"), out_type)
    if "lm_head.weight" in t:
        head = t.pop("lm_head.weight")
        if not tied:
            add_weight(writer, "output.weight", head, out_type)
    elif not tied:
        raise SystemExit(f"{in_dir}: missing tensor lm_head.weight (and tie_word_embeddings is false)")
    leftover = [k for k in t if "rotary_emb" not in k]
    if leftover:
        raise SystemExit(f"{in_dir}: tensors not converted: {leftover[:5]}")

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def apply_fp8_scales(t, block):
    """Official FP8 checkpoints (DeepSeek-V3): weight (e4m3, already read as float32) x weight_scale_inv per
    block (block = [128, 128] from quantization_config.weight_block_size). Never leaves a weight unscaled."""
    for name in [k for k in t if k.endswith(".weight_scale_inv")]:
        scale = t.pop(name)
        wname = name[: -len("_scale_inv")]
        w = t[wname]
        s = np.repeat(np.repeat(scale, block[0], axis=0)[: w.shape[0]], block[1], axis=1)[:, : w.shape[1]]
        t[wname] = (w * s).astype(np.float32)


def convert_deepseek2(in_dir, out_path, out_type, cfg, tokenizer_pre, mla_layout):
    """DeepSeek-V2 / V3 / R1 -> GGUF "deepseek2", with llama.cpp's key and tensor names.

    MLA: attn_kv_b [kv_lora_rank -> n_head * (qk_nope + v_head)] is written as is (layout "kvb", what llama.cpp
    wrote before #12801), or split per head into attn_k_b (ne [qk_nope, kv_lora_rank, n_head], i.e. W_UK^T per
    head) and attn_v_b (ne [kv_lora_rank, v_head, n_head]) with the MLA key/value lengths (layout "kb", after
    #12801), or both. RoPE rows are not permuted: DeepSeek's checkpoints already use interleaved pairs
    (rope_interleave), which is GGML's "normal" RoPE. Experts are stacked into ffn_{gate,up,down}_exps
    [n_expert, out, in]. The MTP layer (num_nextn_predict_layers) is written as blk.{n_layer}.* with the nextn.*
    tensors, and block_count counts it, as llama.cpp does. The router (ffn_gate_inp) stays F32.
    """
    if cfg.get("rope_interleave", True) is False:
        raise SystemExit("deepseek2 with rope_interleave = false is not supported")
    n_embd = cfg["hidden_size"]
    n_head = cfg["num_attention_heads"]
    n_layer = cfg["num_hidden_layers"]
    n_nextn = cfg.get("num_nextn_predict_layers", 0) or 0
    q_lora = cfg.get("q_lora_rank") or 0
    kv_lora = cfg["kv_lora_rank"]
    nope, rope, vdim = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    model_type = cfg.get("model_type", "deepseek_v2")
    scoring = cfg.get("scoring_func", "sigmoid" if model_type == "deepseek_v3" else "softmax")
    n_group = cfg.get("n_group") or 1
    topk_group = cfg.get("topk_group") or 1
    topk_method = cfg.get("topk_method", "noaux_tc" if model_type == "deepseek_v3" else "greedy")
    if topk_method == "greedy":
        n_group = topk_group = 1

    t = load_tensors(in_dir)
    q = cfg.get("quantization_config") or {}
    if q.get("quant_method") == "fp8":
        apply_fp8_scales(t, q.get("weight_block_size", [128, 128]))
    n_layer_file = n_layer + (n_nextn if any(k.startswith(f"model.layers.{n_layer}.") for k in t) else 0)

    w = gguf.GGUFWriter(out_path, "deepseek2")
    a = "deepseek2."
    w.add_name(os.path.basename(os.path.normpath(in_dir)))
    w.add_file_type(FILE_TYPES[out_type])
    w.add_context_length(cfg.get("max_position_embeddings", 4096))
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer_file)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_layer_norm_rms_eps(cfg.get("rms_norm_eps", 1e-6))
    w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    w.add_rope_dimension_count(rope)
    w.add_vocab_size(cfg["vocab_size"])
    if q_lora:
        w.add_uint32(a + "attention.q_lora_rank", q_lora)
    w.add_uint32(a + "attention.kv_lora_rank", kv_lora)
    if mla_layout == "kvb":
        w.add_head_count_kv(n_head)
        w.add_key_length(nope + rope)
        w.add_value_length(vdim)
    else:  # the absorbed-MLA view: one shared KV "head" of kv_lora + rope (K) and kv_lora (V)
        w.add_head_count_kv(1)
        w.add_key_length(kv_lora + rope)
        w.add_value_length(kv_lora)
        w.add_uint32(a + "attention.key_length_mla", nope + rope)
        w.add_uint32(a + "attention.value_length_mla", vdim)
    w.add_uint32(a + "leading_dense_block_count", cfg.get("first_k_dense_replace", 0))
    w.add_uint32(a + "expert_feed_forward_length", cfg["moe_intermediate_size"])
    w.add_uint32(a + "expert_count", cfg["n_routed_experts"])
    w.add_uint32(a + "expert_used_count", cfg["num_experts_per_tok"])
    w.add_uint32(a + "expert_shared_count", cfg.get("n_shared_experts") or 0)
    w.add_float32(a + "expert_weights_scale", cfg.get("routed_scaling_factor", 1.0))
    w.add_bool(a + "expert_weights_norm", bool(cfg.get("norm_topk_prob", False)))
    w.add_uint32(a + "expert_gating_func", 2 if scoring == "sigmoid" else 1)
    w.add_uint32(a + "expert_group_count", n_group)
    w.add_uint32(a + "expert_group_used_count", topk_group)
    if cfg.get("moe_layer_freq", 1) != 1:
        w.add_uint32(a + "moe_layer_freq", cfg["moe_layer_freq"])  # seek extension (llama.cpp assumes 1)
    if n_layer_file > n_layer:
        w.add_uint32(a + "nextn_predict_layers", n_nextn)
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind != "yarn":
            raise SystemExit(f"deepseek2: unsupported rope_scaling type {kind}")
        factor = rs["factor"]
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(factor)
        w.add_rope_scaling_orig_ctx_len(rs.get("original_max_position_embeddings") or cfg["max_position_embeddings"])
        w.add_float32(a + "rope.scaling.yarn_beta_fast", rs.get("beta_fast") or 32.0)
        w.add_float32(a + "rope.scaling.yarn_beta_slow", rs.get("beta_slow") or 1.0)
        mscale, mscale_all = rs.get("mscale"), rs.get("mscale_all_dim")
        w.add_float32(a + "rope.scaling.yarn_log_multiplier", 0.1 * (mscale_all or 0.0))

        def get_mscale(m):
            return 1.0 if factor <= 1 else 0.1 * m * math.log(factor) + 1.0

        # HF's cos/sin factor; llama.cpp assumes 1 (mscale == mscale_all_dim in every released model).
        attn = rs.get("attention_factor")
        if attn is None:
            attn = get_mscale(mscale) / get_mscale(mscale_all) if (mscale and mscale_all) else get_mscale(1.0)
        w.add_float32(a + "rope.scaling.attn_factor", attn)

    add_tokenizer(w, in_dir, tokenizer_pre)

    def take(name):
        if name not in t:
            raise SystemExit(f"{in_dir}: missing tensor {name}")
        return t.pop(name)

    add_weight(w, "token_embd.weight", take("model.embed_tokens.weight"), out_type)
    for il in range(n_layer_file):
        p = f"model.layers.{il}."
        b = f"blk.{il}."
        add_weight(w, b + "attn_norm.weight", take(p + "input_layernorm.weight"), out_type)
        if q_lora:
            add_weight(w, b + "attn_q_a.weight", take(p + "self_attn.q_a_proj.weight"), out_type)
            add_weight(w, b + "attn_q_a_norm.weight", take(p + "self_attn.q_a_layernorm.weight"), out_type)
            add_weight(w, b + "attn_q_b.weight", take(p + "self_attn.q_b_proj.weight"), out_type)
        else:
            add_weight(w, b + "attn_q.weight", take(p + "self_attn.q_proj.weight"), out_type)
        add_weight(w, b + "attn_kv_a_mqa.weight", take(p + "self_attn.kv_a_proj_with_mqa.weight"), out_type)
        add_weight(w, b + "attn_kv_a_norm.weight", take(p + "self_attn.kv_a_layernorm.weight"), out_type)
        kv_b = take(p + "self_attn.kv_b_proj.weight")  # [n_head * (nope + vdim), kv_lora]
        if mla_layout in ("kvb", "both"):
            add_weight(w, b + "attn_kv_b.weight", kv_b, out_type)
        if mla_layout in ("kb", "both"):
            per_head = kv_b.reshape(n_head, nope + vdim, kv_lora)
            add_weight(w, b + "attn_k_b.weight", per_head[:, :nope, :].transpose(0, 2, 1), out_type)
            add_weight(w, b + "attn_v_b.weight", per_head[:, nope:, :], out_type)
        add_weight(w, b + "attn_output.weight", take(p + "self_attn.o_proj.weight"), out_type)
        add_weight(w, b + "ffn_norm.weight", take(p + "post_attention_layernorm.weight"), out_type)
        if p + "mlp.gate.weight" in t:
            add_weight(w, b + "ffn_gate_inp.weight", take(p + "mlp.gate.weight"), "f32")
            if p + "mlp.gate.e_score_correction_bias" in t:
                w.add_tensor(b + "exp_probs_b.bias", take(p + "mlp.gate.e_score_correction_bias"))
            for hf, gg in (("gate_proj", "ffn_gate_exps"), ("up_proj", "ffn_up_exps"), ("down_proj", "ffn_down_exps")):
                stack = np.stack([take(f"{p}mlp.experts.{e}.{hf}.weight") for e in range(cfg["n_routed_experts"])])
                add_weight(w, b + gg + ".weight", stack, out_type)
            if cfg.get("n_shared_experts"):
                for hf, gg in (("gate_proj", "ffn_gate_shexp"), ("up_proj", "ffn_up_shexp"),
                               ("down_proj", "ffn_down_shexp")):
                    add_weight(w, f"{b}{gg}.weight", take(f"{p}mlp.shared_experts.{hf}.weight"), out_type)
        else:
            add_weight(w, b + "ffn_gate.weight", take(p + "mlp.gate_proj.weight"), out_type)
            add_weight(w, b + "ffn_up.weight", take(p + "mlp.up_proj.weight"), out_type)
            add_weight(w, b + "ffn_down.weight", take(p + "mlp.down_proj.weight"), out_type)
        if il >= n_layer:  # the MTP (NextN) module
            for hf, gg in (("enorm", "enorm"), ("hnorm", "hnorm"), ("eh_proj", "eh_proj"),
                           ("shared_head.norm", "shared_head_norm"), ("shared_head.head", "shared_head_head"),
                           ("embed_tokens", "embed_tokens")):
                if f"{p}{hf}.weight" in t:
                    add_weight(w, f"{b}nextn.{gg}.weight", take(f"{p}{hf}.weight"), out_type)
    add_weight(w, "output_norm.weight", take("model.norm.weight"), out_type)
    add_weight(w, "output.weight", take("lm_head.weight"), out_type)
    leftover = [k for k in t if "rotary_emb" not in k]
    if leftover:
        raise SystemExit(f"{in_dir}: tensors not converted: {leftover[:5]}")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("in_dir")
    ap.add_argument("out")
    ap.add_argument("--type", default="f32", choices=sorted(FILE_TYPES))
    ap.add_argument("--tokenizer-pre", default="default", help="tokenizer.ggml.pre value (e.g. qwen2, llama-bpe)")
    ap.add_argument("--mla-layout", default="kvb", choices=["kvb", "kb", "both"],
                    help="deepseek2: attn_kv_b (pre llama.cpp#12801), attn_k_b + attn_v_b (post), or both")
    args = ap.parse_args()
    convert(args.in_dir, args.out, args.type, args.tokenizer_pre, args.mla_layout)


if __name__ == "__main__":
    main()
