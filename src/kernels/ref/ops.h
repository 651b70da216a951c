// Plain fp32 reference ops: the scalar twins every fast kernel is tested against, and the ops the first
// (scalar) forward pass uses directly. No SIMD, no threads; loops written for clarity.
#pragma once
#include <cmath>
#include <cstdint>

namespace seek {

// How RoPE pairs the dimensions of one head (only the first n_rot dims rotate; the rest pass through):
//  - kNorm: adjacent pairs (x[2i], x[2i+1]) rotate by angle pos * inv_freq[i]. GGML's "normal" mode, Meta's
//    original complex-number formulation, llama2.c's run.c. llama.cpp's converter permutes the Q/K rows of HF
//    llama checkpoints into this order.
//  - kNeox: halves (x[i], x[i + n_rot/2]) rotate by angle pos * inv_freq[i]. HF transformers' rotate_half,
//    GPT-NeoX, Qwen2 GGUF files.
enum class RopeLayout { kNorm, kNeox };

// sum_i a[i] * b[i] in fp32 with 8 interleaved partial sums (a fixed order, so results do not depend on
// threads or batch size; the compiler may vectorise the independent lanes).
float DotF32(const float* a, const float* b, int64_t n);

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i], i in [0, n). The sum of squares is accumulated in double.
void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps);

// In-place softmax over x[0..n): subtracts the max before exp, so large logits do not overflow.
void Softmax(float* x, int64_t n);

// x * sigmoid(x).
inline float Silu(float x) {
  return x / (1.0f + std::exp(-x));
}
// gate[i] = silu(gate[i]) * up[i], i in [0, n): the SwiGLU activation (Shazeer 2020, arXiv:2002.05202).
void SwiGLU(float* gate, const float* up, int64_t n);

// Rotates the first n_rot dims of one head in place. cos/sin hold n_rot/2 values for this position (already
// multiplied by any attention factor, as YaRN needs).
void Rope(float* head, int64_t n_rot, const float* cos, const float* sin, RopeLayout layout);

}  // namespace seek
