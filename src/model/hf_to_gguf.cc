// HF folder -> GGUF metadata and tensor plan; see hf_to_gguf.h.
#include "model/hf_to_gguf.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"

namespace seek {
namespace {

// llama.cpp's token types (gguf-py TokenType).
constexpr int64_t kTokenNormal = 1, kTokenUnused = 5, kTokenControl = 3, kTokenUserDefined = 4;

std::string ArchOf(const ModelSource& src) {
  const nlohmann::json& cfg = src.hf_config();
  const auto it = cfg.find("architectures");
  const std::string hf = (it != cfg.end() && it->is_array() && !it->empty() && (*it)[0].is_string())
                             ? (*it)[0].get<std::string>()
                             : std::string();
  if (hf == "LlamaForCausalLM" || hf == "MistralForCausalLM") return "llama";
  if (hf == "Qwen2ForCausalLM") return "qwen2";
  Fail(
      "%s: architecture '%s' cannot be converted by seek quantize yet (llama, mistral, qwen2); convert it to "
      "GGUF first",
      src.path().c_str(), hf.c_str());
}

int64_t CfgInt(const nlohmann::json& cfg, const char* key, const std::string& path) {
  const auto it = cfg.find(key);
  if (it == cfg.end() || !it->is_number_integer())
    Fail("%s: config.json: '%s' is missing or not an integer", path.c_str(), key);
  return it->get<int64_t>();
}

template <typename T>
T CfgOr(const nlohmann::json& cfg, const char* key, T fallback) {
  const auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return fallback;
  return it->get<T>();
}

// Divisors d_i of the llama3 rope scaling (transformers' _compute_llama3_parameters): wavelengths shorter
// than original_ctx / high_freq_factor are kept (1), longer than original_ctx / low_freq_factor divided by
// factor, and those between blended.
std::vector<float> Llama3Divisors(const nlohmann::json& cfg, int64_t head_dim) {
  const nlohmann::json& rs = cfg["rope_scaling"];
  const double base = CfgOr<double>(cfg, "rope_theta", 10000.0), factor = rs.at("factor").get<double>();
  const double low = CfgOr<double>(rs, "low_freq_factor", 1.0),
               high = CfgOr<double>(rs, "high_freq_factor", 4.0);
  const double old_ctx = rs.at("original_max_position_embeddings").get<double>();
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double wavelen = 2 * M_PI * std::pow(base, static_cast<double>(i) / static_cast<double>(head_dim));
    if (wavelen < old_ctx / high) {
      out.push_back(1.0f);
    } else if (wavelen > old_ctx / low) {
      out.push_back(static_cast<float>(factor));
    } else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      out.push_back(static_cast<float>(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

// The GGUF tokenizer.ggml.pre name whose split rules equal those of the tokenizer.json's pre_tokenizer.
std::string GgufPreName(const nlohmann::json& pre_tokenizer) {
  const PreTokenizer hf = PreTokenizer::FromHfJson(pre_tokenizer);
  for (const char* name :
       {"default", "llama-bpe", "qwen2", "deepseek-v3", "deepseek-llm", "deepseek-coder", "smollm"})
    if (PreTokenizer::FromGgufPre(name).rules() == hf.rules()) return name;
  return "";
}

void WriteTokenizer(const ModelSource& src, GgufWriter& w,
                    const std::function<void(const std::string&)>& log) {
  const std::string& path = src.hf_tokenizer_json_path();
  if (path.empty()) {
    log("note: no tokenizer.json: the GGUF will have no tokenizer keys");
    return;
  }
  std::ifstream f(path);
  nlohmann::json tj = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (tj.is_discarded() || !tj.is_object()) Fail("%s: invalid JSON", path.c_str());
  const nlohmann::json& model = tj["model"];
  if (!model.is_object() || model.value("type", "") != "BPE" || tj["pre_tokenizer"].is_null()) {
    log("note: tokenizer.json is not byte-level BPE: the GGUF will have no tokenizer keys");
    return;
  }
  std::map<std::string, int64_t> vocab;
  for (const auto& [text, id] : model.at("vocab").items()) vocab[text] = id.get<int64_t>();
  std::map<std::string, bool> added;  // content -> special
  for (const auto& t : tj.value("added_tokens", nlohmann::json::array())) {
    vocab[t.at("content").get<std::string>()] = t.at("id").get<int64_t>();
    added[t.at("content").get<std::string>()] = t.value("special", false);
  }
  int64_t n = 0;
  for (const auto& [text, id] : vocab) n = std::max(n, id + 1);
  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<int64_t> types(static_cast<size_t>(n), kTokenUnused);
  for (int64_t i = 0; i < n; ++i) tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";
  for (const auto& [text, id] : vocab) {
    if (id < 0) Fail("%s: negative token id for '%s'", path.c_str(), text.c_str());
    tokens[static_cast<size_t>(id)] = text;
    const auto a = added.find(text);
    types[static_cast<size_t>(id)] = a == added.end() ? kTokenNormal
                                     : a->second      ? kTokenControl
                                                      : kTokenUserDefined;
  }
  std::vector<std::string> merges;
  for (const auto& m : model.value("merges", nlohmann::json::array())) {
    if (m.is_string()) {
      merges.push_back(m.get<std::string>());
    } else {
      merges.push_back(m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
    }
  }
  std::string pre = GgufPreName(tj["pre_tokenizer"]);
  if (pre.empty()) {
    log("note: the tokenizer.json pre-tokenizer matches no GGUF pre-tokenizer name seek knows; using "
        "\"default\"");
    pre = "default";
  }
  w.SetString("tokenizer.ggml.model", "gpt2");
  w.SetString("tokenizer.ggml.pre", pre);
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  w.SetIntArray("tokenizer.ggml.token_type", GgufType::kInt32, types);
  w.SetStringArray("tokenizer.ggml.merges", merges);
  const nlohmann::json& tc = src.hf_tokenizer_config();
  auto token_name = [&](const char* key) -> std::string {
    const auto it = tc.find(key);
    if (it == tc.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
    return "";
  };
  for (const auto& [key, gguf_key] : {std::pair{"bos_token", "tokenizer.ggml.bos_token_id"},
                                      std::pair{"eos_token", "tokenizer.ggml.eos_token_id"}}) {
    const auto it = vocab.find(token_name(key));
    if (it != vocab.end()) w.SetU32(gguf_key, static_cast<uint32_t>(it->second));
  }
  if (tc.contains("add_bos_token") && tc["add_bos_token"].is_boolean())
    w.SetBool("tokenizer.ggml.add_bos_token", tc["add_bos_token"].get<bool>());
  if (tc.contains("chat_template") && tc["chat_template"].is_string())
    w.SetString("tokenizer.chat_template", tc["chat_template"].get<std::string>());
}

}  // namespace

int64_t PlannedTensor::SourceRow(int64_t r) const {
  if (permute_heads <= 0) return r;
  // Output row (h, 2i + j) reads input row (h, i + j * half): HF rotate-half -> GGML adjacent pairs. A 1-D
  // tensor (a bias) is permuted element by element the same way.
  const int64_t n = view.n_dims >= 2 ? view.ne[1] : view.ne[0];
  const int64_t head_dim = n / permute_heads, half = head_dim / 2;
  const int64_t h = r / head_dim, k = r % head_dim;
  return h * head_dim + k / 2 + (k % 2) * half;
}

std::vector<PlannedTensor> PlanTensors(const ModelSource& src) {
  std::vector<PlannedTensor> out;
  if (src.format() == ModelFormat::kGguf) {
    for (const TensorView& t : src.tensors()) out.push_back(PlannedTensor{t, 0, nullptr});
    return out;
  }
  if (src.format() != ModelFormat::kHfFolder)
    Fail("%s: seek quantize reads GGUF files and Hugging Face folders", src.path().c_str());
  const std::string arch = ArchOf(src);
  const nlohmann::json& cfg = src.hf_config();
  const std::string& path = src.path();
  const int64_t n_embd = CfgInt(cfg, "hidden_size", path), n_head = CfgInt(cfg, "num_attention_heads", path);
  const int64_t n_head_kv = CfgOr<int64_t>(cfg, "num_key_value_heads", n_head);
  const int64_t head_dim = CfgOr<int64_t>(cfg, "head_dim", n_embd / n_head);
  const bool tied = CfgOr<bool>(cfg, "tie_word_embeddings", false);
  if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
    const nlohmann::json& rs = cfg["rope_scaling"];
    const std::string kind = rs.contains("rope_type") ? rs.value("rope_type", "") : rs.value("type", "");
    if (kind == "llama3") {
      auto data = std::make_shared<std::vector<float>>(Llama3Divisors(cfg, head_dim));
      PlannedTensor t;
      t.view.name = "rope_freqs.weight";
      t.view.type = DType::kF32;
      t.view.n_dims = 1;
      t.view.ne[0] = static_cast<int64_t>(data->size());
      t.view.data = data->data();
      t.view.nbytes = data->size() * sizeof(float);
      t.owned = data;
      out.push_back(t);
    }
  }
  for (const TensorView& v : src.tensors()) {
    if (v.name.find("rotary_emb") != std::string::npos) continue;
    if (tied && v.name == "output.weight") continue;
    if (v.type != DType::kF32 && v.type != DType::kF16 && v.type != DType::kBF16)
      Fail("%s: tensor '%s' has type %s; seek quantize converts F32/F16/BF16 checkpoints", path.c_str(),
           v.name.c_str(), DTypeName(v.type));
    PlannedTensor t{v, 0, nullptr};
    if (arch == "llama") {
      const bool q = v.name.find(".attn_q.") != std::string::npos,
                 k = v.name.find(".attn_k.") != std::string::npos;
      if (q || k) t.permute_heads = static_cast<int>(q ? n_head : n_head_kv);
    }
    out.push_back(t);
  }
  return out;
}

void WriteHfMetadata(const ModelSource& src, GgufWriter& w,
                     const std::function<void(const std::string&)>& log) {
  const std::string arch = ArchOf(src);
  const nlohmann::json& cfg = src.hf_config();
  const std::string& path = src.path();
  const int64_t n_embd = CfgInt(cfg, "hidden_size", path), n_head = CfgInt(cfg, "num_attention_heads", path);
  const int64_t head_dim = CfgOr<int64_t>(cfg, "head_dim", n_embd / n_head);
  const std::string a = arch + ".";
  w.SetString("general.architecture", arch);
  w.SetString("general.name", std::filesystem::path(path).lexically_normal().filename().string().empty()
                                  ? std::filesystem::path(path).parent_path().filename().string()
                                  : std::filesystem::path(path).lexically_normal().filename().string());
  w.SetU32("general.file_type", 0);  // set by the caller
  w.SetU32(a + "context_length", static_cast<uint32_t>(CfgOr<int64_t>(cfg, "max_position_embeddings", 2048)));
  w.SetU32(a + "embedding_length", static_cast<uint32_t>(n_embd));
  w.SetU32(a + "block_count", static_cast<uint32_t>(CfgInt(cfg, "num_hidden_layers", path)));
  w.SetU32(a + "feed_forward_length", static_cast<uint32_t>(CfgInt(cfg, "intermediate_size", path)));
  w.SetU32(a + "attention.head_count", static_cast<uint32_t>(n_head));
  w.SetU32(a + "attention.head_count_kv",
           static_cast<uint32_t>(CfgOr<int64_t>(cfg, "num_key_value_heads", n_head)));
  w.SetF32(a + "attention.layer_norm_rms_epsilon", CfgOr<float>(cfg, "rms_norm_eps", 1e-6f));
  w.SetF32(a + "rope.freq_base", CfgOr<float>(cfg, "rope_theta", 10000.0f));
  w.SetU32(a + "rope.dimension_count", static_cast<uint32_t>(head_dim));
  if (head_dim != n_embd / n_head) {
    w.SetU32(a + "attention.key_length", static_cast<uint32_t>(head_dim));
    w.SetU32(a + "attention.value_length", static_cast<uint32_t>(head_dim));
  }
  w.SetU32(a + "vocab_size", static_cast<uint32_t>(CfgInt(cfg, "vocab_size", path)));
  if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
    const nlohmann::json& rs = cfg["rope_scaling"];
    const std::string kind = rs.contains("rope_type") ? rs.value("rope_type", "") : rs.value("type", "");
    if (kind == "linear") {
      w.SetString(a + "rope.scaling.type", "linear");
      w.SetF32(a + "rope.scaling.factor", rs.at("factor").get<float>());
    } else if (kind == "yarn") {
      w.SetString(a + "rope.scaling.type", "yarn");
      w.SetF32(a + "rope.scaling.factor", rs.at("factor").get<float>());
      w.SetU32(a + "rope.scaling.original_context_length",
               static_cast<uint32_t>(CfgOr<int64_t>(rs, "original_max_position_embeddings",
                                                    CfgInt(cfg, "max_position_embeddings", path))));
      if (CfgOr<double>(rs, "beta_fast", 0.0) != 0.0)
        w.SetF32(a + "rope.scaling.yarn_beta_fast", rs["beta_fast"].get<float>());
      if (CfgOr<double>(rs, "beta_slow", 0.0) != 0.0)
        w.SetF32(a + "rope.scaling.yarn_beta_slow", rs["beta_slow"].get<float>());
      if (rs.contains("attention_factor") && !rs["attention_factor"].is_null())
        w.SetF32(a + "rope.scaling.attn_factor", rs["attention_factor"].get<float>());
    } else if (kind != "llama3" && kind != "default" && !kind.empty()) {
      Fail("%s: config.json: rope_scaling type '%s' is not supported", path.c_str(), kind.c_str());
    }
  }
  WriteTokenizer(src, w, log);
}

}  // namespace seek
