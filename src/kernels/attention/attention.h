// Causal scaled-dot-product attention over a KV cache of any KvType: the kernel behind GQA (Llama, Qwen2) and
// both MLA forms (DeepSeek2). The caller describes where K and V rows live (KvRows); the kernel converts each
// cached row to fp32 once per block and shares it among every query head of its KV group.
//
//   out[t][h] = sum_p softmax_p(scale * q[t][h] . K[p][h / group]) V[p][h / group],  p in [0, pos0 + t]
//
// The fast kernel (attention_avx2.cc) is flash-style (Dao et al. 2022, arXiv:2205.14135; llama.cpp's CPU
// ggml_compute_forward_flash_attn_ext is the same idea): tiles of query tokens x blocks of KV positions, an
// online softmax (running max and sum, rescaling the partial output when the max grows), the causal mask
// applied per tile, so the n x n score matrix is never materialised. Decode with too few (KV head, query
// tile) items for the threads splits the KV range and merges the partial results (flash-decoding). The
// reference (kernels/ref/attention.h) is the plain per-(token, head) loop with a full softmax.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/attention/kv_types.h"

namespace seek {

// One layer's K (or V) rows. The value j of KV head g at position p starts at element col_offset + j of the
// row at byte p * row_bytes + g * head_bytes of data. Position-major caches (one row holds every head: MLA's
// latent, the naive MLA form) have head_bytes < row_bytes; the GQA cache is head-major (model/blocks/
// attention.h: head_bytes = n_ctx * row_bytes), so one head's rows are one contiguous stream.
struct KvRows {
  KvType type = KvType::kF32;
  const void* data = nullptr;  // row of position 0, head 0
  size_t row_bytes = 0;        // stride between positions
  size_t head_bytes = 0;       // stride between KV heads
  int64_t col_offset = 0;      // elements before the head's first value (q8_0: a multiple of 32)
};

struct AttentionParams {
  const float* q = nullptr;  // [n_tokens][n_head][dk]
  float* out = nullptr;      // [n_tokens][n_head][dv]
  KvRows k, v;               // k: dk values per head, v: dv values per head
  int32_t n_tokens = 0, n_head = 0, n_head_kv = 0, dk = 0, dv = 0;
  int32_t pos0 = 0;    // query t attends to positions [0, pos0 + t] (causal)
  float scale = 1.0f;  // applied to q . k before the softmax
};

using AttentionFn = void (*)(const AttentionParams& p, ThreadPool* pool);
// Row conversions: y[0..n) (n values of type t) from / to fp32.
using KvStoreRowFn = void (*)(KvType t, const float* x, void* y, int64_t n);
using KvLoadRowFn = void (*)(KvType t, const void* x, float* y, int64_t n);

// The attention entry of a kernel table (kernels/dispatch.h).
struct AttentionKernels {
  AttentionFn attend;
  KvStoreRowFn store_row;
  KvLoadRowFn load_row;
};

// Portable entry points (through ActiveKernels()). Attention validates the parameters (SEEK_CHECK).
void Attention(const AttentionParams& p, ThreadPool* pool);
void KvStoreRow(KvType t, const float* x, void* y, int64_t n);
void KvLoadRow(KvType t, const void* x, float* y, int64_t n);

// Start of value j of head g at position pos (j a block multiple for q8_0).
inline const uint8_t* KvRowsAt(const KvRows& r, int64_t pos, int64_t g, int64_t j = 0) {
  return static_cast<const uint8_t*>(r.data) + size_t(pos) * r.row_bytes + size_t(g) * r.head_bytes +
         KvRowBytes(r.type, r.col_offset + j);
}

// The AVX2 kernels (attention_avx2.cc; only called when the CPU has AVX2 + FMA + F16C).
namespace avx2 {
extern const AttentionKernels kAttentionKernels;
}  // namespace avx2

}  // namespace seek
