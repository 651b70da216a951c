#include "kernels/ref/matmul.h"

#include <vector>

#include "core/error.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/ops.h"

namespace seek {

void MatMulRefRows(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, int64_t begin,
                   int64_t end) {
  thread_local std::vector<float> row;  // [n_in] the current weight row in fp32
  row.resize(size_t(w.n_in));
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t o = begin; o < end; ++o) {
    const float* wr;
    if (w.type == DType::kF32) {
      wr = reinterpret_cast<const float*>(base + o * w.row_bytes);
    } else {
      DequantizeRow(w.type, base + o * w.row_bytes, row.data(), w.n_in);
      wr = row.data();
    }
    for (int64_t t = 0; t < n_tokens; ++t) y[t * w.n_out + o] = DotF32(wr, x + t * w.n_in, w.n_in);
  }
}

void MatMulRef(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool) {
  SEEK_CHECK(CanDequantize(w.type) && w.layout == WeightLayout::kRows);
  if (n_tokens <= 0 || w.n_out <= 0) return;
  auto work = [&](int64_t begin, int64_t end, int) { MatMulRefRows(w, x, y, n_tokens, begin, end); };
  // Grain of 16 rows keeps chunk boundaries away from each other's cache lines in y.
  if (pool && pool->size() > 1) {
    pool->ParallelFor(w.n_out, work, 16);
  } else {
    work(0, w.n_out, 0);
  }
}

}  // namespace seek
