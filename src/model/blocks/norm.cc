#include "model/blocks/norm.h"

#include "kernels/ref/ops.h"
#include "model/weights.h"

namespace seek {

void RmsNormRows(const float* x, const TensorView& w, float* y, int32_t n_tokens, float eps) {
  const int64_t n = w.ne[0];
  const float* wf = F32Data(w);
  for (int32_t t = 0; t < n_tokens; ++t) RmsNorm(x + t * n, wf, y + t * n, n, eps);
}

}  // namespace seek
