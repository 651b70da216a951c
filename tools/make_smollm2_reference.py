#!/usr/bin/env python3
"""HF transformers reference for the real model SmolLM2-135M-Instruct (Q4_1 GGUF): prompt ids, top logprobs of
the last positions, and HF's greedy answer. Consumed by tests/model/real_model_test.cc.

    /work/refvenv/bin/python tools/make_smollm2_reference.py [--gguf ~/.cache/seek/SmolLM2-135M-Instruct.Q4_1.gguf]
        [--out tests/testdata/models/smollm2]

transformers reads the GGUF itself: it dequantizes every Q4_1 / Q8_0 tensor with gguf-py to fp32 and undoes
llama.cpp's q/k row permutation, then runs its own fp32 Llama forward (rotate-half RoPE). The weights are thus
exactly the ones seek dequantizes; only the arithmetic differs. (transformers' from_pretrained(gguf_file=...)
wants the `accelerate` package; this script calls its GGUF loader directly instead, which is the same code
path minus the device placement.)

Outputs (in --out):
  reference.json  prompt messages, rendered prompt text, prompt ids (HF tokenizer + chat template), the
                  positions scored, for each position the HF logsumexp of the logits and the probability mass
                  not covered by the stored top-K, HF's greedy answer ids and text.
  top_logprobs.bin  for each scored position, K records of (int32 token id, float32 log-probability), sorted by
                  decreasing probability; little-endian.

How the test computes KL(HF || seek) from this: over the partition {top-K tokens of HF} + {everything else},
KL = sum_{i in top-K} p_i (log p_i - log q_i) + p_rest log(p_rest / q_rest). By the data-processing inequality
this lower-bounds the full KL, and equals it up to terms of order p_rest, which is recorded (~1e-3 or less).
"""

import argparse
import json
import os

import numpy as np
import torch
import transformers
from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

N_SCORED = 8
TOP_K = 1024
N_GREEDY = 32
MESSAGES = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


def load_gguf_model(path):
    d, f = os.path.split(path)
    cfg = transformers.AutoConfig.from_pretrained(d, gguf_file=f)
    model = transformers.AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.float32)
    parsed = load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)
    missing, unexpected = model.load_state_dict(parsed["tensors"], strict=False)
    missing = [k for k in missing if not (cfg.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise SystemExit(f"GGUF load: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.tie_weights()
    model.config._attn_implementation = "eager"
    return model.eval()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/seek/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "testdata", "models", "smollm2"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    d, f = os.path.split(args.gguf)
    tok = transformers.AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = load_gguf_model(args.gguf)

    text = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    ids_direct = tok.apply_chat_template(MESSAGES, tokenize=True, add_generation_prompt=True)
    assert ids == list(ids_direct), (ids, ids_direct)

    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()  # [n, n_vocab]
        rows = logits[-N_SCORED:]
        lse = torch.logsumexp(rows, dim=-1)
        logp = rows - lse[:, None]
        top = torch.topk(logp, TOP_K, dim=-1)
        rest = 1.0 - top.values.exp().sum(-1)

        eos = [tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id]
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=N_GREEDY,
                             eos_token_id=eos, pad_token_id=tok.pad_token_id or 0)
        greedy = out[0, len(ids):].tolist()

    rec = np.zeros((N_SCORED, TOP_K), dtype=[("id", "<i4"), ("logprob", "<f4")])
    rec["id"] = top.indices.numpy()
    rec["logprob"] = top.values.numpy()
    rec.tofile(os.path.join(args.out, "top_logprobs.bin"))
    ref = dict(
        model=os.path.basename(args.gguf),
        transformers=transformers.__version__,
        torch=torch.__version__,
        messages=MESSAGES,
        add_generation_prompt=True,
        bos_token=tok.bos_token,
        eos_token=tok.eos_token,
        prompt_text=text,
        prompt_ids=ids,
        scored_positions=list(range(len(ids) - N_SCORED, len(ids))),
        top_k=TOP_K,
        top_logprobs_file="top_logprobs.bin",
        logsumexp=lse.tolist(),
        rest_mass=rest.tolist(),
        top1=top.indices[:, 0].tolist(),
        greedy=greedy,
        greedy_text=tok.decode(greedy, skip_special_tokens=False),
    )
    with open(os.path.join(args.out, "reference.json"), "w") as fh:
        json.dump(ref, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(text)
    print(ids)
    print("greedy:", repr(ref["greedy_text"]))
    print("rest mass:", ["%.2e" % r for r in ref["rest_mass"]])


if __name__ == "__main__":
    main()
