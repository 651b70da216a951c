// Model::Load: source -> config -> weights -> tokenizer -> chat template -> sampling defaults.
#include "model/model.h"

#include <sys/stat.h>

#include <type_traits>

#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "model/weights.h"

namespace seek {

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::unique_ptr<Tokenizer> LoadTokenizer(const ModelSource& source, const ModelConfig& config,
                                         const LoadOptions& options) {
  if (!options.tokenizer_path.empty()) {
    if (EndsWith(options.tokenizer_path, ".bin"))
      return Tokenizer::FromLlama2c(options.tokenizer_path, config.n_vocab);
    return Tokenizer::FromPath(options.tokenizer_path);
  }
  switch (source.format()) {
    case ModelFormat::kGguf:
      if (source.gguf() && source.gguf()->Find("tokenizer.ggml.model"))
        return Tokenizer::FromGguf(*source.gguf());
      break;
    case ModelFormat::kHfFolder:
      if (!source.hf_tokenizer_json_path().empty()) {
        return Tokenizer::FromHfJson(source.hf_tokenizer_json_path(), &source.hf_tokenizer_config());
      }
      break;
    case ModelFormat::kLlama2c:
      if (!source.llama2c_tokenizer_path().empty()) {
        return Tokenizer::FromLlama2c(source.llama2c_tokenizer_path(), config.n_vocab);
      }
      break;
  }
  return nullptr;  // tiny test models may have none
}

std::string LoadChatTemplate(const ModelSource& source) {
  if (source.format() == ModelFormat::kGguf && source.gguf()) {
    return source.gguf()->GetString("tokenizer.chat_template").value_or("");
  }
  if (source.format() != ModelFormat::kHfFolder) return "";
  const nlohmann::json& tc = source.hf_tokenizer_config();
  if (tc.is_object() && tc.contains("chat_template")) {
    const nlohmann::json& t = tc["chat_template"];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array()) {  // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
      for (const auto& e : t) {
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") &&
            e["template"].is_string()) {
          return e["template"].get<std::string>();
        }
      }
    }
  }
  // Newer HF folders keep the template in its own file.
  const std::string jinja = source.path() + "/chat_template.jinja";
  if (IsFile(jinja)) {
    MappedFile f(jinja);
    return std::string(reinterpret_cast<const char*>(f.data()), f.size());
  }
  return "";
}

SamplingParams LoadSampling(const ModelSource& source) {
  SamplingParams p;
  if (source.format() == ModelFormat::kHfFolder) {
    const nlohmann::json& g = source.hf_generation_config();
    if (!g.is_object()) return p;
    auto num = [&](const char* key, auto& field) {
      if (g.contains(key) && g[key].is_number())
        field = g[key].get<std::remove_reference_t<decltype(field)>>();
    };
    num("temperature", p.temperature);
    num("top_k", p.top_k);
    num("top_p", p.top_p);
    num("min_p", p.min_p);
    num("repetition_penalty", p.repeat_penalty);
    if (g.contains("do_sample") && g["do_sample"].is_boolean() && !g["do_sample"].get<bool>())
      p.temperature = 0.0f;
  } else if (source.format() == ModelFormat::kGguf && source.gguf()) {
    // llama.cpp's general.sampling.* keys (written by recent converters from generation_config.json).
    const GgufFile& g = *source.gguf();
    if (auto v = g.GetFloat("general.sampling.temp")) p.temperature = float(*v);
    if (auto v = g.GetInt("general.sampling.top_k")) p.top_k = int32_t(*v);
    if (auto v = g.GetFloat("general.sampling.top_p")) p.top_p = float(*v);
    if (auto v = g.GetFloat("general.sampling.min_p")) p.min_p = float(*v);
    if (auto v = g.GetFloat("general.sampling.penalty_repeat")) p.repeat_penalty = float(*v);
  }
  return p;
}

}  // namespace

Model::Model() = default;
Model::~Model() = default;

std::unique_ptr<Model> Model::Load(const std::string& path, const LoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->source_ = ModelSource::Open(path, options.progress);
  m->config_ = ModelConfig::FromSource(*m->source_);
  SEEK_LOG_INFO("%s", m->config_.Summary().c_str());
  m->weights_ = BindWeights(m->config_, *m->source_);
  m->tokenizer_ = LoadTokenizer(*m->source_, m->config_, options);
  if (m->tokenizer_ && m->tokenizer_->n_vocab() > m->config_.n_vocab) {
    SEEK_LOG_WARN("%s: tokenizer has %d tokens but the model only %d", path.c_str(), m->tokenizer_->n_vocab(),
                  m->config_.n_vocab);
  }
  m->chat_template_ = LoadChatTemplate(*m->source_);
  m->default_sampling_ = LoadSampling(*m->source_);
  return m;
}

const Tokenizer& Model::tokenizer() const {
  if (!tokenizer_) Fail("model has no tokenizer; pass --tokenizer FILE");
  return *tokenizer_;
}

int64_t Model::n_params() const {
  return weights_->n_params;
}

size_t Model::kv_bytes_per_token(KvType type) const {
  return KvBytesPerToken(config_, type);
}

size_t KvBytesPerToken(const ModelConfig& c, KvType type) {
  if (c.arch == ModelArch::kDeepSeek2) return size_t(c.n_layer) * KvRowBytes(type, c.mla.kv_lora_rank + c.mla.qk_rope_head_dim);
  return size_t(c.n_layer) * 2 * KvRowBytes(type, c.kv_dim());
}

int64_t Model::n_active_params() const {
  // MTP layers announced by the config but absent from the file (DeepSeek's convert.py drops them) are not
  // in n_params, so they must not be subtracted either.
  ModelConfig c = config_;
  for (int32_t k = 0; k < c.n_nextn_layer; ++k) {
    if (!weights_->layers[size_t(c.n_layer + k)].wkv_a_mqa.data) {
      c.n_nextn_layer = k;
      break;
    }
  }
  return c.active_params_per_token(weights_->n_params);
}

}  // namespace seek
