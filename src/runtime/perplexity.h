// Perplexity and KL-divergence of a model over a token sequence (seek perplexity), the quality gate for
// quantized models.
//
// Method (as llama.cpp's perplexity tool, so figures are comparable): the tokens are split into chunks of
// n_ctx; each chunk is evaluated in a fresh context (KV cache cleared) with logits for every position; when
// the model adds a BOS token, the first token of every chunk is replaced by BOS so each chunk starts like a
// document. Only the second half of each chunk is scored: logits at positions first = n_ctx / 2 .. n_ctx - 2
// predict the tokens at first + 1 .. n_ctx - 1, i.e. n_ctx - 1 - n_ctx / 2 predictions per chunk. Every
// scored token then has at least n_ctx / 2 tokens of context, so the figure measures the model with context,
// not its cold start.
//
// PPL = exp(mean NLL); its standard error comes from the per-token NLL spread by the delta method
// (se(PPL) = PPL * sd(NLL) / sqrt(N)), treating tokens as independent (they are not quite, so it is a guide).
//
// KL mode compares against base log-probabilities for the same tokens (from a base model evaluated alongside,
// or from a file saved by an earlier run): per scored token KL(base || model) = sum_v p_base(v) (log
// p_base(v) - log p_model(v)), reported as mean (with standard error), median, 99th and 99.9th percentiles and max, plus
// top-1 agreement (argmax equal) and the base's own PPL.
//
// Saved log-probs file (--save-logits; read back by --kl-base FILE), little-endian:
//   char magic[4] = "SKLP", u32 version = 1, u32 n_vocab, u32 n_ctx, u32 n_chunks, u32 n_tokens (= n_chunks *
//   n_ctx), i32 tokens[n_tokens] (as evaluated, BOS replacement included), then for each chunk the full
//   log-softmax rows of its scored positions: f32 [n_chunks][n_ctx - 1 - n_ctx / 2][n_vocab].
// Full fp32 rows keep KL exact; at n_vocab 49152 and n_ctx 512 that is 50 MB per chunk, so use few chunks or
// a small vocabulary (top-k storage would be the next step for big vocabularies).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "core/thread_pool.h"
#include "model/model.h"

namespace seek {

struct PerplexityOptions {
  int32_t n_ctx = 512;
  int32_t n_chunks = -1;  // -1: every full chunk of the tokens
  int32_t bos_id = -1;    // >= 0: the first token of each chunk becomes this id
  ThreadPool* pool = nullptr;
  KvType kv_type = kDefaultKvType;  // KV cache element type of the contexts
};

// Rows of scored positions per chunk (n_ctx - 1 - n_ctx / 2).
inline int32_t ScoredPerChunk(int32_t n_ctx) {
  return n_ctx - 1 - n_ctx / 2;
}

// Chunk i's tokens as evaluated (BOS replacement applied); tokens must hold at least (i + 1) * n_ctx ids.
std::vector<int32_t> ChunkTokens(std::span<const int32_t> tokens, int32_t i, const PerplexityOptions& o);

// Log-probabilities of the scored positions of chunk `i`: [ScoredPerChunk(n_ctx)][n_vocab], valid until the
// next call. Given the chunk's tokens as evaluated.
using BaseLogProbsFn = std::function<const float*(int32_t i, std::span<const int32_t> chunk)>;

struct ChunkReport {
  int32_t chunk = 0, n_chunks = 0;
  double ppl = 0;       // running PPL of the model so far
  double base_ppl = 0;  // running PPL of the base (KL mode)
  double kl_mean = 0;   // running mean KL (KL mode)
};

struct PerplexityResult {
  int32_t n_chunks = 0;
  int64_t n_scored = 0;
  double ppl = 0, ppl_se = 0, mean_nll = 0;
  bool has_base = false;
  double base_ppl = 0, base_ppl_se = 0;
  double kl_mean = 0, kl_se = 0, kl_median = 0, kl_p99 = 0, kl_p999 = 0, kl_max = 0;
  double top1_agreement = 0;  // fraction of scored tokens where argmax(model) == argmax(base)
};

// Writes the saved log-probs file; rows are appended chunk by chunk.
class LogProbsWriter {
 public:
  LogProbsWriter(const std::string& path, int32_t n_vocab, int32_t n_ctx, std::span<const int32_t> tokens);
  ~LogProbsWriter();
  void AppendChunk(const float* rows);  // [ScoredPerChunk(n_ctx)][n_vocab]
  void Finish();                        // checks every chunk was written, closes (seek::Error on failure)

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  int32_t n_vocab_, n_ctx_, n_chunks_, written_ = 0;
};

// A saved log-probs file, mmap'd.
class LogProbsFile {
 public:
  // Throws seek::Error naming the file if it is not a valid log-probs file (magic, version, sizes).
  static std::unique_ptr<LogProbsFile> Open(const std::string& path);
  // True when the file at `path` starts with the log-probs magic.
  static bool Sniff(const std::string& path);

  int32_t n_vocab() const { return n_vocab_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_chunks() const { return n_chunks_; }
  std::span<const int32_t> tokens() const { return tokens_; }
  const float* chunk(int32_t i) const;  // [ScoredPerChunk(n_ctx)][n_vocab]

 private:
  std::unique_ptr<MappedFile> map_;
  int32_t n_vocab_ = 0, n_ctx_ = 0, n_chunks_ = 0;
  std::span<const int32_t> tokens_;
  const float* rows_ = nullptr;
};

// Base log-probs from a model evaluated on the same chunks (its own context, same options).
BaseLogProbsFn BaseFromModel(const Model& base, const PerplexityOptions& o);
// Base log-probs from a saved file.
BaseLogProbsFn BaseFromFile(const LogProbsFile& file);

// Evaluates `model` over `tokens` as described above. base may be empty (no KL); save may be null. Throws
// seek::Error when there are fewer than n_ctx tokens or n_ctx < 4, or a base disagrees on the vocabulary
// size.
PerplexityResult ComputePerplexity(const Model& model, std::span<const int32_t> tokens,
                                   const PerplexityOptions& o, const BaseLogProbsFn& base,
                                   LogProbsWriter* save,
                                   const std::function<void(const ChunkReport&)>& on_chunk = nullptr);

}  // namespace seek
