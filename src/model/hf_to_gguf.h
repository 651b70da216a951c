// Hugging Face folder -> GGUF metadata and tensor plan, for `seek quantize` on an HF folder. Mirrors
// tools/hf_to_gguf.py (the Python converter the tiny-model fixtures are made with), so a folder quantized by
// seek and one converted by the script then quantized carry the same keys and tensors:
//  - architectures LlamaForCausalLM / MistralForCausalLM -> "llama", Qwen2ForCausalLM -> "qwen2";
//  - {arch}.context_length, embedding_length, block_count, feed_forward_length, attention.head_count,
//    head_count_kv, layer_norm_rms_epsilon, rope.freq_base, rope.dimension_count, vocab_size (+ key_length /
//    value_length when head_dim != n_embd / n_head), rope scaling (linear, yarn keys; llama3 as a
//    rope_freqs.weight F32 tensor of per-frequency divisors, as transformers' _compute_llama3_parameters);
//  - byte-level BPE tokenizer.json -> tokenizer.ggml.model "gpt2", pre (the GGUF pre-tokenizer name whose
//  split
//    rules equal the tokenizer.json's), tokens, token_type, merges, bos/eos ids, add_bos_token,
//    chat_template;
//  - tensors under GGUF names; for llama the rows of attn_q / attn_k (weights and biases) are permuted from
//    HF's rotate-half layout to GGML's adjacent pairs (llama.cpp's convention); the lm_head of a model with
//    tied embeddings is dropped.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/gguf_writer.h"
#include "formats/model_source.h"

namespace seek {

// One tensor to write: a view of the source (HF names already mapped to GGUF names) plus how to read it.
struct PlannedTensor {
  TensorView view;        // view.name is the GGUF name
  int permute_heads = 0;  // > 0: rows (or elements of a 1-D tensor) permuted per head, heads of ne[1] / this
  std::shared_ptr<std::vector<float>> owned;  // data computed here (rope_freqs), view points into it
  // Row r of the output (element r of a 1-D tensor) reads source row (element) SourceRow(r).
  int64_t SourceRow(int64_t r) const;
};

// The tensors of a GGUF or HF source in file order (GGUF: as stored, no permutation).
std::vector<PlannedTensor> PlanTensors(const ModelSource& src);

// Writes the GGUF metadata of an HF source (see the file comment); throws seek::Error for an unsupported
// architecture or rope scaling. Notes (e.g. "tokenizer.json is not byte-level BPE: no tokenizer keys") go to
// log.
void WriteHfMetadata(const ModelSource& src, GgufWriter& w,
                     const std::function<void(const std::string&)>& log);

}  // namespace seek
