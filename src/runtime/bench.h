// Model speed, the way llama-bench measures it, plus what the figures mean against the machine's limits.
//
//  - pp (prefill): one Context::Eval of n_prompt random token ids from an empty cache -> tokens/s.
//  - tg (decode):  n_gen Context::Eval calls of one random token each, from an empty cache (as llama-bench's
//                  tg test does) -> tokens/s. Ids are drawn up front from a seeded generator, so no sampling
//                  and no tokenizer work is timed; the logits of the last token are computed, as in real use.
//  - depth d (-d, llama-bench's -d): every run starts from a cache that already holds d random tokens, so
//    "tg128 @ d4096" is the decode speed 4096 tokens into a conversation. The d tokens are evaluated once
//    (untimed, in batches of 512) and each run rolls the cache back to them (Context::Truncate(d)).
//  - Paired read (`paired_read`, `seek bench --paired-read`): a pass of the read-bandwidth probe just
//    before each decode run, after every kPairedReadEvery of its tokens and at its end, with the clock
//    stopped for them (each the second of two back-to-back passes, as MeasureMachine times them). The
//    run's bound is the mean of those passes, and its fraction is its decode GB/s over that bound: on a
//    shared host whose bandwidth swings by 1.5x within a second, a limit measured in another process
//    seconds away sets a run against the wrong moment. (Each pass evicts the caches, so the token after
//    it starts cold: if anything, this understates decode.)
//  - Before the timed runs, one warm-up: a prefill of min(n_prompt, 32) tokens and one decoded token
//    (pages in the mmap'd weights and warms the caches). Every run starts from an empty cache (Context::Truncate(0)).
//
// Derived figures (ModelCost states the formulas):
//  - decode GB/s = decode_bytes_per_token * tg tokens/s: the bytes of weights one decoded token streams.
//  - prefill GFLOP/s = PrefillFlops(n_prompt) / median prefill seconds.
#pragma once
#include <cstdint>
#include <string>

#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/machine_limits.h"

namespace seek {

// What one token costs, from the model's tensors.
struct ModelCost {
  uint64_t weight_bytes = 0;  // bytes of all weight tensors as stored
  // Bytes read per decoded token: every layer tensor, output_norm and output in full, and one row of
  // token_embd (the row being embedded). A tied output counts once in full. MoE: a stacked expert tensor
  // counts n_expert_used / n_expert of its bytes (the active weights); MTP layers are not counted.
  uint64_t decode_bytes_per_token = 0;
  int64_t layer_matmul_params =
      0;                      // elements of the layer matmul weights one token uses (active experts only)
  int64_t output_params = 0;  // elements of the output projection (n_embd * n_vocab)
  int64_t attn_flops_per_pair = 0;  // 4 * n_layer * n_head * head_dim: flops of QK^T and AV per (query, key)

  // Flops of one prefill of n tokens from an empty cache, logits for the last token only:
  //   2 * layer_matmul_params * n + 2 * output_params + attn_flops_per_pair * n (n + 1) / 2   (causal)
  // Norms, RoPE, softmax, SwiGLU and biases (O(n_embd) per token) are left out.
  // At depth d the n tokens also attend to the d cached ones: attn_flops_per_pair * n * d more.
  double PrefillFlops(int64_t n, int64_t depth = 0) const;
};
ModelCost ComputeModelCost(const Model& model);

struct BenchOptions {
  int32_t n_prompt = 512;           // 0 skips the prefill test
  int32_t n_gen = 128;              // 0 skips the decode test
  int32_t repetitions = 5;          // timed runs of each test
  int32_t depth = 0;                // tokens already in the cache when each run starts (llama-bench's -d)
  int32_t n_ctx = 0;                // 0: depth + n_prompt + n_gen; else at least depth + max(n_prompt, n_gen)
  uint64_t seed = 1234;             // token ids
  KvType kv_type = kDefaultKvType;  // the Context's KV cache element type
  ReadProbe* paired_read = nullptr;  // set: time read passes around and inside each decode run (above)
};

// Decoded tokens between two passes of the paired read.
inline constexpr int32_t kPairedReadEvery = 16;

struct BenchTest {
  int32_t n_tokens = 0;  // 0: not run
  Stats seconds;         // per run
  Stats tok_s;           // per run: n_tokens / seconds
  // Decode with a paired read only (else empty), per run: the mean GB/s of its read passes, and the run's
  // decode GB/s over that.
  Stats paired_read_gbps, paired_fraction;
};

struct BenchResult {
  std::string model_path, arch, type_summary;  // type_summary: "Q4_0 x155, F32 x45" by tensor count
  int64_t n_params = 0;
  uint64_t file_bytes = 0;
  ModelCost cost;
  int threads = 1;
  int32_t n_ctx = 0;
  int32_t depth = 0;
  KvType kv_type = kDefaultKvType;
  uint64_t seed = 0;
  BenchTest pp, tg;
  uint64_t peak_rss_bytes = 0;  // getrusage ru_maxrss after the runs (includes the touched mmap'd weights)

  double prefill_gflops() const;  // PrefillFlops(pp.n_tokens, depth) / pp.seconds.median / 1e9
  double decode_gbps() const;     // decode_bytes_per_token * tg.tok_s.median / 1e9
};

// Runs the tests on one Context of n_ctx tokens, emptied before each run. `progress`, if set, is told each
// step
// ("pp 3/5"). Throws seek::Error on bad options.
BenchResult RunBench(const Model& model, ThreadPool& pool, const BenchOptions& options,
                     void (*progress)(const char* step) = nullptr);

// Reports. `machine` may be null; with it, each figure also appears as a fraction of its limit.
std::string BenchMarkdown(const BenchResult* result, const MachineLimits* machine);
struct SpecBenchResult;  // runtime/bench_spec.h
// spec (with the model's cost for the bandwidth figures) adds a "speculative" object.
std::string BenchJson(const BenchResult* result, const MachineLimits* machine,
                      const SpecBenchResult* spec = nullptr, const ModelCost* cost = nullptr);

}  // namespace seek
