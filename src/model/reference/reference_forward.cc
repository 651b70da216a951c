// The reference forward pass: the oracle every fast path is tested against. It follows llama2.c's run.c
// (Karpathy, github.com/karpathy/llama2.c): one token at a time, every buffer fp32, weights dequantized to
// fp32 before use, dot products accumulated in double. It shares nothing with the fast path beyond the weight
// views and the RoPE frequency formula (RopeInvFreq, checked on its own against hand-computed values in
// blocks_test): its norm, RoPE rotation, attention, softmax and matmul are its own plain loops, so a bug in
// model/blocks or kernels/ref shows up as a mismatch.
//
// One deviation from run.c, for speed only: the loops run layer by layer (each token in turn inside a layer)
// instead of token by token, so each layer's matrices are dequantized once per call rather than once per
// token, while holding only one layer in fp32. Causality is unchanged: token `pos` of layer `il` reads the
// K/V of positions <= pos of the same layer, all written before it.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/matmul/repack.h"
#include "kernels/quant/quant.h"
#include "model/blocks/rope.h"
#include "model/model.h"
#include "model/weights.h"

namespace seek {

namespace {

// A weight matrix dequantized to fp32: [n_out][n_in].
struct DenseMatrix {
  int64_t n_in = 0, n_out = 0;
  std::vector<float> w;
};

void Dequantize(const TensorView& t, DenseMatrix& m) {
  m.n_in = t.ne[0];
  m.n_out = t.ne[1];
  m.w.resize(size_t(m.n_in * m.n_out));
  for (int64_t o = 0; o < m.n_out; ++o) DequantizeWeightRow(t, o, m.w.data() + o * m.n_in);
}

double RefDot(const float* a, const float* b, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += double(a[i]) * b[i];
    s1 += double(a[i + 1]) * b[i + 1];
    s2 += double(a[i + 2]) * b[i + 2];
    s3 += double(a[i + 3]) * b[i + 3];
  }
  for (; i < n; ++i) s0 += double(a[i]) * b[i];
  return (s0 + s1) + (s2 + s3);
}

// out[o] = W[o,:] . in
void RefMatVec(const DenseMatrix& m, const float* in, float* out) {
  for (int64_t o = 0; o < m.n_out; ++o) out[o] = float(RefDot(m.w.data() + o * m.n_in, in, m.n_in));
}

// out = x / sqrt(mean(x^2) + eps) * w
void RefRmsNorm(const float* x, const TensorView& w, float* out, int64_t n, float eps) {
  const float* wf = static_cast<const float*>(w.data);  // bound as fp32
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const double scale = 1.0 / std::sqrt(ss / double(n) + double(eps));
  for (int64_t i = 0; i < n; ++i) out[i] = float(x[i] * scale * wf[i]);
}

void RefSoftmax(float* x, int64_t n) {
  double max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, double(x[i]));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[i]) - max);
  for (int64_t i = 0; i < n; ++i) x[i] = float(std::exp(double(x[i]) - max) / sum);
}

void RefAddBias(float* x, const TensorView& b) {
  if (!b.data) return;
  const float* bf = static_cast<const float*>(b.data);
  for (int64_t i = 0; i < b.ne[0]; ++i) x[i] += bf[i];
}

// Rotates the first n_rot dims of each of n_heads heads of x for position pos.
void RefRope(float* x, int32_t n_heads, int32_t head_dim, int32_t pos, const ModelConfig& c,
             const std::vector<float>& inv_freq, double mscale) {
  const int32_t half = c.rope.n_rot / 2;
  for (int32_t h = 0; h < n_heads; ++h) {
    float* hd = x + int64_t(h) * head_dim;
    for (int32_t i = 0; i < half; ++i) {
      const double angle = double(pos) * double(inv_freq[size_t(i)]);
      const double fcr = std::cos(angle) * mscale, fci = std::sin(angle) * mscale;
      // kNorm: the pair is (2i, 2i+1) as in run.c; kNeox: (i, i + n_rot/2) as HF's rotate_half.
      float& a = c.rope.layout == RopeLayout::kNorm ? hd[2 * i] : hd[i];
      float& b = c.rope.layout == RopeLayout::kNorm ? hd[2 * i + 1] : hd[i + half];
      const double v0 = a, v1 = b;
      a = float(v0 * fcr - v1 * fci);
      b = float(v0 * fci + v1 * fcr);
    }
  }
}

}  // namespace

std::vector<float> ReferenceForwardDeepSeek2(const Model& model, std::span<const int32_t> tokens);

std::vector<float> ReferenceForward(const Model& model, std::span<const int32_t> tokens) {
  const ModelConfig& c = model.config();
  if (c.arch == ModelArch::kDeepSeek2) {
    for (int32_t t : tokens)
      if (t < 0 || t >= c.n_vocab) Fail("ReferenceForward: token id %d out of range [0, %d)", t, c.n_vocab);
    return ReferenceForwardDeepSeek2(model, tokens);  // reference_deepseek2.cc
  }
  const Model::Weights& w = model.weights();
  const int32_t n = int32_t(tokens.size());
  for (int32_t t = 0; t < n; ++t) {
    if (tokens[size_t(t)] < 0 || tokens[size_t(t)] >= c.n_vocab) {
      Fail("ReferenceForward: token id %d out of range [0, %d)", tokens[size_t(t)], c.n_vocab);
    }
  }
  const int64_t dim = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), head_dim = c.head_dim;
  const int32_t kv_mul = c.n_head / c.n_head_kv;

  // Run state, as run.c's RunState (the residual stream is kept for every token: layer-major loops).
  std::vector<float> x(static_cast<size_t>(n * dim));      // [n][n_embd] residual stream of every token
  std::vector<float> xb(static_cast<size_t>(dim));         // [n_embd] normed input
  std::vector<float> q(static_cast<size_t>(q_dim));        // [n_head * head_dim]
  std::vector<float> k(static_cast<size_t>(kv_dim));       // [n_head_kv * head_dim]
  std::vector<float> v(static_cast<size_t>(kv_dim));       // [n_head_kv * head_dim]
  std::vector<float> att_out(static_cast<size_t>(q_dim));  // [n_head * head_dim]
  std::vector<float> xb2(static_cast<size_t>(dim));        // [n_embd]
  std::vector<float> hb(static_cast<size_t>(c.n_ff));      // [n_ff]
  std::vector<float> hb2(static_cast<size_t>(c.n_ff));     // [n_ff]
  std::vector<float> att(static_cast<size_t>(n));          // [n] scores of one head
  std::vector<float> key_cache(static_cast<size_t>(n * kv_dim));    // [n][kv_dim] of the current layer
  std::vector<float> value_cache(static_cast<size_t>(n * kv_dim));  // [n][kv_dim] of the current layer
  std::vector<float> logits(static_cast<size_t>(n) * c.n_vocab);    // [n][n_vocab]
  DenseMatrix wq, wk, wv, wo, w1, w3, w2;                           // one layer in fp32

  const std::vector<float> inv_freq =
      RopeInvFreq(c.rope, w.rope_freqs.data ? static_cast<const float*>(w.rope_freqs.data) : nullptr);
  const double mscale = RopeAttnFactor(c.rope);

  for (int32_t pos = 0; pos < n; ++pos) {
    const TensorView& emb = w.token_embd;
    DequantizeWeightRow(emb, tokens[size_t(pos)], x.data() + pos * dim);
  }

  for (int32_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[size_t(il)];
    Dequantize(l.wq, wq);
    Dequantize(l.wk, wk);
    Dequantize(l.wv, wv);
    Dequantize(l.wo, wo);
    Dequantize(l.ffn_gate, w1);
    Dequantize(l.ffn_up, w3);
    Dequantize(l.ffn_down, w2);

    for (int32_t pos = 0; pos < n; ++pos) {
      float* xp = x.data() + pos * dim;  // [n_embd] this token's residual stream
      RefRmsNorm(xp, l.attn_norm, xb.data(), dim, c.norm_eps);
      RefMatVec(wq, xb.data(), q.data());
      RefMatVec(wk, xb.data(), k.data());
      RefMatVec(wv, xb.data(), v.data());
      RefAddBias(q.data(), l.bq);
      RefAddBias(k.data(), l.bk);
      RefAddBias(v.data(), l.bv);
      RefRope(q.data(), c.n_head, c.head_dim, pos, c, inv_freq, mscale);
      RefRope(k.data(), c.n_head_kv, c.head_dim, pos, c, inv_freq, mscale);
      std::copy(k.begin(), k.end(), key_cache.begin() + pos * kv_dim);
      std::copy(v.begin(), v.end(), value_cache.begin() + pos * kv_dim);

      // Multi-head attention over positions [0, pos].
      for (int32_t h = 0; h < c.n_head; ++h) {
        const float* qh = q.data() + h * head_dim;
        const int64_t kv_off = int64_t(h / kv_mul) * head_dim;
        for (int32_t t = 0; t <= pos; ++t) {
          const double score = RefDot(qh, key_cache.data() + t * kv_dim + kv_off, head_dim);
          att[size_t(t)] = float(score / std::sqrt(double(head_dim)));
        }
        RefSoftmax(att.data(), pos + 1);
        float* oh = att_out.data() + h * head_dim;
        for (int64_t i = 0; i < head_dim; ++i) {
          double sum = 0;
          for (int32_t t = 0; t <= pos; ++t)
            sum += double(att[size_t(t)]) * value_cache[size_t(t * kv_dim + kv_off + i)];
          oh[i] = float(sum);
        }
      }
      RefMatVec(wo, att_out.data(), xb2.data());
      for (int64_t i = 0; i < dim; ++i) xp[i] += xb2[size_t(i)];

      // SwiGLU feed-forward.
      RefRmsNorm(xp, l.ffn_norm, xb.data(), dim, c.norm_eps);
      RefMatVec(w1, xb.data(), hb.data());
      RefMatVec(w3, xb.data(), hb2.data());
      for (int32_t i = 0; i < c.n_ff; ++i) {
        const double g = hb[size_t(i)];
        hb[size_t(i)] = float(g / (1.0 + std::exp(-g)) * hb2[size_t(i)]);
      }
      RefMatVec(w2, hb.data(), xb2.data());
      for (int64_t i = 0; i < dim; ++i) xp[i] += xb2[size_t(i)];
    }
  }

  // Final norm and classifier: one output row at a time (the vocabulary matrix can be large).
  std::vector<float> normed(static_cast<size_t>(n * dim));  // [n][n_embd]
  for (int32_t pos = 0; pos < n; ++pos)
    RefRmsNorm(x.data() + pos * dim, w.output_norm, normed.data() + pos * dim, dim, c.norm_eps);
  std::vector<float> row(static_cast<size_t>(dim));
  for (int64_t o = 0; o < c.n_vocab; ++o) {
    DequantizeWeightRow(w.output, o, row.data());
    for (int32_t pos = 0; pos < n; ++pos)
      logits[size_t(pos) * c.n_vocab + o] = float(RefDot(row.data(), normed.data() + pos * dim, dim));
  }
  return logits;
}

}  // namespace seek
