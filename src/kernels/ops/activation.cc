#include "kernels/ops/activation.h"

#include "kernels/dispatch.h"

namespace seek {

namespace {
constexpr int64_t kParallelValues = int64_t(1) << 16;  // below this, one thread (~10 us with AVX2)
constexpr int64_t kGrain = 1024;                       // values per grain: 4 KB of each input
}  // namespace

void ApplySwiGLU(float* gate, const float* up, int64_t n, ThreadPool* pool) {
  const auto fn = ActiveKernels().swiglu;
  if (!pool || pool->size() < 2 || n < kParallelValues) return fn(gate, up, n);
  pool->ParallelFor(n, [&](int64_t begin, int64_t end, int) { fn(gate + begin, up + begin, end - begin); }, kGrain);
}

}  // namespace seek
