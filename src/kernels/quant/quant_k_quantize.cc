// K-quant quantizers: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks; layouts in blocks.h).
//
// The approach follows GGML's reference quantizers (ggml-quants.c quantize_row_q{2,3,4,5,6}_K_ref with their
// make_qkx2_quants / make_qx_quants / make_q3_quants searches, llama.cpp PR #1684), rewritten here:
//  1. Each sub-block (16 or 32 elements) gets a float scale (and, for the affine types Q2_K/Q4_K/Q5_K, a
//     float min) from a small search: for a range of candidate inverse scales around nmax / range, round
//     every element to a level, then solve the weighted least-squares problem for the best scale (and min)
//     for those levels; keep the candidate with the smallest weighted error.
//  2. The sub-block scales (and mins) are themselves quantized to 4, 6 or 8 bits against a super-block fp16
//     scale d (and dmin) chosen from their maximum.
//  3. Every element is re-rounded against the *decoded* sub-block scale and min, so the stored levels are the
//     best ones for the values the dequantizer will actually use.
// Weights of the least-squares fit: Q4_K/Q5_K use rms(sub-block) + |x| (large values matter more, but small
// ones still count); Q2_K uses |x| with a mean-absolute-error criterion; Q3_K/Q6_K use x^2 (symmetric types).
//
// The output is not claimed bit-identical to GGML's (GGML itself differs between FMA and non-FMA builds, and
// gguf-py 0.17 has no K-quant quantizer to compare with); tests check the round-trip error against named
// budgets and decode our blocks with gguf-py's independent dequantizer.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant_impl.h"

namespace seek::quant {
namespace {

// Sub-blocks whose largest magnitude is below this are stored as zeros (GGML's GROUP_MAX_EPS).
constexpr float kGroupMaxEps = 1e-15f;

// Affine fit x ~= scale * q - min, q in [0, nmax], with min >= 0 meaning the sub-block reaches below zero.
// Candidate inverse scales are (nmax + rmin + rdelta * s) / (max - min) for s = 0..nstep. With use_mad the
// criterion is the weighted absolute error, else the weighted squared error. Levels go to q[0..n).
// Returns the scale; *min_out receives the (non-negative) min.
float FitAffine(const float* x, const float* w, int n, int nmax, float rmin, float rdelta, int nstep,
                bool use_mad, uint8_t* q, float* min_out) {
  float lo = x[0], hi = x[0];
  double sum_w = 0, sum_wx = 0, sum_wx2 = 0;
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    sum_w += w[i];
    sum_wx += static_cast<double>(w[i]) * x[i];
    sum_wx2 += static_cast<double>(w[i]) * x[i] * x[i];
  }
  lo = std::min(lo, 0.0f);  // the min offset only ever shifts down: a sub-block of positives uses min 0
  if (hi == lo) {
    std::fill(q, q + n, 0);
    *min_out = -lo;
    return 0.0f;
  }
  // Rounds every element at inverse scale iscale into levels and returns the weighted sums of l, l^2, x l
  // (one pass, so the candidate loop below is cheap).
  struct Sums {
    double l = 0, l2 = 0, xl = 0;
  };
  auto round_levels = [&](float iscale, uint8_t* levels) {
    // Eight independent fp32 lanes (n is 16 or 32) so the compiler can vectorize the loop without
    // reassociating a single running sum; the lanes are added in double at the end.
    float acc_l[8] = {}, acc_l2[8] = {}, acc_xl[8] = {};
    for (int i0 = 0; i0 < n; i0 += 8) {
      for (int k = 0; k < 8; ++k) {
        const int i = i0 + k;
        const int l = std::clamp(NearestInt(iscale * (x[i] - lo)), 0, nmax);
        levels[i] = static_cast<uint8_t>(l);
        const float wl = w[i] * static_cast<float>(l);
        acc_l[k] += wl;
        acc_l2[k] += wl * static_cast<float>(l);
        acc_xl[k] += wl * x[i];
      }
    }
    Sums s;
    for (int k = 0; k < 8; ++k) {
      s.l += acc_l[k];
      s.l2 += acc_l2[k];
      s.xl += acc_xl[k];
    }
    return s;
  };
  // Weighted error of x ~= scale * l + offset: absolute (use_mad) needs a pass; squared follows from the
  // sums, sum w (s l + o - x)^2 = s^2 Sll + 2 s o Sl + o^2 Sw - 2 s Sxl - 2 o Sx + Sxx (in double: no
  // cancellation trouble at these sizes).
  auto error_of = [&](float scale, float offset, const uint8_t* levels, const Sums& s) {
    if (use_mad) {
      double err = 0;
      for (int i = 0; i < n; ++i) err += w[i] * std::fabs(scale * levels[i] + offset - x[i]);
      return err;
    }
    const double sc = scale, of = offset;
    return sc * sc * s.l2 + 2 * sc * of * s.l + of * of * sum_w - 2 * sc * s.xl - 2 * of * sum_wx + sum_wx2;
  };

  // Start from the plain min/max mapping.
  float best_scale = (hi - lo) / nmax, best_offset = lo;
  double best_err = error_of(best_scale, best_offset, q, round_levels(nmax / (hi - lo), q));

  uint8_t cand[32];
  for (int step = 0; step <= nstep; ++step) {
    const Sums s = round_levels((rmin + rdelta * step + nmax) / (hi - lo), cand);
    // Weighted least squares for (scale, offset) given the levels: minimise sum w (scale * l + offset - x)^2.
    const double det = sum_w * s.l2 - s.l * s.l;
    if (det <= 0) continue;
    float scale = static_cast<float>((sum_w * s.xl - sum_wx * s.l) / det);
    float offset = static_cast<float>((s.l2 * sum_wx - s.l * s.xl) / det);
    if (offset > 0.0f) {  // a positive offset is not representable: refit the scale alone with offset 0
      offset = 0.0f;
      scale = static_cast<float>(s.xl / s.l2);
    }
    const double err = error_of(scale, offset, cand, s);
    if (err < best_err) {
      std::copy(cand, cand + n, q);
      best_err = err;
      best_scale = scale;
      best_offset = offset;
    }
  }
  *min_out = -best_offset;
  return best_scale;
}

// Symmetric fit x ~= scale * q, q in [-nmax, nmax - 1], weights x^2 (errors on large values dominate).
// Candidates: inverse scales -(nmax + 0.1 s) / max for s in -9..9, where max is the signed value of largest
// magnitude (so it maps to -nmax, the level with no positive twin). Returns the scale, levels to q as q +
// nmax.
float FitSymmetric(const float* x, int n, int nmax, uint8_t* q) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::fill(q, q + n, static_cast<uint8_t>(nmax));
    return 0.0f;
  }
  float best_scale = 0.0f, best_score = -1.0f;  // score = sumlx^2 / suml2 (error reduction), larger is better
  for (int s = -9; s <= 9; ++s) {
    const float iscale = -(nmax + 0.1f * s) / max;
    float sum_lx = 0.0f, sum_l2 = 0.0f;
    int levels[32];
    for (int i = 0; i < n; ++i) {
      levels[i] = std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      sum_lx += w * x[i] * levels[i];
      sum_l2 += w * levels[i] * levels[i];
    }
    if (sum_l2 <= 0.0f) continue;
    const float score = sum_lx * sum_lx / sum_l2;
    if (score > best_score) {
      best_score = score;
      best_scale = sum_lx / sum_l2;
      for (int i = 0; i < n; ++i) q[i] = static_cast<uint8_t>(levels[i] + nmax);
    }
  }
  return best_scale;
}

// Inverse of UnpackScaleMinK4 (quant_k.cc): stores 6-bit scale and min of sub-block j (0..7) in 12 bytes.
// The bytes must start zeroed.
void PackScaleMinK4(int j, int scale, int min, uint8_t* p) {
  if (j < 4) {
    p[j] |= static_cast<uint8_t>(scale);
    p[j + 4] |= static_cast<uint8_t>(min);
  } else {
    p[j + 4] = static_cast<uint8_t>((scale & 0x0f) | ((min & 0x0f) << 4));
    p[j - 4] |= static_cast<uint8_t>((scale >> 4) << 6);
    p[j] |= static_cast<uint8_t>((min >> 4) << 6);
  }
}

void UnpackScaleMinK4(int j, const uint8_t* p, int* scale, int* min) {
  if (j < 4) {
    *scale = p[j] & 63;
    *min = p[j + 4] & 63;
  } else {
    *scale = (p[j + 4] & 0x0f) | ((p[j - 4] >> 6) << 4);
    *min = (p[j + 4] >> 4) | ((p[j] >> 6) << 4);
  }
}

// Shared body of Q4_K and Q5_K: 8 sub-blocks of 32, levels 0..nmax, 6-bit scales and mins. Fills d, dmin,
// scales and the final levels L[256].
void QuantizeAffineK(const float* x, int nmax, float rmin, int nstep, uint16_t* d_out, uint16_t* dmin_out,
                     uint8_t* packed, uint8_t* L) {
  float scales[8], mins[8], means[8], weights[32];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0.0f, sum_x = 0.0f;
    for (int l = 0; l < 32; ++l) {
      sum_x2 += xs[l] * xs[l];
      sum_x += xs[l];
    }
    means[j] = sum_x / 32;
    const float rms = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = rms + std::fabs(xs[l]);
    scales[j] = FitAffine(xs, weights, 32, nmax, rmin, 0.1f, nstep, false, L + 32 * j, &mins[j]);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  // The super-block scales are rounded to fp16 first and the 6-bit indices chosen against the rounded values
  // (GGML picks them against the unrounded ones); this matters when d or dmin is an fp16 subnormal.
  *d_out = F32ToFP16(max_scale / 63.0f);
  *dmin_out = F32ToFP16(max_min / 63.0f);
  const float d = FP16ToF32(*d_out), dmin = FP16ToF32(*dmin_out);
  std::memset(packed, 0, kKScaleSize);
  for (int j = 0; j < 8; ++j) {
    const int ls = d > 0.0f ? std::min(63, NearestInt(scales[j] / d)) : 0;
    // A sub-block whose scale rounds to 0 decodes to the constant -dmin * m: make that its mean (or 0).
    const float min = ls > 0 ? mins[j] : std::max(0.0f, -means[j]);
    const int lm = dmin > 0.0f ? std::min(63, NearestInt(min / dmin)) : 0;
    PackScaleMinK4(j, ls, lm, packed);
  }
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    UnpackScaleMinK4(j, packed, &sc, &m);
    const float ds = d * sc;
    if (ds == 0.0f) continue;  // keep the search's levels (they all decode to -dm anyway)
    const float dm = dmin * m;
    for (int l = 0; l < 32; ++l)
      L[32 * j + l] = static_cast<uint8_t>(std::clamp(NearestInt((x[32 * j + l] + dm) / ds), 0, nmax));
  }
}

}  // namespace

void QuantQ4_K(const float* x, void* block) {
  auto* b = static_cast<BlockQ4_K*>(block);
  uint8_t L[kQK_K];
  QuantizeAffineK(x, 15, -1.0f, 20, &b->d, &b->dmin, b->scales, L);
  for (int p = 0; p < kQK_K / 64; ++p)
    for (int l = 0; l < 32; ++l)
      b->qs[32 * p + l] = static_cast<uint8_t>(L[64 * p + l] | (L[64 * p + 32 + l] << 4));
}

void QuantQ5_K(const float* x, void* block) {
  auto* b = static_cast<BlockQ5_K*>(block);
  uint8_t L[kQK_K];
  QuantizeAffineK(x, 31, -0.5f, 15, &b->d, &b->dmin, b->scales, L);
  std::memset(b->qh, 0, sizeof(b->qh));
  for (int p = 0; p < kQK_K / 64; ++p) {
    for (int l = 0; l < 32; ++l) {
      const int lo = L[64 * p + l], hi = L[64 * p + 32 + l];
      b->qs[32 * p + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      b->qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * p)) | ((hi >> 4) << (2 * p + 1)));
    }
  }
}

void QuantQ6_K(const float* x, void* block) {
  auto* b = static_cast<BlockQ6_K*>(block);
  uint8_t L[kQK_K];
  float scales[16];
  float max_abs = 0.0f, max_scale = 0.0f;
  for (int j = 0; j < 16; ++j) {
    scales[j] = FitSymmetric(x + 16 * j, 16, 32, L + 16 * j);
    if (std::fabs(scales[j]) > max_abs) {
      max_abs = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  if (max_abs < kGroupMaxEps) {
    std::memset(b, 0, sizeof(*b));
    return;
  }
  // The sub-block scale of largest magnitude maps to -128 (int8's extra negative level); the int8 scales are
  // chosen against the fp16-rounded d.
  b->d = F32ToFP16(max_scale / -128.0f);
  const float d = FP16ToF32(b->d);
  if (d == 0.0f) {  // below fp16's range: zeros are the best this format can do
    std::memset(b, 0, sizeof(*b));
    return;
  }
  for (int j = 0; j < 16; ++j) {
    b->scales[j] = static_cast<int8_t>(std::clamp(NearestInt(scales[j] / d), -128, 127));
    const float ds = d * b->scales[j];
    if (ds == 0.0f) continue;
    for (int l = 0; l < 16; ++l)
      L[16 * j + l] = static_cast<uint8_t>(std::clamp(NearestInt(x[16 * j + l] / ds), -32, 31) + 32);
  }
  // Element 128h + 32k + l: low nibble in ql[64h + l + 32 (k & 1)] (high nibble when k >= 2), top 2 bits in
  // qh[32h + l] at shift 2k.
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* e = L + 128 * h + l;
      b->ql[64 * h + l] = static_cast<uint8_t>((e[0] & 0x0f) | ((e[64] & 0x0f) << 4));
      b->ql[64 * h + 32 + l] = static_cast<uint8_t>((e[32] & 0x0f) | ((e[96] & 0x0f) << 4));
      b->qh[32 * h + l] =
          static_cast<uint8_t>((e[0] >> 4) | ((e[32] >> 4) << 2) | ((e[64] >> 4) << 4) | ((e[96] >> 4) << 6));
    }
  }
}

void QuantQ2_K(const float* x, void* block) {
  auto* b = static_cast<BlockQ2_K*>(block);
  uint8_t L[kQK_K];
  float scales[16], mins[16], weights[16];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 16; ++j) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = FitAffine(x + 16 * j, weights, 16, 3, -0.5f, 0.1f, 15, true, L + 16 * j, &mins[j]);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  // 4-bit sub-block scales (low nibble) and mins (high nibble), chosen against the fp16-rounded d and dmin.
  b->d = F32ToFP16(max_scale / 15.0f);
  b->dmin = F32ToFP16(max_min / 15.0f);
  const float d = FP16ToF32(b->d), dmin = FP16ToF32(b->dmin);
  for (int j = 0; j < 16; ++j) {
    const int ls = d > 0.0f ? std::min(15, NearestInt(scales[j] / d)) : 0;
    const int lm = dmin > 0.0f ? std::min(15, NearestInt(mins[j] / dmin)) : 0;
    b->scales[j] = static_cast<uint8_t>(ls | (lm << 4));
  }
  for (int j = 0; j < 16; ++j) {
    const float ds = d * (b->scales[j] & 0x0f);
    if (ds == 0.0f) continue;
    const float dm = dmin * (b->scales[j] >> 4);
    for (int l = 0; l < 16; ++l)
      L[16 * j + l] = static_cast<uint8_t>(std::clamp(NearestInt((x[16 * j + l] + dm) / ds), 0, 3));
  }
  // Element 128h + 32k + l is at bit shift 2k of qs[32h + l].
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* e = L + 128 * h + l;
      b->qs[32 * h + l] = static_cast<uint8_t>(e[0] | (e[32] << 2) | (e[64] << 4) | (e[96] << 6));
    }
  }
}

void QuantQ3_K(const float* x, void* block) {
  auto* b = static_cast<BlockQ3_K*>(block);
  uint8_t L[kQK_K];
  float scales[16];
  float max_abs = 0.0f, max_scale = 0.0f;
  for (int j = 0; j < 16; ++j) {
    scales[j] = FitSymmetric(x + 16 * j, 16, 4, L + 16 * j);
    if (std::fabs(scales[j]) > max_abs) {
      max_abs = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  std::memset(b, 0, sizeof(*b));
  if (max_abs < kGroupMaxEps) return;
  // Signed 6-bit sub-block scales (stored + 32), chosen against the fp16-rounded d; the largest magnitude
  // maps to -32.
  b->d = F32ToFP16(max_scale / -32.0f);
  const float d = FP16ToF32(b->d);
  if (d == 0.0f) {
    std::memset(b, 0, sizeof(*b));
    return;
  }
  int sc[16];
  for (int j = 0; j < 16; ++j) {
    sc[j] = std::clamp(NearestInt(scales[j] / d), -32, 31);
    const int v = sc[j] + 32;
    if (j < 8) {
      b->scales[j] = static_cast<uint8_t>(v & 0x0f);
    } else {
      b->scales[j - 8] |= static_cast<uint8_t>((v & 0x0f) << 4);
    }
    b->scales[8 + j % 4] |= static_cast<uint8_t>((v >> 4) << (2 * (j / 4)));
  }
  for (int j = 0; j < 16; ++j) {
    const float ds = d * sc[j];
    if (ds == 0.0f) continue;
    for (int l = 0; l < 16; ++l)
      L[16 * j + l] = static_cast<uint8_t>(std::clamp(NearestInt(x[16 * j + l] / ds), -4, 3) + 4);
  }
  // Level q + 4 in 0..7: bit 2 goes to hmask (set = no -4 offset), the low 2 bits to qs as in Q2_K.
  for (int e = 0; e < kQK_K; ++e) {
    if (L[e] > 3) {
      b->hmask[e % 32] |= static_cast<uint8_t>(1 << (e / 32));
      L[e] -= 4;
    }
  }
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* e = L + 128 * h + l;
      b->qs[32 * h + l] = static_cast<uint8_t>(e[0] | (e[32] << 2) | (e[64] << 4) | (e[96] << 6));
    }
  }
}

}  // namespace seek::quant
