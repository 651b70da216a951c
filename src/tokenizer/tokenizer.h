// Tokenizers that reproduce Hugging Face `tokenizers` exactly:
//  - byte-level BPE (GPT-2 style) with the pre-tokenizer families of real models (gpt2, llama3/llama-bpe, qwen2,
//    deepseek-r1-qwen, deepseek-v3, deepseek-llm, deepseek-coder, smollm/...), NFC normalisation where the
//    model uses it, added/special tokens matched before BPE, ignore_merges;
//  - SentencePiece-style BPE with scores and byte fallback (Llama-2 vocabularies, llama2.c tokenizer.bin).
// Sources: GGUF metadata (tokenizer.ggml.*), tokenizer.json (+ tokenizer_config.json), llama2.c tokenizer.bin.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace seek {

class GgufFile;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  static std::unique_ptr<Tokenizer> FromGguf(const GgufFile& gguf);
  // tokenizer_config may be null or an empty object; it supplies bos/eos names and add_bos_token/add_eos_token.
  static std::unique_ptr<Tokenizer> FromHfJson(const std::string& tokenizer_json_path,
                                               const nlohmann::json* tokenizer_config);
  static std::unique_ptr<Tokenizer> FromLlama2c(const std::string& tokenizer_bin_path, int32_t vocab_size);
  // Opens a GGUF file, an HF folder (tokenizer.json inside) or a tokenizer.json file.
  static std::unique_ptr<Tokenizer> FromPath(const std::string& path);

  // Like HF encode(text, add_special_tokens=add_special): special/added tokens written in the text are always
  // recognised; add_special adds BOS/EOS as the model's post-processor does. Invalid UTF-8 is handled as HF
  // does (bytes pass through byte-level BPE) and never crashes.
  virtual std::vector<int32_t> Encode(std::string_view text, bool add_special) const = 0;
  // Like HF decode(ids, skip_special_tokens=skip_special); may return invalid UTF-8 only when the ids
  // spell it.
  virtual std::string Decode(std::span<const int32_t> ids, bool skip_special = false) const = 0;
  // The bytes one token stands for when decoded alone (for streaming).
  virtual std::string TokenBytes(int32_t id) const = 0;
  // The vocabulary string of a token (as stored: "Ġthe", "▁the", "<|im_end|>").
  virtual const std::string& TokenText(int32_t id) const = 0;
  virtual std::optional<int32_t> TokenId(std::string_view text) const = 0;

  virtual int32_t n_vocab() const = 0;
  int32_t bos_id() const { return bos_id_; }  // -1 when none
  int32_t eos_id() const { return eos_id_; }  // -1 when none
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  // Tokens that end generation (EOS, <|im_end|>, <|eot_id|>, <｜end▁of▁sentence｜>, ...).
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  virtual bool IsSpecial(int32_t id) const = 0;

 protected:
  int32_t bos_id_ = -1, eos_id_ = -1;
  bool add_bos_ = false, add_eos_ = false;
  std::vector<int32_t> eog_ids_;
};

// Turns a stream of token ids into text without ever emitting a broken UTF-8 sequence: bytes of an incomplete
// character are held back until the character completes (or flushed by Flush()).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
  std::string Push(int32_t id);
  std::string Flush();

 private:
  const Tokenizer& tok_;
  std::string pending_;
  bool first_ = true;
};

}  // namespace seek
