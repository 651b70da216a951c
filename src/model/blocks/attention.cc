#include "model/blocks/attention.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/ref/ops.h"

namespace seek {

void KvWrite(KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens, const float* k, const float* v) {
  SEEK_CHECK(pos0 >= 0 && pos0 + n_tokens <= kv.n_ctx);
  const size_t bytes = size_t(n_tokens) * size_t(kv.kv_dim) * sizeof(float);  // positions are contiguous
  std::memcpy(kv.K(il, pos0), k, bytes);
  std::memcpy(kv.V(il, pos0), v, bytes);
}

void GqaAttention(const float* q, const KvCache& kv, int32_t il, int32_t pos0, int32_t n_tokens,
                  const AttentionShape& shape, float* out, ThreadPool* pool) {
  const int32_t n_head = shape.n_head, head_dim = shape.head_dim;
  const int32_t group = n_head / shape.n_head_kv;  // query heads per KV head
  const int64_t q_dim = int64_t(n_head) * head_dim;
  const float scale = 1.0f / std::sqrt(float(head_dim));

  // One work item per (token, head).
  auto work = [&](int64_t begin, int64_t end, int) {
    thread_local std::vector<float> scores;  // [n_kv] attention weights of one head
    for (int64_t item = begin; item < end; ++item) {
      const int32_t t = int32_t(item / n_head), h = int32_t(item % n_head);
      const int32_t n_kv = pos0 + t + 1;  // causal: positions [0, pos0 + t]
      const int64_t kv_off = int64_t(h / group) * head_dim;
      const float* qh = q + t * q_dim + int64_t(h) * head_dim;  // [head_dim]
      scores.resize(size_t(n_kv));
      for (int32_t p = 0; p < n_kv; ++p) {
        const float* kp = kv.K(il, p) + kv_off;
        scores[size_t(p)] = DotF32(qh, kp, head_dim) * scale;
      }
      Softmax(scores.data(), n_kv);
      float* oh = out + t * q_dim + int64_t(h) * head_dim;  // [head_dim]
      std::memset(oh, 0, size_t(head_dim) * sizeof(float));
      for (int32_t p = 0; p < n_kv; ++p) {
        const float* vp = kv.V(il, p) + kv_off;
        const float a = scores[size_t(p)];
        for (int32_t i = 0; i < head_dim; ++i) oh[i] += a * vp[i];
      }
    }
  };
  const int64_t n_items = int64_t(n_tokens) * n_head;
  if (pool && pool->size() > 1) {
    pool->ParallelFor(n_items, work);
  } else {
    work(0, n_items, 0);
  }
}

}  // namespace seek
