// Context: one sequence's KV cache, RoPE table and scratch, and the batched Eval that drives an
// architecture's forward function in micro-batches of at most kMaxBatch tokens.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "model/arch/arch.h"
#include "model/blocks/norm.h"
#include "model/model.h"
#include "model/weights.h"

namespace seek {

namespace {
constexpr int32_t kDefaultMaxCtx = 4096;
constexpr int32_t kMaxBatch = 512;  // tokens per forward call; bounds the scratch buffers
}  // namespace

struct Context::State {
  ArchForwardFn forward = nullptr;
  KvCache kv;      // llama, qwen2
  MlaCache mla;    // deepseek2
  std::vector<float> hidden;  // [n_tokens][n_embd] of the last Eval, when kept
  RopeTable rope;
  ForwardBuffers buf;
  std::vector<float> logits;  // [n_tokens or 1][n_vocab]
};

Context::Context(const Model& model, int32_t n_ctx, ThreadPool* pool, KvType kv_type)
    : model_(model), pool_(pool), n_ctx_(n_ctx), kv_type_(kv_type), state_(std::make_unique<State>()) {
  const ModelConfig& c = model.config();
  if (n_ctx_ <= 0) n_ctx_ = c.n_ctx_train > 0 ? std::min(c.n_ctx_train, kDefaultMaxCtx) : kDefaultMaxCtx;
  state_->forward = FindArchForward(c.arch);
  // The cache layout is the architecture's: DeepSeek2 stores only the MLA latent and the RoPE key.
  if (c.arch == ModelArch::kDeepSeek2) {
    CheckKvType(kv_type, c.mla.kv_lora_rank, "kv_lora_rank");
    CheckKvType(kv_type, c.mla.qk_rope_head_dim, "qk_rope_head_dim");
    state_->mla.Allocate(c.n_layer, n_ctx_, c.mla.kv_lora_rank, c.mla.qk_rope_head_dim, kv_type);
  } else {
    CheckKvType(kv_type, c.head_dim, "head_dim");
    state_->kv.Allocate(c.n_layer, n_ctx_, c.kv_dim(), kv_type);
  }
  const TensorView& freqs = model.weights().rope_freqs;
  state_->rope = RopeTable(c.rope, freqs.data ? F32Data(freqs) : nullptr, n_ctx_);
  state_->buf.Allocate(c, std::min(kMaxBatch, n_ctx_));
}

Context::~Context() = default;

void Context::Truncate(int32_t n) {
  if (n < 0) Fail("Context::Truncate: negative position %d", n);
  n_past_ = std::min(n_past_, n);
}

std::span<const float> Context::Eval(std::span<const int32_t> tokens, bool all_logits) {
  const ModelConfig& c = model_.config();
  const int64_t n = int64_t(tokens.size());
  if (n == 0) Fail("Context::Eval: no tokens");
  if (n_past_ + n > n_ctx_) {
    Fail("context overflow: %d tokens in the cache + %lld new > n_ctx = %d", n_past_,
         static_cast<long long>(n), n_ctx_);
  }
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[size_t(i)] < 0 || tokens[size_t(i)] >= c.n_vocab) {
      Fail("token id %d at index %lld is out of range [0, %d)", tokens[size_t(i)], static_cast<long long>(i),
           c.n_vocab);
    }
  }
  State& s = *state_;
  const int64_t n_vocab = c.n_vocab;
  s.logits.resize(size_t((all_logits ? n : 1) * n_vocab));
  if (keep_hidden_) s.hidden.resize(size_t(n * c.n_embd));
  for (int64_t start = 0; start < n; start += s.buf.capacity) {
    const int32_t n_chunk = int32_t(std::min<int64_t>(s.buf.capacity, n - start));
    const bool last_chunk = start + n_chunk == n;
    const int32_t n_logits = all_logits ? n_chunk : (last_chunk ? 1 : 0);
    float* logits = s.logits.data() + (all_logits ? start * n_vocab : 0);
    ForwardPass f{c,
                  model_.weights(),
                  s.kv,
                  s.rope,
                  s.buf,
                  pool_,
                  tokens.subspan(size_t(start), size_t(n_chunk)),
                  n_past_,
                  n_logits,
                  logits,
                  &s.mla,
                  mla_form_};
    s.forward(f);
    if (keep_hidden_) {  // the final residual stream of every token, after output_norm
      RmsNormRows(s.buf.x.data(), model_.weights().output_norm, s.hidden.data() + start * c.n_embd, n_chunk,
                  c.norm_eps);
    }
    n_past_ += n_chunk;
  }
  return s.logits;
}

std::span<const float> Context::hidden_states() const {
  if (!keep_hidden_) Fail("Context::hidden_states: call set_keep_hidden_states(true) before Eval");
  return state_->hidden;
}

}  // namespace seek
