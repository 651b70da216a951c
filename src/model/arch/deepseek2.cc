// DeepSeek-V2 / V2-Lite / V3 / R1 (DeepSeek-AI 2024, arXiv:2405.04434 and arXiv:2412.19437):
// pre-norm decoder layers with multi-head latent attention and, after the first k dense layers, DeepSeekMoE.
//
//   x = token_embd[tokens]
//   for each layer il:
//     h = x + MLA(rmsnorm(x))                         model/blocks/mla.h (compressed cache: c_KV + k_pe)
//     x = h + (il < first_k_dense_replace ? SwiGLU(rmsnorm(h))
//                                         : sum_{top-k e} w_e Expert_e(rmsnorm(h)) + Shared(rmsnorm(h)))
//                                                     model/blocks/moe.h (softmax | sigmoid + bias routing)
//   logits = output(rmsnorm(x))
//
// The MTP (multi-token prediction) layers stored after the main ones are not part of this pass: see
// model/nextn.h.
#include <vector>

#include "core/error.h"
#include "model/arch/arch.h"
#include "model/blocks/mlp.h"
#include "model/blocks/moe.h"
#include "model/blocks/norm.h"

namespace seek {

void DeepSeek2DecoderLayer(const ModelConfig& c, const LayerWeights& l, bool moe,
                           std::span<const SeqSegment> segments, int32_t il_cache, int32_t n_rows,
                           ForwardBuffers& b, ThreadPool* pool) {
  const int64_t n_x = int64_t(n_rows) * c.n_embd;
  // Multi-head latent attention, each sequence against its own compressed cache; the projections run on all
  // rows at once, so the attention weights stream once per batch.
  RmsNormRows(b.x.data(), l.attn_norm, b.xn.data(), n_rows, c.norm_eps);
  std::vector<MlaSegment> mla(segments.size());
  for (size_t i = 0; i < segments.size(); ++i) {
    const SeqSegment& s = segments[i];
    mla[i] = MlaSegment{s.rope, s.mla, s.mla_form, s.row0, s.n_tokens, s.pos0};
  }
  MlaAttentionBatch(c, l, mla, il_cache, n_rows, b.xn.data(), b.proj.data(), pool);
  AddInPlace(b.x.data(), b.proj.data(), n_x);
  // Feed-forward for all rows at once: dense SwiGLU or mixture of experts (experts grouped across sequences).
  RmsNormRows(b.x.data(), l.ffn_norm, b.xn.data(), n_rows, c.norm_eps);
  if (moe) {
    MoeFeedForward(c, l, b.xn.data(), n_rows, b.proj.data(), pool);
  } else {
    SwiGluMlp(l, b.xn.data(), n_rows, b.gate.data(), b.up.data(), b.proj.data(), pool);
  }
  AddInPlace(b.x.data(), b.proj.data(), n_x);
}

void DeepSeek2DecoderLayer(const ModelConfig& c, const LayerWeights& l, bool moe, const RopeTable& rope,
                           MlaCache& cache, int32_t il_cache, int32_t pos0, int32_t n_tokens, MlaForm form,
                           ForwardBuffers& b, ThreadPool* pool) {
  SeqSegment one;
  one.mla = &cache;
  one.rope = &rope;
  one.mla_form = form;
  one.n_tokens = n_tokens;
  one.pos0 = pos0;
  DeepSeek2DecoderLayer(c, l, moe, std::span<const SeqSegment>(&one, 1), il_cache, n_tokens, b, pool);
}

void DeepSeek2Forward(const ForwardPass& f) {
  const ModelConfig& c = f.config;
  for (const SeqSegment& s : f.segments) SEEK_CHECK(s.mla != nullptr);

  EmbedTokens(f);  // f.buf.x: [n_rows][n_embd]
  for (int32_t il = 0; il < c.n_layer; ++il) {
    DeepSeek2DecoderLayer(c, f.weights.layers[size_t(il)], c.layer(il).moe, f.segments, il, f.n_rows(), f.buf,
                          f.pool);
  }
  OutputLogits(f);
}

}  // namespace seek
