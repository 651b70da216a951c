// Flash-style causal attention with AVX2 + FMA + F16C (contract in kernels/attention/attention.h).
//
// Work item = (KV head g, tile of query tokens [t0, t1), KV range [kv0, kv1)). Its query rows are the group's
// heads of every token in the tile (row r = (t - t0) * group + head-in-group), so a block of cached rows is
// converted to fp32 once (F16C / Q8_0 unpack) and then read by every row. Per block of Bk positions:
//   S = (scale q) K_block^T           (only positions <= the row's causal limit)
//   m' = max(m, max S); c = exp(m - m'); l = c l + sum exp(S - m'); O = c O + exp(S - m') V_block
// which is the online softmax of Milakov & Gimelshein (arXiv:1805.02867) as FlashAttention uses it (Dao et
// al. 2022, arXiv:2205.14135, algorithm 1); llama.cpp's CPU flash-attention path reads the cache the same
// way. At the end O / l is the output, and no n_tokens x n_kv score matrix ever exists.
//
// Parallel over items. Prefill has plenty (KV heads x query tiles, tiles ordered so that each contiguous
// chunk of the pool mixes short and long causal rows). Every row's KV range is reduced in fixed chunks of
// kKvChunk positions whose partial (O, m, l) are merged in order (see AttentionAvx2), so decode, which has
// only n_head_kv items (one for MLA's absorbed form), can spread the chunks over the threads
// (flash-decoding, Dao et al. 2023) and still compute every row exactly as prefill does.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/attention/attention.h"
#include "kernels/matmul/avx2_util.h"
#include "kernels/quant/blocks.h"
#include "kernels/ref/attention.h"

namespace seek::avx2 {
namespace {

constexpr int64_t kTileRows = 64;     // query rows per tile (tokens x group heads), at least one token
constexpr int64_t kKvChunk = 256;    // KV positions per chunk (a multiple of every block size below)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The four lane sums of a0..a3.
inline __m128 HSum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

void LoadRow(KvType t, const void* x, float* y, int64_t n) {
  switch (t) {
    case KvType::kF32:
      std::memcpy(y, x, size_t(n) * sizeof(float));
      return;
    case KvType::kF16: {
      const uint16_t* h = static_cast<const uint16_t*>(x);
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
      for (; i < n; ++i) y[i] = FP16ToF32(h[i]);
      return;
    }
    case KvType::kQ8_0: {
      const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
      for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
        const __m256 d = _mm256_set1_ps(FP16ToF32(b[ib].d));
        for (int k = 0; k < kQK8_0; k += 8) {
          const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b[ib].qs + k));
          _mm256_storeu_ps(y + ib * kQK8_0 + k,
                           _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
        }
      }
      return;
    }
  }
}

void StoreRow(KvType t, const float* x, void* y, int64_t n) {
  if (t != KvType::kF16) return KvStoreRowRef(t, x, y, n);  // f32: a copy; q8_0: the reference quantizer
  uint16_t* h = static_cast<uint16_t*>(y);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  for (; i < n; ++i) h[i] = F32ToFP16(x[i]);
}

// fp32 view of nb rows (positions b0..b0+nb) of KV head g, d values each: the cache itself for f32, else
// converted into `scratch` ([nb][d]). *stride receives the distance between rows in floats.
const float* RowsF32(const KvRows& r, int64_t b0, int64_t nb, int64_t g, int64_t d, float* scratch,
                     int64_t* stride) {
  if (r.type == KvType::kF32) {
    *stride = int64_t(r.row_bytes / sizeof(float));
    return reinterpret_cast<const float*>(KvRowsAt(r, b0, g));
  }
  const uint8_t* src = KvRowsAt(r, b0, g);
  *stride = d;
  if (r.row_bytes == KvRowBytes(r.type, d)) {
    LoadRow(r.type, src, scratch, nb * d);  // head-major rows (any type): one contiguous run of nb * d values
    return scratch;
  }
  for (int64_t j = 0; j < nb; ++j) LoadRow(r.type, src + size_t(j) * r.row_bytes, scratch + j * d, d);
  return scratch;
}

// s[j] = q . k[j] for the keys j in [j, nv) left over by the four-key loops, one at a time.
void ScoresFrom(const float* q, const float* k, int64_t kstride, int64_t j, int64_t nv, int64_t d, float* s) {
  const int64_t d8 = d & ~int64_t(7);
  for (; j < nv; ++j) {
    const float* kj = k + j * kstride;
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < d8; i += 8)
      a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(kj + i), a);
    float sum = HSum(a);
    for (int64_t i = d8; i < d; ++i) sum += q[i] * kj[i];
    s[j] = sum;
  }
}

// s[j..j+4) of one query from its four accumulators and the d % 8 tail.
inline void FinishFour(const float* q, const float* k0, int64_t kstride, int64_t d8, int64_t d, __m256 a0,
                       __m256 a1, __m256 a2, __m256 a3, float* s) {
  _mm_storeu_ps(s, HSum4(a0, a1, a2, a3));
  const float* k1 = k0 + kstride;
  const float* k2 = k1 + kstride;
  const float* k3 = k2 + kstride;
  for (int64_t i = d8; i < d; ++i) {
    s[0] += q[i] * k0[i];
    s[1] += q[i] * k1[i];
    s[2] += q[i] * k2[i];
    s[3] += q[i] * k3[i];
  }
}

// s[r][j] = q[r] . k[j] for R queries (heads of one token: the same keys), j in [0, nv), four keys at a time.
// Each key vector is loaded once for all R queries (R = 2: 6 loads feed 8 FMAs; R = 1: 5 loads, 4 FMAs). Every
// (query, key) sum runs the same FMA chain for any R, so the bits do not depend on how heads are grouped.
template <int R>
void Scores(const float* const* q, const float* k, int64_t kstride, int64_t nv, int64_t d, float* const* s) {
  const int64_t d8 = d & ~int64_t(7);
  int64_t j = 0;
  for (; j + 4 <= nv; j += 4) {
    const float* k0 = k + j * kstride;
    const float* k1 = k0 + kstride;
    const float* k2 = k1 + kstride;
    const float* k3 = k2 + kstride;
    __m256 a[R][4];
    for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = a[r][2] = a[r][3] = _mm256_setzero_ps();
    for (int64_t i = 0; i < d8; i += 8) {
      const __m256 x0 = _mm256_loadu_ps(k0 + i), x1 = _mm256_loadu_ps(k1 + i);
      const __m256 x2 = _mm256_loadu_ps(k2 + i), x3 = _mm256_loadu_ps(k3 + i);
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r) {
        const __m256 qv = _mm256_loadu_ps(q[r] + i);
        a[r][0] = _mm256_fmadd_ps(qv, x0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(qv, x1, a[r][1]);
        a[r][2] = _mm256_fmadd_ps(qv, x2, a[r][2]);
        a[r][3] = _mm256_fmadd_ps(qv, x3, a[r][3]);
      }
    }
    for (int r = 0; r < R; ++r) FinishFour(q[r], k0, kstride, d8, d, a[r][0], a[r][1], a[r][2], a[r][3], s[r] + j);
  }
  for (int r = 0; r < R; ++r) ScoresFrom(q[r], k, kstride, j, nv, d, s[r]);
}

// max(m, s[0..n)), as the scalar loop mx = std::max(mx, s[j]) gives it (a NaN score is skipped, a NaN m kept:
// vmaxps returns its second operand when either is NaN). The scalar loop was a chain of dependent maxss: a
// quarter of RunTile's samples in decode at 2048 positions.
float RowMax(const float* s, int64_t n, float m) {
  __m256 v = _mm256_set1_ps(m);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) v = _mm256_max_ps(_mm256_loadu_ps(s + j), v);
  __m128 h = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  h = _mm_max_ps(_mm_movehl_ps(h, h), h);
  h = _mm_max_ss(_mm_movehdup_ps(h), h);
  float mx = _mm_cvtss_f32(h);
  for (; j < n; ++j) mx = std::max(mx, s[j]);
  return mx;
}

// s[j] = exp(s[j] - m), j in [0, n); returns the sum.
float ExpShift(float* s, int64_t n, float m) {
  const __m256 mv = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = ExpAvx2(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
    _mm256_storeu_ps(s + j, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = HSum(acc);
  for (; j < n; ++j) {
    s[j] = std::exp(s[j] - m);
    sum += s[j];
  }
  return sum;
}

// o[i..d) = c * o + sum_j p[j] v[j] for the dimensions from i on that the 32-wide loop leaves, 8 and then 1 at
// a time.
void AccumulateFrom(float* o, float c, const float* p, const float* v, int64_t vstride, int64_t nv, int64_t i,
                    int64_t d) {
  const __m256 cv = _mm256_set1_ps(c);
  for (; i + 8 <= d; i += 8) {
    __m256 a = _mm256_mul_ps(cv, _mm256_loadu_ps(o + i));
    for (int64_t j = 0; j < nv; ++j)
      a = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), _mm256_loadu_ps(v + j * vstride + i), a);
    _mm256_storeu_ps(o + i, a);
  }
  for (; i < d; ++i) {
    float a = c * o[i];
    for (int64_t j = 0; j < nv; ++j) a += p[j] * v[j * vstride + i];
    o[i] = a;
  }
}

// o[r][0..d) = c[r] * o[r] + sum_j p[r][j] v[j] for R rows over the same values (heads of one token): each
// value vector is loaded once for all R rows (R = 2: 4 loads and 2 broadcasts per 8 FMAs). Every output lane
// runs the same chain for any R, so the bits do not depend on how heads are grouped.
template <int R>
void Accumulate(float* const* o, const float* c, const float* const* p, const float* v, int64_t vstride,
                int64_t nv, int64_t d) {
  int64_t i = 0;
  for (; i + 32 <= d; i += 32) {
    __m256 a[R][4];
    for (int r = 0; r < R; ++r) {
      const __m256 cv = _mm256_set1_ps(c[r]);
      for (int u = 0; u < 4; ++u) a[r][u] = _mm256_mul_ps(cv, _mm256_loadu_ps(o[r] + i + 8 * u));
    }
    for (int64_t j = 0; j < nv; ++j) {
      const float* vj = v + j * vstride + i;
      const __m256 x0 = _mm256_loadu_ps(vj), x1 = _mm256_loadu_ps(vj + 8);
      const __m256 x2 = _mm256_loadu_ps(vj + 16), x3 = _mm256_loadu_ps(vj + 24);
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r) {
        const __m256 pj = _mm256_set1_ps(p[r][j]);
        a[r][0] = _mm256_fmadd_ps(pj, x0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(pj, x1, a[r][1]);
        a[r][2] = _mm256_fmadd_ps(pj, x2, a[r][2]);
        a[r][3] = _mm256_fmadd_ps(pj, x3, a[r][3]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int u = 0; u < 4; ++u) _mm256_storeu_ps(o[r] + i + 8 * u, a[r][u]);
  }
  for (int r = 0; r < R; ++r) AccumulateFrom(o[r], c[r], p[r], v, vstride, nv, i, d);
}

// Per-thread buffers of one work item.
struct Scratch {
  std::vector<float> q;       // [rows][dk] scaled queries
  std::vector<float> s;       // [rows][bk] scores, then probabilities
  std::vector<float> kf, vf;  // [bk][dk], [bk][dv] converted cache rows
};

// The query rows of one work item: tokens [t0, t1) x heads [h0, h1) of KV head g's group (h within the group);
// row r = (t - t0) * (h1 - h0) + (h - h0).
struct Rows {
  int64_t g, t0, t1, h0, h1;
  int64_t heads() const { return h1 - h0; }
  int64_t count() const { return (t1 - t0) * (h1 - h0); }
};

// One work item (see the file comment). o ([rows][dv]), m, l ([rows]) receive the unnormalised output, the
// running max and the running sum; a row that sees no position of [kv0, kv1) keeps m = -inf, l = 0, o = 0.
// Each row's arithmetic depends on nothing but its own query and the positions, so how the rows are grouped
// into items does not change any result.
void RunTile(const AttentionParams& p, const Rows& it, int64_t kv0, int64_t kv1, float* o, float* m, float* l,
             Scratch& sc) {
  const int64_t group = p.n_head / p.n_head_kv, dk = p.dk, dv = p.dv;
  const int64_t g = it.g, t0 = it.t0, t1 = it.t1, nh = it.heads();
  const int64_t rows = it.count();
  // KV positions per block: a converted K block stays within ~32 KB. (bk = 32 at dk = 64, which keeps K and V
  // within half of L1, measured alike within the noise at 2048 tokens of context.)
  const int64_t bk = dk <= 128 ? 64 : (dk <= 256 ? 32 : 16);
  const bool v_in_k = p.v.data == p.k.data && p.v.type == p.k.type && p.v.row_bytes == p.k.row_bytes &&
                      p.v.col_offset == p.k.col_offset && p.v.head_bytes == p.k.head_bytes && dv <= dk;
  sc.q.resize(size_t(rows * dk));
  sc.s.resize(size_t(rows * bk));
  sc.kf.resize(size_t(bk * dk));
  sc.vf.resize(size_t(bk * dv));
  for (int64_t t = t0; t < t1; ++t) {  // the item's heads are adjacent in q: one run of nh * dk floats
    const float* src = p.q + (t * p.n_head + g * group + it.h0) * dk;
    float* dst = sc.q.data() + (t - t0) * nh * dk;
    for (int64_t i = 0; i < nh * dk; ++i) dst[i] = src[i] * p.scale;
  }
  std::fill(m, m + rows, kNegInf);
  std::fill(l, l + rows, 0.0f);
  std::fill(o, o + rows * dv, 0.0f);

  const int64_t last_visible = p.pos0 + t1 - 1;  // of the tile's last token
  for (int64_t b0 = kv0; b0 < std::min(kv1, last_visible + 1); b0 += bk) {
    const int64_t nb = std::min(bk, kv1 - b0);
    int64_t kstride = 0, vstride = 0;
    const float* k = RowsF32(p.k, b0, nb, g, dk, sc.kf.data(), &kstride);
    const float* v = v_in_k ? k : RowsF32(p.v, b0, nb, g, dv, sc.vf.data(), &vstride);
    if (v_in_k) vstride = kstride;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t nv = std::min(nb, p.pos0 + t - b0 + 1);  // causal mask of this tile
      if (nv <= 0) continue;
      // Online-softmax step of row r over its scores s; returns the rescale factor of its old output.
      auto update = [&](int64_t r, float* s) {
        const float mx = RowMax(s, nv, m[r]);
        const float c = m[r] == kNegInf ? 0.0f : std::exp(m[r] - mx);
        l[r] = c * l[r] + ExpShift(s, nv, mx);
        m[r] = mx;
        return c;
      };
      // Rows [r, r + R) of this token: scores, softmax step, output, with the keys and values loaded once.
      auto heads = [&]<int R>(int64_t r) {
        const float* q[R];
        float* sr[R];
        float* orow[R];
        const float* pr[R];
        float c[R];
        for (int e = 0; e < R; ++e) {
          q[e] = sc.q.data() + (r + e) * dk;
          pr[e] = sr[e] = sc.s.data() + (r + e) * bk;
          orow[e] = o + (r + e) * dv;
        }
        Scores<R>(q, k, kstride, nv, dk, sr);
        for (int e = 0; e < R; ++e) c[e] = update(r + e, sr[e]);
        Accumulate<R>(orow, c, pr, v, vstride, nv, dv);
      };
      // The token's heads two at a time (they share the keys and values), then an odd one alone.
      int64_t r = (t - t0) * nh;
      const int64_t r_end = r + nh;
      for (; r + 2 <= r_end; r += 2) heads.template operator()<2>(r);
      if (r < r_end) heads.template operator()<1>(r);
    }
  }
}

struct Thread {
  Scratch scratch;
  std::vector<float> o, m, l;  // one tile's chunk partials: [chunk][rows][dv], [chunk][rows]
};

// Writes out[t][h] for the rows of one item from its chunk partials: chunk c's
// (O, m, l) of row r at o[(c * stride + r) * dv], m[c * stride + r], l[c * stride + r].
//   O = sum_c e^(m_c - M) O_c / sum_c e^(m_c - M) l_c,  M = max_c m_c
// With one chunk this is O_0 / l_0 exactly (e^0 = 1). Both paths below use this one merge.
void MergeChunks(const AttentionParams& p, const Rows& it, int64_t n_chunks, int64_t stride, const float* o,
                 const float* m, const float* l) {
  const int64_t group = p.n_head / p.n_head_kv, dv = p.dv, nh = it.heads();
  for (int64_t r = 0; r < it.count(); ++r) {
    float mx = kNegInf;
    for (int64_t c = 0; c < n_chunks; ++c) mx = std::max(mx, m[c * stride + r]);
    const int64_t t = it.t0 + r / nh, h = it.g * group + it.h0 + r % nh;
    float* dst = p.out + (t * p.n_head + h) * dv;
    std::fill(dst, dst + dv, 0.0f);
    float sum = 0.0f;
    for (int64_t c = 0; c < n_chunks; ++c) {
      const int64_t at = c * stride + r;
      if (m[at] == kNegInf) continue;  // the chunk lies beyond the row's causal limit
      const float w = std::exp(m[at] - mx);
      sum += w * l[at];
      const float* src = o + at * dv;
      for (int64_t i = 0; i < dv; ++i) dst[i] += w * src[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < dv; ++i) dst[i] *= inv;
  }
}

// The KV range of every row is cut at fixed absolute positions (multiples of kKvChunk) into chunks, each
// reduced on its own (online softmax from a fresh state) and then merged by MergeChunks in chunk order. The
// cut points depend on nothing but the positions, so a row's result is the same whatever the batch size,
// the tiling and the thread count (Context's batch == token-by-token contract, which speculative decoding
// and continuous batching rely on). Prefill runs one item per (KV head, tile) and walks its chunks in turn;
// decode, which has too few items for the threads, splits a pair's query heads into parts when there are
// fewer pairs than threads, and makes (pair, head part, chunk) the item when the cache spans several chunks
// (flash-decoding, Dao et al. 2023), merging afterwards with the same arithmetic.
void AttentionAvx2(const AttentionParams& p, ThreadPool* pool) {
  const int64_t group = p.n_head / p.n_head_kv, dv = p.dv;
  const int64_t tile_tokens = std::max<int64_t>(1, kTileRows / group);
  const int64_t n_qt = (p.n_tokens + tile_tokens - 1) / tile_tokens;
  const int64_t max_rows = tile_tokens * group;
  const int n_threads = pool ? pool->size() : 1;
  const int64_t n_kv = int64_t(p.pos0) + p.n_tokens;
  const int64_t n_chunks = (n_kv + kKvChunk - 1) / kKvChunk;
  // Head parts: with fewer (KV head, tile) pairs than threads (a decode step of MLA's absorbed form has one
  // latent "KV head" for all 16 query heads, so one pair) each pair's query heads are split into parts, one
  // item each, so every thread works (V2-Lite decode ran its attention on one thread while the other waited).
  const int64_t pairs = int64_t(p.n_head_kv) * n_qt;
  const int64_t head_parts = pairs < n_threads ? std::min<int64_t>(group, n_threads) : 1;
  const int64_t part_heads = (group + head_parts - 1) / head_parts;
  const int64_t base_items = pairs * head_parts;
  const bool split = n_threads > 1 && n_chunks > 1 && base_items < 2 * n_threads;
  auto rows_of = [&](int64_t rest) {
    const int64_t part = rest % head_parts, pair = rest / head_parts;
    const int64_t k = pair % n_qt;
    const int64_t qt = (k % 2 == 0) ? k / 2 : n_qt - 1 - k / 2;  // 0, last, 1, last-1, ...: balanced chunks
    Rows it;
    it.g = pair / n_qt;
    it.t0 = qt * tile_tokens;
    it.t1 = std::min<int64_t>(p.n_tokens, it.t0 + tile_tokens);
    it.h0 = std::min(group, part * part_heads);
    it.h1 = std::min(group, it.h0 + part_heads);
    return it;
  };

  if (!split) {
    auto work = [&](int64_t begin, int64_t end, int) {
      thread_local Thread th;
      for (int64_t rest = begin; rest < end; ++rest) {
        const Rows it = rows_of(rest);
        if (it.count() == 0) continue;
        const int64_t kv_end = p.pos0 + it.t1, rows = it.count();
        const int64_t nc = (kv_end + kKvChunk - 1) / kKvChunk;
        th.o.resize(size_t(nc * rows * dv));
        th.m.resize(size_t(nc * rows));
        th.l.resize(size_t(nc * rows));
        for (int64_t c = 0; c < nc; ++c) {
          RunTile(p, it, c * kKvChunk, std::min(kv_end, (c + 1) * kKvChunk), th.o.data() + c * rows * dv,
                  th.m.data() + c * rows, th.l.data() + c * rows, th.scratch);
        }
        MergeChunks(p, it, nc, rows, th.o.data(), th.m.data(), th.l.data());
      }
    };
    if (pool && n_threads > 1 && base_items > 1) {
      pool->ParallelFor(base_items, work);
    } else {
      work(0, base_items, 0);
    }
    return;
  }

  // Split: partials [item][max_rows][dv] and [item][max_rows], item = rest * n_chunks + chunk.
  const int64_t n_items = base_items * n_chunks;
  thread_local std::vector<float> part_o, part_m, part_l;
  part_o.resize(size_t(n_items * max_rows * dv));
  part_m.resize(size_t(n_items * max_rows));
  part_l.resize(size_t(n_items * max_rows));
  // (thread_local names inside the lambda would be the worker's own: pass the caller's buffers by pointer.)
  float* const po = part_o.data();
  float* const pm = part_m.data();
  float* const pl = part_l.data();
  auto work = [&](int64_t begin, int64_t end, int) {
    thread_local Thread th;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t c = item % n_chunks;
      const Rows it = rows_of(item / n_chunks);
      if (it.count() == 0) continue;
      const int64_t kv_end = p.pos0 + it.t1, at = item * max_rows;
      // A chunk past the tile's last position is empty: RunTile leaves m = -inf, l = 0.
      RunTile(p, it, c * kKvChunk, std::min(kv_end, (c + 1) * kKvChunk), po + at * dv, pm + at, pl + at,
              th.scratch);
    }
  };
  pool->ParallelFor(n_items, work);
  for (int64_t rest = 0; rest < base_items; ++rest) {
    const Rows it = rows_of(rest);
    if (it.count() == 0) continue;
    const int64_t at = rest * n_chunks * max_rows;
    MergeChunks(p, it, n_chunks, max_rows, po + at * dv, pm + at, pl + at);
  }
}

}  // namespace

const AttentionKernels kAttentionKernels = {AttentionAvx2, StoreRow, LoadRow};

}  // namespace seek::avx2
