#include "kernels/matmul/tiled.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "kernels/matmul/act_quant.h"

namespace seek {

size_t ActRowBytes(ActKind act, int64_t n_in) {
  switch (act) {
    case ActKind::kF32: return size_t(n_in) * sizeof(float);
    case ActKind::kQ8x32: return size_t(n_in / 32) * sizeof(ActQ8x32);
    case ActKind::kQ8K: return size_t(n_in / kQK_K) * sizeof(BlockQ8_K);
  }
  return 0;
}

// Token tiles outermost (activations of a tile stay in L2), then rows (a weight row stays in L1 while it meets
// the tile's tokens in groups of up to 4).
void MatMulTiledRows(const RowKernelSet& k, const MatMulWeight& w, const uint8_t* act, size_t act_stride,
                     float* y, int64_t n_tokens, int64_t begin, int64_t end) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  if (n_tokens == 1 && k.run1) {  // decode: one call for the whole run of rows
    if (begin < end) k.run1(base + begin * w.row_bytes, w.row_bytes, end - begin, act, w.n_in, y + begin);
    return;
  }
  const int64_t tile = TokenTile(act_stride);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += tile) {
    const int64_t t1 = std::min(n_tokens, t0 + tile);
    for (int64_t o = begin; o < end; ++o) {
      const uint8_t* row = base + o * w.row_bytes;
      int64_t t = t0;
      for (; t + 4 <= t1; t += 4) k.dot[3](row, act + t * act_stride, act_stride, w.n_in, y + t * w.n_out + o, w.n_out);
      if (t < t1) k.dot[t1 - t - 1](row, act + t * act_stride, act_stride, w.n_in, y + t * w.n_out + o, w.n_out);
    }
  }
}

const uint8_t* QuantizeActivations(ActKind kind, ActQuantFn quantize, const float* x, int64_t n_in,
                                   int64_t n_tokens, ThreadPool* pool, size_t* stride) {
  if (kind == ActKind::kF32) {
    *stride = size_t(n_in) * sizeof(float);
    return reinterpret_cast<const uint8_t*>(x);
  }
  // [n_tokens][ActRowBytes] quantized activations, owned by the calling thread, reused across calls.
  thread_local std::vector<uint8_t> buffer;
  const size_t act_stride = ActRowBytes(kind, n_in);
  buffer.resize(act_stride * size_t(n_tokens));
  uint8_t* q = buffer.data();
  Parallel(pool, n_tokens, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) quantize(x + t * n_in, q + t * act_stride, n_in);
  });
  *stride = act_stride;
  return q;
}

int64_t TokenTile(size_t act_stride) {
  return std::max<int64_t>(4, int64_t(kActTileBytes / std::max<size_t>(act_stride, 1)) / 4 * 4);
}

void MatMulTiled(const RowKernelSet& k, const MatMulWeight& w, const float* x, float* y, int64_t n_tokens,
                 ThreadPool* pool) {
  if (n_tokens <= 0 || w.n_out <= 0) return;
  size_t act_stride = 0;
  const uint8_t* act = QuantizeActivations(k.act, k.quantize, x, w.n_in, n_tokens, pool, &act_stride);
  // 16 rows = one 64-byte line of y per token: threads never share a cache line of the output.
  Parallel(pool, w.n_out, 16, [&](int64_t b, int64_t e) { MatMulTiledRows(k, w, act, act_stride, y, n_tokens, b, e); });
}

}  // namespace seek
