// Typed, validated model configuration, built from whichever metadata the model file carries:
//  - GGUF:        {arch}.block_count, .embedding_length, .feed_forward_length, .attention.head_count(_kv),
//                 .attention.key_length, .attention.layer_norm_rms_epsilon, .rope.freq_base,
//                 .rope.dimension_count, .rope.scaling.*, .context_length, .vocab_size (or the token list).
//  - HF folder:   config.json (model_type llama / mistral / qwen2).
//  - llama2.c:    the 7-int header (llama architecture, RoPE in adjacent pairs, theta 10000, eps 1e-5).
// Validate() rejects impossible shapes with a message naming the field and the file. Every architecture reads
// the fields it needs from here; fields that belong to one architecture only live in their own sub-struct
// (room for DeepSeek2's MLA and MoE sub-configs).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "kernels/ref/ops.h"

namespace seek {

class ModelSource;
class GgufFile;
struct Llama2cHeader;

enum class ModelArch {
  kLlama,  // Llama 1/2/3, Mistral-style, SmolLM, TinyLlama, llama2.c: pre-norm, GQA, RoPE, SwiGLU
  kQwen2,  // Llama graph plus biases on Q, K and V
  // kDeepSeek2 comes with MLA + MoE.
};
const char* ArchName(ModelArch arch);

enum class RopeScaling {
  kNone,
  kLinear,  // positions divided by factor (Chen et al. 2023, arXiv:2306.15595)
  kLlama3,  // per-frequency blend between scaled and unscaled (Llama 3.1; HF _compute_llama3_parameters)
  kYarn,    // NTK-by-parts + attention temperature (Peng et al. 2023, arXiv:2309.00071)
};
const char* RopeScalingName(RopeScaling s);

struct RopeConfig {
  int32_t n_rot = 0;  // dims of each head that rotate (the first n_rot; partial rotary when < head_dim)
  float theta = 10000.0f;
  RopeLayout layout = RopeLayout::kNorm;
  RopeScaling scaling = RopeScaling::kNone;
  float factor = 1.0f;            // linear / llama3 / yarn
  float low_freq_factor = 1.0f;   // llama3
  float high_freq_factor = 4.0f;  // llama3
  int32_t original_ctx = 0;       // llama3 / yarn: original_max_position_embeddings
  float beta_fast = 32.0f;        // yarn
  float beta_slow = 1.0f;         // yarn
  float attn_factor = 0.0f;       // yarn: multiplies cos and sin; 0 = 0.1 * ln(factor) + 1
  bool has_freq_factors = false;  // GGUF rope_freqs.weight [n_rot/2]: per-pair divisors of the frequency
                                  // (how llama.cpp stores Llama 3.1 scaling)
};

// Per-layer shape. Llama and Qwen2 layers are all alike; DeepSeek2 mixes dense and MoE layers.
struct LayerConfig {
  int32_t n_head = 0, n_head_kv = 0, n_ff = 0;
};

struct ModelConfig {
  ModelArch arch = ModelArch::kLlama;
  std::string arch_name;    // as the file spells it: "llama", "mistral", "qwen2", ...
  std::string source_path;  // for error messages

  int32_t n_vocab = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  // n_embd / n_head unless the file says otherwise
  int32_t n_ff = 0;
  float norm_eps = 1e-5f;
  int32_t n_ctx_train = 0;
  bool tied_embeddings = false;  // output projection is token_embd.weight
  bool attn_qkv_bias = false;    // Qwen2: biases on Q, K, V
  RopeConfig rope;

  int32_t q_dim() const { return n_head * head_dim; }      // rows of attn_q
  int32_t kv_dim() const { return n_head_kv * head_dim; }  // rows of attn_k / attn_v
  LayerConfig layer(int32_t /*il*/) const { return LayerConfig{n_head, n_head_kv, n_ff}; }

  // Build from a model source (dispatches on its format) and validate. Throws seek::Error.
  static ModelConfig FromSource(const ModelSource& source);
  static ModelConfig FromGguf(const GgufFile& gguf);
  static ModelConfig FromHfConfig(const nlohmann::json& config, const std::string& path);
  static ModelConfig FromLlama2c(const Llama2cHeader& header, const std::string& path);

  // Throws seek::Error "FILE: config: FIELD ..." on an impossible configuration.
  void Validate() const;
  // One line for logs / `seek info`.
  std::string Summary() const;
};

}  // namespace seek
