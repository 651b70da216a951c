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
  logits.clear();
}

void EmbedTokens(const ForwardPass& f) {
  const int64_t n_embd = f.config.n_embd;
  for (size_t t = 0; t < f.tokens.size(); ++t)
    EmbeddingRow(f.weights.token_embd, f.tokens[t], f.buf.x.data() + t * n_embd);
}

void OutputLogits(const ForwardPass& f) {
  const int64_t n_embd = f.config.n_embd, n_vocab = f.config.n_vocab;
  ForwardBuffers& b = f.buf;
  // Normalise the rows that want logits into consecutive rows of xn: [n_out][n_embd].
  int32_t n_out = 0, n_with = 0;
  const SeqSegment* only = nullptr;
  for (const SeqSegment& s : f.segments) {
    if (s.n_logits <= 0) continue;
    const float* rows = b.x.data() + int64_t(s.row0 + s.n_tokens - s.n_logits) * n_embd;
    RmsNormRows(rows, f.weights.output_norm, b.xn.data() + int64_t(n_out) * n_embd, s.n_logits,
                f.config.norm_eps);
    n_out += s.n_logits;
    ++n_with;
    only = &s;
  }
  if (n_out == 0) return;
  if (n_with == 1) {  // straight into the segment's buffer (a prefill with all logits: no copy)
    MatMul(f.weights.output, b.xn.data(), only->logits, n_out, f.pool);  // [n_logits][n_vocab]
    return;
  }
  // One matmul for all segments, then each segment's rows to its own buffer (rows do not depend on the
  // batch: see kernels/matmul/matmul.h).
  b.logits.resize(size_t(n_out) * size_t(n_vocab));
  MatMul(f.weights.output, b.xn.data(), b.logits.data(), n_out, f.pool);  // [n_out][n_vocab]
  int64_t row = 0;
  for (const SeqSegment& s : f.segments) {
    if (s.n_logits <= 0) continue;
    std::memcpy(s.logits, b.logits.data() + row * n_vocab, size_t(s.n_logits) * size_t(n_vocab) * sizeof(float));
    row += s.n_logits;
  }
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
  const int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim};
  for (const SeqSegment& s : f.segments) {
    float* q = b.q.data() + s.row0 * q_dim;  // [n_tokens][q_dim] of this sequence
    float* k = b.k.data() + s.row0 * kv_dim;
    for (int32_t t = 0; t < s.n_tokens; ++t) {
      ApplyRope(q + t * q_dim, c.n_head, c.head_dim, *s.rope, s.pos0 + t, c.rope.layout);
      ApplyRope(k + t * kv_dim, c.n_head_kv, c.head_dim, *s.rope, s.pos0 + t, c.rope.layout);
    }
    KvWrite(*s.kv, il, s.pos0, s.n_tokens, k, b.v.data() + s.row0 * kv_dim);
    GqaAttention(q, *s.kv, il, s.pos0, s.n_tokens, shape, b.attn.data() + s.row0 * q_dim, f.pool);
  }
  MatMul(l.wo, b.attn.data(), b.proj.data(), f.n_rows(), f.pool);  // [n_rows][n_embd]
  AddInPlace(b.x.data(), b.proj.data(), int64_t(f.n_rows()) * c.n_embd);
}

void SwiGluFeedForward(const ForwardPass& f, int32_t il) {
  const ModelConfig& c = f.config;
  ForwardBuffers& b = f.buf;
  const LayerWeights& l = f.weights.layers[size_t(il)];
  const int32_t n_tokens = f.n_rows();
  RmsNormRows(b.x.data(), l.ffn_norm, b.xn.data(), n_tokens, c.norm_eps);
  SwiGluMlp(l, b.xn.data(), n_tokens, b.gate.data(), b.up.data(), b.proj.data(), f.pool);
  AddInPlace(b.x.data(), b.proj.data(), int64_t(n_tokens) * c.n_embd);
}

}  // namespace seek
