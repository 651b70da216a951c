// DeepSeek2 configuration: HF config.json (deepseek_v2 / deepseek_v3), GGUF "deepseek2" (llama.cpp's keys),
// and DeepSeek's own inference/configs/*.json.
//
// Facts that differ between sources (docs/DESIGN.md "DeepSeek2"):
//  - RoPE: the checkpoints' q_pe / k_pe rotate adjacent pairs (HF DeepseekV2 uses complex multiplication on
//    (2i, 2i+1); DeepseekV3 with rope_interleave = true de-interleaves q and k the same way before
//    rotate_half, which gives the same q.k). GGML "normal" RoPE; llama.cpp's converter does not permute.
//    kNorm here.
//  - YaRN attention factors: cos/sin are multiplied by mscale(s, mscale) / mscale(s, mscale_all_dim) (HF
//    _compute_yarn_parameters; 1 in every release) and the softmax scale by mscale(s, mscale_all_dim)^2. HF
//    4.57.1's native DeepseekV2Attention omits the softmax factor; DeepSeek's own V2 code, HF DeepseekV3 and
//    llama.cpp apply it, so seek applies it for both (V2-Lite: mscale_all_dim 0.707, factor 40 -> x1.59).
//  - Scoring / top-k method defaults follow the model type (HF's DeepseekV3 is always sigmoid + noaux_tc).
#include "model/config_deepseek2.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "formats/gguf.h"

namespace seek {

namespace {

float YarnMscale(float factor, float m) {
  return factor <= 1.0f ? 1.0f : float(0.1 * m * std::log(double(factor)) + 1.0);
}

// Fields every DeepSeek2 source shares once the MLA numbers are known.
void DeriveCommon(ModelConfig& c) {
  c.arch = ModelArch::kDeepSeek2;
  c.head_dim = c.mla.qk_head_dim();
  c.n_head_kv = c.n_head;  // MLA: every head has its own K/V after decompression
  c.rope.n_rot = c.mla.qk_rope_head_dim;
  c.rope.layout = RopeLayout::kNorm;
  c.attn_qkv_bias = false;
}

MoeTopk DefaultTopk(const MoeConfig& m) {
  if (m.scoring == MoeScoring::kSigmoid) return MoeTopk::kNoauxTc;
  return m.n_group > 1 ? MoeTopk::kGroupLimitedGreedy : MoeTopk::kGreedy;
}

int32_t JInt(const nlohmann::json& j, const char* key, const std::string& path, bool required,
             int32_t fallback = 0) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) Fail("%s: config.json: missing \"%s\"", path.c_str(), key);
    return fallback;
  }
  if (!j[key].is_number_integer()) Fail("%s: config.json: \"%s\" must be an integer", path.c_str(), key);
  const int64_t v = j[key].get<int64_t>();
  if (v < 0 || v > std::numeric_limits<int32_t>::max())
    Fail("%s: config.json: \"%s\" = %lld is out of range", path.c_str(), key, static_cast<long long>(v));
  return int32_t(v);
}
double JNum(const nlohmann::json& j, const char* key, const std::string& path, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) Fail("%s: config.json: \"%s\" must be a number", path.c_str(), key);
  return j[key].get<double>();
}
std::string JStr(const nlohmann::json& j, const char* key, const std::string& path,
                 const std::string& fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) Fail("%s: config.json: \"%s\" must be a string", path.c_str(), key);
  return j[key].get<std::string>();
}

}  // namespace

ModelConfig DeepSeek2ConfigFromHf(const nlohmann::json& j, const std::string& path) {
  ModelConfig c;
  c.source_path = path;
  c.arch_name = JStr(j, "model_type", path, "deepseek_v2");
  const bool v3 = c.arch_name != "deepseek_v2";
  c.n_vocab = JInt(j, "vocab_size", path, true);
  c.n_embd = JInt(j, "hidden_size", path, true);
  c.n_layer = JInt(j, "num_hidden_layers", path, true);
  c.n_head = JInt(j, "num_attention_heads", path, true);
  c.n_ff = JInt(j, "intermediate_size", path, true);
  c.norm_eps = float(JNum(j, "rms_norm_eps", path, 1e-6));
  c.n_ctx_train = JInt(j, "max_position_embeddings", path, false, 0);
  c.tied_embeddings = j.value("tie_word_embeddings", false);
  c.rope.theta = float(JNum(j, "rope_theta", path, 10000.0));
  if (j.value("attention_bias", false))
    Fail("%s: config.json: attention_bias = true is not supported", path.c_str());
  if (j.contains("rope_interleave") && j["rope_interleave"].is_boolean() && !j["rope_interleave"].get<bool>())
    Fail("%s: config.json: rope_interleave = false is not supported for deepseek2", path.c_str());
  if (JStr(j, "hidden_act", path, "silu") != "silu")
    Fail("%s: config.json: hidden_act must be silu", path.c_str());

  MlaConfig& a = c.mla;
  a.q_lora_rank = JInt(j, "q_lora_rank", path, false, 0);  // null in V2-Lite
  a.kv_lora_rank = JInt(j, "kv_lora_rank", path, true);
  a.qk_nope_head_dim = JInt(j, "qk_nope_head_dim", path, true);
  a.qk_rope_head_dim = JInt(j, "qk_rope_head_dim", path, true);
  a.v_head_dim = JInt(j, "v_head_dim", path, true);

  MoeConfig& m = c.moe;
  m.n_expert = JInt(j, "n_routed_experts", path, true);
  m.n_expert_used = JInt(j, "num_experts_per_tok", path, true);
  m.n_expert_shared = JInt(j, "n_shared_experts", path, false, 0);
  m.n_ff_exp = JInt(j, "moe_intermediate_size", path, true);
  m.n_group = JInt(j, "n_group", path, false, 1);
  m.n_group_used = JInt(j, "topk_group", path, false, 1);
  m.routed_scaling_factor = float(JNum(j, "routed_scaling_factor", path, 1.0));
  m.norm_topk_prob = j.value("norm_topk_prob", false);
  m.first_k_dense_replace = JInt(j, "first_k_dense_replace", path, false, 0);
  m.moe_layer_freq = JInt(j, "moe_layer_freq", path, false, 1);
  const std::string scoring = JStr(j, "scoring_func", path, v3 ? "sigmoid" : "softmax");
  if (scoring == "softmax") {
    m.scoring = MoeScoring::kSoftmax;
  } else if (scoring == "sigmoid") {
    m.scoring = MoeScoring::kSigmoid;
  } else {
    Fail("%s: config.json: scoring_func '%s' is not supported (softmax, sigmoid)", path.c_str(),
         scoring.c_str());
  }
  const std::string topk = JStr(j, "topk_method", path, v3 ? "noaux_tc" : "greedy");
  if (topk == "greedy") {
    m.topk_method = MoeTopk::kGreedy;
    m.n_group = m.n_group_used = 1;  // groups play no part
  } else if (topk == "group_limited_greedy") {
    m.topk_method = MoeTopk::kGroupLimitedGreedy;
  } else if (topk == "noaux_tc") {
    m.topk_method = MoeTopk::kNoauxTc;
  } else {
    Fail("%s: config.json: topk_method '%s' is not supported (greedy, group_limited_greedy, noaux_tc)",
         path.c_str(), topk.c_str());
  }
  c.n_nextn_layer = JInt(j, "num_nextn_predict_layers", path, false, 0);
  DeriveCommon(c);

  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const auto& rs = j["rope_scaling"];
    if (!rs.is_object()) Fail("%s: config.json: rope_scaling must be an object", path.c_str());
    const std::string type = JStr(rs, "rope_type", path, JStr(rs, "type", path, "default"));
    if (type == "yarn") {
      c.rope.scaling = RopeScaling::kYarn;
      c.rope.factor = float(JNum(rs, "factor", path, 1.0));
      c.rope.original_ctx = JInt(rs, "original_max_position_embeddings", path, false, c.n_ctx_train);
      c.rope.beta_fast = float(JNum(rs, "beta_fast", path, 32.0));
      c.rope.beta_slow = float(JNum(rs, "beta_slow", path, 1.0));
      const float mscale = float(JNum(rs, "mscale", path, 0.0));
      const float mscale_all = float(JNum(rs, "mscale_all_dim", path, 0.0));
      const double attn = JNum(rs, "attention_factor", path, -1.0);
      if (attn > 0) {
        c.rope.attn_factor = float(attn);
      } else if (mscale != 0.0f && mscale_all != 0.0f) {
        c.rope.attn_factor = YarnMscale(c.rope.factor, mscale) / YarnMscale(c.rope.factor, mscale_all);
      }  // else HF's default 0.1 ln(s) + 1 (RopeAttnFactor)
      a.yarn_log_mul = 0.1f * mscale_all;
    } else if (type != "default") {
      Fail("%s: config.json: rope_scaling type '%s' is not supported for deepseek2 (yarn)", path.c_str(),
           type.c_str());
    }
  }
  return c;
}

ModelConfig DeepSeek2ConfigFromGguf(const GgufFile& g) {
  ModelConfig c;
  c.source_path = g.path();
  c.arch_name = "deepseek2";
  const std::string p = "deepseek2.";
  auto get = [&](const char* key, bool required, int64_t fallback) -> int32_t {
    auto v = g.GetInt(p + key);
    if (!v) {
      if (required) Fail("%s: missing metadata key %s%s", g.path().c_str(), p.c_str(), key);
      return int32_t(fallback);
    }
    if (*v < 0 || *v > std::numeric_limits<int32_t>::max())
      Fail("%s: config: %s%s = %lld is out of range", g.path().c_str(), p.c_str(), key,
           static_cast<long long>(*v));
    return int32_t(*v);
  };
  auto getf = [&](const char* key, float fallback) {
    auto v = g.GetFloat(p + key);
    return v ? float(*v) : fallback;
  };
  c.n_nextn_layer = get("nextn_predict_layers", false, 0);
  c.n_layer = get("block_count", true, 0) - c.n_nextn_layer;  // block_count counts the MTP layers
  c.n_embd = get("embedding_length", true, 0);
  c.n_ff = get("feed_forward_length", true, 0);
  c.n_head = get("attention.head_count", true, 0);
  c.norm_eps = getf("attention.layer_norm_rms_epsilon", 1e-6f);
  c.n_ctx_train = get("context_length", false, 0);
  c.rope.theta = getf("rope.freq_base", 10000.0f);
  c.n_vocab = get("vocab_size", false, 0);
  if (c.n_vocab == 0) {
    if (const TensorView* emb = g.FindTensor("token_embd.weight")) c.n_vocab = int32_t(emb->ne[1]);
  }
  c.tied_embeddings = g.FindTensor("output.weight") == nullptr;

  MlaConfig& a = c.mla;
  a.q_lora_rank = get("attention.q_lora_rank", false, 0);
  a.kv_lora_rank = get("attention.kv_lora_rank", true, 0);
  a.qk_rope_head_dim = get("rope.dimension_count", true, 0);
  // After llama.cpp#12801 key/value_length describe the absorbed view (kv_lora + rope / kv_lora) and the
  // per-head sizes moved to *_mla; before it they were the per-head sizes.
  const bool mla_keys = g.GetInt(p + "attention.key_length_mla").has_value();
  const int32_t qk_head = get(mla_keys ? "attention.key_length_mla" : "attention.key_length", true, 0);
  a.v_head_dim = get(mla_keys ? "attention.value_length_mla" : "attention.value_length", true, 0);
  if (qk_head <= a.qk_rope_head_dim)
    Fail("%s: config: key length %d must exceed rope.dimension_count %d", g.path().c_str(), qk_head,
         a.qk_rope_head_dim);
  a.qk_nope_head_dim = qk_head - a.qk_rope_head_dim;

  MoeConfig& m = c.moe;
  m.n_expert = get("expert_count", true, 0);
  m.n_expert_used = get("expert_used_count", true, 0);
  m.n_expert_shared = get("expert_shared_count", false, 0);
  m.n_ff_exp = get("expert_feed_forward_length", true, 0);
  m.first_k_dense_replace = get("leading_dense_block_count", false, 0);
  m.moe_layer_freq = get("moe_layer_freq", false, 1);
  m.routed_scaling_factor = getf("expert_weights_scale", 1.0f);
  m.norm_topk_prob = g.GetBool(p + "expert_weights_norm").value_or(false);
  const int32_t gating = get("expert_gating_func", false, 1);  // llama.cpp: 1 softmax, 2 sigmoid
  if (gating != 1 && gating != 2)
    Fail("%s: config: deepseek2.expert_gating_func = %d is not supported (1 softmax, 2 sigmoid)",
         g.path().c_str(), gating);
  m.scoring = gating == 2 ? MoeScoring::kSigmoid : MoeScoring::kSoftmax;
  m.n_group = get("expert_group_count", false, 1);
  m.n_group_used = get("expert_group_used_count", false, 1);
  if (m.n_group == 0) m.n_group = 1;
  if (m.n_group_used == 0) m.n_group_used = m.n_group;
  m.topk_method = DefaultTopk(m);
  DeriveCommon(c);

  const std::string scaling = g.GetString(p + "rope.scaling.type").value_or("none");
  if (scaling == "yarn") {
    c.rope.scaling = RopeScaling::kYarn;
    c.rope.factor = getf("rope.scaling.factor", 1.0f);
    c.rope.original_ctx = get("rope.scaling.original_context_length", false, c.n_ctx_train);
    c.rope.beta_fast = getf("rope.scaling.yarn_beta_fast", 32.0f);
    c.rope.beta_slow = getf("rope.scaling.yarn_beta_slow", 1.0f);
    // llama.cpp's files have no attn_factor: mscale == mscale_all_dim in every release, so cos/sin keep 1.
    c.rope.attn_factor = getf("rope.scaling.attn_factor", 1.0f);
    a.yarn_log_mul = getf("rope.scaling.yarn_log_multiplier", 0.0f);
  } else if (scaling != "none") {
    Fail("%s: config: deepseek2.rope.scaling.type '%s' is not supported (none, yarn)", g.path().c_str(),
         scaling.c_str());
  }
  return c;
}

ModelConfig ModelConfig::FromDeepSeekInferenceConfig(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) Fail("%s: not a JSON object", path.c_str());
  // Defaults of ModelArgs in deepseek-ai/DeepSeek-V3 inference/model.py.
  nlohmann::json hf = {
      {"model_type", j.value("score_func", "softmax") == "sigmoid" ? "deepseek_v3" : "deepseek_v2"},
      {"vocab_size", j.value("vocab_size", 102400)},
      {"hidden_size", j.value("dim", 2048)},
      {"intermediate_size", j.value("inter_dim", 10944)},
      {"moe_intermediate_size", j.value("moe_inter_dim", 1408)},
      {"num_hidden_layers", j.value("n_layers", 27)},
      {"first_k_dense_replace", j.value("n_dense_layers", 1)},
      {"num_attention_heads", j.value("n_heads", 16)},
      {"n_routed_experts", j.value("n_routed_experts", 64)},
      {"n_shared_experts", j.value("n_shared_experts", 2)},
      {"num_experts_per_tok", j.value("n_activated_experts", 6)},
      {"n_group", j.value("n_expert_groups", 1)},
      {"topk_group", j.value("n_limited_groups", 1)},
      {"scoring_func", j.value("score_func", "softmax")},
      {"routed_scaling_factor", j.value("route_scale", 1.0)},
      {"q_lora_rank", j.value("q_lora_rank", 0)},
      {"kv_lora_rank", j.value("kv_lora_rank", 512)},
      {"qk_nope_head_dim", j.value("qk_nope_head_dim", 128)},
      {"qk_rope_head_dim", j.value("qk_rope_head_dim", 64)},
      {"v_head_dim", j.value("v_head_dim", 128)},
      {"rope_theta", j.value("rope_theta", 10000.0)},
      {"max_position_embeddings", j.value("max_seq_len", 4096 * 4)},
      {"norm_topk_prob", j.value("score_func", "softmax") == "sigmoid"},
  };
  const std::string score = hf["scoring_func"];
  hf["topk_method"] =
      score == "sigmoid" ? "noaux_tc" : (hf["n_group"].get<int>() > 1 ? "group_limited_greedy" : "greedy");
  const double factor = j.value("rope_factor", 40.0);
  if (factor > 1.0) {
    hf["rope_scaling"] = {{"type", "yarn"},
                          {"factor", factor},
                          {"original_max_position_embeddings", j.value("original_seq_len", 4096)},
                          {"beta_fast", j.value("beta_fast", 32)},
                          {"beta_slow", j.value("beta_slow", 1)},
                          {"mscale", j.value("mscale", 1.0)},
                          {"mscale_all_dim", j.value("mscale", 1.0)}};
  }
  ModelConfig c = DeepSeek2ConfigFromHf(hf, path);
  c.Validate();
  return c;
}

void ValidateDeepSeek2(const ModelConfig& c) {
  const char* f = c.source_path.c_str();
  const MlaConfig& a = c.mla;
  const MoeConfig& m = c.moe;
  auto in_range = [&](const char* field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      Fail("%s: config: %s = %lld must be in [%lld, %lld]", f, field, (long long)v, (long long)lo,
           (long long)hi);
  };
  in_range("q_lora_rank", a.q_lora_rank, 0, 1 << 16);
  in_range("kv_lora_rank", a.kv_lora_rank, 1, 1 << 16);
  in_range("qk_nope_head_dim", a.qk_nope_head_dim, 1, 4096);
  in_range("qk_rope_head_dim", a.qk_rope_head_dim, 2, 4096);
  in_range("v_head_dim", a.v_head_dim, 1, 4096);
  if (a.qk_rope_head_dim % 2 != 0)
    Fail("%s: config: qk_rope_head_dim = %d must be even", f, a.qk_rope_head_dim);
  if (!(a.yarn_log_mul >= 0.0f) || !std::isfinite(a.yarn_log_mul))
    Fail("%s: config: rope yarn_log_multiplier (0.1 * mscale_all_dim) = %g must be >= 0", f,
         double(a.yarn_log_mul));
  in_range("n_routed_experts", m.n_expert, 1, 1 << 16);
  in_range("num_experts_per_tok", m.n_expert_used, 1, m.n_expert);
  in_range("n_shared_experts", m.n_expert_shared, 0, 1024);
  in_range("moe_intermediate_size", m.n_ff_exp, 1, 1 << 20);
  in_range("n_group", m.n_group, 1, m.n_expert);
  if (m.n_expert % m.n_group != 0)
    Fail("%s: config: n_routed_experts = %d is not a multiple of n_group = %d", f, m.n_expert, m.n_group);
  in_range("topk_group", m.n_group_used, 1, m.n_group);
  if (int64_t(m.n_group_used) * (m.n_expert / m.n_group) < m.n_expert_used)
    Fail("%s: config: topk_group = %d groups of %d experts cannot supply num_experts_per_tok = %d", f,
         m.n_group_used, m.n_expert / m.n_group, m.n_expert_used);
  if (m.topk_method == MoeTopk::kNoauxTc && m.n_expert / m.n_group < 2)
    Fail("%s: config: noaux_tc routing needs >= 2 experts per group (n_routed_experts / n_group)", f);
  in_range("first_k_dense_replace", m.first_k_dense_replace, 0, c.n_layer);
  in_range("moe_layer_freq", m.moe_layer_freq, 1, 1024);
  if (!(m.routed_scaling_factor > 0.0f) || !std::isfinite(m.routed_scaling_factor))
    Fail("%s: config: routed_scaling_factor = %g must be positive", f, double(m.routed_scaling_factor));
  in_range("num_nextn_predict_layers", c.n_nextn_layer, 0, 16);
}

}  // namespace seek
