#include "model/config.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "formats/model_source.h"
#include "model/config_deepseek2.h"

namespace seek {

const char* ArchName(ModelArch arch) {
  switch (arch) {
    case ModelArch::kLlama:
      return "llama";
    case ModelArch::kQwen2:
      return "qwen2";
    case ModelArch::kDeepSeek2:
      return "deepseek2";
  }
  return "?";
}

const char* MoeScoringName(MoeScoring s) {
  return s == MoeScoring::kSigmoid ? "sigmoid" : "softmax";
}

const char* MoeTopkName(MoeTopk t) {
  switch (t) {
    case MoeTopk::kGreedy:
      return "greedy";
    case MoeTopk::kGroupLimitedGreedy:
      return "group_limited_greedy";
    case MoeTopk::kNoauxTc:
      return "noaux_tc";
  }
  return "?";
}

LayerConfig ModelConfig::layer(int32_t il) const {
  if (arch != ModelArch::kDeepSeek2) return LayerConfig{n_head, n_head_kv, n_ff, false};
  // DeepSeek's reference (inference/model.py Block): dense below first_k_dense_replace; HF checks only that.
  // moe_layer_freq is 1 in every release; the original V2 code also required il % moe_layer_freq == 0.
  const bool is_moe = il >= moe.first_k_dense_replace && il % moe.moe_layer_freq == 0;
  return LayerConfig{n_head, n_head_kv, is_moe ? 0 : n_ff, is_moe};
}

int64_t ModelConfig::kv_elements_per_token() const {
  if (arch == ModelArch::kDeepSeek2) return int64_t(n_layer) * mla.cache_dim();
  return 2 * int64_t(n_layer) * kv_dim();
}

int64_t ModelConfig::active_params_per_token(int64_t n_params) const {
  // The embedding table is not read per token (one row is), unless it is also the output projection.
  const int64_t embd_unread = tied_embeddings ? 0 : (int64_t(n_vocab) - 1) * n_embd;
  if (arch != ModelArch::kDeepSeek2) return n_params - embd_unread;
  const int64_t expert = 3 * int64_t(n_embd) * moe.n_ff_exp;  // gate, up, down
  int64_t unused = 0;
  for (int32_t il = 0; il < n_layer + n_nextn_layer; ++il) {
    if (layer(il).moe) unused += int64_t(moe.n_expert - moe.n_expert_used) * expert;
  }
  // The MTP layers are not part of the main forward pass: subtract what remains of them too.
  const int64_t q_lora = mla.q_lora_rank;
  const int64_t q = q_lora > 0 ? int64_t(n_embd) * q_lora + q_lora + q_lora * q_dim() : int64_t(n_embd) * q_dim();
  const int64_t attn = q + int64_t(n_embd) * mla.cache_dim() + mla.kv_lora_rank +
                       int64_t(mla.kv_lora_rank) * n_head * (mla.qk_nope_head_dim + mla.v_head_dim) +
                       int64_t(n_head) * mla.v_head_dim * n_embd;
  const int64_t mtp_layer = attn + int64_t(moe.n_expert_used + moe.n_expert_shared) * expert +
                            int64_t(n_embd) * moe.n_expert + 2 * int64_t(n_embd) * n_embd + 6 * int64_t(n_embd);
  const int64_t mtp_rest = int64_t(n_nextn_layer) * mtp_layer;
  return n_params - embd_unread - unused - mtp_rest;
}

const char* RopeScalingName(RopeScaling s) {
  switch (s) {
    case RopeScaling::kNone:
      return "none";
    case RopeScaling::kLinear:
      return "linear";
    case RopeScaling::kLlama3:
      return "llama3";
    case RopeScaling::kYarn:
      return "yarn";
  }
  return "?";
}

namespace {

int32_t ToI32(int64_t v, const std::string& path, const std::string& key) {
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    Fail("%s: config: %s = %lld is out of range", path.c_str(), key.c_str(), static_cast<long long>(v));
  }
  return static_cast<int32_t>(v);
}

// head_dim derived as n_embd / n_head must divide exactly.
void CheckHeadsDivideEmbd(const ModelConfig& c, const std::string& path, const char* field) {
  if (c.n_head > 0 && c.n_embd % c.n_head != 0) {
    Fail("%s: config: n_embd = %d is not a multiple of %s = %d", path.c_str(), c.n_embd, field, c.n_head);
  }
}

// --- GGUF ---

struct GgufReader {
  const GgufFile& f;
  std::string prefix;  // "llama."

  int32_t Int(const std::string& key, bool required, int32_t fallback = 0) const {
    auto v = f.GetInt(prefix + key);
    if (!v) {
      if (required) Fail("%s: missing metadata key %s%s", f.path().c_str(), prefix.c_str(), key.c_str());
      return fallback;
    }
    return ToI32(*v, f.path(), prefix + key);
  }
  float Float(const std::string& key, float fallback) const {
    auto v = f.GetFloat(prefix + key);
    return v ? static_cast<float>(*v) : fallback;
  }
};

}  // namespace

ModelConfig ModelConfig::FromGguf(const GgufFile& gguf) {
  ModelConfig c;
  c.source_path = gguf.path();
  auto arch = gguf.GetString("general.architecture");
  if (!arch) Fail("%s: missing metadata key general.architecture", gguf.path().c_str());
  c.arch_name = *arch;
  if (*arch == "deepseek2") {
    c = DeepSeek2ConfigFromGguf(gguf);
    c.Validate();
    return c;
  }
  if (*arch == "llama") {
    c.arch = ModelArch::kLlama;
    // llama.cpp's converter permutes HF's Q/K rows so that RoPE pairs are adjacent (GGML "normal" mode).
    c.rope.layout = RopeLayout::kNorm;
  } else if (*arch == "qwen2") {
    c.arch = ModelArch::kQwen2;
    c.attn_qkv_bias = true;
    c.rope.layout = RopeLayout::kNeox;  // converted without the permutation
  } else {
    Fail("%s: unsupported architecture '%s' (supported: llama, qwen2, deepseek2)", gguf.path().c_str(),
         arch->c_str());
  }
  GgufReader r{gguf, *arch + "."};
  c.n_layer = r.Int("block_count", true);
  c.n_embd = r.Int("embedding_length", true);
  c.n_ff = r.Int("feed_forward_length", true);
  c.n_head = r.Int("attention.head_count", true);
  c.n_head_kv = r.Int("attention.head_count_kv", false, c.n_head);
  c.head_dim = r.Int("attention.key_length", false, c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (!gguf.Find(r.prefix + "attention.key_length"))
    CheckHeadsDivideEmbd(c, gguf.path(), "attention.head_count");
  const int32_t value_length = r.Int("attention.value_length", false, c.head_dim);
  if (value_length != c.head_dim) {
    Fail("%s: config: %sattention.value_length = %d differs from key_length = %d (unsupported)",
         gguf.path().c_str(), r.prefix.c_str(), value_length, c.head_dim);
  }
  c.norm_eps = r.Float("attention.layer_norm_rms_epsilon", 1e-5f);
  c.n_ctx_train = r.Int("context_length", false, 0);
  c.rope.theta = r.Float("rope.freq_base", 10000.0f);
  c.rope.n_rot = r.Int("rope.dimension_count", false, c.head_dim);
  c.n_vocab = r.Int("vocab_size", false, 0);
  if (c.n_vocab == 0) {
    if (const auto* toks = gguf.GetStringArray("tokenizer.ggml.tokens"))
      c.n_vocab = static_cast<int32_t>(toks->size());
  }
  if (c.n_vocab == 0) {
    if (const TensorView* emb = gguf.FindTensor("token_embd.weight"))
      c.n_vocab = ToI32(emb->ne[1], c.source_path, "n_vocab");
  }
  c.tied_embeddings = gguf.FindTensor("output.weight") == nullptr;

  const std::string scaling = gguf.GetString(r.prefix + "rope.scaling.type").value_or("none");
  float factor = r.Float("rope.scaling.factor", 0.0f);
  if (factor == 0.0f) {
    const float old_linear = r.Float("rope.scale_linear", 0.0f);  // pre-2023 key
    if (old_linear != 0.0f) {
      c.rope.scaling = RopeScaling::kLinear;
      factor = old_linear;
    }
  }
  if (scaling == "linear") {
    c.rope.scaling = RopeScaling::kLinear;
  } else if (scaling == "yarn") {
    c.rope.scaling = RopeScaling::kYarn;
    c.rope.original_ctx = r.Int("rope.scaling.original_context_length", false, c.n_ctx_train);
    c.rope.beta_fast = r.Float("rope.scaling.yarn_beta_fast", 32.0f);
    c.rope.beta_slow = r.Float("rope.scaling.yarn_beta_slow", 1.0f);
    c.rope.attn_factor = r.Float("rope.scaling.attn_factor", 0.0f);
  } else if (scaling != "none") {
    Fail("%s: config: %srope.scaling.type '%s' is not supported (none, linear, yarn)", gguf.path().c_str(),
         r.prefix.c_str(), scaling.c_str());
  }
  if (c.rope.scaling != RopeScaling::kNone) c.rope.factor = factor == 0.0f ? 1.0f : factor;
  if (c.rope.scaling == RopeScaling::kLinear && c.rope.factor == 1.0f) c.rope.scaling = RopeScaling::kNone;
  // Llama 3.1 style scaling arrives as a tensor of per-pair frequency divisors.
  c.rope.has_freq_factors = gguf.FindTensor("rope_freqs.weight") != nullptr;
  c.Validate();
  return c;
}

// --- Hugging Face config.json ---

namespace {

struct JsonReader {
  const nlohmann::json& j;
  std::string path;

  bool Has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
  int32_t Int(const char* key, bool required, int32_t fallback = 0) const {
    if (!Has(key)) {
      if (required) Fail("%s: config.json: missing \"%s\"", path.c_str(), key);
      return fallback;
    }
    if (!j[key].is_number_integer()) Fail("%s: config.json: \"%s\" must be an integer", path.c_str(), key);
    return ToI32(j[key].get<int64_t>(), path, key);
  }
  double Float(const char* key, double fallback) const {
    if (!Has(key)) return fallback;
    if (!j[key].is_number()) Fail("%s: config.json: \"%s\" must be a number", path.c_str(), key);
    return j[key].get<double>();
  }
  bool Bool(const char* key, bool fallback) const {
    if (!Has(key)) return fallback;
    if (!j[key].is_boolean()) Fail("%s: config.json: \"%s\" must be true or false", path.c_str(), key);
    return j[key].get<bool>();
  }
  std::string Str(const char* key, const std::string& fallback) const {
    if (!Has(key)) return fallback;
    if (!j[key].is_string()) Fail("%s: config.json: \"%s\" must be a string", path.c_str(), key);
    return j[key].get<std::string>();
  }
};

}  // namespace

ModelConfig ModelConfig::FromHfConfig(const nlohmann::json& config, const std::string& path) {
  if (!config.is_object()) Fail("%s: config.json is not a JSON object", path.c_str());
  JsonReader r{config, path};
  ModelConfig c;
  c.source_path = path;
  c.arch_name = r.Str("model_type", "");
  if (c.arch_name == "deepseek_v2" || c.arch_name == "deepseek_v3") {
    c = DeepSeek2ConfigFromHf(config, path);
    c.Validate();
    return c;
  }
  if (c.arch_name == "llama" || c.arch_name == "mistral") {
    c.arch = ModelArch::kLlama;
  } else if (c.arch_name == "qwen2") {
    c.arch = ModelArch::kQwen2;
    c.attn_qkv_bias = true;
  } else {
    Fail("%s: config.json: unsupported model_type '%s' (supported: llama, mistral, qwen2, deepseek_v2, deepseek_v3)", path.c_str(),
         c.arch_name.c_str());
  }
  if (r.Bool("mlp_bias", false)) Fail("%s: config.json: mlp_bias = true is not supported", path.c_str());
  if (c.arch == ModelArch::kLlama && r.Bool("attention_bias", false)) {
    // attention_bias in Llama also adds a bias to o_proj, which seek does not implement.
    Fail("%s: config.json: attention_bias = true is not supported for llama", path.c_str());
  }
  const std::string act = r.Str("hidden_act", "silu");
  if (act != "silu")
    Fail("%s: config.json: hidden_act '%s' is not supported (silu)", path.c_str(), act.c_str());
  if (r.Has("sliding_window") && r.Bool("use_sliding_window", c.arch_name == "mistral")) {
    SEEK_LOG_WARN("%s: sliding_window is ignored (full attention is used)", path.c_str());
  }

  c.n_vocab = r.Int("vocab_size", true);
  c.n_embd = r.Int("hidden_size", true);
  c.n_layer = r.Int("num_hidden_layers", true);
  c.n_head = r.Int("num_attention_heads", true);
  c.n_head_kv = r.Int("num_key_value_heads", false, c.n_head);
  c.head_dim = r.Int("head_dim", false, c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (!r.Has("head_dim")) CheckHeadsDivideEmbd(c, path, "num_attention_heads");
  c.n_ff = r.Int("intermediate_size", true);
  c.norm_eps = static_cast<float>(r.Float("rms_norm_eps", 1e-6));
  c.n_ctx_train = r.Int("max_position_embeddings", false, 0);
  c.tied_embeddings = r.Bool("tie_word_embeddings", false);
  c.rope.theta = static_cast<float>(r.Float("rope_theta", 10000.0));
  c.rope.layout = RopeLayout::kNeox;  // HF checkpoints keep the unpermuted rows: rotate_half pairs
  c.rope.n_rot = static_cast<int32_t>(c.head_dim * r.Float("partial_rotary_factor", 1.0));

  if (r.Has("rope_scaling")) {
    const auto& rs = config["rope_scaling"];
    if (!rs.is_object()) Fail("%s: config.json: rope_scaling must be an object", path.c_str());
    JsonReader s{rs, path};
    std::string type = s.Str("rope_type", s.Str("type", "default"));
    if (type == "default") {
      c.rope.scaling = RopeScaling::kNone;
    } else if (type == "linear") {
      c.rope.scaling = RopeScaling::kLinear;
    } else if (type == "llama3") {
      c.rope.scaling = RopeScaling::kLlama3;
      c.rope.low_freq_factor = static_cast<float>(s.Float("low_freq_factor", 1.0));
      c.rope.high_freq_factor = static_cast<float>(s.Float("high_freq_factor", 4.0));
      c.rope.original_ctx = s.Int("original_max_position_embeddings", true);
    } else if (type == "yarn") {
      c.rope.scaling = RopeScaling::kYarn;
      c.rope.original_ctx = s.Int("original_max_position_embeddings", false, c.n_ctx_train);
      c.rope.beta_fast = static_cast<float>(s.Float("beta_fast", 32.0));
      c.rope.beta_slow = static_cast<float>(s.Float("beta_slow", 1.0));
      c.rope.attn_factor = static_cast<float>(s.Float("attention_factor", 0.0));
      if (s.Has("mscale") || s.Has("mscale_all_dim")) {
        Fail("%s: config.json: rope_scaling mscale / mscale_all_dim are only supported for deepseek2",
             path.c_str());
      }
    } else {
      Fail("%s: config.json: rope_scaling type '%s' is not supported (linear, llama3, yarn)", path.c_str(),
           type.c_str());
    }
    if (c.rope.scaling != RopeScaling::kNone) c.rope.factor = static_cast<float>(s.Float("factor", 1.0));
  }
  c.Validate();
  return c;
}

// --- llama2.c ---

ModelConfig ModelConfig::FromLlama2c(const Llama2cHeader& h, const std::string& path) {
  ModelConfig c;
  c.source_path = path;
  c.arch = ModelArch::kLlama;
  c.arch_name = "llama";
  c.n_vocab = h.vocab_size < 0 ? -h.vocab_size : h.vocab_size;
  c.n_embd = h.dim;
  c.n_layer = h.n_layers;
  c.n_head = h.n_heads;
  c.n_head_kv = h.n_kv_heads;
  c.head_dim = h.n_heads > 0 ? h.dim / h.n_heads : 0;
  CheckHeadsDivideEmbd(c, path, "n_heads");
  c.n_ff = h.hidden_dim;
  c.norm_eps = 1e-5f;  // run.c's rmsnorm
  c.n_ctx_train = h.seq_len;
  c.tied_embeddings = h.shared_classifier;
  c.rope.n_rot = c.head_dim;
  c.rope.theta = 10000.0f;
  c.rope.layout = RopeLayout::kNorm;  // run.c rotates adjacent pairs
  c.Validate();
  return c;
}

ModelConfig ModelConfig::FromSource(const ModelSource& source) {
  switch (source.format()) {
    case ModelFormat::kGguf:
      if (!source.gguf()) Fail("%s: GGUF metadata is missing", source.path().c_str());
      return FromGguf(*source.gguf());
    case ModelFormat::kHfFolder: {
      ModelConfig c = FromHfConfig(source.hf_config(), source.path() + "/config.json");
      // Some folders tie the embeddings without saying so: no lm_head at all.
      if (!c.tied_embeddings && !source.FindTensor("output.weight")) c.tied_embeddings = true;
      return c;
    }
    case ModelFormat::kLlama2c:
      return FromLlama2c(source.llama2c(), source.path());
  }
  Fail("%s: unknown model format", source.path().c_str());
}

void ModelConfig::Validate() const {
  if (arch == ModelArch::kDeepSeek2) ValidateDeepSeek2(*this);  // first: its errors name the HF fields
  const char* f = source_path.c_str();
  auto positive = [&](const char* field, int64_t v, int64_t max) {
    if (v <= 0) Fail("%s: config: %s = %lld must be positive", f, field, static_cast<long long>(v));
    if (v > max)
      Fail("%s: config: %s = %lld is implausibly large (max %lld)", f, field, static_cast<long long>(v),
           static_cast<long long>(max));
  };
  positive("n_vocab", n_vocab, 1 << 24);
  positive("n_embd", n_embd, 1 << 17);
  positive("n_layer", n_layer, 1024);
  positive("n_head", n_head, 4096);
  positive("n_head_kv", n_head_kv, 4096);
  positive("head_dim", head_dim, 4096);
  positive("n_ff", n_ff, 1 << 20);
  if (n_head % n_head_kv != 0) {
    Fail("%s: config: n_head = %d is not a multiple of n_head_kv = %d", f, n_head, n_head_kv);
  }
  if (int64_t(n_head) * head_dim > (1 << 20)) Fail("%s: config: n_head * head_dim is implausibly large", f);
  if (rope.n_rot <= 0 || rope.n_rot > head_dim || rope.n_rot % 2 != 0) {
    Fail("%s: config: rope n_rot = %d must be even and in (0, head_dim = %d]", f, rope.n_rot, head_dim);
  }
  if (!(norm_eps > 0.0f) || !std::isfinite(norm_eps) || norm_eps > 1.0f) {
    Fail("%s: config: norm_eps = %g must be in (0, 1]", f, double(norm_eps));
  }
  if (!(rope.theta > 1.0f) || !std::isfinite(rope.theta)) {
    Fail("%s: config: rope theta = %g must be > 1", f, double(rope.theta));
  }
  if (n_ctx_train < 0) Fail("%s: config: n_ctx_train = %d must not be negative", f, n_ctx_train);
  if (rope.scaling != RopeScaling::kNone) {
    if (!(rope.factor > 0.0f) || !std::isfinite(rope.factor)) {
      Fail("%s: config: rope scaling factor = %g must be positive", f, double(rope.factor));
    }
  }
  if (rope.scaling == RopeScaling::kLlama3) {
    if (rope.original_ctx <= 0)
      Fail("%s: config: llama3 rope original_max_position_embeddings must be > 0", f);
    if (!(rope.high_freq_factor > rope.low_freq_factor) || !(rope.low_freq_factor > 0.0f)) {
      Fail("%s: config: llama3 rope needs 0 < low_freq_factor < high_freq_factor (got %g, %g)", f,
           double(rope.low_freq_factor), double(rope.high_freq_factor));
    }
  }
  if (rope.scaling == RopeScaling::kYarn) {
    if (rope.original_ctx <= 0) Fail("%s: config: yarn rope original_max_position_embeddings must be > 0", f);
    if (!(rope.beta_fast > 0.0f) || !(rope.beta_slow > 0.0f))
      Fail("%s: config: yarn beta_fast/beta_slow must be > 0", f);
  }
}

std::string ModelConfig::Summary() const {
  std::string out = StrFormat(
      "%s: n_vocab=%d n_embd=%d n_layer=%d n_head=%d n_head_kv=%d head_dim=%d n_ff=%d n_rot=%d "
      "theta=%g rope=%s scaling=%s n_ctx_train=%d tied=%d qkv_bias=%d",
      arch_name.c_str(), n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, rope.n_rot,
      double(rope.theta), rope.layout == RopeLayout::kNorm ? "norm" : "neox", RopeScalingName(rope.scaling),
      n_ctx_train, int(tied_embeddings), int(attn_qkv_bias));
  if (arch == ModelArch::kDeepSeek2) {
    out += StrFormat(
        " | mla: q_lora=%d kv_lora=%d qk_nope=%d qk_rope=%d v_head=%d yarn_log_mul=%g | moe: experts=%d used=%d "
        "shared=%d n_ff_exp=%d groups=%d/%d scoring=%s topk=%s norm=%d scale=%g dense_first=%d | nextn=%d",
        mla.q_lora_rank, mla.kv_lora_rank, mla.qk_nope_head_dim, mla.qk_rope_head_dim, mla.v_head_dim,
        double(mla.yarn_log_mul), moe.n_expert, moe.n_expert_used, moe.n_expert_shared, moe.n_ff_exp,
        moe.n_group_used, moe.n_group, MoeScoringName(moe.scoring), MoeTopkName(moe.topk_method),
        int(moe.norm_topk_prob), double(moe.routed_scaling_factor), moe.first_k_dense_replace, n_nextn_layer);
  }
  return out;
}

}  // namespace seek
