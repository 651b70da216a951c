#!/usr/bin/env python3
"""Writes tests/testdata/formats/gguf_py_fixture.gguf with gguf-py's GGUFWriter (the reference writer), so the
C++ reader is cross-checked against an independent implementation. Run by hand with the reference venv:
    /work/refvenv/bin/python tools/make_formats_fixture.py
The values here are asserted in tests/formats/gguf_test.cc (ReadsGgufPyFixture): change both together."""
import os
import sys

import numpy as np
import gguf

out = os.path.join(os.path.dirname(__file__), "..", "tests", "testdata", "formats", "gguf_py_fixture.gguf")
w = gguf.GGUFWriter(out, "llama")
w.add_uint8("fx.u8", 250)
w.add_int8("fx.i8", -7)
w.add_uint16("fx.u16", 65000)
w.add_int16("fx.i16", -32000)
w.add_uint32("fx.u32", 4000000000)
w.add_int32("fx.i32", -123456789)
w.add_float32("fx.f32", 0.125)
w.add_bool("fx.bool", True)
w.add_uint64("fx.u64", 1 << 50)
w.add_int64("fx.i64", -(1 << 50))
w.add_float64("fx.f64", 3.141592653589793)
w.add_string("fx.str", "héllo wörld")
w.add_array("fx.strs", ["<s>", "</s>", "▁the", ""])
w.add_key_value("fx.i32s", [1, -2, 3, 2147483647], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.INT32)
w.add_key_value("fx.f32s", [0.5, -0.25], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.FLOAT32)
w.add_key_value("fx.bools", [True, False, True], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.BOOL)
w.add_array("fx.nested", [[1, 2], [3]])

w.add_tensor("w.f32", (np.arange(6, dtype=np.float32) - 2.5).reshape(2, 3))
w.add_tensor("w.f16", np.linspace(-1, 1, 8).astype(np.float16))
rng = np.random.default_rng(0)
q = gguf.quants.quantize(rng.standard_normal((2, 64)).astype(np.float32), gguf.GGMLQuantizationType.Q8_0)
w.add_tensor("w.q8_0", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
w.add_tensor("w.i32", np.array([0, 10, 20, 30], dtype=np.int32))

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", os.path.normpath(out), os.path.getsize(out), "bytes", file=sys.stderr)

# Fuzz seeds: a GGUF with a small vocabulary (fuzz/seeds/gguf/); the safetensors files written by the
# reference library go to tests/testdata/formats/ (read by safetensors_test.cc and used as fuzz seeds).
seeds = os.path.join(os.path.dirname(__file__), "..", "fuzz", "seeds")
os.makedirs(os.path.join(seeds, "gguf"), exist_ok=True)
v = gguf.GGUFWriter(os.path.join(seeds, "gguf", "vocab.gguf"), "qwen2")
v.add_uint32("general.alignment", 64)
v.add_array("tokenizer.ggml.tokens", ["a", "b", "ab", "Ġthe", "<|im_start|>"])
v.add_key_value("tokenizer.ggml.token_type", [1, 1, 1, 1, 3], gguf.GGUFValueType.ARRAY,
                sub_type=gguf.GGUFValueType.INT32)
v.add_array("tokenizer.ggml.merges", ["a b"])
v.add_tensor("token_embd.weight", np.ones((5, 32), dtype=np.float16))
v.add_tensor("blk.0.attn_q.weight",
             np.zeros((2, 144), dtype=np.uint8),  # raw q4_K blocks (gguf-py cannot quantize K-types)
             raw_dtype=gguf.GGMLQuantizationType.Q4_K)
v.write_header_to_file()
v.write_kv_data_to_file()
v.write_tensors_to_file()
v.close()

import torch
from safetensors.torch import save_file
save_file({"model.embed_tokens.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4),
           "model.norm.weight": torch.ones(4, dtype=torch.bfloat16)},
          os.path.join(os.path.dirname(out), "basic.safetensors"), metadata={"format": "pt"})
save_file({"w": torch.zeros(2, 2, 2, dtype=torch.float8_e4m3fn), "s": torch.ones(1, dtype=torch.float32),
           "i": torch.tensor([1, 2], dtype=torch.int64), "h": torch.ones(3, dtype=torch.float16)},
          os.path.join(os.path.dirname(out), "mixed.safetensors"))
print("wrote fuzz seeds", file=sys.stderr)
