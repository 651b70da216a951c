// Tokenizer factories: GGUF metadata, tokenizer.json, llama2.c tokenizer.bin, or a path to any of them.
// GGUF (tokenizer.ggml.*, see ggml/docs/gguf.md): model "gpt2" is byte-level BPE (tokens are byte-level strings,
// merges are "left right" strings in rank order, token_type 3 = control (special added token),
// 4 = user-defined (non-special added token, stored as plain text), pre names the pre-tokenizer); model "llama"
// is SentencePiece BPE, built by spm.h.
#include <sys/stat.h>

#include <fstream>

#include "core/error.h"
#include "formats/gguf.h"
#include "tokenizer/bpe.h"
#include "tokenizer/spm.h"

namespace seek {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("%s: cannot open", path.c_str());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    Fail("%s: invalid JSON: %s", path.c_str(), e.what());
  }
}

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}
std::string DirName(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

// Pre-tokenizers whose HF tokenizer.json normalises with NFC (Qwen2 family).
bool GgufPreUsesNfc(const std::string& pre) { return pre == "qwen2" || pre == "deepseek-r1-qwen"; }
// llama.cpp sets ignore_merges for the Llama-3 family (its tokenizer.json has "ignore_merges": true).
bool GgufPreIgnoresMerges(const std::string& pre) {
  return pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3";
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::FromGguf(const GgufFile& gguf) {
  const std::string model = gguf.GetString("tokenizer.ggml.model").value_or("");
  if (model == "llama") return MakeSpmTokenizerFromGguf(gguf);
  if (model != "gpt2") Fail("%s: tokenizer.ggml.model \"%s\" is not supported", gguf.path().c_str(), model.c_str());
  BpeConfig c;
  c.source = gguf.path();
  const auto* tokens = gguf.GetStringArray("tokenizer.ggml.tokens");
  if (!tokens) Fail("%s: tokenizer.ggml.tokens missing", gguf.path().c_str());
  c.tokens = *tokens;
  const auto types = gguf.GetIntArray("tokenizer.ggml.token_type");
  if (types && types->size() != c.tokens.size()) Fail("%s: token_type has %zu entries for %zu tokens",
                                                      gguf.path().c_str(), types->size(), c.tokens.size());
  if (types) {
    for (size_t i = 0; i < types->size(); ++i) {
      const int64_t t = (*types)[i];
      if (t != 3 && t != 4) continue;
      AddedToken a;
      a.id = static_cast<int32_t>(i);
      a.content = c.tokens[i];
      a.special = t == 3;
      c.added.push_back(std::move(a));
    }
  }
  if (const auto* merges = gguf.GetStringArray("tokenizer.ggml.merges")) {
    c.merges.reserve(merges->size());
    for (const auto& m : *merges) {
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) Fail("%s: bad merge \"%s\"", gguf.path().c_str(), m.c_str());
      c.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
  }
  const std::string pre = gguf.GetString("tokenizer.ggml.pre").value_or("default");
  c.pre = PreTokenizer::FromGgufPre(pre);
  c.nfc = GgufPreUsesNfc(pre);
  c.ignore_merges = GgufPreIgnoresMerges(pre);
  c.bos_id = static_cast<int32_t>(gguf.GetInt("tokenizer.ggml.bos_token_id").value_or(-1));
  c.eos_id = static_cast<int32_t>(gguf.GetInt("tokenizer.ggml.eos_token_id").value_or(-1));
  // llama.cpp's defaults when the keys are absent: Llama-3 family adds BOS, other byte-level BPE does not.
  c.add_bos = gguf.GetBool("tokenizer.ggml.add_bos_token").value_or(c.ignore_merges);
  c.add_eos = gguf.GetBool("tokenizer.ggml.add_eos_token").value_or(false);
  return MakeBpeTokenizer(std::move(c));
}

std::unique_ptr<Tokenizer> Tokenizer::FromHfJson(const std::string& tokenizer_json_path,
                                                 const nlohmann::json* tokenizer_config) {
  const nlohmann::json j = ReadJson(tokenizer_json_path);
  return MakeBpeTokenizer(BpeConfigFromHfJson(j, tokenizer_config, tokenizer_json_path));
}

std::unique_ptr<Tokenizer> Tokenizer::FromLlama2c(const std::string& tokenizer_bin_path, int32_t vocab_size) {
  return MakeLlama2cTokenizer(tokenizer_bin_path, vocab_size);
}

std::unique_ptr<Tokenizer> Tokenizer::FromPath(const std::string& path) {
  std::string json_path = path;
  if (IsDir(path)) {
    json_path = path + "/tokenizer.json";
    if (!Exists(json_path)) Fail("%s: no tokenizer.json in this folder", path.c_str());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) Fail("%s: cannot open", path.c_str());
    char magic[4] = {};
    in.read(magic, 4);
    if (in.gcount() == 4 && std::string(magic, 4) == "GGUF") return FromGguf(*GgufFile::Open(path));
  }
  const std::string config_path = DirName(json_path) + "/tokenizer_config.json";
  if (Exists(config_path)) {
    const nlohmann::json config = ReadJson(config_path);
    return FromHfJson(json_path, &config);
  }
  return FromHfJson(json_path, nullptr);
}

}  // namespace seek
