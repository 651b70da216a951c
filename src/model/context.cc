// Context: one sequence's KV cache, RoPE table and scratch, and EvalBatch, which drives an architecture's
// forward function over the chunks of one or more sequences in passes of at most kMaxBatch rows.
// Context::Eval is the one-chunk case of EvalBatch, so there is one code path.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "core/error.h"
#include "model/arch/arch.h"
#include "model/blocks/norm.h"
#include "model/model.h"
#include "model/weights.h"

namespace seek {

namespace {
constexpr int32_t kDefaultMaxCtx = 4096;
constexpr int32_t kMaxBatch = 512;  // rows per forward pass; bounds the scratch buffers
}  // namespace

struct Context::State {
  ArchForwardFn forward = nullptr;
  KvCache kv;                 // llama, qwen2
  MlaCache mla;               // deepseek2
  std::vector<float> hidden;  // [n_tokens][n_embd] of the last Eval, when kept
  RopeTable rope;
  ForwardBuffers buf;         // used when this context leads a batch (chunks[0])
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
    state_->kv.Allocate(c.n_layer, n_ctx_, c.n_head_kv, c.head_dim, kv_type);
  }
  const TensorView& freqs = model.weights().rope_freqs;
  state_->rope = RopeTable(c.rope, freqs.data ? F32Data(freqs) : nullptr, n_ctx_);
  // Scratch buffers are sized by the first batches (ForwardBuffers::Reserve in EvalBatch): a server slot that
  // only ever decodes inside other slots' batches never allocates them.
}

Context::~Context() = default;

void Context::Truncate(int32_t n) {
  if (n < 0) Fail("Context::Truncate: negative position %d", n);
  n_past_ = std::min(n_past_, n);
}

void Context::CheckEval(std::span<const int32_t> tokens) const {
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
}

std::span<const float> Context::Eval(std::span<const int32_t> tokens, bool all_logits) {
  const SeqChunk chunk{this, tokens, all_logits ? ChunkLogits::kAll : ChunkLogits::kLast};
  return EvalBatch(std::span<const SeqChunk>(&chunk, 1))[0];
}

std::span<const float> Context::hidden_states() const {
  if (!keep_hidden_) Fail("Context::hidden_states: call set_keep_hidden_states(true) before Eval");
  return state_->hidden;
}

std::vector<std::span<const float>> EvalBatch(std::span<const SeqChunk> chunks) {
  if (chunks.empty()) Fail("EvalBatch: no chunks");
  // Validate everything before any context changes.
  if (!chunks[0].ctx) Fail("EvalBatch: chunk 0 has no context");
  const Model& model = chunks[0].ctx->model_;
  std::unordered_set<const Context*> seen;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SeqChunk& ch = chunks[i];
    if (!ch.ctx) Fail("EvalBatch: chunk %zu has no context", i);
    if (&ch.ctx->model_ != &model) Fail("EvalBatch: chunk %zu belongs to another model than chunk 0", i);
    if (!seen.insert(ch.ctx).second) Fail("EvalBatch: chunk %zu repeats the context of an earlier chunk", i);
    try {
      ch.ctx->CheckEval(ch.tokens);
    } catch (const Error& e) {
      if (chunks.size() == 1) throw;  // Context::Eval: the message as it always was
      Fail("EvalBatch: chunk %zu: %s", i, e.what());
    }
  }

  const ModelConfig& c = model.config();
  const int64_t n_vocab = c.n_vocab, n_embd = c.n_embd;
  // The scratch of the context that already holds the largest buffers, so that a server's batches keep
  // reusing one set instead of growing one per slot.
  Context* lead = chunks[0].ctx;
  for (const SeqChunk& ch : chunks)
    if (ch.ctx->state_->buf.capacity > lead->state_->buf.capacity) lead = ch.ctx;
  ForwardBuffers& buf = lead->state_->buf;
  int64_t n_rows_total = 0;
  for (const SeqChunk& ch : chunks) n_rows_total += int64_t(ch.tokens.size());
  std::vector<int32_t> n_past0(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    Context::State& s = *chunks[i].ctx->state_;
    const int64_t n = int64_t(chunks[i].tokens.size());
    n_past0[i] = chunks[i].ctx->n_past_;
    s.logits.resize(size_t((chunks[i].logits == ChunkLogits::kAll ? n : 1) * n_vocab));
    if (chunks[i].ctx->keep_hidden_) s.hidden.resize(size_t(n * n_embd));
  }

  try {
    buf.Reserve(c, int32_t(std::min<int64_t>(n_rows_total, kMaxBatch)));
    std::vector<int32_t> tokens;
    std::vector<SeqSegment> segments;
    std::vector<size_t> segment_chunk;   // chunk index of each segment
    std::vector<int64_t> segment_start;  // first token of each segment within its chunk
    size_t chunk = 0;
    int64_t done = 0;  // tokens of chunks[chunk] already evaluated
    while (chunk < chunks.size()) {
      // Fill one pass with up to buf.capacity rows, splitting a chunk at the boundary if need be.
      tokens.clear();
      segments.clear();
      segment_chunk.clear();
      segment_start.clear();
      while (chunk < chunks.size() && int32_t(tokens.size()) < buf.capacity) {
        const SeqChunk& ch = chunks[chunk];
        Context::State& s = *ch.ctx->state_;
        const int64_t left = int64_t(ch.tokens.size()) - done;
        const int32_t n = int32_t(std::min<int64_t>(left, buf.capacity - int64_t(tokens.size())));
        const bool ends_chunk = n == left;
        SeqSegment seg;
        seg.kv = &s.kv;
        seg.mla = &s.mla;
        seg.rope = &s.rope;
        seg.mla_form = ch.ctx->mla_form_;
        seg.row0 = int32_t(tokens.size());
        seg.n_tokens = n;
        seg.pos0 = ch.ctx->n_past_;  // advanced after each pass by the tokens evaluated in it
        switch (ch.logits) {
          case ChunkLogits::kNone:
            break;
          case ChunkLogits::kLast:
            seg.n_logits = ends_chunk ? 1 : 0;
            seg.logits = s.logits.data();
            break;
          case ChunkLogits::kAll:
            seg.n_logits = n;
            seg.logits = s.logits.data() + done * n_vocab;
            break;
        }
        tokens.insert(tokens.end(), ch.tokens.begin() + done, ch.tokens.begin() + done + n);
        segments.push_back(seg);
        segment_chunk.push_back(chunk);
        segment_start.push_back(done);
        done += n;
        if (ends_chunk) {
          ++chunk;
          done = 0;
        }
      }
      const ForwardPass f{c, model.weights(), buf, chunks[0].ctx->pool_, tokens, segments};
      lead->state_->forward(f);
      for (size_t k = 0; k < segments.size(); ++k) {
        Context& ctx = *chunks[segment_chunk[k]].ctx;
        const SeqSegment& seg = segments[k];
        if (ctx.keep_hidden_) {  // the final residual stream of every token, after output_norm
          RmsNormRows(buf.x.data() + seg.row0 * n_embd, model.weights().output_norm,
                      ctx.state_->hidden.data() + segment_start[k] * n_embd, seg.n_tokens, c.norm_eps);
        }
        ctx.n_past_ += seg.n_tokens;
      }
    }
  } catch (...) {
    for (size_t i = 0; i < chunks.size(); ++i) chunks[i].ctx->n_past_ = n_past0[i];
    throw;
  }

  std::vector<std::span<const float>> out(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].logits != ChunkLogits::kNone) out[i] = chunks[i].ctx->state_->logits;
  }
  return out;
}

}  // namespace seek
