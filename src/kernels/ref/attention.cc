#include "kernels/ref/attention.h"

#include <cstring>
#include <vector>

#include "core/half.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/ops.h"

namespace seek {

void KvStoreRowRef(KvType t, const float* x, void* y, int64_t n) {
  switch (t) {
    case KvType::kF32:
      std::memcpy(y, x, size_t(n) * sizeof(float));
      return;
    case KvType::kF16: {
      uint16_t* h = static_cast<uint16_t*>(y);
      for (int64_t i = 0; i < n; ++i) h[i] = F32ToFP16(x[i]);
      return;
    }
    case KvType::kQ8_0:
      QuantizeRow(DType::kQ8_0, x, y, n);
      return;
  }
}

void KvLoadRowRef(KvType t, const void* x, float* y, int64_t n) {
  switch (t) {
    case KvType::kF32:
      std::memcpy(y, x, size_t(n) * sizeof(float));
      return;
    case KvType::kF16: {
      const uint16_t* h = static_cast<const uint16_t*>(x);
      for (int64_t i = 0; i < n; ++i) y[i] = FP16ToF32(h[i]);
      return;
    }
    case KvType::kQ8_0:
      DequantizeRow(DType::kQ8_0, x, y, n);
      return;
  }
}

void AttentionRef(const AttentionParams& p, ThreadPool* pool) {
  const int32_t group = p.n_head / p.n_head_kv;  // query heads per KV head
  const int64_t dk = p.dk, dv = p.dv;
  auto work = [&](int64_t begin, int64_t end, int) {
    std::vector<float> scores, krow(static_cast<size_t>(dk)), vrow(static_cast<size_t>(dv));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / p.n_head, h = item % p.n_head, g = h / group;
      const int64_t n_kv = p.pos0 + t + 1;  // causal: positions [0, pos0 + t]
      const float* qh = p.q + (t * p.n_head + h) * dk;
      scores.resize(size_t(n_kv));
      for (int64_t pos = 0; pos < n_kv; ++pos) {
        KvLoadRowRef(p.k.type, KvRowsAt(p.k, pos, g), krow.data(), dk);
        scores[size_t(pos)] = DotF32(qh, krow.data(), dk) * p.scale;
      }
      Softmax(scores.data(), n_kv);
      float* oh = p.out + (t * p.n_head + h) * dv;
      std::memset(oh, 0, size_t(dv) * sizeof(float));
      for (int64_t pos = 0; pos < n_kv; ++pos) {
        KvLoadRowRef(p.v.type, KvRowsAt(p.v, pos, g), vrow.data(), dv);
        const float a = scores[size_t(pos)];
        for (int64_t i = 0; i < dv; ++i) oh[i] += a * vrow[size_t(i)];
      }
    }
  };
  const int64_t n_items = int64_t(p.n_tokens) * p.n_head;
  if (pool && pool->size() > 1) {
    pool->ParallelFor(n_items, work);
  } else {
    work(0, n_items, 0);
  }
}

const AttentionKernels kAttentionKernelsRef = {AttentionRef, KvStoreRowRef, KvLoadRowRef};

}  // namespace seek
