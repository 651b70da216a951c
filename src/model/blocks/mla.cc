#include "model/blocks/mla.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/ref/matmul.h"
#include "kernels/ref/ops.h"
#include "model/blocks/norm.h"

namespace seek {

namespace {

void ParallelItems(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (pool && pool->size() > 1) {
    pool->ParallelFor(n, fn);
  } else {
    fn(0, n, 0);
  }
}

// dst[t][0..n) = src[t * src_stride + offset + 0..n) for t in [0, n_rows): gathers one head's slice.
void Gather(const float* src, int64_t src_stride, int64_t offset, int64_t n, int64_t n_rows, float* dst) {
  for (int64_t t = 0; t < n_rows; ++t) std::memcpy(dst + t * n, src + t * src_stride + offset, size_t(n) * 4);
}
void Scatter(const float* src, int64_t n, int64_t n_rows, float* dst, int64_t dst_stride, int64_t offset) {
  for (int64_t t = 0; t < n_rows; ++t) std::memcpy(dst + t * dst_stride + offset, src + t * n, size_t(n) * 4);
}

}  // namespace

MlaForm ChooseMlaForm(const ModelConfig& c, int64_t n, int64_t n_kv) {
  const double H = c.n_head, L = c.mla.kv_lora_rank, N = c.mla.qk_nope_head_dim, R = c.mla.qk_rope_head_dim,
               V = c.mla.v_head_dim;
  const double naive = double(n_kv) * L * H * (N + V) + double(n) * double(n_kv) * H * (N + R + V);
  const double absorbed = double(n) * H * L * (N + V) + double(n) * double(n_kv) * H * (2 * L + R);
  return absorbed < naive ? MlaForm::kAbsorbed : MlaForm::kNaive;
}

float MlaSoftmaxScale(const ModelConfig& c) {
  double scale = 1.0 / std::sqrt(double(c.mla.qk_head_dim()));
  if (c.rope.scaling == RopeScaling::kYarn && c.rope.factor > 1.0f && c.mla.yarn_log_mul > 0.0f) {
    const double m = 1.0 + double(c.mla.yarn_log_mul) * std::log(double(c.rope.factor));
    scale *= m * m;
  }
  return float(scale);
}

void MlaAttention(const ModelConfig& c, const LayerWeights& l, const RopeTable& rope, MlaCache& cache,
                  int32_t il_cache, int32_t pos0, int32_t n_tokens, const float* xn, float* out, MlaForm form,
                  ThreadPool* pool) {
  const int64_t H = c.n_head, L = c.mla.kv_lora_rank, N = c.mla.qk_nope_head_dim, R = c.mla.qk_rope_head_dim,
                V = c.mla.v_head_dim, QK = N + R, D = cache.dim();
  const int64_t n = n_tokens, n_kv = pos0 + n_tokens;
  SEEK_CHECK(pos0 >= 0 && n_kv <= cache.n_ctx && D == L + R);
  const float scale = MlaSoftmaxScale(c);

  // Queries: [n][H][N + R].
  std::vector<float> q(static_cast<size_t>(n * H * QK));
  if (c.mla.q_lora_rank > 0) {
    std::vector<float> qa(static_cast<size_t>(n * c.mla.q_lora_rank));  // [n][q_lora_rank]
    MatMul(l.wq_a, xn, qa.data(), n, pool);
    RmsNormRows(qa.data(), l.q_a_norm, qa.data(), n_tokens, c.norm_eps);
    MatMul(l.wq_b, qa.data(), q.data(), n, pool);
  } else {
    MatMul(l.wq, xn, q.data(), n, pool);
  }
  // Latent and shared RoPE key, straight into the cache: [c_kv (normed) ; RoPE(k_pe)].
  std::vector<float> kva(static_cast<size_t>(n * D));  // [n][L + R]
  MatMul(l.wkv_a_mqa, xn, kva.data(), n, pool);
  const float* kv_norm = F32Data(l.kv_a_norm);
  for (int64_t t = 0; t < n; ++t) {
    const int32_t pos = pos0 + int32_t(t);
    float* row = cache.at(il_cache, pos);
    RmsNorm(kva.data() + t * D, kv_norm, row, L, c.norm_eps);
    std::memcpy(row + L, kva.data() + t * D + L, size_t(R) * sizeof(float));
    Rope(row + L, R, rope.cos(pos), rope.sin(pos), RopeLayout::kNorm);
    for (int64_t h = 0; h < H; ++h)
      Rope(q.data() + (t * H + h) * QK + N, R, rope.cos(pos), rope.sin(pos), RopeLayout::kNorm);
  }
  if (form == MlaForm::kAuto) form = ChooseMlaForm(c, n, n_kv);

  std::vector<float> attn(static_cast<size_t>(n * H * V));  // [n][H][V] per-head outputs, before attn_output
  if (form == MlaForm::kNaive) {
    // Decompress K_nope and V of every position: [n_kv][H][N + V].
    std::vector<float> latent(static_cast<size_t>(n_kv * L));
    Gather(cache.at(il_cache, 0), D, 0, L, n_kv, latent.data());
    std::vector<float> kv(static_cast<size_t>(n_kv * H * (N + V)));
    MatMul(l.wkv_b, latent.data(), kv.data(), n_kv, pool);
    ParallelItems(pool, n * H, [&](int64_t begin, int64_t end, int) {
      std::vector<float> scores(static_cast<size_t>(n_kv));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t t = item / H, h = item % H, n_att = pos0 + t + 1;  // causal
        const float* qh = q.data() + (t * H + h) * QK;
        for (int64_t p = 0; p < n_att; ++p) {
          const float* kp = kv.data() + (p * H + h) * (N + V);
          scores[size_t(p)] =
              (DotF32(qh, kp, N) + DotF32(qh + N, cache.at(il_cache, int32_t(p)) + L, R)) * scale;
        }
        Softmax(scores.data(), n_att);
        float* oh = attn.data() + (t * H + h) * V;
        std::memset(oh, 0, size_t(V) * sizeof(float));
        for (int64_t p = 0; p < n_att; ++p) {
          const float* vp = kv.data() + (p * H + h) * (N + V) + N;
          const float a = scores[size_t(p)];
          for (int64_t i = 0; i < V; ++i) oh[i] += a * vp[i];
        }
      }
    });
  } else {
    // Absorb W_UK into the query: q_abs[t][h] = W_UK_h^T q_nope[t][h], [n][H][L].
    std::vector<float> q_abs(static_cast<size_t>(n * H * L)), tmp_in(size_t(n * std::max(N, L))),
        tmp_out(size_t(n * std::max(L, V)));
    for (int64_t h = 0; h < H; ++h) {
      Gather(q.data(), H * QK, h * QK, N, n, tmp_in.data());
      MatMul(Slice2D(l.wk_b, h), tmp_in.data(), tmp_out.data(), n, pool);  // [n][L]
      Scatter(tmp_out.data(), L, n, q_abs.data(), H * L, h * L);
    }
    std::vector<float> o_lat(static_cast<size_t>(n * H * L));  // [n][H][L] attention-weighted latents
    ParallelItems(pool, n * H, [&](int64_t begin, int64_t end, int) {
      std::vector<float> scores(static_cast<size_t>(n_kv));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t t = item / H, h = item % H, n_att = pos0 + t + 1;
        const float* qa = q_abs.data() + (t * H + h) * L;
        const float* qpe = q.data() + (t * H + h) * QK + N;
        for (int64_t p = 0; p < n_att; ++p) {
          const float* cp = cache.at(il_cache, int32_t(p));
          scores[size_t(p)] = (DotF32(qa, cp, L) + DotF32(qpe, cp + L, R)) * scale;
        }
        Softmax(scores.data(), n_att);
        float* oh = o_lat.data() + (t * H + h) * L;
        std::memset(oh, 0, size_t(L) * sizeof(float));
        for (int64_t p = 0; p < n_att; ++p) {
          const float* cp = cache.at(il_cache, int32_t(p));
          const float a = scores[size_t(p)];
          for (int64_t i = 0; i < L; ++i) oh[i] += a * cp[i];
        }
      }
    });
    // Expand through W_UV: attn[t][h] = W_UV_h o_lat[t][h], [n][H][V].
    for (int64_t h = 0; h < H; ++h) {
      Gather(o_lat.data(), H * L, h * L, L, n, tmp_in.data());
      MatMul(Slice2D(l.wv_b, h), tmp_in.data(), tmp_out.data(), n, pool);  // [n][V]
      Scatter(tmp_out.data(), V, n, attn.data(), H * V, h * V);
    }
  }
  MatMul(l.wo, attn.data(), out, n, pool);  // [n][n_embd]
}

}  // namespace seek
