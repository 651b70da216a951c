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
// Head-major: a layer's K (and V) is n_head_kv runs of n_ctx rows of head_dim values, so a decode step's
// attention reads each head's keys and values as one contiguous stream. Position-major rows (all heads of a
// position side by side) made each head read 1/n_head_kv of every row: at 4096 tokens of context TinyLlama's
// attention then ran at ~4 GB/s and took half of the decode step.
struct KvCache {
  KvType type = kDefaultKvType;
  int32_t n_layer = 0, n_ctx = 0, n_head_kv = 0, head_dim = 0;
  size_t row_bytes = 0;    // one head's K (or V) at one position: KvRowBytes(type, head_dim)
  std::vector<uint8_t> k;  // [n_layer][n_head_kv][n_ctx][row_bytes]
  std::vector<uint8_t> v;  // [n_layer][n_head_kv][n_ctx][row_bytes]

  // head_dim must be a multiple of KvBlockSize(t) (the caller checks it with CheckKvType).
  void Allocate(int32_t layers, int32_t ctx, int32_t heads, int32_t head_dim, KvType t = kDefaultKvType);
  int32_t kv_dim() const { return n_head_kv * head_dim; }
  uint8_t* K(int32_t il, int32_t g, int32_t pos) { return k.data() + Offset(il, g, pos); }
  uint8_t* V(int32_t il, int32_t g, int32_t pos) { return v.data() + Offset(il, g, pos); }
  const uint8_t* K(int32_t il, int32_t g, int32_t pos) const { return k.data() + Offset(il, g, pos); }
  const uint8_t* V(int32_t il, int32_t g, int32_t pos) const { return v.data() + Offset(il, g, pos); }
  // Layer il's K / V rows as the attention kernel reads them.
  KvRows KRows(int32_t il) const;
  KvRows VRows(int32_t il) const;

 private:
  size_t Offset(int32_t il, int32_t g, int32_t pos) const {
    return ((size_t(il) * size_t(n_head_kv) + size_t(g)) * size_t(n_ctx) + size_t(pos)) * row_bytes;
  }
};

struct AttentionShape {
  int32_t n_head = 0, n_head_kv = 0, head_dim = 0;
};

// Stores k, v ([n_tokens][kv_dim] fp32, kv_dim = n_head_kv * head_dim) at positions [pos0, pos0 + n_tokens)
// of layer il, converted to the cache's type.
void KvWrite(KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens, const float* k, const float* v);

// out[t] = softmax(q[t] K[0..pos0+t]^T / sqrt(head_dim)) V[0..pos0+t] for every head, t in [0, n_tokens).
// q, out: [n_tokens][n_head * head_dim]. The cache must already hold the batch's own K and V.
void GqaAttention(const float* q, const KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens,
                  const AttentionShape& shape, float* out, ThreadPool* pool);

}  // namespace seek
