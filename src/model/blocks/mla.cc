#include "model/blocks/mla.h"

#include <algorithm>
#include <cmath>
#include <vector>
#include <cstring>

#include "core/error.h"
#include "kernels/attention/attention.h"
#include "kernels/ref/matmul.h"
#include "kernels/ref/ops.h"
#include "model/blocks/norm.h"

namespace seek {

namespace {

// dst[t][0..n) = src[t * src_stride + offset + 0..n) for t in [0, n_rows): gathers one head's slice.
void Gather(const float* src, int64_t src_stride, int64_t offset, int64_t n, int64_t n_rows, float* dst) {
  for (int64_t t = 0; t < n_rows; ++t) std::memcpy(dst + t * n, src + t * src_stride + offset, size_t(n) * 4);
}
void Scatter(const float* src, int64_t n, int64_t n_rows, float* dst, int64_t dst_stride, int64_t offset) {
  for (int64_t t = 0; t < n_rows; ++t) std::memcpy(dst + t * dst_stride + offset, src + t * n, size_t(n) * 4);
}

// Floats of gathered inputs + outputs per batch of heads in PerHeadMatMul (16 MB): decode takes all heads at
// once; a long absorbed-form prefill of a 128-head model goes in several batches.
constexpr int64_t kHeadBatchFloats = int64_t(4) << 20;

// For every head h < n_head: dst[t][h * dst_head + 0..n_out) = W_h src[t][h * src_head + 0..n_in), t < n, with
// W_h = Slice2D(w, h) [n_in, n_out]; src rows have src_stride floats, dst rows dst_stride. The heads' inputs
// are gathered into separate buffers and multiplied by ONE MatMulMany (per batch of heads), not one MatMul each.
void PerHeadMatMul(const TensorView& w, int64_t n_head, int64_t n, const float* src, int64_t src_stride,
                   int64_t src_head, float* dst, int64_t dst_stride, int64_t dst_head, ThreadPool* pool) {
  const int64_t n_in = w.ne[0], n_out = w.ne[1];
  const int64_t per_batch = std::clamp<int64_t>(kHeadBatchFloats / std::max<int64_t>(1, n * (n_in + n_out)), 1, n_head);
  std::vector<float> in(size_t(per_batch * n * n_in)), out(size_t(per_batch * n * n_out));  // [head][n][n_in|n_out]
  std::vector<MatMulJob> jobs;
  for (int64_t h0 = 0; h0 < n_head; h0 += per_batch) {
    const int64_t h1 = std::min(n_head, h0 + per_batch);
    jobs.clear();
    for (int64_t h = h0; h < h1; ++h) {
      float* x = in.data() + (h - h0) * n * n_in;
      Gather(src, src_stride, h * src_head, n_in, n, x);
      jobs.push_back({AsMatMulWeight(Slice2D(w, h)), x, out.data() + (h - h0) * n * n_out, n});
    }
    MatMulMany(jobs, pool);
    for (int64_t h = h0; h < h1; ++h)
      Scatter(out.data() + (h - h0) * n * n_out, n_out, n, dst, dst_stride, h * dst_head);
  }
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

namespace {

// The naive form for one segment: decompress every cached position through W_UKV, then plain multi-head
// attention. q: the segment's RoPE'd queries [n][H][N + R]; attn: its per-head outputs [n][H][V].
void NaiveCore(const ModelConfig& c, const LayerWeights& l, const MlaCache& cache, int32_t il_cache,
               const AttentionParams& base, const float* q, float* attn, ThreadPool* pool) {
  const int64_t H = c.n_head, L = c.mla.kv_lora_rank, N = c.mla.qk_nope_head_dim, R = c.mla.qk_rope_head_dim,
                V = c.mla.v_head_dim, QK = N + R, D = cache.dim();
  const int64_t n_kv = base.pos0 + base.n_tokens;
  // The cached rows in fp32, [n_kv][L + R]; then K_nope and V of every position, [n_kv][H][N + V].
  std::vector<float> rows(static_cast<size_t>(n_kv * D)), latent(static_cast<size_t>(n_kv * L));
  for (int64_t pos = 0; pos < n_kv; ++pos) KvLoadRow(cache.type, cache.at(il_cache, int32_t(pos)), rows.data() + pos * D, D);
  Gather(rows.data(), D, 0, L, n_kv, latent.data());
  std::vector<float> kv(static_cast<size_t>(n_kv * H * (N + V)));
  MatMul(l.wkv_b, latent.data(), kv.data(), n_kv, pool);
  // Per-head keys [k_nope_h ; k_pe], [n_kv][H][N + R]: plain multi-head attention (n_head_kv = H).
  std::vector<float> keys(static_cast<size_t>(n_kv * H * QK));
  for (int64_t pos = 0; pos < n_kv; ++pos) {
    for (int64_t h = 0; h < H; ++h) {
      float* dst = keys.data() + (pos * H + h) * QK;
      std::memcpy(dst, kv.data() + (pos * H + h) * (N + V), size_t(N) * sizeof(float));
      std::memcpy(dst + N, rows.data() + pos * D + L, size_t(R) * sizeof(float));
    }
  }
  AttentionParams p = base;
  p.q = q;
  p.out = attn;
  p.k = KvRows{KvType::kF32, keys.data(), size_t(H * QK) * sizeof(float), size_t(QK) * sizeof(float), 0};
  p.v = KvRows{KvType::kF32, kv.data(), size_t(H * (N + V)) * sizeof(float), size_t(N + V) * sizeof(float), N};
  p.n_head_kv = int32_t(H);
  p.dk = int32_t(QK);
  p.dv = int32_t(V);
  Attention(p, pool);
}

}  // namespace

void MlaAttention(const ModelConfig& c, const LayerWeights& l, const RopeTable& rope, MlaCache& cache,
                  int32_t il_cache, int32_t pos0, int32_t n_tokens, const float* xn, float* out, MlaForm form,
                  ThreadPool* pool) {
  const MlaSegment one{&rope, &cache, form, 0, n_tokens, pos0};
  MlaAttentionBatch(c, l, std::span<const MlaSegment>(&one, 1), il_cache, n_tokens, xn, out, pool);
}

void MlaAttentionBatch(const ModelConfig& c, const LayerWeights& l, std::span<const MlaSegment> segments,
                       int32_t il_cache, int32_t n_rows, const float* xn, float* out, ThreadPool* pool) {
  const int64_t H = c.n_head, L = c.mla.kv_lora_rank, N = c.mla.qk_nope_head_dim, R = c.mla.qk_rope_head_dim,
                V = c.mla.v_head_dim, QK = N + R, D = L + R;
  const int64_t n = n_rows;
  int32_t next_row = 0;
  for (const MlaSegment& s : segments) {
    SEEK_CHECK(s.cache && s.rope && s.row0 == next_row && s.pos0 >= 0 && s.pos0 + s.n_tokens <= s.cache->n_ctx &&
               s.cache->dim() == D);
    next_row += s.n_tokens;
  }
  SEEK_CHECK(next_row == n_rows);
  const float scale = MlaSoftmaxScale(c);

  // Queries [n][H][N + R] and latent + shared RoPE key [n][L + R] for all rows: both read xn, so one dispatch.
  std::vector<float> q(static_cast<size_t>(n * H * QK));
  std::vector<float> kva(static_cast<size_t>(n * D));  // [n][L + R]
  std::vector<float> qa(static_cast<size_t>(n * c.mla.q_lora_rank));  // [n][q_lora_rank] (when q is low-rank)
  {
    const MatMulJob jobs[] = {
        c.mla.q_lora_rank > 0 ? MatMulJob{AsMatMulWeight(l.wq_a), xn, qa.data(), n}
                              : MatMulJob{AsMatMulWeight(l.wq), xn, q.data(), n},
        MatMulJob{AsMatMulWeight(l.wkv_a_mqa), xn, kva.data(), n}};
    MatMulMany(jobs, pool);
  }
  if (c.mla.q_lora_rank > 0) {
    RmsNormRows(qa.data(), l.q_a_norm, qa.data(), n_rows, c.norm_eps);
    MatMul(l.wq_b, qa.data(), q.data(), n, pool);
  }
  // Per segment, into its cache: [c_kv (normed) ; RoPE(k_pe)], converted to the cache's type; RoPE on q_pe.
  const float* kv_norm = F32Data(l.kv_a_norm);
  std::vector<float> row(static_cast<size_t>(D));  // [L + R] one cache row in fp32
  std::vector<MlaForm> forms;
  for (const MlaSegment& s : segments) {
    for (int64_t i = 0; i < s.n_tokens; ++i) {
      const int64_t t = s.row0 + i;
      const int32_t pos = s.pos0 + int32_t(i);
      RmsNorm(kva.data() + t * D, kv_norm, row.data(), L, c.norm_eps);
      std::memcpy(row.data() + L, kva.data() + t * D + L, size_t(R) * sizeof(float));
      Rope(row.data() + L, R, s.rope->cos(pos), s.rope->sin(pos), RopeLayout::kNorm);
      KvStoreRow(s.cache->type, row.data(), s.cache->at(il_cache, pos), D);
      for (int64_t h = 0; h < H; ++h)
        Rope(q.data() + (t * H + h) * QK + N, R, s.rope->cos(pos), s.rope->sin(pos), RopeLayout::kNorm);
    }
    forms.push_back(s.form == MlaForm::kAuto ? ChooseMlaForm(c, s.n_tokens, s.pos0 + s.n_tokens) : s.form);
  }

  std::vector<float> attn(static_cast<size_t>(n * H * V));  // [n][H][V] per-head outputs, before attn_output
  for (size_t i = 0; i < segments.size();) {
    AttentionParams p;  // causal attention of a segment's new tokens over its positions [0, pos0 + n_tokens)
    p.n_head = int32_t(H);
    p.scale = scale;
    if (forms[i] == MlaForm::kNaive) {
      const MlaSegment& s = segments[i];
      p.n_tokens = s.n_tokens;
      p.pos0 = s.pos0;
      NaiveCore(c, l, *s.cache, il_cache, p, q.data() + s.row0 * H * QK, attn.data() + s.row0 * H * V, pool);
      ++i;
      continue;
    }
    // A run of absorbed segments [i, j), rows [r0, r1): their W_UK and W_UV multiplies go together.
    size_t j = i;
    while (j < segments.size() && forms[j] == MlaForm::kAbsorbed) ++j;
    const int64_t r0 = segments[i].row0, r1 = segments[j - 1].row0 + segments[j - 1].n_tokens, m = r1 - r0;
    // Absorb W_UK into the query: q_cat[t][h] = [W_UK_h^T q_nope[t][h] ; q_pe[t][h]], [m][H][L + R], so the
    // score is q_cat . (cached row) and every head shares one "KV head": the cached rows, V = their first L.
    const float* q_run = q.data() + r0 * H * QK;
    std::vector<float> q_cat(static_cast<size_t>(m * H * D));
    PerHeadMatMul(l.wk_b, H, m, q_run, H * QK, QK, q_cat.data(), H * D, D, pool);  // q_nope[t][h] -> [0, L)
    for (int64_t t = 0; t < m; ++t) {
      for (int64_t h = 0; h < H; ++h)
        std::memcpy(q_cat.data() + (t * H + h) * D + L, q_run + (t * H + h) * QK + N, size_t(R) * sizeof(float));
    }
    std::vector<float> o_lat(static_cast<size_t>(m * H * L));  // [m][H][L] attention-weighted latents
    for (size_t k = i; k < j; ++k) {
      const MlaSegment& s = segments[k];
      p.n_tokens = s.n_tokens;
      p.pos0 = s.pos0;
      p.q = q_cat.data() + (s.row0 - r0) * H * D;
      p.out = o_lat.data() + (s.row0 - r0) * H * L;
      p.k = KvRows{s.cache->type, s.cache->at(il_cache, 0), s.cache->row_bytes, 0, 0};
      p.v = p.k;
      p.n_head_kv = 1;
      p.dk = int32_t(D);
      p.dv = int32_t(L);
      Attention(p, pool);
    }
    // Expand through W_UV: attn[t][h] = W_UV_h o_lat[t][h], [m][H][V].
    PerHeadMatMul(l.wv_b, H, m, o_lat.data(), H * L, L, attn.data() + r0 * H * V, H * V, V, pool);
    i = j;
  }
  MatMul(l.wo, attn.data(), out, n, pool);  // [n][n_embd]
}

}  // namespace seek
