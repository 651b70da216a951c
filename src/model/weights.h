// Model weights: non-owning views over the ModelSource's mmap'd tensors, bound by name.
//
// ForEachTensor() is the single list of the tensors an architecture uses, each with its GGUF name, expected
// GGML shape (ne[0] = contiguous) and required/optional flag. The same visitor drives binding (with "missing
// tensor" / "wrong shape" / "unsupported type" errors), parameter counting and, later, repacking.
//
// Small 1-D tensors (norm weights, biases, rope_freqs) are converted once to fp32 and owned here (HF folders
// store them in bf16); their views then point at the fp32 copies, so blocks can read them as plain floats.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/model.h"

namespace seek {

struct LayerWeights {
  TensorView attn_norm;  // [n_embd] f32
  TensorView wq;         // [n_embd, n_head * head_dim]     (in, out)
  TensorView wk;         // [n_embd, n_head_kv * head_dim]
  TensorView wv;         // [n_embd, n_head_kv * head_dim]
  TensorView bq;         // [n_head * head_dim] f32       (qwen2; data == nullptr when absent)
  TensorView bk;         // [n_head_kv * head_dim] f32
  TensorView bv;         // [n_head_kv * head_dim] f32
  TensorView wo;         // [n_head * head_dim, n_embd]
  TensorView ffn_norm;   // [n_embd] f32
  TensorView ffn_gate;   // [n_embd, n_ff]
  TensorView ffn_up;     // [n_embd, n_ff]
  TensorView ffn_down;   // [n_ff, n_embd]
};

struct Model::Weights {
  TensorView token_embd;   // [n_embd, n_vocab]
  TensorView output_norm;  // [n_embd] f32
  TensorView output;       // [n_embd, n_vocab]; a copy of token_embd's view when tied
  TensorView rope_freqs;   // [n_rot / 2] f32 frequency divisors (GGUF Llama 3.1); data == nullptr when absent
  std::vector<LayerWeights> layers;
  int64_t n_params = 0;  // elements of all bound tensors (the tied output counted once)

  // Fp32 copies of small tensors that were not fp32 in the file.
  std::vector<std::unique_ptr<float[]>> owned;
};

// How the visitor sees one tensor.
struct TensorSlot {
  std::string name;  // GGUF name: "blk.3.attn_k.weight"
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};
  bool required = true;
  bool small_f32 = false;  // converted to fp32 at bind time (norms, biases)
  TensorView* view = nullptr;
};

// Visits every tensor the architecture of `config` uses, in file order (embeddings, layers, output).
void ForEachTensor(const ModelConfig& config, Model::Weights& weights,
                   const std::function<void(TensorSlot&)>& fn);

// Binds all weights of `config` from `source`. Throws seek::Error ("model.gguf: missing tensor
// blk.3.attn_k.weight", "...: tensor blk.0.attn_q.weight has shape [64, 32], expected [64, 64]", ...).
std::unique_ptr<Model::Weights> BindWeights(const ModelConfig& config, const ModelSource& source);

// out[n_embd] = row `token` of the embedding table, dequantized.
void EmbeddingRow(const TensorView& token_embd, int32_t token, float* out);

// The fp32 data of a 1-D view bound with small_f32 (SEEK_CHECK on type).
const float* F32Data(const TensorView& v);

}  // namespace seek
