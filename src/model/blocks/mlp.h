// SwiGLU feed-forward (Shazeer 2020, arXiv:2002.05202): down(silu(gate(x)) * up(x)).
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "model/weights.h"

namespace seek {

// x: [n_tokens][n_embd] (normed input); gate, up: scratch [n_tokens][n_ff]; out: [n_tokens][n_embd].
void SwiGluMlp(const LayerWeights& l, const float* x, int32_t n_tokens, float* gate, float* up, float* out,
               ThreadPool* pool);

}  // namespace seek
