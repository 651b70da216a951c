#include "model/nextn.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/ref/matmul.h"
#include "model/arch/arch.h"
#include "model/blocks/norm.h"
#include "model/weights.h"

namespace seek {

namespace {
constexpr int32_t kMaxBatch = 512;
}

struct NextN::State {
  MlaCache cache;  // one layer
  RopeTable rope;
  ForwardBuffers buf;
  std::vector<float> cat;     // [n][2 * n_embd]
  std::vector<float> logits;  // [n or 1][n_vocab]
};

bool NextN::Available(const Model& model, int32_t k) {
  const ModelConfig& c = model.config();
  if (c.arch != ModelArch::kDeepSeek2 || k < 0 || k >= c.n_nextn_layer) return false;
  const LayerWeights& l = model.weights().layers[size_t(c.n_layer + k)];
  return l.nextn_eh_proj.data && l.nextn_enorm.data && l.nextn_hnorm.data && l.nextn_shared_head_norm.data &&
         l.wkv_a_mqa.data && l.attn_norm.data && (l.ffn_gate_inp.data || l.ffn_gate.data);
}

NextN::NextN(const Model& model, int32_t n_ctx, ThreadPool* pool, int32_t k)
    : model_(model),
      pool_(pool),
      layer_(model.config().n_layer + k),
      n_ctx_(n_ctx),
      state_(std::make_unique<State>()) {
  if (!Available(model, k))
    Fail("%s: the model has no MTP (NextN) layer %d", model.source().path().c_str(), k);
  const ModelConfig& c = model.config();
  if (n_ctx_ <= 0) Fail("NextN: n_ctx must be positive");
  state_->cache.Allocate(1, n_ctx_, c.mla.kv_lora_rank, c.mla.qk_rope_head_dim);
  state_->rope = RopeTable(c.rope, nullptr, n_ctx_);
  state_->buf.Allocate(c, std::min(kMaxBatch, n_ctx_));
}

NextN::~NextN() = default;

void NextN::Truncate(int32_t n) {
  if (n < 0) Fail("NextN::Truncate: negative position %d", n);
  n_past_ = std::min(n_past_, n);
}

std::span<const float> NextN::Eval(std::span<const float> hidden, std::span<const int32_t> next_tokens,
                                   bool all_logits) {
  const ModelConfig& c = model_.config();
  const Model::Weights& w = model_.weights();
  const LayerWeights& l = w.layers[size_t(layer_)];
  const int64_t n = int64_t(next_tokens.size()), E = c.n_embd, n_vocab = c.n_vocab;
  if (n == 0) Fail("NextN::Eval: no tokens");
  if (int64_t(hidden.size()) != n * E)
    Fail("NextN::Eval: %zu hidden values for %lld tokens", hidden.size(), (long long)n);
  if (n_past_ + n > n_ctx_) Fail("NextN: context overflow (%d + %lld > %d)", n_past_, (long long)n, n_ctx_);
  for (int32_t t : next_tokens)
    if (t < 0 || t >= c.n_vocab) Fail("NextN::Eval: token id %d out of range", t);
  State& s = *state_;
  const TensorView& embd = l.nextn_embed_tokens.data ? l.nextn_embed_tokens : w.token_embd;
  const TensorView& head = l.nextn_shared_head_head.data ? l.nextn_shared_head_head : w.output;
  s.logits.resize(size_t((all_logits ? n : 1) * n_vocab));
  ForwardBuffers& b = s.buf;
  for (int64_t start = 0; start < n; start += b.capacity) {
    const int32_t m = int32_t(std::min<int64_t>(b.capacity, n - start));
    s.cat.resize(size_t(m * 2 * E));
    for (int32_t t = 0; t < m; ++t) {
      float* row = s.cat.data() + t * 2 * E;  // [enorm(embed(next)) ; hnorm(hidden)]
      EmbeddingRow(embd, next_tokens[size_t(start + t)], b.xn.data());
      RmsNormRows(b.xn.data(), l.nextn_enorm, row, 1, c.norm_eps);
      RmsNormRows(hidden.data() + (start + t) * E, l.nextn_hnorm, row + E, 1, c.norm_eps);
    }
    MatMul(l.nextn_eh_proj, s.cat.data(), b.x.data(), m, pool_);  // [m][n_embd]
    DeepSeek2DecoderLayer(c, l, c.layer(layer_).moe, s.rope, s.cache, 0, n_past_, m, mla_form_, b, pool_);
    const int32_t n_logits = all_logits ? m : (start + m == n ? 1 : 0);
    if (n_logits > 0) {
      RmsNormRows(b.x.data() + (m - n_logits) * E, l.nextn_shared_head_norm, b.xn.data(), n_logits,
                  c.norm_eps);
      MatMul(head, b.xn.data(), s.logits.data() + (all_logits ? start * n_vocab : 0), n_logits, pool_);
    }
    n_past_ += m;
  }
  return s.logits;
}

}  // namespace seek
