// Tensor element types. The numeric values are GGML's type ids, so a GGUF tensor's type maps directly.
// Quantized types store blocks of `block_size` elements in `type_size` bytes (see kernels/quant/blocks.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace seek {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
  // Not a GGML type: float8 e4m3 as in DeepSeek-V3's official checkpoints (safetensors "F8_E4M3").
  kF8_E4M3 = 1000,
};

struct DTypeTraits {
  const char* name;    // "f32", "q4_K", ... (llama.cpp spelling)
  int64_t block_size;  // elements per block (1 for plain types)
  size_t type_size;    // bytes per block
  bool quantized;
};

// Traits of a known type; nullopt for an id seek does not support.
std::optional<DTypeTraits> FindDTypeTraits(uint32_t ggml_type_id);
// Traits of a known type (SEEK_CHECK on unknown).
const DTypeTraits& Traits(DType t);
inline const char* DTypeName(DType t) { return Traits(t).name; }
// Parses "f32", "Q4_K", "q8_0", "bf16", ... (case-insensitive).
std::optional<DType> DTypeFromName(std::string_view name);

// Bytes for n elements of type t; nullopt when n is not a multiple of the block size or on overflow.
std::optional<size_t> RowBytes(DType t, int64_t n);

}  // namespace seek
