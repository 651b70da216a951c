#include "model/blocks/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "kernels/ref/ops.h"

namespace seek {

namespace {

// Llama 3.1 (HF _compute_llama3_parameters): wavelengths longer than original_ctx / low_freq_factor are
// interpolated by `factor`, shorter than original_ctx / high_freq_factor are kept, and the band between is a
// linear blend in original_ctx / wavelen.
float Llama3Scale(float inv_freq, const RopeConfig& r) {
  const double old_ctx = r.original_ctx;
  const double low_freq_wavelen = old_ctx / r.low_freq_factor;
  const double high_freq_wavelen = old_ctx / r.high_freq_factor;
  const double wavelen = 2.0 * std::numbers::pi / inv_freq;
  if (wavelen > low_freq_wavelen) return float(inv_freq / r.factor);
  if (wavelen < high_freq_wavelen) return inv_freq;
  const double smooth = (old_ctx / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  return float((1.0 - smooth) * inv_freq / r.factor + smooth * inv_freq);
}

// YaRN (HF _compute_yarn_parameters): the dimension whose wavelength completes `n_rotations` turns within the
// original context; dims below `low` keep their frequency (extrapolate), above `high` are interpolated by
// `factor`, with a linear ramp between.
double YarnCorrectionDim(double n_rotations, int32_t dim, double base, int32_t original_ctx) {
  return (dim * std::log(original_ctx / (n_rotations * 2.0 * std::numbers::pi))) / (2.0 * std::log(base));
}

}  // namespace

std::vector<float> RopeInvFreq(const RopeConfig& r, const float* freq_factors) {
  const int32_t half = r.n_rot / 2;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int32_t i = 0; i < half; ++i) {
    // As HF: 1 / base^(2i / dim) computed in fp32.
    inv_freq[size_t(i)] = 1.0f / std::pow(r.theta, float(2 * i) / float(r.n_rot));
  }
  switch (r.scaling) {
    case RopeScaling::kNone:
      break;
    case RopeScaling::kLinear:
      for (float& f : inv_freq) f /= r.factor;
      break;
    case RopeScaling::kLlama3:
      for (float& f : inv_freq) f = Llama3Scale(f, r);
      break;
    case RopeScaling::kYarn: {
      double low = std::floor(YarnCorrectionDim(r.beta_fast, r.n_rot, r.theta, r.original_ctx));
      double high = std::ceil(YarnCorrectionDim(r.beta_slow, r.n_rot, r.theta, r.original_ctx));
      low = std::max(low, 0.0);
      high = std::min(high, double(r.n_rot - 1));
      if (low == high) high += 0.001;  // avoid a zero-width ramp
      for (int32_t i = 0; i < half; ++i) {
        const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
        const double extrapolation_factor = 1.0 - ramp;
        const double extrapolated = inv_freq[size_t(i)];
        const double interpolated = extrapolated / r.factor;
        inv_freq[size_t(i)] =
            float(interpolated * (1.0 - extrapolation_factor) + extrapolated * extrapolation_factor);
      }
      break;
    }
  }
  if (freq_factors) {
    for (int32_t i = 0; i < half; ++i) inv_freq[size_t(i)] /= freq_factors[i];
  }
  return inv_freq;
}

float RopeAttnFactor(const RopeConfig& r) {
  if (r.scaling != RopeScaling::kYarn) return 1.0f;
  if (r.attn_factor > 0.0f) return r.attn_factor;
  // HF get_mscale(factor): 0.1 * ln(factor) + 1 for factor > 1.
  return r.factor <= 1.0f ? 1.0f : float(0.1 * std::log(double(r.factor)) + 1.0);
}

RopeTable::RopeTable(const RopeConfig& rope, const float* freq_factors, int32_t n_pos)
    : n_pos_(n_pos), n_rot_(rope.n_rot) {
  const std::vector<float> inv_freq = RopeInvFreq(rope, freq_factors);
  const double mscale = RopeAttnFactor(rope);
  const int32_t half = n_rot_ / 2;
  cos_.resize(size_t(n_pos) * size_t(half));
  sin_.resize(cos_.size());
  for (int32_t p = 0; p < n_pos; ++p) {
    for (int32_t i = 0; i < half; ++i) {
      const double angle = double(p) * double(inv_freq[size_t(i)]);
      cos_[size_t(p) * half + i] = float(std::cos(angle) * mscale);
      sin_[size_t(p) * half + i] = float(std::sin(angle) * mscale);
    }
  }
}

void ApplyRope(float* x, int32_t n_heads, int32_t head_dim, const RopeTable& table, int32_t pos,
               RopeLayout layout) {
  SEEK_CHECK(pos >= 0 && pos < table.n_pos());
  const float* c = table.cos(pos);
  const float* s = table.sin(pos);
  for (int32_t h = 0; h < n_heads; ++h) Rope(x + int64_t(h) * head_dim, table.n_rot(), c, s, layout);
}

}  // namespace seek
