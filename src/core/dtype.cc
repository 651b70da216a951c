#include "core/dtype.h"

#include <cctype>
#include <string>

#include "core/error.h"

namespace seek {
namespace {

struct Entry {
  DType type;
  DTypeTraits traits;
};

// Block sizes and byte sizes as in GGML (ggml.c type_traits); QK_K = 256.
constexpr Entry kTable[] = {
    {DType::kF32, {"f32", 1, 4, false}},       {DType::kF16, {"f16", 1, 2, false}},
    {DType::kQ4_0, {"q4_0", 32, 18, true}},    {DType::kQ4_1, {"q4_1", 32, 20, true}},
    {DType::kQ5_0, {"q5_0", 32, 22, true}},    {DType::kQ5_1, {"q5_1", 32, 24, true}},
    {DType::kQ8_0, {"q8_0", 32, 34, true}},    {DType::kQ8_1, {"q8_1", 32, 36, true}},
    {DType::kQ2_K, {"q2_K", 256, 84, true}},   {DType::kQ3_K, {"q3_K", 256, 110, true}},
    {DType::kQ4_K, {"q4_K", 256, 144, true}},  {DType::kQ5_K, {"q5_K", 256, 176, true}},
    {DType::kQ6_K, {"q6_K", 256, 210, true}},  {DType::kQ8_K, {"q8_K", 256, 292, true}},
    {DType::kI8, {"i8", 1, 1, false}},         {DType::kI16, {"i16", 1, 2, false}},
    {DType::kI32, {"i32", 1, 4, false}},       {DType::kI64, {"i64", 1, 8, false}},
    {DType::kF64, {"f64", 1, 8, false}},       {DType::kBF16, {"bf16", 1, 2, false}},
    {DType::kF8_E4M3, {"f8_e4m3", 1, 1, false}},
};

}  // namespace

std::optional<DTypeTraits> FindDTypeTraits(uint32_t id) {
  for (const Entry& e : kTable)
    if (static_cast<uint32_t>(e.type) == id) return e.traits;
  return std::nullopt;
}

const DTypeTraits& Traits(DType t) {
  for (const Entry& e : kTable)
    if (e.type == t) return e.traits;
  CheckFailed(__FILE__, __LINE__, "unknown DType");
}

std::optional<DType> DTypeFromName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Entry& e : kTable) {
    std::string n = e.traits.name;
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n == lower) return e.type;
  }
  return std::nullopt;
}

std::optional<size_t> RowBytes(DType t, int64_t n) {
  const DTypeTraits& tr = Traits(t);
  if (n < 0 || n % tr.block_size != 0) return std::nullopt;
  const unsigned __int128 bytes = static_cast<unsigned __int128>(n / tr.block_size) * tr.type_size;
  if (bytes > static_cast<unsigned __int128>(SIZE_MAX / 2)) return std::nullopt;
  return static_cast<size_t>(bytes);
}

}  // namespace seek
