// Typed, validated model configuration, built from whichever metadata the model file carries:
//  - GGUF:        {arch}.block_count, .embedding_length, .feed_forward_length, .attention.head_count(_kv),
//                 .attention.key_length, .attention.layer_norm_rms_epsilon, .rope.freq_base,
//                 .rope.dimension_count, .rope.scaling.*, .context_length, .vocab_size (or the token list).
//  - HF folder:   config.json (model_type llama / mistral / qwen2 / deepseek_v2 / deepseek_v3).
//  - deepseek2 GGUF adds attention.q_lora_rank, .kv_lora_rank, .key_length(_mla), .value_length(_mla),
//    expert_count, expert_used_count, expert_shared_count, expert_feed_forward_length, expert_weights_scale,
//    expert_weights_norm, expert_gating_func, expert_group_count, expert_group_used_count,
//    leading_dense_block_count, rope.scaling.yarn_log_multiplier, nextn_predict_layers (llama.cpp's names).
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
  kDeepSeek2,  // DeepSeek-V2 / V3 / R1: multi-head latent attention (MLA) + mixture of experts (MoE)
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
  int32_t n_head = 0, n_head_kv = 0, n_ff = 0;  // n_ff: the dense FFN width (0 in an MoE layer)
  bool moe = false;                             // DeepSeek2: routed experts + shared experts
};

// DeepSeek2 multi-head latent attention (DeepSeek-V2 paper, arXiv:2405.04434 section 2.1). HF config.json
// names in parentheses; GGUF deepseek2.attention.* keys in model/config.cc.
struct MlaConfig {
  int32_t q_lora_rank = 0;       // (q_lora_rank) Q down-projection rank; 0 = plain attn_q (V2-Lite)
  int32_t kv_lora_rank = 0;      // (kv_lora_rank) the compressed latent c_KV that the cache stores
  int32_t qk_nope_head_dim = 0;  // per-head query/key dims without RoPE
  int32_t qk_rope_head_dim = 0;  // per-head query dims with RoPE; the key's RoPE part is one shared k_pe
  int32_t v_head_dim = 0;
  // 0.1 * rope_scaling.mscale_all_dim (GGUF rope.scaling.yarn_log_multiplier): with YaRN factor s > 1 the
  // softmax scale is multiplied by (1 + yarn_log_mul * ln s)^2 (DeepSeek's inference/model.py, HF
  // DeepseekV3Attention). 0 = no such factor.
  float yarn_log_mul = 0.0f;
  int32_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int32_t cache_dim() const { return kv_lora_rank + qk_rope_head_dim; }  // per token per layer
};

// How MLA attends (model/blocks/mla.h): decompress K/V per head (naive) or attend in latent space (absorbed).
enum class MlaForm { kAuto, kNaive, kAbsorbed };

enum class MoeScoring { kSoftmax, kSigmoid };  // (scoring_func) V2: softmax, V3: sigmoid
enum class MoeTopk {
  kGreedy,              // top-k of the scores (V2-Lite)
  kGroupLimitedGreedy,  // V2: keep the topk_group groups with the highest max score, then top-k
  kNoauxTc,             // V3: scores + e_score_correction_bias select; groups ranked by their top-2 sum
};
const char* MoeScoringName(MoeScoring s);
const char* MoeTopkName(MoeTopk t);

// DeepSeekMoE (arXiv:2401.06066) as configured in DeepSeek-V2/V3 config.json.
struct MoeConfig {
  int32_t n_expert = 0;             // (n_routed_experts)
  int32_t n_expert_used = 0;        // (num_experts_per_tok)
  int32_t n_expert_shared = 0;      // (n_shared_experts) shared MLP width = n_expert_shared * n_ff_exp
  int32_t n_ff_exp = 0;             // (moe_intermediate_size) per-expert SwiGLU width
  int32_t n_group = 1;              // (n_group) expert groups for group-limited routing
  int32_t n_group_used = 1;         // (topk_group)
  float routed_scaling_factor = 1.0f;
  MoeScoring scoring = MoeScoring::kSoftmax;
  MoeTopk topk_method = MoeTopk::kGreedy;
  bool norm_topk_prob = false;      // renormalise the selected (unbiased) scores to sum 1, then scale
  int32_t first_k_dense_replace = 0;  // layers [0, k) are dense
  int32_t moe_layer_freq = 1;       // MoE in layers il >= k with il % freq == 0 (1 in every release)
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
  // DeepSeek2 only (arch == kDeepSeek2). There head_dim = qk_head_dim, n_head_kv = n_head, rope.n_rot =
  // qk_rope_head_dim, so q_dim() is the width of the full query.
  MlaConfig mla;
  MoeConfig moe;
  int32_t n_nextn_layer = 0;  // (num_nextn_predict_layers) MTP modules stored after the n_layer main layers

  int32_t q_dim() const { return n_head * head_dim; }      // rows of attn_q
  int32_t kv_dim() const { return n_head_kv * head_dim; }  // rows of attn_k / attn_v
  // il may be in [0, n_layer + n_nextn_layer): the MTP layers are MoE layers as well.
  LayerConfig layer(int32_t il) const;
  // KV cache elements per token of context, all main layers: 2 * n_layer * kv_dim for GQA; for MLA only the
  // latent and the shared RoPE key: n_layer * (kv_lora_rank + qk_rope_head_dim).
  int64_t kv_elements_per_token() const;
  // Parameters read per token: everything except the unused routed experts, the MTP layers, and all but one
  // row of an (untied) embedding table. V3: 36.6B of 671B; V2: 20.9B of 236B; V2-Lite: 2.45B of 15.7B.
  int64_t active_params_per_token(int64_t n_params) const;

  // Build from a model source (dispatches on its format) and validate. Throws seek::Error.
  static ModelConfig FromSource(const ModelSource& source);
  static ModelConfig FromGguf(const GgufFile& gguf);
  static ModelConfig FromHfConfig(const nlohmann::json& config, const std::string& path);
  static ModelConfig FromLlama2c(const Llama2cHeader& header, const std::string& path);
  // DeepSeek's own inference/configs/config_*.json (dim, inter_dim, n_layers, n_heads, ...), as in
  // deepseek-ai/DeepSeek-V3 inference/model.py ModelArgs, with its defaults for absent fields.
  static ModelConfig FromDeepSeekInferenceConfig(const nlohmann::json& config, const std::string& path);

  // Throws seek::Error "FILE: config: FIELD ..." on an impossible configuration.
  void Validate() const;
  // One line for logs / `seek info`.
  std::string Summary() const;
};

}  // namespace seek
