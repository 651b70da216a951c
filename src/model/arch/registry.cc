// The architecture registry and the pieces every architecture shares.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/ref/matmul.h"
#include "model/arch/arch.h"
#include "model/blocks/mlp.h"
#include "model/blocks/norm.h"

namespace seek {

ArchForwardFn FindArchForward(ModelArch arch) {
  switch (arch) {
    case ModelArch::kLlama:
      return &LlamaForward;
    case ModelArch::kQwen2:
      return &Qwen2Forward;
    case ModelArch::kDeepSeek2:
      return &DeepSeek2Forward;
  }
  Fail("no forward pass for architecture %s", ArchName(arch));
}

void ForwardBuffers::Allocate(const ModelConfig& c, int32_t n_tokens) {
  capacity = n_tokens;
  const size_t n = size_t(n_tokens);
  x.assign(n * size_t(c.n_embd), 0.0f);
  xn.assign(n * size_t(c.n_embd), 0.0f);
  q.assign(n * size_t(c.q_dim()), 0.0f);
  k.assign(n * size_t(c.kv_dim()), 0.0f);
  v.assign(n * size_t(c.kv_dim()), 0.0f);
  attn.assign(n * size_t(c.q_dim()), 0.0f);
  proj.assign(n * size_t(c.n_embd), 0.0f);
  int32_t n_ff = 0;
  for (int32_t il = 0; il < c.n_layer; ++il) n_ff = std::max(n_ff, c.layer(il).n_ff);
  gate.assign(n * size_t(n_ff), 0.0f);
  up.assign(n * size_t(n_ff), 0.0f);
}

void EmbedTokens(const ForwardPass& f) {
  const int64_t n_embd = f.config.n_embd;
  for (size_t t = 0; t < f.tokens.size(); ++t)
    EmbeddingRow(f.weights.token_embd, f.tokens[t], f.buf.x.data() + t * n_embd);
}

void OutputLogits(const ForwardPass& f) {
  if (f.n_logits <= 0) return;
  const int64_t n_embd = f.config.n_embd;
  const int32_t n_tokens = int32_t(f.tokens.size());
  const float* last = f.buf.x.data() + (n_tokens - f.n_logits) * n_embd;  // [n_logits][n_embd]
  RmsNormRows(last, f.weights.output_norm, f.buf.xn.data(), f.n_logits, f.config.norm_eps);
  MatMul(f.weights.output, f.buf.xn.data(), f.logits, f.n_logits, f.pool);  // [n_logits][n_vocab]
}

void AddInPlace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void AddBiasRows(float* x, const TensorView& b, int32_t n_tokens) {
  const int64_t n = b.ne[0];
  const float* bf = F32Data(b);
  for (int32_t t = 0; t < n_tokens; ++t) AddInPlace(x + t * n, bf, n);
}

void AttentionTail(const ForwardPass& f, int32_t il) {
  const ModelConfig& c = f.config;
  ForwardBuffers& b = f.buf;
  const LayerWeights& l = f.weights.layers[size_t(il)];
  const int32_t n_tokens = int32_t(f.tokens.size());
  for (int32_t t = 0; t < n_tokens; ++t) {
    ApplyRope(b.q.data() + int64_t(t) * c.q_dim(), c.n_head, c.head_dim, f.rope, f.pos0 + t, c.rope.layout);
    ApplyRope(b.k.data() + int64_t(t) * c.kv_dim(), c.n_head_kv, c.head_dim, f.rope, f.pos0 + t, c.rope.layout);
  }
  KvWrite(f.kv, il, f.pos0, n_tokens, b.k.data(), b.v.data());
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim};
  GqaAttention(b.q.data(), f.kv, il, f.pos0, n_tokens, shape, b.attn.data(), f.pool);
  MatMul(l.wo, b.attn.data(), b.proj.data(), n_tokens, f.pool);  // [n_tokens][n_embd]
  AddInPlace(b.x.data(), b.proj.data(), int64_t(n_tokens) * c.n_embd);
}

void SwiGluFeedForward(const ForwardPass& f, int32_t il) {
  const ModelConfig& c = f.config;
  ForwardBuffers& b = f.buf;
  const LayerWeights& l = f.weights.layers[size_t(il)];
  const int32_t n_tokens = int32_t(f.tokens.size());
  RmsNormRows(b.x.data(), l.ffn_norm, b.xn.data(), n_tokens, c.norm_eps);
  SwiGluMlp(l, b.xn.data(), n_tokens, b.gate.data(), b.up.data(), b.proj.data(), f.pool);
  AddInPlace(b.x.data(), b.proj.data(), int64_t(n_tokens) * c.n_embd);
}

}  // namespace seek
