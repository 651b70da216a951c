#!/usr/bin/env python3
"""Makes the tiny random-weight DeepSeek-V2/V3 models of tests/testdata/models/ and their HF references.

    /work/refvenv/bin/python tools/make_tiny_deepseek.py [--out tests/testdata/models] [--only NAME,...]

Models are built with HF transformers' own DeepseekV2ForCausalLM / DeepseekV3ForCausalLM (4.57.1), seeded:
  ds2_lite   V2-Lite-style: softmax gate, greedy top-k, q_lora_rank None (plain q_proj), 1 dense + 2 MoE
             layers, 2 shared experts, no rope scaling.
  ds2_group  V2-236B-style: softmax gate with group_limited_greedy (group score = max), q_lora_rank,
             routed_scaling_factor 16.
  ds3        V3-style: sigmoid scores + non-zero e_score_correction_bias (selection only), n_group 2 /
             topk_group 1 (group score = sum of the top-2 biased scores), norm_topk_prob, routed scaling 2.5,
             q_lora_rank, YaRN (factor 4 over an original context of 32) with mscale 1.0 != mscale_all_dim 0.8
             (cos/sin scaled by their ratio, softmax scale by mscale_all_dim's mscale squared), and one MTP
             layer (num_nextn_predict_layers 1) stored as model.layers.{n_layer}.* as the official release does;
             HF's model ignores it.

For each model <name>:
  <name>/hf/                    HF folder, F32 safetensors (the reference model itself)
  <name>/hf_bf16/               HF folder, BF16 safetensors (ds3 only)
  <name>/hf_fp8/                ds3 only: official FP8 layout: every Linear weight of the decoder layers (not the
                                router, norms, embeddings or lm_head) as float8_e4m3fn plus `weight_scale_inv`
                                fp32 [ceil(out/128), ceil(in/128)], and quantization_config in config.json
  <name>/<name>-{f32,bf16,q8_0}.gguf   by tools/hf_to_gguf.py (attn_kv_b layout)
  <name>/<name>-kb-bf16.gguf    ds2_lite, ds3: the attn_k_b / attn_v_b (MLA, post llama.cpp#12801) layout
  <name>/hf_logits.f32          HF fp32 logits of `ids` [n_tokens, n_vocab]
  <name>/gguf_{bf16,q8_0}_logits.f32  HF fp32 logits with the weights of that GGUF dequantized by gguf-py: the
                                exact reference for seek reading the file (quantization changes routing
                                decisions, so KL vs the f32 model measures the fixture, not the engine)
  <name>/fp8_logits.f32         ds3: HF fp32 logits with the FP8 weights dequantized (block x scale_inv, then
                                rounded to bf16, as DeepSeek's fp8_cast_bf16.py does)
  <name>/mtp_logits.f32         ds3: the MTP layer's logits, [n_tokens - 1, n_vocab]: for position i,
                                h' = eh_proj([enorm(emb(ids[i+1])) ; hnorm(h_i)]) -> the MTP decoder block (its own
                                causal attention over positions 0..i) -> shared_head.norm -> lm_head, where h_i is
                                the main model's last hidden state after the final norm (vLLM's convention)
  <name>/reference.json         ids, greedy continuation, margins, config summary

The 64 input ids are seeded random ids; with original_max_position_embeddings 32, positions 32..63 are past
the original context. Weights: every Linear/Embedding ~N(0, 0.1^2) (router ~N(0, 0.3^2) so routing is
decisive), norms 1 + N(0, 0.2^2). Redrawn until the greedy continuation's top-1/top-2 margins are >= 2e-3 and
no token's routing is a near tie (selection-score gap >= 2e-5, ~100x fp32 noise), so fp32 rounding cannot legitimately change
an argmax or an expert choice. Run by hand (not in CI); outputs are committed.
"""

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import save_file

N_TOKENS = 64
N_PROMPT = 8
N_GREEDY = 32
MIN_MARGIN = 2e-3
MIN_ROUTE_GAP = 2e-5

COMMON = dict(
    vocab_size=512,
    hidden_size=64,
    intermediate_size=160,  # > 128: FP8 blocks along this axis are 128 + a partial 32
    num_attention_heads=4,
    num_key_value_heads=4,
    kv_lora_rank=32,
    qk_nope_head_dim=16,
    qk_rope_head_dim=8,
    v_head_dim=16,
    moe_intermediate_size=32,
    rms_norm_eps=1e-6,
    max_position_embeddings=256,
    rope_theta=10000.0,
    bos_token_id=None,
    eos_token_id=None,
    pad_token_id=None,
    tie_word_embeddings=False,
)

MODELS = {
    "ds2_lite": ("DeepseekV2Config", dict(
        num_hidden_layers=3, first_k_dense_replace=1, q_lora_rank=None, n_routed_experts=8,
        num_experts_per_tok=3, n_shared_experts=2, topk_method="greedy", routed_scaling_factor=1.0,
        norm_topk_prob=False), ["f32", "bf16", "q8_0"]),
    "ds2_group": ("DeepseekV2Config", dict(
        num_hidden_layers=2, first_k_dense_replace=1, q_lora_rank=32, n_routed_experts=8,
        num_experts_per_tok=2, n_shared_experts=1, topk_method="group_limited_greedy", n_group=4, topk_group=2,
        routed_scaling_factor=16.0, norm_topk_prob=False), ["f32"]),
    "ds3": ("DeepseekV3Config", dict(
        num_hidden_layers=2, first_k_dense_replace=1, q_lora_rank=32, n_routed_experts=8,
        num_experts_per_tok=2, n_shared_experts=1, n_group=2, topk_group=1, routed_scaling_factor=2.5,
        norm_topk_prob=True, rope_interleave=True, max_position_embeddings=128,
        rope_scaling=dict(type="yarn", factor=4.0, original_max_position_embeddings=32, beta_fast=32.0,
                          beta_slow=1.0, mscale=1.0, mscale_all_dim=0.8)), ["f32", "bf16", "q8_0"]),
}
MODEL_CLASSES = {"DeepseekV2Config": "DeepseekV2ForCausalLM", "DeepseekV3Config": "DeepseekV3ForCausalLM"}


def randomize(module):
    with torch.no_grad():
        for pname, p in module.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif pname.endswith("mlp.gate.weight"):
                p.copy_(0.3 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
        for bname, b in module.named_buffers():
            if bname.endswith("e_score_correction_bias"):
                # Non-zero, varied, and positive enough that every biased score is > 0 (HF fills the masked
                # groups with 0.0, DeepSeek's reference with -inf: they agree only when biased scores are > 0).
                b.copy_(0.05 + 0.3 * torch.rand_like(b))


def build(cls_name, extra, seed):
    kw = dict(COMMON)
    kw.update(extra)
    cfg = getattr(transformers, cls_name)(**kw)
    cfg.architectures = [MODEL_CLASSES[cls_name]]
    if cls_name == "DeepseekV3Config":
        cfg.num_nextn_predict_layers = 1
    torch.manual_seed(seed)
    model = getattr(transformers, MODEL_CLASSES[cls_name])(cfg).to(torch.float32)
    randomize(model)
    model.config._attn_implementation = "eager"
    model.eval()
    mtp = None
    if cls_name == "DeepseekV3Config":
        mtp = build_mtp(model, cfg)
    return model, mtp


def build_mtp(model, cfg):
    """The MTP module of DeepSeek-V3 (README_WEIGHTS.md): enorm, hnorm, eh_proj and a full decoder block
    (MLA + MoE), plus shared_head.norm; embed_tokens and shared_head.head are the main model's."""
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3DecoderLayer, DeepseekV3RMSNorm
    n = cfg.num_hidden_layers
    m = torch.nn.Module()
    m.enorm = DeepseekV3RMSNorm(cfg.hidden_size, eps=cfg.rms_norm_eps)
    m.hnorm = DeepseekV3RMSNorm(cfg.hidden_size, eps=cfg.rms_norm_eps)
    m.eh_proj = torch.nn.Linear(2 * cfg.hidden_size, cfg.hidden_size, bias=False)
    m.block = DeepseekV3DecoderLayer(cfg, n)
    m.block.self_attn.config._attn_implementation = "eager"
    m.shared_head_norm = DeepseekV3RMSNorm(cfg.hidden_size, eps=cfg.rms_norm_eps)
    randomize(m)
    return m.eval()


def mtp_state_dict(mtp, n):
    p = f"model.layers.{n}."
    sd = {p + "enorm.weight": mtp.enorm.weight, p + "hnorm.weight": mtp.hnorm.weight,
          p + "eh_proj.weight": mtp.eh_proj.weight, p + "shared_head.norm.weight": mtp.shared_head_norm.weight}
    for k, v in mtp.block.state_dict().items():
        sd[p + k] = v
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


def mtp_logits(model, mtp, ids):
    """[n-1, n_vocab]: MTP logits at positions 0..n-2 (predicting ids[i+2])."""
    with torch.no_grad():
        x = torch.tensor([ids])
        out = model.model(x)
        h = out.last_hidden_state  # after the final norm
        emb = model.model.embed_tokens(x[:, 1:])  # token i+1 for position i
        hp = mtp.eh_proj(torch.cat([mtp.enorm(emb), mtp.hnorm(h[:, :-1])], dim=-1))
        n = hp.shape[1]
        pos = torch.arange(n)[None]
        cos_sin = model.model.rotary_emb(hp, pos)
        mask = torch.full((n, n), float("-inf")).triu(1)[None, None]
        y = mtp.block(hp, attention_mask=mask, position_ids=pos, position_embeddings=cos_sin)
        if isinstance(y, tuple):
            y = y[0]
        return model.lm_head(mtp.shared_head_norm(y))[0].numpy()


def routing_gap(model, ids):
    """Smallest gap, over tokens and MoE layers, between the last selected and first rejected expert's
    selection score (and between the last kept and first dropped group)."""
    gaps = []
    hooks = []

    def hook(mod, inp, _out):
        h = inp[0].reshape(-1, inp[0].shape[-1]).float()
        logits = h @ mod.weight.float().t()
        if hasattr(mod, "e_score_correction_bias"):
            s = logits.sigmoid() + mod.e_score_correction_bias
            grp = s.view(s.shape[0], mod.n_group, -1).topk(2, dim=-1)[0].sum(-1)
            k_group = mod.topk_group
        else:
            s = logits.softmax(-1)
            if mod.topk_method == "group_limited_greedy":
                grp = s.view(s.shape[0], mod.num_group, -1).max(-1).values
                k_group = mod.topk_group
            else:
                grp = None
        if grp is not None and grp.shape[1] > k_group:
            g = grp.sort(-1, descending=True).values
            gaps.append(float((g[:, k_group - 1] - g[:, k_group]).min()))
            keep = torch.zeros_like(grp).scatter_(1, grp.topk(k_group, -1)[1], 1)
            s = s.masked_fill(~keep.repeat_interleave(s.shape[1] // grp.shape[1], 1).bool(), -1e9)
        k = mod.top_k
        ss = s.sort(-1, descending=True).values
        gaps.append(float((ss[:, k - 1] - ss[:, k]).min()))

    for m in model.modules():
        if type(m).__name__ in ("DeepseekV2MoEGate", "DeepseekV3TopkRouter"):
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.tensor([ids]))
    for h in hooks:
        h.remove()
    return min(gaps)


def reference(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].numpy()
        prompt = torch.tensor([ids[:N_PROMPT]])
        out = model.generate(prompt, do_sample=False, max_new_tokens=N_GREEDY, min_new_tokens=0, pad_token_id=0,
                             eos_token_id=None)
        greedy = out[0, N_PROMPT:].tolist()
        full = model(out).logits[0].numpy()
        margins = []
        for i in range(N_PROMPT - 1, N_PROMPT - 1 + N_GREEDY):
            row = np.sort(full[i])
            margins.append(float(row[-1] - row[-2]))
            assert int(np.argmax(full[i])) == int(out[0, i + 1]), "cached/uncached argmax differ"
    return logits, greedy, min(margins), out[0].tolist()


def fp8_quantize(w, block=128):
    """Official DeepSeek-V3 layout: per 128x128 block, scale_inv = amax / 448; stored = w / scale_inv in e4m3."""
    out_dim, in_dim = w.shape
    nb_o, nb_i = math.ceil(out_dim / block), math.ceil(in_dim / block)
    scale = torch.zeros(nb_o, nb_i, dtype=torch.float32)
    q = torch.zeros(out_dim, in_dim, dtype=torch.float8_e4m3fn)
    for bo in range(nb_o):
        for bi in range(nb_i):
            blk = w[bo * block:(bo + 1) * block, bi * block:(bi + 1) * block].float()
            s = max(float(blk.abs().max()) / 448.0, 1e-12)
            scale[bo, bi] = s
            q[bo * block:(bo + 1) * block, bi * block:(bi + 1) * block] = (blk / s).to(torch.float8_e4m3fn)
    return q, scale


def fp8_dequantize(q, scale, block=128):
    s = scale.repeat_interleave(block, 0)[:q.shape[0]].repeat_interleave(block, 1)[:, :q.shape[1]]
    return (q.float() * s).to(torch.bfloat16)


def is_fp8_target(name, v):
    """As the official release: every Linear weight of the decoder layers (incl. the MTP layer), not the router
    (mlp.gate), norms, embeddings or lm_head."""
    return (name.startswith("model.layers.") and name.endswith(".weight") and v.dim() == 2 and "norm" not in name
            and not name.endswith("mlp.gate.weight") and "embed_tokens" not in name and "shared_head.head" not in name)


def write_folder(model, mtp_sd, d, dtype, fp8=False):
    os.makedirs(d, exist_ok=True)
    model.config.save_pretrained(d)
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    sd.update(mtp_sd or {})
    out = {}
    dequant = {}
    for k, v in sd.items():
        if fp8 and is_fp8_target(k, v):
            q, s = fp8_quantize(v)
            out[k] = q
            out[k.replace(".weight", ".weight_scale_inv")] = s
            dequant[k] = fp8_dequantize(q, s)
        elif k.endswith("e_score_correction_bias"):
            out[k] = v.float()  # fp32 in the official release
        else:
            out[k] = v.to(dtype)
    save_file(out, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    if fp8:
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        cfg["quantization_config"] = dict(activation_scheme="dynamic", fmt="e4m3", quant_method="fp8",
                                          weight_block_size=[128, 128])
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
    return dequant


GGUF_TO_HF = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
    "attn_q_a": "self_attn.q_a_proj", "attn_q_a_norm": "self_attn.q_a_layernorm", "attn_q_b": "self_attn.q_b_proj",
    "attn_kv_a_mqa": "self_attn.kv_a_proj_with_mqa", "attn_kv_a_norm": "self_attn.kv_a_layernorm",
    "attn_kv_b": "self_attn.kv_b_proj", "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj", "ffn_gate_inp": "mlp.gate",
    "ffn_gate_shexp": "mlp.shared_experts.gate_proj", "ffn_up_shexp": "mlp.shared_experts.up_proj",
    "ffn_down_shexp": "mlp.shared_experts.down_proj",
}


def gguf_dequantized_logits(model_builder, path, ids, n_layer):
    """HF's logits with the weights of a (kv_b-layout) GGUF, dequantized by gguf-py: the reference for seek
    reading that file, independent of seek's dequantization."""
    import gguf
    r = gguf.GGUFReader(path)
    sd = {}
    for t in r.tensors:
        arr = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        arr = torch.from_numpy(arr.reshape([int(x) for x in reversed(t.shape.tolist())]).copy())
        name = t.name
        if name == "token_embd.weight":
            sd["model.embed_tokens.weight"] = arr
            continue
        if name == "output_norm.weight":
            sd["model.norm.weight"] = arr
            continue
        if name == "output.weight":
            sd["lm_head.weight"] = arr
            continue
        _, il, rest = name.split(".", 2)
        if int(il) >= n_layer:
            continue  # the MTP layer is not part of HF's model
        p = f"model.layers.{il}."
        module, param = rest.rsplit(".", 1)
        if module == "exp_probs_b":
            sd[p + "mlp.gate.e_score_correction_bias"] = arr
        elif module.endswith("_exps"):
            hf = {"ffn_gate_exps": "gate_proj", "ffn_up_exps": "up_proj", "ffn_down_exps": "down_proj"}[module]
            for e in range(arr.shape[0]):
                sd[f"{p}mlp.experts.{e}.{hf}.weight"] = arr[e]
        else:
            sd[p + GGUF_TO_HF[module] + "." + param] = arr
    m = model_builder()
    m.load_state_dict(sd)
    with torch.no_grad():
        return m(torch.tensor([ids])).logits[0].numpy()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "testdata", "models"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    torch.set_num_threads(1)
    only = set(filter(None, args.only.split(",")))
    for idx, (name, (cls_name, extra, types)) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
        print(f"{name} ...", flush=True)
        rng = np.random.default_rng(4321)
        ids = rng.integers(0, COMMON["vocab_size"], size=N_TOKENS).tolist()
        for k in range(100):
            model, mtp = build(cls_name, extra, seed=5000 + 100 * idx + k)
            logits, greedy, margin, seq = reference(model, ids)
            gap = min(routing_gap(model, ids), routing_gap(model, seq))
            if margin >= MIN_MARGIN and gap >= MIN_ROUTE_GAP:
                break
            print(f"  seed {k}: margin {margin:.4g}, routing gap {gap:.3g}: redraw", flush=True)
        else:
            raise SystemExit("no seed gave decisive margins")
        n_layer = model.config.num_hidden_layers
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        mtp_sd = mtp_state_dict(mtp, n_layer) if mtp is not None else None
        write_folder(model, mtp_sd, os.path.join(d, "hf"), torch.float32)
        logits.astype("<f4").tofile(os.path.join(d, "hf_logits.f32"))
        ref = dict(model=name, transformers=transformers.__version__, torch=torch.__version__, ids=ids,
                   n_tokens=N_TOKENS, n_vocab=int(logits.shape[1]), logits_file="hf_logits.f32",
                   logits_min=float(logits.min()), logits_max=float(logits.max()), greedy_prompt=ids[:N_PROMPT],
                   greedy=greedy, greedy_min_margin=margin, routing_min_gap=gap, gguf_types=types)
        if mtp is not None:
            write_folder(model, mtp_sd, os.path.join(d, "hf_bf16"), torch.bfloat16)
            dequant = write_folder(model, mtp_sd, os.path.join(d, "hf_fp8"), torch.bfloat16, fp8=True)
            # Logits of the FP8 model dequantized to bf16 (main model only: the MTP layer is not part of it).
            fp8_model, _ = build(cls_name, extra, seed=0)
            sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
            for k, v in dequant.items():
                if k in sd:
                    sd[k] = v.float()
            for k in sd:
                if k not in dequant and not k.endswith("e_score_correction_bias"):
                    sd[k] = sd[k].to(torch.bfloat16).float()  # the rest is stored in bf16
            fp8_model.load_state_dict(sd)
            with torch.no_grad():
                fp8_logits = fp8_model(torch.tensor([ids])).logits[0].numpy()
            fp8_logits.astype("<f4").tofile(os.path.join(d, "fp8_logits.f32"))
            mt = mtp_logits(model, mtp, ids)
            mt.astype("<f4").tofile(os.path.join(d, "mtp_logits.f32"))
            ref["fp8_logits_file"] = "fp8_logits.f32"
            ref["mtp_logits_file"] = "mtp_logits.f32"
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, indent=1)
            f.write("\n")
        conv = os.path.join(here, "hf_to_gguf.py")
        hf_dir = os.path.join(d, "hf")
        for t in types:
            subprocess.run([sys.executable, conv, hf_dir, os.path.join(d, f"{name}-{t}.gguf"), "--type", t],
                           check=True)
        deq = {}
        for t in types:
            if t == "f32":
                continue
            lg = gguf_dequantized_logits(lambda: build(cls_name, extra, seed=0)[0],
                                         os.path.join(d, f"{name}-{t}.gguf"), ids, n_layer)
            lg.astype("<f4").tofile(os.path.join(d, f"gguf_{t}_logits.f32"))
            lp = torch.log_softmax(torch.from_numpy(logits).double(), -1)
            lq = torch.log_softmax(torch.from_numpy(lg).double(), -1)
            deq[t] = dict(logits_file=f"gguf_{t}_logits.f32",
                          mean_kl_vs_f32=float((lp.exp() * (lp - lq)).sum(-1).mean()))
            print(f"  {t}: HF on the dequantized GGUF: mean KL vs f32 {deq[t]['mean_kl_vs_f32']:.3g}", flush=True)
        if deq:
            ref["gguf_dequantized"] = deq
            with open(os.path.join(d, "reference.json"), "w") as f:
                json.dump(ref, f, indent=1)
                f.write("\n")
        if name in ("ds2_lite", "ds3"):
            subprocess.run([sys.executable, conv, hf_dir, os.path.join(d, f"{name}-kb-bf16.gguf"), "--type", "bf16",
                            "--mla-layout", "kb"], check=True)
        print(f"  logits [{logits.min():.3f}, {logits.max():.3f}], greedy margin {margin:.4f}, "
              f"routing gap {gap:.4f}", flush=True)


if __name__ == "__main__":
    main()
