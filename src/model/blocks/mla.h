// Multi-head latent attention (MLA), DeepSeek-V2 (arXiv:2405.04434 section 2.1), with a compressed KV cache.
//
// Per token (H heads, L = kv_lora_rank, N = qk_nope_head_dim, R = qk_rope_head_dim, V = v_head_dim):
//   q            = attn_q_b(rmsnorm(attn_q_a(x))) or attn_q(x)     [H][N + R] = [q_nope ; q_pe]
//   [c_kv; k_pe] = attn_kv_a_mqa(x);  c_kv = rmsnorm(c_kv)          [L], [R] (k_pe shared by all heads)
//   q_pe, k_pe  <- RoPE (adjacent pairs, YaRN if configured)
//   cache[pos]   = [c_kv ; k_pe]                                    L + R values per token per layer (f16)
//   naive:    [k_nope_h ; v_h] = W_UKV_h c_kv for every cached position;
//             score = q_nope_h.k_nope_h + q_pe.k_pe
//   absorbed: q_abs_h = W_UK_h^T q_nope_h [L];  score = q_abs_h.c_kv + q_pe.k_pe;
//             o_lat_h = sum_p a_p c_kv[p];  o_h = W_UV_h o_lat_h
//             (the same numbers, re-associated: q_nope.(W_UK c) = (W_UK^T q_nope).c)
//   out = attn_output([o_1 .. o_H]),  softmax scale = mscale^2 / sqrt(N + R) (MlaSoftmaxScale)
//
// Which form is cheaper depends on the batch (n new tokens) and the context (n_kv cached + new positions).
// Multiply-adds per layer:
//   naive    = n_kv * L * H * (N + V)  (decompress every position)  + n * n_kv * H * (N + R + V)
//   absorbed = n * H * L * (N + V)     (absorb q, expand o)         + n * n_kv * H * (2L + R)
// naive - absorbed = (n_kv - n) * H * L * (N + V) - n * n_kv * H * (2L - N - V), so absorbed wins exactly
// when 1/n - 1/n_kv > (2L - N - V) / (L * (N + V)). For V2-Lite and V3 (L 512, N = V = 128) that is 1/171:
// decode (n = 1) is always absorbed; a prefill into an empty cache (n = n_kv) is always naive; a batch of n
// new tokens after a long context (chunked prefill, speculative verification) is absorbed while n < ~170.
// ChooseMlaForm evaluates both formulas. Engines make the same switch: ik_llama.cpp -mla 3, KTransformers
// absorb_for_prefill, SGLang's MHA prefill.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/attention/kv_types.h"
#include "model/blocks/rope.h"
#include "model/config.h"
#include "model/weights.h"

namespace seek {

// The compressed KV cache of one sequence: per layer and position the normed latent c_KV, then the RoPE'd
// shared key k_pe, stored as f16 (default), q8_0 or f32 (kernels/attention/kv_types.h). Bytes per token =
// n_layer * KvRowBytes(type, kv_lora_rank + qk_rope_head_dim): V2-Lite at f16 576 x 27 x 2 = 31,104 B.
// The absorbed form attends over these rows directly (one shared "KV head": K = the whole row, V = its first
// kv_lora_rank values); the naive form converts the latents to fp32 once per call.
struct MlaCache {
  KvType type = kDefaultKvType;
  int32_t n_layer = 0, n_ctx = 0, kv_lora_rank = 0, n_rot = 0;
  size_t row_bytes = 0;       // KvRowBytes(type, dim())
  std::vector<uint8_t> data;  // [n_layer][n_ctx][row_bytes]: kv_lora_rank + n_rot values of `type`

  // kv_lora and rope_dim must be multiples of KvBlockSize(t) (Context checks with CheckKvType).
  void Allocate(int32_t layers, int32_t ctx, int32_t kv_lora, int32_t rope_dim, KvType t = kDefaultKvType) {
    type = t, n_layer = layers, n_ctx = ctx, kv_lora_rank = kv_lora, n_rot = rope_dim;
    row_bytes = KvRowBytes(t, dim());
    data.assign(size_t(layers) * size_t(ctx) * row_bytes, 0);
  }
  int32_t dim() const { return kv_lora_rank + n_rot; }
  uint8_t* at(int32_t il, int32_t pos) { return data.data() + (size_t(il) * size_t(n_ctx) + size_t(pos)) * row_bytes; }
  const uint8_t* at(int32_t il, int32_t pos) const {
    return data.data() + (size_t(il) * size_t(n_ctx) + size_t(pos)) * row_bytes;
  }
};

// The cheaper form for n_tokens new tokens attending over n_kv positions (formulas above).
MlaForm ChooseMlaForm(const ModelConfig& c, int64_t n_tokens, int64_t n_kv);

// 1/sqrt(N + R), times (1 + yarn_log_mul * ln(factor))^2 under YaRN with factor > 1 (HF DeepseekV3Attention,
// DeepSeek's inference/model.py MLA.__init__).
float MlaSoftmaxScale(const ModelConfig& c);

// One MLA sub-block for n_tokens tokens at positions [pos0, pos0 + n_tokens): xn is the attn_norm'ed input
// [n_tokens][n_embd]; out receives attn_output(...) [n_tokens][n_embd]. Writes cache layer `il_cache` at
// those positions; positions < pos0 must already be there. `form` kAuto picks by ChooseMlaForm.
void MlaAttention(const ModelConfig& c, const LayerWeights& l, const RopeTable& rope, MlaCache& cache,
                  int32_t il_cache, int32_t pos0, int32_t n_tokens, const float* xn, float* out, MlaForm form,
                  ThreadPool* pool);

// One sequence's rows [row0, row0 + n_tokens) of a batch, at positions [pos0, pos0 + n_tokens) of its cache.
struct MlaSegment {
  const RopeTable* rope = nullptr;
  MlaCache* cache = nullptr;
  MlaForm form = MlaForm::kAuto;
  int32_t row0 = 0;
  int32_t n_tokens = 0;
  int32_t pos0 = 0;
};

// MlaAttention for a batch of sequences (segments in row order covering rows [0, n_rows) once), each against
// its own cache, with the same result per row as one MlaAttention per segment, bit for bit. Everything but
// the attention itself is per token, so it runs on all rows at once and the weights stream once per batch:
// the q / latent projections and attn_output over all rows, W_UK and W_UV over each run of consecutive
// absorbed-form segments (per head, one MatMulMany); naive-form segments decompress their own cache.
void MlaAttentionBatch(const ModelConfig& c, const LayerWeights& l, std::span<const MlaSegment> segments,
                       int32_t il_cache, int32_t n_rows, const float* xn, float* out, ThreadPool* pool);

}  // namespace seek
