// safetensors reader over mmap (spec: https://github.com/huggingface/safetensors#format).
// Layout: u64 little-endian N, N bytes of UTF-8 JSON {"name": {"dtype": "F16", "shape": [out, in],
// "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}, then the data area; offsets are relative
// to the start of the data area. Tensors are returned under their original (HF) names, with the shape
// reversed into GGML order (HF [out, in] -> ne = {in, out}). Supported dtypes: F64 F32 F16 BF16 F8_E4M3
// I64 I32 I16 I8. Every offset and size is checked; errors name the file, the offset and the tensor.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/mmap_file.h"
#include "core/tensor.h"

namespace seek {

class SafetensorsFile {
 public:
  // JSON headers larger than this are rejected (real ones are < 10 MB even for 100k-tensor shards).
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  static std::unique_ptr<SafetensorsFile> Open(const std::string& path);
  // Parses an image already in memory (fuzzing, tests); the bytes must outlive the object.
  static std::unique_ptr<SafetensorsFile> FromMemory(const uint8_t* data, size_t size,
                                                     const std::string& name);

  const std::string& path() const { return path_; }
  size_t file_size() const { return size_; }
  // "__metadata__" (an object of strings), or an empty object.
  const nlohmann::json& metadata() const { return metadata_; }
  // Sorted by name (nlohmann::json objects are ordered maps); names as in the file.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* FindTensor(std::string_view name) const;

  // Hands the mapping to a longer-lived owner (ModelSource); tensor data pointers stay valid.
  std::unique_ptr<MappedFile> ReleaseMap() { return std::move(map_); }

 private:
  SafetensorsFile() = default;
  void Parse(const uint8_t* data, size_t size);

  std::unique_ptr<MappedFile> map_;
  std::string path_;
  size_t size_ = 0;
  nlohmann::json metadata_ = nlohmann::json::object();
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace seek
