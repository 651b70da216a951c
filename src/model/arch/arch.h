// What an architecture's forward function receives, and the registry that maps ModelArch to it.
// Each architecture file (llama.cc, qwen2.cc, ...) builds its forward pass from model/blocks/ and reads
// top to bottom like its paper. All buffers are [n_tokens][...] rows, one row per token of the batch.
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

// Scratch activations for a batch of up to `capacity` tokens, allocated once per Context.
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

  void Allocate(const ModelConfig& c, int32_t n_tokens);
};

struct ForwardPass {
  const ModelConfig& config;
  const Model::Weights& weights;
  KvCache& kv;
  const RopeTable& rope;
  ForwardBuffers& buf;
  ThreadPool* pool;
  std::span<const int32_t> tokens;  // the batch (ids already validated)
  int32_t pos0;                     // position of tokens[0]
  int32_t n_logits;                 // logits for the last n_logits tokens of the batch
  float* logits;                    // [n_logits][n_vocab]
  MlaCache* mla = nullptr;          // DeepSeek2: the compressed cache (kv is then unused)
  MlaForm mla_form = MlaForm::kAuto;
};

using ArchForwardFn = void (*)(const ForwardPass& f);

// The forward function of an architecture (throws seek::Error if none is registered).
ArchForwardFn FindArchForward(ModelArch arch);

void LlamaForward(const ForwardPass& f);
void Qwen2Forward(const ForwardPass& f);
void DeepSeek2Forward(const ForwardPass& f);
// One DeepSeek2 decoder layer on f.buf.x ([n_tokens][n_embd], updated in place); also runs the MTP layer.
void DeepSeek2DecoderLayer(const ModelConfig& c, const LayerWeights& l, bool moe, const RopeTable& rope,
                           MlaCache& cache, int32_t il_cache, int32_t pos0, int32_t n_tokens, MlaForm form,
                           ForwardBuffers& b, ThreadPool* pool);

// --- pieces every architecture shares ---

// buf.x[t] = token_embd row of tokens[t].
void EmbedTokens(const ForwardPass& f);
// logits of the last n_logits rows: output_norm, then the output projection.
void OutputLogits(const ForwardPass& f);
// Given buf.q/k/v projections of layer il: RoPE on q and k, KV-cache write, causal GQA attention,
// attn_output, and the residual add into buf.x.
void AttentionTail(const ForwardPass& f, int32_t il);
// The feed-forward sub-block of layer il: ffn_norm, SwiGLU MLP, residual add into buf.x.
void SwiGluFeedForward(const ForwardPass& f, int32_t il);
// x[i] += y[i], i in [0, n).
void AddInPlace(float* x, const float* y, int64_t n);
// Adds bias b ([n]) to each of n_tokens rows of x ([n_tokens][n]).
void AddBiasRows(float* x, const TensorView& b, int32_t n_tokens);

}  // namespace seek
