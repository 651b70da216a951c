#!/usr/bin/env python3
"""Makes the tiny random-weight models of tests/testdata/models/ and their HF transformers reference outputs.

    /work/refvenv/bin/python tools/make_tiny_models.py [--out tests/testdata/models]

For each model <name> (see MODELS below) it writes:
  <name>/hf/config.json, model.safetensors, generation_config.json   the HF folder (fp32 weights)
  <name>/<name>-{f32,f16,bf16,q8_0}.gguf                              converted by tools/hf_to_gguf.py
  <name>/hf_logits.f32     HF fp32 logits of REF_IDS, row per position: [n_tokens, n_vocab] little-endian float32
  <name>/reference.json    {ids, n_tokens, n_vocab, greedy_prompt, greedy, greedy_min_margin, ...,
                           transformers_reads_gguf: {type: {max_abs_diff, mean_kl}}}

transformers_reads_gguf checks the converter independently of seek: transformers' own GGUF loader (which
dequantizes with gguf-py and undoes the q/k permutation) reads each GGUF back and its logits are compared with
the original model's (F32 must match to < 1e-5). Models with rope scaling are not checked that way, because
transformers' GGUF reader does not restore rope_scaling.

The 64 input ids are seeded random ids < vocab (the same for every model with the same vocab). `greedy` is
HF's model.generate(do_sample=False) continuation (32 new tokens) of the first 8 ids; greedy_min_margin is the
smallest top-1 minus top-2 logit gap along that continuation, i.e. how much numerical slack an engine has
before its argmax could legitimately differ.

Weights: HF's init, then every Linear/Embedding weight is redrawn ~N(0, 0.1^2), norms ~1 + N(0, 0.2^2) and
biases ~N(0, 0.1^2), so logits, attention patterns and the qkv biases all matter. Hidden sizes are multiples
of 32 so every 2-D tensor can be Q8_0. Everything runs on CPU with one thread in float32, with eager attention.
Run by hand (not in CI); the outputs are committed.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import transformers

N_TOKENS = 64
N_PROMPT = 8
N_GREEDY = 32
MIN_MARGIN = 2e-3

COMMON = dict(
    vocab_size=320,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,  # GQA: 2 query heads per kv head
    head_dim=16,
    rms_norm_eps=1e-5,
    max_position_embeddings=256,
    bos_token_id=None,
    eos_token_id=None,  # no EOS: generate() must run the full N_GREEDY steps
    pad_token_id=None,
)

# name -> (config class, extra config, GGUF types to write)
ALL_TYPES = ["f32", "f16", "bf16", "q8_0"]
MODELS = {
    # (a) plain llama with an untied lm_head
    "llama_untied": ("LlamaConfig", dict(tie_word_embeddings=False, rope_theta=10000.0), ALL_TYPES),
    # (b) llama with tied embeddings (no output tensor in the GGUF)
    "llama_tied": ("LlamaConfig", dict(tie_word_embeddings=True, rope_theta=10000.0), ALL_TYPES),
    # (c) qwen2 with q/k/v biases and tied embeddings, as Qwen2.5-0.5B
    "qwen2_bias": ("Qwen2Config", dict(tie_word_embeddings=True, rope_theta=1000000.0, use_sliding_window=False),
                   ALL_TYPES),
    # (d) llama3 rope scaling; original context 32 so that positions 0..63 exercise all three frequency bands
    #     (head_dim 16, base 1e4: wavelengths 6.3 (kept), 19.9 (blended), >= 62.8 (divided by 8))
    "llama3_rope": ("LlamaConfig", dict(tie_word_embeddings=False, rope_theta=10000.0,
                                        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                          high_freq_factor=4.0,
                                                          original_max_position_embeddings=32)),
                    ["f32"]),
    # (e) qwen2 with YaRN (factor 4 over an original context of 32; HF applies mscale 0.1 ln 4 + 1 to cos/sin)
    "qwen2_yarn": ("Qwen2Config", dict(tie_word_embeddings=True, rope_theta=10000.0, use_sliding_window=False,
                                       max_position_embeddings=128,
                                       rope_scaling=dict(rope_type="yarn", factor=4.0,
                                                         original_max_position_embeddings=32)),
                   ["f32"]),
}


def build(name, cls_name, extra, seed):
    cfg_kwargs = dict(COMMON)
    cfg_kwargs.update(extra)
    if cls_name == "Qwen2Config":
        cfg_kwargs.pop("head_dim")  # Qwen2 derives head_dim = hidden / heads (= 16 here)
    cfg = getattr(transformers, cls_name)(**cfg_kwargs)
    cfg.architectures = ["LlamaForCausalLM" if cls_name == "LlamaConfig" else "Qwen2ForCausalLM"]
    torch.manual_seed(seed)
    model_cls = transformers.LlamaForCausalLM if cls_name == "LlamaConfig" else transformers.Qwen2ForCausalLM
    model = model_cls(cfg).to(torch.float32)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif pname.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    model.eval()
    return model


def reference(model, ids):
    with torch.no_grad():
        x = torch.tensor([ids], dtype=torch.long)
        logits = model(x).logits[0].to(torch.float32).numpy()  # [n_tokens, n_vocab]
        prompt = torch.tensor([ids[:N_PROMPT]], dtype=torch.long)
        out = model.generate(prompt, do_sample=False, max_new_tokens=N_GREEDY, min_new_tokens=0,
                             pad_token_id=0, eos_token_id=None)
        greedy = out[0, N_PROMPT:].tolist()
        assert len(greedy) == N_GREEDY, f"generate stopped early: {len(greedy)}"
        # Cross-check with a full (uncached) forward and the smallest top-1/top-2 gap along the way.
        full = model(out).logits[0].numpy()
        margins = []
        for i in range(N_PROMPT - 1, N_PROMPT - 1 + N_GREEDY):
            row = np.sort(full[i])
            margins.append(float(row[-1] - row[-2]))
            if int(np.argmax(full[i])) != int(out[0, i + 1]):
                print(f"  warning: cached/uncached argmax differ at {i}", file=sys.stderr)
    return logits, greedy, min(margins)


def load_gguf_with_transformers(path):
    """transformers' own GGUF reader (dequantizes with gguf-py, un-permutes q/k): an independent check that
    hf_to_gguf.py wrote what it meant to. (from_pretrained(gguf_file=...) needs `accelerate`; this is the
    same loader without it.)"""
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    d, f = os.path.split(path)
    cfg = transformers.AutoConfig.from_pretrained(d, gguf_file=f)
    model = transformers.AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.float32)
    parsed = load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)
    missing, unexpected = model.load_state_dict(parsed["tensors"], strict=False)
    missing = [k for k in missing if not (cfg.tie_word_embeddings and k == "lm_head.weight")]
    assert not missing and not unexpected, (missing, unexpected)
    model.tie_weights()
    model.config._attn_implementation = "eager"
    return model.eval()


def roundtrip(path, ids, hf_logits):
    """(max |d|, mean KL(HF || GGUF-in-transformers)) over all positions."""
    model = load_gguf_with_transformers(path)
    with torch.no_grad():
        got = model(torch.tensor([ids])).logits[0].double()
    ref = torch.from_numpy(hf_logits).double()
    lp, lq = torch.log_softmax(ref, -1), torch.log_softmax(got, -1)
    kl = (lp.exp() * (lp - lq)).sum(-1).mean().item()
    return float((got - ref).abs().max()), kl


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "testdata", "models"))
    ap.add_argument("--only", default="", help="comma-separated model names")
    args = ap.parse_args()
    torch.set_num_threads(1)
    only = set(filter(None, args.only.split(",")))
    for idx, (name, (cls_name, extra, types)) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
        print(f"{name} ...", flush=True)
        # Redraw the weights (seed 1000 + 100 * idx + k) until the greedy continuation has an argmax margin of
        # at least MIN_MARGIN, so that fp32 rounding differences cannot flip it.
        for k in range(50):
            model = build(name, cls_name, extra, seed=1000 + 100 * idx + k)
            model.config._attn_implementation = "eager"
            rng = np.random.default_rng(1234)
            ids = rng.integers(0, model.config.vocab_size, size=N_TOKENS).tolist()
            logits, greedy, margin = reference(model, ids)
            if margin >= MIN_MARGIN:
                break

        d = os.path.join(args.out, name)
        hf_dir = os.path.join(d, "hf")
        os.makedirs(hf_dir, exist_ok=True)
        model.save_pretrained(hf_dir, safe_serialization=True)
        logits.astype("<f4").tofile(os.path.join(d, "hf_logits.f32"))
        ref = dict(
            model=name,
            transformers=transformers.__version__,
            torch=torch.__version__,
            ids=ids,
            n_tokens=N_TOKENS,
            n_vocab=int(logits.shape[1]),
            logits_file="hf_logits.f32",
            logits_min=float(logits.min()),
            logits_max=float(logits.max()),
            greedy_prompt=ids[:N_PROMPT],
            greedy=greedy,
            greedy_min_margin=margin,
            gguf_types=types,
        )
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, indent=1)
            f.write("\n")
        checks = {}
        for t in types:
            out = os.path.join(d, f"{name}-{t}.gguf")
            subprocess.run([sys.executable, os.path.join(here, "hf_to_gguf.py"), hf_dir, out, "--type", t],
                           check=True)
            if "rope_scaling" not in extra:  # transformers' GGUF reader does not restore rope scaling
                max_diff, kl = roundtrip(out, ids, logits)
                checks[t] = dict(max_abs_diff=max_diff, mean_kl=kl)
                print(f"  {t}: transformers reading the GGUF: max|d| {max_diff:.3g}, mean KL {kl:.3g}", flush=True)
                if t == "f32":
                    assert max_diff < 1e-5, "F32 GGUF does not reproduce the HF model"
        if checks:
            ref["transformers_reads_gguf"] = checks
            with open(os.path.join(d, "reference.json"), "w") as f:
                json.dump(ref, f, indent=1)
                f.write("\n")
        print(f"  logits [{logits.min():.3f}, {logits.max():.3f}], greedy margin {margin:.4f}", flush=True)


if __name__ == "__main__":
    main()
