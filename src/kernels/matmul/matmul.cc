#include "kernels/matmul/matmul.h"

#include "core/error.h"
#include "kernels/dispatch.h"

namespace seek {

MatMulWeight AsMatMulWeight(const TensorView& w) {
  SEEK_CHECK(w.ne[2] == 1 && w.ne[3] == 1);
  return MatMulWeight{w.type, w.data, w.row_bytes(), w.ne[0], w.ne[1], w.layout};
}

void MatMul(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool) {
  ActiveKernels().matmul(w, x, y, n_tokens, pool);
}

void MatMulMany(std::span<const MatMulJob> jobs, ThreadPool* pool) { ActiveKernels().matmul_many(jobs, pool); }

}  // namespace seek
