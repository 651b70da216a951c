#include "model/blocks/mlp.h"

#include "kernels/ops/activation.h"
#include "kernels/ref/matmul.h"

namespace seek {

void SwiGluMlp(const LayerWeights& l, const float* x, int32_t n_tokens, float* gate, float* up, float* out,
               ThreadPool* pool) {
  const int64_t n_ff = l.ffn_gate.ne[1];
  // gate and up read the same x: one dispatch, x quantized once.
  const MatMulJob jobs[] = {{AsMatMulWeight(l.ffn_gate), x, gate, n_tokens},  // [n_tokens][n_ff]
                            {AsMatMulWeight(l.ffn_up), x, up, n_tokens}};     // [n_tokens][n_ff]
  MatMulMany(jobs, pool);
  ApplySwiGLU(gate, up, n_tokens * n_ff, pool);
  MatMul(l.ffn_down, gate, out, n_tokens, pool);  // [n_tokens][n_embd]
}

}  // namespace seek
