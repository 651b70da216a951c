// RMSNorm (Zhang & Sennrich 2019, arXiv:1910.07467) over each row of a batch.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace seek {

// y[t] = rmsnorm(x[t]) * w for t in [0, n_tokens); x, y: [n_tokens][n]; w: fp32 view [n]. y may alias x.
void RmsNormRows(const float* x, const TensorView& w, float* y, int32_t n_tokens, float eps);

}  // namespace seek
