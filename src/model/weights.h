// Model weights: non-owning views over the ModelSource's mmap'd tensors, bound by name.
//
// ForEachTensor() is the single list of the tensors an architecture uses, each with its GGUF name, expected
// GGML shape (ne[0] = contiguous) and required/optional flag. The same visitor drives binding (with "missing
// tensor" / "wrong shape" / "unsupported type" errors), parameter counting and, later, repacking.
//
// Small 1-D tensors (norm weights, biases, rope_freqs) are converted once to fp32 and owned here (HF folders
// store them in bf16); their views then point at the fp32 copies, so blocks can read them as plain floats.
//
// FP8 (DeepSeek-V3's official float8_e4m3fn checkpoints): a weight of type F8_E4M3 must come with its
// "<name>.scale_inv" tensor (HF weight_scale_inv, fp32 [ceil(out/b0), ceil(in/b1)], block [b0, b1] from
// config.json quantization_config.weight_block_size, default 128 x 128). At bind time it is dequantized
// (e4m3 value x its block's scale_inv, README_WEIGHTS.md) into an owned bf16 copy, rounded to nearest even as
// DeepSeek's fp8_cast_bf16.py does; a float8 weight without its scales is an error, never loaded unscaled.
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

  // --- DeepSeek2 multi-head latent attention. H = n_head, L = kv_lora_rank, N = qk_nope_head_dim,
  // R = qk_rope_head_dim, V = v_head_dim. wq (above) is [n_embd, H * (N + R)] when q_lora_rank == 0.
  TensorView wq_a;       // [n_embd, q_lora_rank]
  TensorView q_a_norm;   // [q_lora_rank] f32
  TensorView wq_b;       // [q_lora_rank, H * (N + R)]
  TensorView wkv_a_mqa;  // [n_embd, L + R]: the latent c_KV, then the shared RoPE key k_pe
  TensorView kv_a_norm;  // [L] f32
  // Both forms are always present after BindWeights: whichever the file lacks is derived from the other at
  // load (owned memory, same element type for f32/f16/bf16 files, f32 for quantized ones). GGUF files before
  // llama.cpp#12801 carry attn_kv_b only, newer ones attn_k_b + attn_v_b (and maybe attn_kv_b).
  TensorView wkv_b;  // [L, H * (N + V)]: per head h, rows h*(N+V) + [0, N) = W_UK, + [N, N+V) = W_UV
  TensorView wk_b;   // [N, L, H]: per head W_UK^T (row j = latent dim j): q_nope -> latent (absorbed form)
  TensorView wv_b;   // [L, V, H]: per head W_UV: latent -> value

  // --- DeepSeek2 mixture of experts (MoE layers only; dense layers use ffn_gate/up/down above).
  TensorView ffn_gate_inp;  // [n_embd, n_expert] router
  TensorView exp_probs_b;   // [n_expert] f32 e_score_correction_bias (V3); data == nullptr when absent
  // Routed experts: one 2-D view per expert, never copied. A GGUF stores them stacked (ffn_*_exps
  // [in, out, n_expert]) and each view is a pointer offset into the stack; an HF folder stores one tensor per
  // expert (model.layers.N.mlp.experts.E.*, named blk.N.ffn_gate.E.weight here) and each view is that tensor.
  std::vector<TensorView> ffn_gate_exp;  // n_expert x [n_embd, n_ff_exp]
  std::vector<TensorView> ffn_up_exp;    // n_expert x [n_embd, n_ff_exp]
  std::vector<TensorView> ffn_down_exp;  // n_expert x [n_ff_exp, n_embd]
  TensorView ffn_gate_shexp;             // [n_embd, n_expert_shared * n_ff_exp]
  TensorView ffn_up_shexp;               // [n_embd, n_expert_shared * n_ff_exp]
  TensorView ffn_down_shexp;             // [n_expert_shared * n_ff_exp, n_embd]

  // --- DeepSeek-V3 MTP / NextN module (layers[n_layer + k] only; optional: bound when the file has them).
  TensorView nextn_enorm;             // [n_embd] f32, on the embedding of the next token
  TensorView nextn_hnorm;             // [n_embd] f32, on the main model's hidden state
  TensorView nextn_eh_proj;           // [2 * n_embd, n_embd]: input = [enorm(emb) ; hnorm(h)]
  TensorView nextn_shared_head_norm;  // [n_embd] f32
  TensorView nextn_shared_head_head;  // [n_embd, n_vocab]; the main output.weight when absent
  TensorView nextn_embed_tokens;      // [n_embd, n_vocab]; the main token_embd when absent
};

struct Model::Weights {
  TensorView token_embd;   // [n_embd, n_vocab]
  TensorView output_norm;  // [n_embd] f32
  TensorView output;       // [n_embd, n_vocab]; a copy of token_embd's view when tied
  TensorView rope_freqs;   // [n_rot / 2] f32 frequency divisors (GGUF Llama 3.1); data == nullptr when absent
  std::vector<LayerWeights> layers;  // n_layer main layers, then n_nextn_layer MTP layers (DeepSeek2)
  int64_t n_params = 0;  // elements of all bound tensors (the tied output counted once)

  // Fp32 copies of small tensors that were not fp32 in the file.
  std::vector<std::unique_ptr<float[]>> owned;
  // Other load-time products: FP8 weights dequantized with their block scales (bf16), derived MLA matrices,
  // weights repacked for the kernels (RepackWeights).
  std::vector<std::unique_ptr<uint8_t[]>> owned_bytes;
  // RepackWeights: matmul weights moved into kernel layouts (owned memory; their mmap'd pages released).
  int n_repacked = 0;
  uint64_t repacked_bytes = 0;    // bytes of the repacked copies
  uint64_t repacked_released = 0;  // bytes of the file mapping they replaced (madvise'd away)
};

// How the visitor sees one tensor.
struct TensorSlot {
  std::string name;  // GGUF name: "blk.3.attn_k.weight"
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};
  bool required = true;
  bool small_f32 = false;  // converted to fp32 at bind time (norms, biases)
  TensorView* view = nullptr;
  // Routed experts (DeepSeek2): `name` is the stacked GGUF tensor ("blk.3.ffn_gate_exps.weight", ne {in, out,
  // n_expert}); when absent, per-expert tensors expert_name + E + ".weight" are bound instead.
  // The per-expert 2-D views go to *experts; *view gets the stacked tensor (if any).
  std::vector<TensorView>* experts = nullptr;
  std::string expert_name;  // "blk.3.ffn_gate."
};

// Visits every tensor the architecture of `config` uses, in file order (embeddings, layers, output).
void ForEachTensor(const ModelConfig& config, Model::Weights& weights,
                   const std::function<void(TensorSlot&)>& fn);

// Binds all weights of `config` from `source`. Throws seek::Error ("model.gguf: missing tensor
// blk.3.attn_k.weight", "...: tensor blk.0.attn_q.weight has shape [64, 32], expected [64, 64]", ...).
std::unique_ptr<Model::Weights> BindWeights(const ModelConfig& config, const ModelSource& source);

// Repacks every 2-D matmul weight (routed experts too, per expert, when they all fit in 60% of RAM or
// SEEK_REPACK_EXPERTS=1; token_embd only when the output is tied to it) into the layout the
// active kernel table prefers (kernels/matmul/repack.h), multithreaded, and releases the mmap'd source pages
// (MADV_DONTNEED) so the repacked copy is the only one resident. SEEK_REPACK=0 turns it off. Called by
// BindWeights.
void RepackWeights(Model::Weights& weights, const ModelConfig& config, const ModelSource& source);

// out[n_embd] = row `token` of the embedding table, dequantized.
void EmbeddingRow(const TensorView& token_embd, int32_t token, float* out);

// The fp32 data of a 1-D view bound with small_f32 (SEEK_CHECK on type).
const float* F32Data(const TensorView& v);

// The 2-D slice i2 of a 3-D view (ne[0] x ne[1] at index i2 of ne[2]): a pointer offset, no copy.
TensorView Slice2D(const TensorView& t, int64_t i2);

// DeepSeek2 (model/weights_deepseek2.cc): its tensor list, and the load-time completion of the MLA matrices
// (derive attn_kv_b or attn_k_b / attn_v_b from the other).
void ForEachDeepSeek2Tensor(const ModelConfig& c, Model::Weights& w,
                            const std::function<void(TensorSlot&)>& fn);
void FinishDeepSeek2Weights(const ModelConfig& c, Model::Weights& w, const std::string& file);

}  // namespace seek
