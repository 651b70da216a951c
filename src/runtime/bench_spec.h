// seek bench --draft: speculative decoding against plain decoding in the same run.
//
// Method: the prompt (a file's text, tokenized as `seek run` does, or the built-in document-summary prompt
// below) is decoded greedily for n_gen tokens (EOS ignored), once plainly and once with the drafter, per
// round; the order alternates every round so both see the same machine noise; figures are medians over the
// rounds. Each run prefills the prompt from an empty cache (untimed: Generate times the prompt apart) and
// times the decode phase only. Both modes must produce the same tokens (greedy speculation is exact); a
// difference is reported (identical = false), never hidden.
//
// Reported: plain and effective decode tok/s (generated tokens / decode seconds), the speed-up (ratio of the
// medians), the acceptance rate, accepted drafts and tokens per target forward pass, and against the
// bandwidth bound: effective tok/s x decode bytes per token (ModelCost) as an "effective GB/s", which exceeds
// the machine's measured read bandwidth exactly when speculation beats the bound plain decoding is held to.
#pragma once
#include <cstdint>
#include <string>

#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/bench.h"
#include "runtime/machine_limits.h"
#include "runtime/speculative.h"

namespace seek {

// The built-in prompt: a short technical document and a request to summarise it quoting its key sentences,
// the document-summary workload where prompt lookup copies spans of the prompt.
extern const char* const kDocSummaryPrompt;

struct SpecBenchOptions {
  SpeculativeOptions speculative;  // kind ngram or mtp (others as SpeculativeOptions)
  std::string prompt;              // text; empty: kDocSummaryPrompt
  std::string prompt_name;         // for the report ("built-in document summary", a file name)
  int32_t n_gen = 128;
  int32_t repetitions = 5;
};

struct SpecBenchResult {
  std::string draft, prompt_name;
  int32_t n_prompt = 0, n_gen = 0;
  Stats plain_tok_s, spec_tok_s;
  SpeculativeStats stats;  // summed over the speculative runs
  bool identical = true;   // every speculative run produced the plain run's tokens
  double speedup() const { return plain_tok_s.median > 0 ? spec_tok_s.median / plain_tok_s.median : 0; }
  double accepted_per_step() const;  // accepted drafts per verification step
};

SpecBenchResult RunSpecBench(const Model& model, ThreadPool& pool, const SpecBenchOptions& options,
                             void (*progress)(const char* step) = nullptr);

// A markdown section; cost gives the bytes per token (bandwidth columns), machine the measured bandwidth.
std::string SpecBenchMarkdown(const SpecBenchResult& r, const ModelCost& cost, const MachineLimits* machine);

}  // namespace seek
