// Element types of the KV cache, and the byte layout of one cached row.
//
//  - f32:  4 bytes per value, exact (the fp32 reference arithmetic).
//  - f16:  IEEE half, 2 bytes per value, round-to-nearest-even. The default, as in llama.cpp (its
//          --cache-type-k/-v default f16): half the memory traffic of f32 for ~1e-3 relative rounding of K
//          and V, which real models do not notice (docs/ACCURACY.md, "KV cache").
//  - q8_0: GGML's Q8_0 blocks (kernels/quant/blocks.h: one fp16 scale + 32 int8 values, 34 bytes per 32
//          values, 8.5 bits per value). Every head must start on a block, so head_dim % 32 == 0.
// A row of n values of type t occupies KvRowBytes(t, n) bytes; the element e of a row starts at byte
// KvRowBytes(t, e) (for q8_0, e must be a multiple of 32).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace seek {

enum class KvType : uint8_t { kF32, kF16, kQ8_0 };

// What a Context uses when nobody asks for something else.
inline constexpr KvType kDefaultKvType = KvType::kF16;

// "f32", "f16", "q8_0".
const char* KvTypeName(KvType t);
// Parses "f32" | "f16" | "q8_0" (case-insensitive); throws seek::Error naming the choices otherwise.
KvType ParseKvType(std::string_view s);
// Values per block: 32 for q8_0, else 1.
int64_t KvBlockSize(KvType t);
// Bytes of n consecutive values (n a multiple of KvBlockSize(t)).
size_t KvRowBytes(KvType t, int64_t n);
// Throws seek::Error unless rows of heads of head_dim values can be stored as t (q8_0: head_dim % 32 == 0).
// `what` names the model dimension in the message ("head_dim", "kv_lora_rank", ...).
void CheckKvType(KvType t, int64_t head_dim, const char* what);

}  // namespace seek
