// Grouped-query attention (Ainslie et al. 2023, arXiv:2305.13245) over a KV cache, causal.
// Query head h reads KV head h / (n_head / n_head_kv). Scores are scaled by 1/sqrt(head_dim) and softmaxed
// in fp32. The cache stores K and V as f16 (default), q8_0 or f32 (kernels/attention/kv_types.h); the
// attention itself runs through the kernel table (kernels/attention/attention.h: flash-style tiles with an
// online softmax in the avx2 table, the plain loop in the scalar one).
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/attention/attention.h"
#include "kernels/attention/kv_types.h"

namespace seek {

// The KV storage of one sequence. Bookkeeping (how many positions are valid) lives in Context.
struct KvCache {
  KvType type = kDefaultKvType;
  int32_t n_layer = 0, n_ctx = 0, kv_dim = 0;
  size_t row_bytes = 0;    // one position's K (or V) row: KvRowBytes(type, kv_dim)
  std::vector<uint8_t> k;  // [n_layer][n_ctx][row_bytes]: n_head_kv * head_dim values of `type` per row
  std::vector<uint8_t> v;  // [n_layer][n_ctx][row_bytes]

  // kv_dim must be a multiple of KvBlockSize(t) (the caller checks head_dim with CheckKvType).
  void Allocate(int32_t layers, int32_t ctx, int32_t dim, KvType t = kDefaultKvType);
  uint8_t* K(int32_t il, int32_t pos) { return k.data() + Offset(il, pos); }
  uint8_t* V(int32_t il, int32_t pos) { return v.data() + Offset(il, pos); }
  const uint8_t* K(int32_t il, int32_t pos) const { return k.data() + Offset(il, pos); }
  const uint8_t* V(int32_t il, int32_t pos) const { return v.data() + Offset(il, pos); }
  // Layer il's K / V rows as the attention kernel reads them (heads of head_dim values).
  KvRows KRows(int32_t il, int32_t head_dim) const;
  KvRows VRows(int32_t il, int32_t head_dim) const;

 private:
  size_t Offset(int32_t il, int32_t pos) const {
    return (size_t(il) * size_t(n_ctx) + size_t(pos)) * row_bytes;
  }
};

struct AttentionShape {
  int32_t n_head = 0, n_head_kv = 0, head_dim = 0;
};

// Stores k, v ([n_tokens][kv_dim] fp32) at positions [pos0, pos0 + n_tokens) of layer il, converted to the
// cache's type.
void KvWrite(KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens, const float* k, const float* v);

// out[t] = softmax(q[t] K[0..pos0+t]^T / sqrt(head_dim)) V[0..pos0+t] for every head, t in [0, n_tokens).
// q, out: [n_tokens][n_head * head_dim]. The cache must already hold the batch's own K and V.
void GqaAttention(const float* q, const KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens,
                  const AttentionShape& shape, float* out, ThreadPool* pool);

}  // namespace seek
