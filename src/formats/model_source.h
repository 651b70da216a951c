// Opens a model in any supported format and presents its tensors under GGUF names (token_embd.weight,
// blk.N.attn_q.weight, ...) with GGML shape order (ne[0] = contiguous), plus its raw metadata:
//  - GGUF file:          metadata = the GGUF key/values (gguf()).
//  - Hugging Face folder: config.json, tokenizer_config.json, generation_config.json (nlohmann::json; empty
//                         object when absent), tokenizer.json path; tensors from model.safetensors or the shards
//                         listed in model.safetensors.index.json, renamed by formats/tensor_names.h.
//  - llama2.c checkpoint: its 7-int header (llama2c()), fp32 tensors viewed in place, and the tokenizer.bin
//                         found beside it (tok<vocab>.bin, else tokenizer.bin), if any.
// Tensor data stays mmap'd and owned by this object.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/mmap_file.h"
#include "core/tensor.h"
#include "formats/gguf.h"

namespace seek {

enum class ModelFormat { kGguf, kHfFolder, kLlama2c };

// llama2.c checkpoint header (run.c's Config). vocab_size < 0 in the file means an unshared classifier.
struct Llama2cHeader {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;
};

// Progress callback: (bytes done, bytes total). Called while loading large files.
using ProgressFn = std::function<void(uint64_t, uint64_t)>;

class ModelSource {
 public:
  // Detects the format: a directory (HF folder), "GGUF" magic, else a llama2.c checkpoint.
  // Throws seek::Error with a clear message for anything it cannot load.
  static std::unique_ptr<ModelSource> Open(const std::string& path, const ProgressFn& progress = nullptr);

  ModelFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  uint64_t file_bytes() const { return file_bytes_; }  // total size of the weight files

  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* FindTensor(std::string_view gguf_name) const;

  // Format-specific metadata (only the one matching format() is set).
  const GgufFile* gguf() const { return gguf_.get(); }
  const nlohmann::json& hf_config() const { return hf_config_; }
  const nlohmann::json& hf_tokenizer_config() const { return hf_tokenizer_config_; }
  const nlohmann::json& hf_generation_config() const { return hf_generation_config_; }
  const std::string& hf_tokenizer_json_path() const { return hf_tokenizer_json_path_; }  // "" if none
  const Llama2cHeader& llama2c() const { return llama2c_; }
  const std::string& llama2c_tokenizer_path() const { return llama2c_tokenizer_path_; }  // "" if none

 private:
  friend class ModelSourceBuilder;
  ModelFormat format_ = ModelFormat::kGguf;
  std::string path_;
  uint64_t file_bytes_ = 0;
  std::vector<std::unique_ptr<MappedFile>> maps_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;  // name -> index in tensors_
  std::unique_ptr<GgufFile> gguf_;
  nlohmann::json hf_config_ = nlohmann::json::object();
  nlohmann::json hf_tokenizer_config_ = nlohmann::json::object();
  nlohmann::json hf_generation_config_ = nlohmann::json::object();
  std::string hf_tokenizer_json_path_;
  Llama2cHeader llama2c_;
  std::string llama2c_tokenizer_path_;
};

}  // namespace seek
