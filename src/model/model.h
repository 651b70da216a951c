// A loaded model (weights as views over the mmap, typed config, tokenizer, chat template) and a Context that
// evaluates token sequences against one KV cache.
//
// Model::Load accepts a GGUF file, a Hugging Face folder or a llama2.c checkpoint (see formats/model_source.h).
// The architecture (llama, qwen2, mistral-style; deepseek2 later) is chosen from the metadata and built from
// shared blocks in model/blocks/, one file per architecture in model/arch/.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "formats/model_source.h"
#include "kernels/attention/kv_types.h"
#include "model/config.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace seek {

struct LoadOptions {
  ProgressFn progress;         // called while the weights are read in
  std::string tokenizer_path;  // override: a tokenizer.json, HF folder, GGUF, or llama2.c tokenizer.bin
};

class Model {
 public:
  // Throws seek::Error with a clear message (missing tensor, wrong shape, unsupported type/architecture...).
  static std::unique_ptr<Model> Load(const std::string& path, const LoadOptions& options = {});
  virtual ~Model();

  const ModelConfig& config() const { return config_; }
  const ModelSource& source() const { return *source_; }
  // Tiny test models may have no tokenizer: has_tokenizer() is false and tokenizer() throws seek::Error
  // ("model has no tokenizer; pass --tokenizer FILE").
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  const Tokenizer& tokenizer() const;
  // The Jinja chat template (GGUF tokenizer.chat_template or tokenizer_config.json chat_template); "" if none.
  const std::string& chat_template() const { return chat_template_; }
  // Sampling defaults: generation_config.json when present, else seek's defaults.
  const SamplingParams& default_sampling() const { return default_sampling_; }

  // Parameter count (elements of all weight tensors).
  int64_t n_params() const;
  // Bytes of KV cache per token of context (all layers) at element type `type` (a Context's actual type is
  // Context::kv_type()). Llama/Qwen2: n_layer * 2 (K and V) * kv_dim values; DeepSeek2 caches only the MLA
  // latent + RoPE key: n_layer * (kv_lora_rank + qk_rope_head_dim) values (V2-Lite at f16: 31,104 B).
  size_t kv_bytes_per_token(KvType type = kDefaultKvType) const;
  // Parameters read per token (one embedding row; DeepSeek2: without the unused experts and the MTP layers).
  int64_t n_active_params() const;

  // --- used by Context and the architecture files ---
  struct Weights;  // model/weights.h
  const Weights& weights() const { return *weights_; }

 protected:
  Model();
  ModelConfig config_;
  std::unique_ptr<ModelSource> source_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string chat_template_;
  SamplingParams default_sampling_;
  std::unique_ptr<Weights> weights_;
};

// Bytes of KV cache per token of context for a model of config c at element type `type` (see
// Model::kv_bytes_per_token).
size_t KvBytesPerToken(const ModelConfig& c, KvType type);

// One sequence's state: KV cache (f16 by default, or q8_0 / f32; for DeepSeek2 the compressed MLA cache,
// allocated up front for n_ctx tokens) and scratch buffers (grown on first use to the rows of the largest batch, at most 512).
class Context;

// What a chunk of a batch (EvalBatch) returns.
enum class ChunkLogits { kNone, kLast, kAll };

// A chunk of one sequence within a batch: `tokens` are evaluated at positions [ctx->n_past(), ...) and
// appended to ctx's KV cache, as ctx->Eval(tokens) would.
struct SeqChunk {
  Context* ctx = nullptr;
  std::span<const int32_t> tokens;
  ChunkLogits logits = ChunkLogits::kLast;  // kLast: the last token's n_vocab logits; kAll: a row per token
};

// Evaluates all chunks in ONE forward pass: the rows of every chunk are concatenated for the matmuls, norms,
// MLP and MoE (so the weights stream from memory once for all sequences), while RoPE, the KV-cache write and
// attention run per chunk against its own context's cache. Result i is chunk i's logits (empty for kNone),
// valid until that context evaluates again; they are the same, bit for bit, as separate Context::Eval calls
// give. Batches of more than 512 rows run in several passes, a chunk may be split between them.
// All chunks are validated first (non-null and distinct contexts of one model, tokens not empty and in range,
// no context overflow): a bad chunk throws seek::Error naming the chunk before any context changes. If the
// forward itself throws, every context is rolled back to its n_past() before the call. The thread pool is
// chunks[0].ctx's; the scratch buffers are those of the chunk's context that already has the largest.
std::vector<std::span<const float>> EvalBatch(std::span<const SeqChunk> chunks);

class Context {
 public:
  // n_ctx <= 0 means the model's training context (capped at 4096). pool may be null (single thread).
  // kv_type: the cache's element type; f32 gives the exact fp32 arithmetic (tests against HF use it). Throws
  // seek::Error when the model's head size does not fit the type (q8_0 needs multiples of 32).
  Context(const Model& model, int32_t n_ctx, ThreadPool* pool, KvType kv_type = kDefaultKvType);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Evaluates `tokens` at positions [n_past(), n_past() + tokens.size()) and appends them to the KV cache.
  // Returns the logits of the last token (n_vocab floats), or of every token (tokens.size() * n_vocab, row per
  // token) when all_logits. Throws seek::Error when the context would overflow or a token id is out of range.
  std::span<const float> Eval(std::span<const int32_t> tokens, bool all_logits = false);
  // Throws the seek::Error that Eval(tokens) would throw for bad input, without evaluating anything.
  void CheckEval(std::span<const int32_t> tokens) const;

  int32_t n_past() const { return n_past_; }
  int32_t n_ctx() const { return n_ctx_; }
  KvType kv_type() const { return kv_type_; }
  // Forgets positions >= n (KV entries are simply overwritten later).
  void Truncate(int32_t n);

  // DeepSeek2: force the naive or absorbed MLA form (default kAuto: the cheaper one per call; for tests).
  void set_mla_form(MlaForm form) { mla_form_ = form; }
  // Keep the final hidden states (after output_norm, [n_tokens][n_embd] for every token of the last Eval),
  // the input of the MTP head (model/nextn.h) in speculative decoding. Off by default.
  void set_keep_hidden_states(bool keep) { keep_hidden_ = keep; }
  std::span<const float> hidden_states() const;

 private:
  friend std::vector<std::span<const float>> EvalBatch(std::span<const SeqChunk> chunks);
  struct State;
  const Model& model_;
  ThreadPool* pool_;
  int32_t n_ctx_;
  KvType kv_type_;
  int32_t n_past_ = 0;
  MlaForm mla_form_ = MlaForm::kAuto;
  bool keep_hidden_ = false;
  std::unique_ptr<State> state_;
};

// The fp32, one-token-at-a-time reference forward pass (the oracle): dequantizes every weight to fp32 and runs
// the architecture as plainly as run.c does. Returns logits for every position of `tokens` (row per token).
std::vector<float> ReferenceForward(const Model& model, std::span<const int32_t> tokens);

}  // namespace seek
