#include "formats/tensor_names.h"

#include <cctype>

namespace seek {
namespace {

struct Pair {
  std::string_view hf, gguf;
};

// Per-layer modules (after "model.layers.N.").
constexpr Pair kLayerModules[] = {
    {"input_layernorm", "attn_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    {"self_attn.q_a_proj", "attn_q_a"},
    {"self_attn.q_a_layernorm", "attn_q_a_norm"},
    {"self_attn.q_b_proj", "attn_q_b"},
    {"self_attn.kv_a_proj_with_mqa", "attn_kv_a_mqa"},
    {"self_attn.kv_a_layernorm", "attn_kv_a_norm"},
    {"self_attn.kv_b_proj", "attn_kv_b"},
    {"mlp.gate", "ffn_gate_inp"},
    {"mlp.shared_experts.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_experts.up_proj", "ffn_up_shexp"},
    {"mlp.shared_experts.down_proj", "ffn_down_shexp"},
    // DeepSeek-V3 MTP module, stored as layer num_hidden_layers (README_WEIGHTS.md); llama.cpp's nextn names.
    {"enorm", "nextn.enorm"},
    {"hnorm", "nextn.hnorm"},
    {"eh_proj", "nextn.eh_proj"},
    {"shared_head.norm", "nextn.shared_head_norm"},
    {"shared_head.head", "nextn.shared_head_head"},
    {"embed_tokens", "nextn.embed_tokens"},
};

constexpr Pair kGlobalModules[] = {
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
};

// Parameter suffixes (after the module).
constexpr Pair kParams[] = {
    {"weight", "weight"},
    {"bias", "bias"},
    {"weight_scale_inv", "weight.scale_inv"},
};

// Digits at the start of s (a layer or expert index); empty when none.
std::string_view LeadingIndex(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
  return s.substr(0, n);
}

// Splits "module.param" against the tables; returns "" when unknown.
std::string MapModuleParam(std::string_view rest, const Pair* modules, size_t n_modules) {
  for (const Pair& prm : kParams) {
    if (rest.size() <= prm.hf.size() + 1 || !rest.ends_with(prm.hf) ||
        rest[rest.size() - prm.hf.size() - 1] != '.')
      continue;
    const std::string_view module = rest.substr(0, rest.size() - prm.hf.size() - 1);
    for (size_t k = 0; k < n_modules; ++k)
      if (modules[k].hf == module) return std::string(modules[k].gguf) + "." + std::string(prm.gguf);
  }
  return "";
}

}  // namespace

std::string HfToGgufName(std::string_view name) {
  if (std::string m = MapModuleParam(name, kGlobalModules, std::size(kGlobalModules)); !m.empty()) return m;
  constexpr std::string_view kLayers = "model.layers.";
  if (!name.starts_with(kLayers)) return std::string(name);
  const std::string_view after = name.substr(kLayers.size());
  const std::string_view layer = LeadingIndex(after);
  if (layer.empty() || after.size() <= layer.size() || after[layer.size()] != '.') return std::string(name);
  const std::string_view rest = after.substr(layer.size() + 1);
  const std::string blk = "blk." + std::string(layer) + ".";

  if (rest == "mlp.gate.e_score_correction_bias") return blk + "exp_probs_b.bias";
  constexpr std::string_view kExperts = "mlp.experts.";
  if (rest.starts_with(kExperts)) {
    const std::string_view e_rest = rest.substr(kExperts.size());
    const std::string_view expert = LeadingIndex(e_rest);
    if (!expert.empty() && e_rest.size() > expert.size() && e_rest[expert.size()] == '.') {
      constexpr Pair kExpertModules[] = {
          {"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"}, {"down_proj", "ffn_down"}};
      const std::string m = MapModuleParam(e_rest.substr(expert.size() + 1), kExpertModules, 3);
      if (!m.empty()) {
        // "ffn_gate.weight" -> "ffn_gate.E.weight"
        const size_t dot = m.find('.');
        return blk + m.substr(0, dot) + "." + std::string(expert) + m.substr(dot);
      }
    }
    return std::string(name);
  }
  const std::string m = MapModuleParam(rest, kLayerModules, std::size(kLayerModules));
  return m.empty() ? std::string(name) : blk + m;
}

}  // namespace seek
