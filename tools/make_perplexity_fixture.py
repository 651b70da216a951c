#!/usr/bin/env python3
"""Makes tests/testdata/perplexity/reference.json: perplexity of the tiny models of tests/testdata/models,
computed from HF transformers logits (independently of seek), for runtime/perplexity's test.

    /work/refvenv/bin/python tools/make_perplexity_fixture.py

Method (the llama.cpp convention seek follows, see src/runtime/perplexity.h): the 64 reference ids of each
model (reference.json "ids") are split into chunks of n_ctx; each chunk is run through the HF model on its own
(fresh context, no BOS replacement: the tiny models have no BOS); logits at positions n_ctx/2 .. n_ctx-2 are
scored against the next token. PPL = exp(mean NLL). The HF model runs in float64 so the reference carries no
fp32 rounding of its own. Output: {model: {str(n_ctx): {"ppl", "mean_nll", "n_scored", "nll": [...]}}}.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = ["llama_untied", "llama_tied", "qwen2_bias"]
N_CTXS = [16, 32]


def main():
    models_dir = os.path.join(ROOT, "tests", "testdata", "models")
    out = {}
    for name in MODELS:
        d = os.path.join(models_dir, name)
        with open(os.path.join(d, "reference.json")) as f:
            ids = json.load(f)["ids"]
        model = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(d, "hf"), dtype=torch.float64,
                                                                  attn_implementation="eager")
        model.eval()
        out[name] = {}
        for n_ctx in N_CTXS:
            first = n_ctx // 2
            nll = []
            for c in range(len(ids) // n_ctx):
                chunk = ids[c * n_ctx:(c + 1) * n_ctx]
                with torch.no_grad():
                    logits = model(torch.tensor([chunk])).logits[0]
                logp = torch.log_softmax(logits, dim=-1).numpy()
                for j in range(first, n_ctx - 1):
                    nll.append(float(-logp[j, chunk[j + 1]]))
            mean = float(np.mean(nll))
            out[name][str(n_ctx)] = {"ppl": float(np.exp(mean)), "mean_nll": mean, "n_scored": len(nll), "nll": nll}
            print(f"{name} n_ctx={n_ctx}: PPL {np.exp(mean):.6f} over {len(nll)} tokens", file=sys.stderr)
    path = os.path.join(ROOT, "tests", "testdata", "perplexity", "reference.json")
    with open(path, "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "models": out}, f, indent=1)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
