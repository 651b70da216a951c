// The generation loop: evaluates a prompt in chunks, then samples token by token until an end-of-generation
// token, a stop string, the token limit or the context limit. Text is produced through a StreamDecoder, so a
// callback never sees a broken UTF-8 sequence. With GenerateOptions::speculative, each decode step checks a
// drafter's guesses in one batched Eval (runtime/speculative.h); tokens are still committed one at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"
#include "runtime/sampler.h"
#include "runtime/speculative.h"

namespace seek {

enum class FinishReason { kStop, kLength, kContext, kCancelled };
const char* FinishReasonName(FinishReason r);  // "stop", "length", "context", "cancelled"

struct GenerateOptions {
  int32_t n_predict = -1;                // -1: until EOG or the context is full
  std::vector<std::string> stop;         // stop strings (not included in the output)
  bool ignore_eos = false;
  int32_t prompt_chunk = 256;            // tokens per prefill Eval call
  // Speculative decoding (runtime/speculative.h): off by default. Greedy output is the same token for token
  // with it on; sampled output has the same distribution. Stops, EOS and n_predict behave as without it.
  SpeculativeOptions speculative;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (including a final EOG token, if any)
  std::string text;             // generated text (without the EOG token's text or a stop string)
  FinishReason finish = FinishReason::kStop;
  int32_t n_prompt_eval = 0;    // prompt tokens actually evaluated (after prefix reuse)
  double prompt_seconds = 0, gen_seconds = 0;
  SpeculativeStats speculative;  // drafted / accepted counts and forward passes (steps) of the decode phase
};

// Called with each new piece of text; return false to stop (FinishReason::kCancelled).
using TextCallback = std::function<bool(std::string_view piece)>;

// Evaluates `prompt` on top of what `ctx` already holds: the longest common prefix of `history` (the ids now
// in ctx) and `prompt` is kept and only the rest is evaluated. On return `history` holds every id in ctx.
// The sampler sees every prompt token (Accept) for its penalties.
GenerateResult Generate(Context& ctx, const Tokenizer& tok, Sampler& sampler, std::vector<int32_t>& history,
                        std::span<const int32_t> prompt, const GenerateOptions& options,
                        const TextCallback& on_text = nullptr);

// Length of the longest common prefix of a and b.
size_t CommonPrefix(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace seek
