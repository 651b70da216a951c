// What an architecture's forward function receives, and the registry that maps ModelArch to it.
// Each architecture file (llama.cc, qwen2.cc, ...) builds its forward pass from model/blocks/ and reads
// top to bottom like its paper. All buffers are [n_tokens][...] rows, one row per token of the batch; a batch
// may hold several sequences (SeqSegment), each against its own KV cache, so the weights stream from memory
// once per step for all of them (continuous batching in the server).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "model/blocks/attention.h"
#include "model/blocks/mla.h"
#include "model/blocks/rope.h"
#include "model/config.h"
#include "model/weights.h"

namespace seek {

// Scratch activations for a batch of up to `capacity` rows, grown on demand (Reserve) and reused.
struct ForwardBuffers {
  int32_t capacity = 0;
  std::vector<float> x;     // [n_tokens][n_embd] residual stream
  std::vector<float> xn;    // [n_tokens][n_embd] normed input of a sub-block
  std::vector<float> q;     // [n_tokens][n_head * head_dim]
  std::vector<float> k;     // [n_tokens][n_head_kv * head_dim]
  std::vector<float> v;     // [n_tokens][n_head_kv * head_dim]
  std::vector<float> attn;  // [n_tokens][n_head * head_dim] attention output before attn_output
  std::vector<float> proj;  // [n_tokens][n_embd] sub-block output before the residual add
  std::vector<float> gate;  // [n_tokens][n_ff]
  std::vector<float> up;    // [n_tokens][n_ff]
  std::vector<float> logits;  // [rows][n_vocab] when several segments want logits (OutputLogits)

  void Allocate(const ModelConfig& c, int32_t n_tokens);
  // Allocate(c, n_tokens) unless the buffers already hold that many rows.
  void Reserve(const ModelConfig& c, int32_t n_tokens) {
    if (n_tokens > capacity) Allocate(c, n_tokens);
  }
};

// One sequence's rows within a batch: rows [row0, row0 + n_tokens) of every buffer belong to the sequence
// whose caches these are, at positions [pos0, pos0 + n_tokens). Row-wise work (matmuls, norms, MLP, MoE) runs
// on all rows of the batch at once; RoPE, the KV-cache write and attention run per segment.
struct SeqSegment {
  KvCache* kv = nullptr;          // llama, qwen2
  MlaCache* mla = nullptr;        // deepseek2: the compressed cache (kv is then unused)
  const RopeTable* rope = nullptr;
  MlaForm mla_form = MlaForm::kAuto;
  int32_t row0 = 0;               // first row of the segment in the batch
  int32_t n_tokens = 0;
  int32_t pos0 = 0;               // position of the segment's first row
  int32_t n_logits = 0;           // logits for the last n_logits rows of the segment
  float* logits = nullptr;        // [n_logits][n_vocab]
};

struct ForwardPass {
  const ModelConfig& config;
  const Model::Weights& weights;
  ForwardBuffers& buf;             // capacity >= tokens.size()
  ThreadPool* pool;
  std::span<const int32_t> tokens;  // the batch: the segments' rows concatenated (ids already validated)
  std::span<const SeqSegment> segments;  // in row order, covering every row exactly once

  int32_t n_rows() const { return int32_t(tokens.size()); }
};

using ArchForwardFn = void (*)(const ForwardPass& f);

// The forward function of an architecture (throws seek::Error if none is registered).
ArchForwardFn FindArchForward(ModelArch arch);

void LlamaForward(const ForwardPass& f);
void Qwen2Forward(const ForwardPass& f);
void DeepSeek2Forward(const ForwardPass& f);
// One DeepSeek2 decoder layer on f.buf.x ([n_rows][n_embd], updated in place) for a batch of segments; MLA's
// projections run on all rows, its attention per segment against the segment's cache layer il_cache
// (MlaAttentionBatch).
void DeepSeek2DecoderLayer(const ModelConfig& c, const LayerWeights& l, bool moe,
                           std::span<const SeqSegment> segments, int32_t il_cache, int32_t n_rows,
                           ForwardBuffers& b, ThreadPool* pool);
// The one-sequence case (also runs the MTP layer, model/nextn.h): rows [0, n_tokens) at positions from pos0.
void DeepSeek2DecoderLayer(const ModelConfig& c, const LayerWeights& l, bool moe, const RopeTable& rope,
                           MlaCache& cache, int32_t il_cache, int32_t pos0, int32_t n_tokens, MlaForm form,
                           ForwardBuffers& b, ThreadPool* pool);

// --- pieces every architecture shares ---

// buf.x[t] = token_embd row of tokens[t].
void EmbedTokens(const ForwardPass& f);
// Every segment's logits (its last n_logits rows): output_norm, then the output projection, one matmul for
// all segments.
void OutputLogits(const ForwardPass& f);
// Given buf.q/k/v projections of layer il: RoPE on q and k at each row's position, per segment the KV-cache
// write and causal GQA attention against that segment's cache, then attn_output and the residual add into
// buf.x for all rows.
void AttentionTail(const ForwardPass& f, int32_t il);
// The feed-forward sub-block of layer il: ffn_norm, SwiGLU MLP, residual add into buf.x.
void SwiGluFeedForward(const ForwardPass& f, int32_t il);
// x[i] += y[i], i in [0, n).
void AddInPlace(float* x, const float* y, int64_t n);
// Adds bias b ([n]) to each of n_tokens rows of x ([n_tokens][n]).
void AddBiasRows(float* x, const TensorView& b, int32_t n_tokens);

}  // namespace seek
