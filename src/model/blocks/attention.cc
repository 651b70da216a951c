#include "model/blocks/attention.h"

#include <cmath>

#include "core/error.h"

namespace seek {

void KvCache::Allocate(int32_t layers, int32_t ctx, int32_t heads, int32_t dim, KvType t) {
  SEEK_CHECK(layers > 0 && ctx > 0 && heads > 0 && dim > 0 && dim % KvBlockSize(t) == 0);
  type = t, n_layer = layers, n_ctx = ctx, n_head_kv = heads, head_dim = dim;
  row_bytes = KvRowBytes(t, dim);
  k.assign(size_t(layers) * size_t(heads) * size_t(ctx) * row_bytes, 0);
  v.assign(k.size(), 0);
}

KvRows KvCache::KRows(int32_t il) const {
  return KvRows{type, K(il, 0, 0), row_bytes, size_t(n_ctx) * row_bytes, 0};
}

KvRows KvCache::VRows(int32_t il) const {
  return KvRows{type, V(il, 0, 0), row_bytes, size_t(n_ctx) * row_bytes, 0};
}

void KvWrite(KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens, const float* k, const float* v) {
  SEEK_CHECK(pos0 >= 0 && pos0 + n_tokens <= kv.n_ctx && il >= 0 && il < kv.n_layer);
  const int64_t kv_dim = kv.kv_dim();
  for (int32_t g = 0; g < kv.n_head_kv; ++g) {
    for (int32_t t = 0; t < n_tokens; ++t) {
      const int64_t at = int64_t(t) * kv_dim + int64_t(g) * kv.head_dim;
      KvStoreRow(kv.type, k + at, kv.K(il, g, pos0 + t), kv.head_dim);
      KvStoreRow(kv.type, v + at, kv.V(il, g, pos0 + t), kv.head_dim);
    }
  }
}

void GqaAttention(const float* q, const KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens,
                  const AttentionShape& shape, float* out, ThreadPool* pool) {
  SEEK_CHECK(pos0 >= 0 && pos0 + n_tokens <= kv.n_ctx && shape.n_head_kv == kv.n_head_kv &&
             shape.head_dim == kv.head_dim);
  AttentionParams p;
  p.q = q;
  p.out = out;
  p.k = kv.KRows(il);
  p.v = kv.VRows(il);
  p.n_tokens = n_tokens;
  p.n_head = shape.n_head;
  p.n_head_kv = shape.n_head_kv;
  p.dk = p.dv = shape.head_dim;
  p.pos0 = pos0;
  p.scale = 1.0f / std::sqrt(float(shape.head_dim));
  Attention(p, pool);
}

}  // namespace seek
