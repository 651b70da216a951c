// GGUF v2/v3 reader over mmap (spec: ggml/docs/gguf.md).
// Layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, then n_kv key/values, then n_tensors tensor infos
// (name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset), then padding to `general.alignment` (default 32),
// then tensor data. Every read is bounds-checked; errors name the file and the byte offset.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mmap_file.h"
#include "core/tensor.h"

namespace seek {

enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6, kBool = 7,
  kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

// One metadata value. Scalars are widened into i / u / f; arrays keep their element type. Large arrays
// (vocabularies) are stored compactly: strings in `strs`, numbers in `nums_i`/`nums_f` as appropriate.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  GgufType elem_type = GgufType::kUint8;  // for arrays
  int64_t i = 0;                          // signed ints and bool
  uint64_t u = 0;                         // unsigned ints
  double f = 0;                           // floats
  std::string str;                        // string
  std::vector<std::string> strs;          // array of strings
  std::vector<int64_t> ints;              // array of (u)ints / bools (u64 values above INT64_MAX are clamped)
  std::vector<double> floats;             // array of floats
  uint64_t array_len = 0;                 // element count for arrays (nested arrays: count only)
};

class GgufFile {
 public:
  // Opens and parses `path`; throws seek::Error ("FILE: offset N: what is wrong") on any problem.
  static std::unique_ptr<GgufFile> Open(const std::string& path);
  // Parses a GGUF image already in memory (for fuzzing); `name` is used in error messages. The bytes must
  // outlive the object.
  static std::unique_ptr<GgufFile> FromMemory(const uint8_t* data, size_t size, const std::string& name);

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  size_t file_size() const { return size_; }
  size_t alignment() const { return alignment_; }

  const std::vector<std::string>& keys() const { return keys_; }  // in file order
  const GgufValue* Find(std::string_view key) const;

  // Typed getters: nullopt when the key is absent; throw seek::Error naming the key and the file when the
  // value has an incompatible type. Integer getters accept any integer type (range-checked) and bool.
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<double> GetFloat(std::string_view key) const;  // accepts floats and ints
  std::optional<bool> GetBool(std::string_view key) const;
  std::optional<std::string> GetString(std::string_view key) const;
  const std::vector<std::string>* GetStringArray(std::string_view key) const;
  std::optional<std::vector<int64_t>> GetIntArray(std::string_view key) const;
  std::optional<std::vector<double>> GetFloatArray(std::string_view key) const;

  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* FindTensor(std::string_view name) const;

 private:
  GgufFile() = default;
  void Parse(const uint8_t* data, size_t size);

  std::unique_ptr<MappedFile> map_;
  std::string path_;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::vector<std::string> keys_;
  std::map<std::string, GgufValue, std::less<>> kv_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace seek
