// Legacy 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
//
// Dequantizers follow GGML's dequantize_row_* (ggml-quants.c). Every product here is exact in fp32 (a 5-bit
// or 8-bit integer times an fp16 scale), so the only rounding is the "+ m" of Q4_1/Q5_1, and results are
// bit-identical to GGML and gguf-py whatever the evaluation order or FMA use.
//
// Quantizers follow GGML's quantize_row_*_ref round-to-nearest semantics, in the exact arithmetic that
// gguf-py 0.17 (gguf/quants.py) uses, so bytes match it exactly, except that Q4_0 adds a scale search:
//  - Q4_0 / Q5_0: round-to-nearest (RTN) is q = trunc(fp32(x * id + 8.5)) with the product and sum in double.
//    GGML computes (int8_t)(x * id + 8.5f), whose result depends on whether the compiler fuses an FMA; gguf-py
//    picks the FMA-like rounding (see its "FIXME: Q4_0's reference rounding is cursed"), and so do we. Q5_0 is
//    plain RTN. For Q4_0, RTN is the first candidate of FitSymmetricBlock below, which keeps it unless another
//    scale gives a strictly smaller weighted error (then the bytes differ from GGML's).
//  - Q4_1 / Q5_1: q = trunc((x - min) * id + 0.5f), each step rounded to fp32 (no FMA).
//  - Q8_0 / Q8_1: q = roundf(x * id) (half away from zero).
// The scale's reciprocal id is computed from the unrounded fp32 d, as GGML does.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant_impl.h"

namespace seek::quant {
namespace {

// Index and value of the first element with the largest magnitude (GGML keeps the sign: d = max / -8).
float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

float AbsMax(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

void MinMax(const float* x, int n, float* min, float* max) {
  *min = x[0];
  *max = x[0];
  for (int j = 1; j < n; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

// trunc(fp32(x * id + offset)) clamped to [0, qmax]; product and sum in double (see file comment).
int TruncOffset(float x, float id, double offset, int qmax) {
  const float t = static_cast<float>(static_cast<double>(x) * static_cast<double>(id) + offset);
  return std::clamp(static_cast<int>(std::trunc(t)), 0, qmax);
}

// trunc((x - min) * id + 0.5f) clamped to [0, qmax], every step rounded to fp32.
int TruncAsym(float x, float min, float id, int qmax) {
  const float t = AddF32(MulF32(SubF32(x, min), id), 0.5f);
  return std::clamp(static_cast<int>(std::trunc(t)), 0, qmax);
}

// Q4_0 scale search (written for any symmetric 32-element type): x ~= d * (q - nmax), q in [0, 2 nmax), d stored as fp16. Candidate 0 is GGML's
// round-to-nearest (RTN: the element of largest magnitude maps to -nmax, the rest are rounded against it).
// 21 more candidates try the inverse scales -(nmax + 0.1 s) / max for s = -10..10; each takes its rounded
// levels, the weighted least-squares scale for them (d = sum(w x l) / sum(w l l)), rounds d to fp16, and
// re-rounds the levels against that decoded d. The block keeps the candidate with the smallest weighted squared
// error sum w (x - d (q - nmax))^2 of the decoded values; ties keep RTN, so the result is never worse than
// GGML's reference by that measure and equals it byte for byte when nothing beats it.
// Weights w = sqrt(mean_block(x^2) + x^2): large weights count more, small ones still count. This is
// llama.cpp's weighting for Q4_0 with an importance matrix (quantize_row_q4_0_impl: imatrix * sqrt(sigma2 +
// x^2), then make_qx_quants), without the importance matrix and with the block's mean instead of the row's.
// The weighting matters: on SmolLM2-135M, uniform weights (plain MSE) cut the weights' RMSE by 12% but made
// the model's KL divergence worse than RTN (Q4_0 +0.5%, Q4_K_M's Q5_0 fallbacks +9%), and w = x^2 was worse
// still (+13%); this weighting gives -7% KL for Q4_0 (docs/BENCHMARKS.md "Quantization quality"). Q5_0 does
// not use it: with this weighting its effect on the K mixes' Q5_0 fallbacks was mixed (Q4_K_S -1%, Q4_K_M
// +8% KL against RTN), so Q5_0 stays RTN until a better criterion is found.
// Relative RMSE on N(0, 1) / Student-t(3) rows: see tests/kernels/quant_test.cc. Costs ~22 passes over the
// block instead of one. Returns the fp16 bits of d.
uint16_t FitSymmetricBlock(const float* x, int nmax, uint8_t* q) {
  constexpr int kN = 32;
  const float max = SignedAbsMax(x, kN);
  const float d0 = max / static_cast<float>(-nmax);
  const float id0 = d0 != 0.0f ? 1.0f / d0 : 0.0f;
  for (int j = 0; j < kN; ++j) q[j] = static_cast<uint8_t>(TruncOffset(x[j], id0, nmax + 0.5, 2 * nmax - 1));
  uint16_t best_d = F32ToFP16(d0);
  if (max == 0.0f) return best_d;
  double w[kN];  // see the comment above: sqrt(mean(x^2) + x^2)
  double mean_x2 = 0;
  for (int j = 0; j < kN; ++j) mean_x2 += static_cast<double>(x[j]) * x[j];
  mean_x2 /= kN;
  for (int j = 0; j < kN; ++j) w[j] = std::sqrt(mean_x2 + static_cast<double>(x[j]) * x[j]);
  auto error_of = [&](float d, const uint8_t* levels) {
    double err = 0;
    for (int j = 0; j < kN; ++j) {
      const double r = static_cast<double>(x[j]) - static_cast<double>(d) * (levels[j] - nmax);
      err += w[j] * r * r;
    }
    return err;
  };
  double best_err = error_of(FP16ToF32(best_d), q);
  uint8_t cand[kN];
  for (int s = -10; s <= 10; ++s) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(s)) / max;
    double sum_xl = 0, sum_ll = 0;
    for (int j = 0; j < kN; ++j) {
      const int l = std::clamp(NearestInt(iscale * x[j]), -nmax, nmax - 1);
      sum_xl += w[j] * static_cast<double>(x[j]) * l;
      sum_ll += w[j] * static_cast<double>(l) * l;
    }
    if (sum_ll == 0) continue;
    const uint16_t dh = F32ToFP16(static_cast<float>(sum_xl / sum_ll));
    const float d = FP16ToF32(dh);
    if (!(std::fabs(d) > 0.0f) || !std::isfinite(d)) continue;
    const float id = 1.0f / d;
    for (int j = 0; j < kN; ++j) {
      const float v = std::clamp(x[j] * id, -2.0f * nmax, 2.0f * nmax);  // keeps NearestInt in range
      cand[j] = static_cast<uint8_t>(std::clamp(NearestInt(v), -nmax, nmax - 1) + nmax);
    }
    const double err = error_of(d, cand);
    if (err < best_err) {
      best_err = err;
      best_d = dh;
      std::memcpy(q, cand, kN);
    }
  }
  return best_d;
}

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // GGUF is little-endian, as is every host seek supports
  return v;
}

}  // namespace

// ---- Dequantizers --------------------------------------------------------------------------------------

void DequantQ4_0(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ4_0*>(block);
  const float d = FP16ToF32(b->d);
  for (int j = 0; j < kQK4_0 / 2; ++j) {
    y[j] = static_cast<float>((b->qs[j] & 0x0f) - 8) * d;
    y[j + kQK4_0 / 2] = static_cast<float>((b->qs[j] >> 4) - 8) * d;
  }
}

void DequantQ4_1(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ4_1*>(block);
  const float d = FP16ToF32(b->d), m = FP16ToF32(b->m);
  for (int j = 0; j < kQK4_1 / 2; ++j) {
    y[j] = static_cast<float>(b->qs[j] & 0x0f) * d + m;
    y[j + kQK4_1 / 2] = static_cast<float>(b->qs[j] >> 4) * d + m;
  }
}

void DequantQ5_0(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ5_0*>(block);
  const float d = FP16ToF32(b->d);
  const uint32_t qh = LoadU32(b->qh);
  for (int j = 0; j < kQK5_0 / 2; ++j) {
    const int h0 = ((qh >> j) & 1) << 4, h1 = ((qh >> (j + 16)) & 1) << 4;
    y[j] = static_cast<float>(((b->qs[j] & 0x0f) | h0) - 16) * d;
    y[j + kQK5_0 / 2] = static_cast<float>(((b->qs[j] >> 4) | h1) - 16) * d;
  }
}

void DequantQ5_1(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ5_1*>(block);
  const float d = FP16ToF32(b->d), m = FP16ToF32(b->m);
  const uint32_t qh = LoadU32(b->qh);
  for (int j = 0; j < kQK5_1 / 2; ++j) {
    const int h0 = ((qh >> j) & 1) << 4, h1 = ((qh >> (j + 16)) & 1) << 4;
    y[j] = static_cast<float>((b->qs[j] & 0x0f) | h0) * d + m;
    y[j + kQK5_1 / 2] = static_cast<float>((b->qs[j] >> 4) | h1) * d + m;
  }
}

void DequantQ8_0(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ8_0*>(block);
  const float d = FP16ToF32(b->d);
  for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(b->qs[j]) * d;
}

// GGML has no dequantize_row_q8_1 (Q8_1 is only a dot-product operand); the meaning is x = d * q.
void DequantQ8_1(const void* block, float* y) {
  const auto* b = static_cast<const BlockQ8_1*>(block);
  const float d = FP16ToF32(b->d);
  for (int j = 0; j < kQK8_1; ++j) y[j] = static_cast<float>(b->qs[j]) * d;
}

// ---- Quantizers ----------------------------------------------------------------------------------------

void QuantQ4_0(const float* x, void* block) {
  auto* b = static_cast<BlockQ4_0*>(block);
  uint8_t q[kQK4_0];
  b->d = FitSymmetricBlock(x, 8, q);
  for (int j = 0; j < kQK4_0 / 2; ++j) b->qs[j] = static_cast<uint8_t>(q[j] | (q[j + kQK4_0 / 2] << 4));
}

void QuantQ4_1(const float* x, void* block) {
  auto* b = static_cast<BlockQ4_1*>(block);
  float min, max;
  MinMax(x, kQK4_1, &min, &max);
  const float d = (max - min) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b->d = F32ToFP16(d);
  b->m = F32ToFP16(min);
  for (int j = 0; j < kQK4_1 / 2; ++j) {
    const int q0 = TruncAsym(x[j], min, id, 15), q1 = TruncAsym(x[j + kQK4_1 / 2], min, id, 15);
    b->qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
  }
}

void QuantQ5_0(const float* x, void* block) {
  auto* b = static_cast<BlockQ5_0*>(block);
  const float d = SignedAbsMax(x, kQK5_0) / -16.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b->d = F32ToFP16(d);
  uint32_t qh = 0;
  for (int j = 0; j < kQK5_0 / 2; ++j) {
    const int q0 = TruncOffset(x[j], id, 16.5, 31), q1 = TruncOffset(x[j + kQK5_0 / 2], id, 16.5, 31);
    b->qs[j] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
    qh |= static_cast<uint32_t>(q0 >> 4) << j;
    qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
  }
  std::memcpy(b->qh, &qh, 4);
}

void QuantQ5_1(const float* x, void* block) {
  auto* b = static_cast<BlockQ5_1*>(block);
  float min, max;
  MinMax(x, kQK5_1, &min, &max);
  const float d = (max - min) / 31.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b->d = F32ToFP16(d);
  b->m = F32ToFP16(min);
  uint32_t qh = 0;
  for (int j = 0; j < kQK5_1 / 2; ++j) {
    const int q0 = TruncAsym(x[j], min, id, 31), q1 = TruncAsym(x[j + kQK5_1 / 2], min, id, 31);
    b->qs[j] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
    qh |= static_cast<uint32_t>(q0 >> 4) << j;
    qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
  }
  std::memcpy(b->qh, &qh, 4);
}

void QuantQ8_0(const float* x, void* block) {
  auto* b = static_cast<BlockQ8_0*>(block);
  const float d = AbsMax(x, kQK8_0) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b->d = F32ToFP16(d);
  for (int j = 0; j < kQK8_0; ++j) b->qs[j] = static_cast<int8_t>(std::round(x[j] * id));
}

// As GGML's quantize_row_q8_1_ref: Q8_0's rounding plus s = fp16(d * sum(q)).
void QuantQ8_1(const float* x, void* block) {
  auto* b = static_cast<BlockQ8_1*>(block);
  const float d = AbsMax(x, kQK8_1) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b->d = F32ToFP16(d);
  int sum = 0;
  for (int j = 0; j < kQK8_1; ++j) {
    b->qs[j] = static_cast<int8_t>(std::round(x[j] * id));
    sum += b->qs[j];
  }
  b->s = F32ToFP16(static_cast<float>(sum) * d);
}

}  // namespace seek::quant
