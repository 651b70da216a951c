// Qwen2 (Yang et al. 2024, arXiv:2407.10671): the Llama graph with biases on the Q, K and V projections,
// RoPE in the NeoX (rotate_half) layout, usually tied embeddings in the small models.
//
//   x = token_embd[tokens]
//   for each layer:
//     h  = x + attn_output( GQA( RoPE(attn_q(rmsnorm(x)) + bq), RoPE(attn_k(...) + bk), attn_v(...) + bv ) )
//     x  = h + ffn_down( silu(ffn_gate(rmsnorm(h))) * ffn_up(rmsnorm(h)) )
//   logits = output(rmsnorm(x))
#include "kernels/ref/matmul.h"
#include "model/arch/arch.h"
#include "model/blocks/norm.h"

namespace seek {

void Qwen2Forward(const ForwardPass& f) {
  const ModelConfig& c = f.config;
  ForwardBuffers& b = f.buf;
  const int32_t n_tokens = f.n_rows();  // all sequences of the batch

  EmbedTokens(f);  // b.x: [n_tokens][n_embd]
  for (int32_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = f.weights.layers[size_t(il)];

    // Self-attention with biased projections.
    RmsNormRows(b.x.data(), l.attn_norm, b.xn.data(), n_tokens, c.norm_eps);
    // q [n_tokens][n_head * head_dim], k and v [n_tokens][n_head_kv * head_dim]: one dispatch, xn quantized once.
    const MatMulJob qkv[] = {{AsMatMulWeight(l.wq), b.xn.data(), b.q.data(), n_tokens},
                             {AsMatMulWeight(l.wk), b.xn.data(), b.k.data(), n_tokens},
                             {AsMatMulWeight(l.wv), b.xn.data(), b.v.data(), n_tokens}};
    MatMulMany(qkv, f.pool);
    AddBiasRows(b.q.data(), l.bq, n_tokens);
    AddBiasRows(b.k.data(), l.bk, n_tokens);
    AddBiasRows(b.v.data(), l.bv, n_tokens);
    AttentionTail(f, il);
    SwiGluFeedForward(f, il);
  }
  OutputLogits(f);
}

}  // namespace seek
