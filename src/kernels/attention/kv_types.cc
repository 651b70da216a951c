#include "kernels/attention/kv_types.h"

#include <cctype>
#include <string>

#include "core/error.h"
#include "kernels/quant/blocks.h"

namespace seek {

const char* KvTypeName(KvType t) {
  switch (t) {
    case KvType::kF32:
      return "f32";
    case KvType::kF16:
      return "f16";
    case KvType::kQ8_0:
      return "q8_0";
  }
  return "?";
}

KvType ParseKvType(std::string_view s) {
  std::string lower(s);
  for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "f32") return KvType::kF32;
  if (lower == "f16") return KvType::kF16;
  if (lower == "q8_0") return KvType::kQ8_0;
  Fail("unknown KV cache type '%s' (choose f16, q8_0 or f32)", std::string(s).c_str());
}

int64_t KvBlockSize(KvType t) {
  return t == KvType::kQ8_0 ? kQK8_0 : 1;
}

size_t KvRowBytes(KvType t, int64_t n) {
  switch (t) {
    case KvType::kF32:
      return size_t(n) * 4;
    case KvType::kF16:
      return size_t(n) * 2;
    case KvType::kQ8_0:
      return size_t(n / kQK8_0) * sizeof(BlockQ8_0);
  }
  return 0;
}

void CheckKvType(KvType t, int64_t head_dim, const char* what) {
  const int64_t block = KvBlockSize(t);
  if (head_dim <= 0 || head_dim % block != 0) {
    Fail(
        "KV cache type %s needs %s to be a multiple of %lld, but this model has %s = %lld; use --kv-type f16",
        KvTypeName(t), what, static_cast<long long>(block), what, static_cast<long long>(head_dim));
  }
}

}  // namespace seek
