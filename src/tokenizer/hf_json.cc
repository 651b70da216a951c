// tokenizer.json (+ tokenizer_config.json) → BpeConfig for byte-level BPE models.
// Which BOS/EOS encode(add_special_tokens=True) adds: transformers' LlamaTokenizerFast rebuilds the
// post-processor from tokenizer_config's add_bos_token / add_eos_token (that is how DeepSeek-V3, whose
// tokenizer.json post-processor adds nothing, gets BOS 0), so when tokenizer_config sets either flag it wins;
// otherwise a TemplateProcessing post-processor of the form [special] A [special] decides.
#include <fstream>

#include "core/error.h"
#include "tokenizer/bpe.h"

namespace seek {
namespace {

std::string TokenName(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v.at("content").get<std::string>();
  return {};
}

bool ParseNormalizer(const nlohmann::json& n, const std::string& source) {
  if (n.is_null()) return false;
  const std::string type = n.value("type", "");
  if (type == "NFC") return true;
  if (type == "Sequence") {
    bool nfc = false;
    for (const auto& s : n.at("normalizers")) nfc |= ParseNormalizer(s, source);
    return nfc;
  }
  Fail("%s: normalizer \"%s\" is not supported for byte-level BPE", source.c_str(), type.c_str());
}

}  // namespace

BpeConfig BpeConfigFromHfJson(const nlohmann::json& j, const nlohmann::json* config, const std::string& source) {
  BpeConfig c;
  c.source = source;
  const auto& model = j.at("model");
  if (model.value("type", "") != "BPE") Fail("%s: model type is not BPE", source.c_str());
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty()) {
      Fail("%s: BPE %s is not supported", source.c_str(), key);
    }
  }
  c.ignore_merges = model.value("ignore_merges", false);

  const auto& vocab = model.at("vocab");
  size_t n = 0;
  for (const auto& [text, id] : vocab.items()) n = std::max(n, static_cast<size_t>(id.get<int64_t>()) + 1);
  for (const auto& a : j.value("added_tokens", nlohmann::json::array())) {
    n = std::max(n, static_cast<size_t>(a.at("id").get<int64_t>()) + 1);
  }
  c.tokens.assign(n, std::string());
  for (const auto& [text, id] : vocab.items()) c.tokens[id.get<int64_t>()] = text;
  for (const auto& a : j.value("added_tokens", nlohmann::json::array())) {
    AddedToken t;
    t.id = a.at("id").get<int32_t>();
    t.content = a.at("content").get<std::string>();
    t.special = a.value("special", false);
    t.lstrip = a.value("lstrip", false);
    t.rstrip = a.value("rstrip", false);
    t.single_word = a.value("single_word", false);
    t.normalized = a.value("normalized", !t.special);
    if (c.tokens[t.id].empty()) c.tokens[t.id] = t.content;
    c.added.push_back(std::move(t));
  }
  const auto& merges = model.at("merges");
  c.merges.reserve(merges.size());
  for (const auto& m : merges) {
    if (m.is_array()) {
      c.merges.emplace_back(m.at(0).get<std::string>(), m.at(1).get<std::string>());
    } else {
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        Fail("%s: bad merge \"%s\"", source.c_str(), s.c_str());
      }
      c.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    }
  }
  c.nfc = ParseNormalizer(j.value("normalizer", nlohmann::json()), source);
  c.pre = PreTokenizer::FromHfJson(j.value("pre_tokenizer", nlohmann::json()));

  auto id_of = [&](const std::string& name) -> int32_t {
    if (name.empty()) return -1;
    for (const auto& a : c.added) if (a.content == name) return a.id;
    auto it = vocab.find(name);
    return it == vocab.end() ? -1 : it->get<int32_t>();
  };

  // Post-processor: [SpecialToken] Sequence A [SpecialToken].
  const auto pp = j.value("post_processor", nlohmann::json());
  if (pp.is_object() && pp.value("type", "") == "TemplateProcessing") {
    const auto& single = pp.at("single");
    bool seen_a = false;
    for (const auto& part : single) {
      if (part.contains("Sequence")) {
        seen_a = true;
      } else if (part.contains("SpecialToken")) {
        const std::string name = part["SpecialToken"].at("id").get<std::string>();
        const auto& st = pp.at("special_tokens").at(name);
        if (st.at("ids").size() != 1) Fail("%s: TemplateProcessing token %s is not one id", source.c_str(),
                                           name.c_str());
        const int32_t id = st.at("ids").at(0).get<int32_t>();
        if (!seen_a) {
          if (c.add_bos) Fail("%s: TemplateProcessing with several leading tokens", source.c_str());
          c.add_bos = true;
          c.bos_id = id;
        } else {
          if (c.add_eos) Fail("%s: TemplateProcessing with several trailing tokens", source.c_str());
          c.add_eos = true;
          c.eos_id = id;
        }
      }
    }
  }
  if (config && config->is_object()) {
    if (config->contains("bos_token")) {
      const int32_t id = id_of(TokenName((*config)["bos_token"]));
      if (id >= 0) c.bos_id = id;
    }
    if (config->contains("eos_token")) {
      const int32_t id = id_of(TokenName((*config)["eos_token"]));
      if (id >= 0) c.eos_id = id;
    }
    if (config->contains("add_bos_token") || config->contains("add_eos_token")) {
      c.add_bos = config->value("add_bos_token", false);
      c.add_eos = config->value("add_eos_token", false);
    }
  }
  return c;
}

}  // namespace seek
