// Grouped-query attention (Ainslie et al. 2023, arXiv:2305.13245) over an fp32 KV cache, causal.
// Query head h reads KV head h / (n_head / n_head_kv). Scores are scaled by 1/sqrt(head_dim) and softmaxed
// in fp32 after subtracting the max.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace seek {

// The KV storage of one sequence. Bookkeeping (how many positions are valid) lives in Context.
struct KvCache {
  int32_t n_layer = 0, n_ctx = 0, kv_dim = 0;
  std::vector<float> k;  // [n_layer][n_ctx][n_head_kv * head_dim]
  std::vector<float> v;  // [n_layer][n_ctx][n_head_kv * head_dim]

  void Allocate(int32_t layers, int32_t ctx, int32_t dim) {
    n_layer = layers, n_ctx = ctx, kv_dim = dim;
    k.assign(size_t(layers) * size_t(ctx) * size_t(dim), 0.0f);
    v.assign(k.size(), 0.0f);
  }
  float* K(int32_t il, int32_t pos) { return k.data() + (int64_t(il) * n_ctx + pos) * kv_dim; }
  float* V(int32_t il, int32_t pos) { return v.data() + (int64_t(il) * n_ctx + pos) * kv_dim; }
  const float* K(int32_t il, int32_t pos) const { return k.data() + (int64_t(il) * n_ctx + pos) * kv_dim; }
  const float* V(int32_t il, int32_t pos) const { return v.data() + (int64_t(il) * n_ctx + pos) * kv_dim; }
};

struct AttentionShape {
  int32_t n_head = 0, n_head_kv = 0, head_dim = 0;
};

// Stores k, v ([n_tokens][kv_dim]) at positions [pos0, pos0 + n_tokens) of layer il.
void KvWrite(KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens, const float* k, const float* v);

// out[t] = softmax(q[t] K[0..pos0+t]^T / sqrt(head_dim)) V[0..pos0+t] for every head, t in [0, n_tokens).
// q, out: [n_tokens][n_head * head_dim]. The cache must already hold the batch's own K and V.
void GqaAttention(const float* q, const KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens,
                  const AttentionShape& shape, float* out, ThreadPool* pool);

}  // namespace seek
