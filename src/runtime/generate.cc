#include "runtime/generate.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/error.h"
#include "runtime/stop_matcher.h"

namespace seek {
namespace {

double Now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool IsEog(const Tokenizer& tok, int32_t id) {
  const auto& eog = tok.eog_ids();
  return std::find(eog.begin(), eog.end(), id) != eog.end() || id == tok.eos_id();
}

}  // namespace

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kContext: return "context";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

size_t CommonPrefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

GenerateResult Generate(Context& ctx, const Tokenizer& tok, Sampler& sampler, std::vector<int32_t>& history,
                        std::span<const int32_t> prompt, const GenerateOptions& options,
                        const TextCallback& on_text) {
  GenerateResult result;
  if (prompt.empty()) Fail("empty prompt: nothing to condition on");
  if (static_cast<int64_t>(prompt.size()) >= ctx.n_ctx())
    Fail("prompt is %zu tokens but the context holds %d (use -c to raise it)", prompt.size(), ctx.n_ctx());

  // Reuse the KV cache for the common prefix; always re-evaluate at least the last prompt token so that we
  // have its logits.
  size_t keep = std::min(CommonPrefix(history, prompt), prompt.size() - 1);
  keep = std::min<size_t>(keep, ctx.n_past());
  ctx.Truncate(static_cast<int32_t>(keep));
  history.resize(keep);

  sampler.Reset();
  for (int32_t id : prompt) sampler.Accept(id);

  // The drafter (speculative decoding) sees the prompt before it is evaluated, so a drafter that reads the
  // target's hidden states (MtpDrafter) gets the rows of every prompt chunk.
  const SpeculativeOptions& spec = options.speculative;
  std::unique_ptr<Drafter> owned_drafter = spec.drafter ? nullptr : MakeDrafter(spec);
  Drafter* drafter = spec.drafter ? spec.drafter : owned_drafter.get();
  const bool pass_hidden = drafter && drafter->wants_hidden();
  if (pass_hidden) ctx.set_keep_hidden_states(true);
  if (drafter) drafter->Reset(prompt);

  double t0 = Now();
  std::span<const float> logits;
  for (size_t i = keep; i < prompt.size(); i += options.prompt_chunk) {
    size_t n = std::min<size_t>(options.prompt_chunk, prompt.size() - i);
    logits = ctx.Eval(prompt.subspan(i, n));
    if (pass_hidden) drafter->AcceptHidden(static_cast<int32_t>(i), ctx.hidden_states());
    history.insert(history.end(), prompt.begin() + i, prompt.begin() + i + n);
  }
  result.n_prompt_eval = static_cast<int32_t>(prompt.size() - keep);
  double t1 = Now();
  result.prompt_seconds = t1 - t0;

  // Prime the decoder with the last prompt token, so that the first generated piece is decoded as a
  // continuation (SentencePiece decoders drop the leading space of a sequence's first piece).
  StreamDecoder decoder(tok);
  decoder.Push(prompt.back());
  decoder.Flush();
  StopMatcher stops(options.stop);
  bool stopped = false;
  auto emit = [&](const std::string& text) {
    if (text.empty()) return true;
    result.text += text;
    return on_text ? on_text(text) : true;
  };
  // Commits one generated token; false when generation ends with it (end-of-generation token, stop string,
  // cancelled). Each token goes through here one at a time, so a draft that ran ahead past a stop is never
  // emitted.
  auto commit = [&](int32_t id) {
    sampler.Accept(id);
    result.tokens.push_back(id);
    if (!options.ignore_eos && IsEog(tok, id)) {
      result.finish = FinishReason::kStop;
      return false;
    }
    std::string piece = stops.Push(decoder.Push(id), stopped);
    if (!emit(piece)) {
      result.finish = FinishReason::kCancelled;
      return false;
    }
    if (stopped) {
      result.finish = FinishReason::kStop;
      return false;
    }
    return true;
  };

  // Speculative decoding (runtime/speculative.h). Without a drafter every step is [next] -> one row, which is
  // plain token-by-token decoding.
  SpeculativeStats& stats = result.speculative;
  DraftBudget budget(spec.n_draft, spec.adaptive);

  const size_t n_vocab = logits.size();  // the prompt Eval returned one row
  std::span<const float> rows = logits;  // row i: the target's logits for the token after batch[i]
  std::vector<int32_t> batch;            // the tokens of the last Eval: [next, d_1..d_k]; empty after the prompt
  std::vector<int32_t> drafts;           // d_1..d_k: drafts[i] is checked against row i
  int32_t base = ctx.n_past();           // KV position of batch[0]
  std::vector<float> row;
  std::vector<TokenProb> scratch;
  bool done = false;
  for (;;) {
    // Verify: walk the rows, committing the target's choice, until it disagrees with a draft. `kept` counts
    // the batch tokens whose KV entries stay valid: the committed-but-unevaluated `next` always, plus each
    // accepted draft that did not end generation (a token that ends it is left out of the cache, as in plain
    // decoding).
    size_t kept = batch.empty() ? 0 : 1;
    int32_t next = -1;
    int32_t step_accepted = 0;
    for (size_t i = 0; i <= drafts.size(); ++i) {
      if (options.n_predict >= 0 && static_cast<int32_t>(result.tokens.size()) >= options.n_predict) {
        result.finish = FinishReason::kLength;
        done = true;
        break;
      }
      // Plain decoding stops once the cache is full: n_past = prompt + generated tokens by then.
      if (static_cast<int64_t>(prompt.size() + result.tokens.size()) >= ctx.n_ctx()) {
        result.finish = FinishReason::kContext;
        done = true;
        break;
      }
      const int32_t draft = i < drafts.size() ? drafts[i] : -1;
      row.assign(rows.begin() + static_cast<std::ptrdiff_t>(i * n_vocab),
                 rows.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_vocab));
      const int32_t id = ChooseToken(sampler, row, draft, scratch);
      const bool accepted = draft >= 0 && id == draft;
      if (!batch.empty()) ++stats.n_step_tokens;
      if (accepted) {
        ++stats.n_accepted;
        ++step_accepted;
      }
      if (!commit(id)) {
        done = true;
        break;
      }
      if (drafter) drafter->Accept(id);
      if (!accepted) {
        next = id;
        break;
      }
      ++kept;
    }
    // Keep batch[0, kept) in the cache; drop the rejected drafts.
    if (static_cast<int32_t>(base + kept) < ctx.n_past()) ctx.Truncate(base + static_cast<int32_t>(kept));
    if (pass_hidden && kept > 0) {
      const size_t n_embd = ctx.hidden_states().size() / batch.size();
      drafter->AcceptHidden(base, ctx.hidden_states().first(kept * n_embd));
    }
    history.insert(history.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(kept));
    if (done) break;
    if (!drafts.empty()) budget.Update(static_cast<int32_t>(drafts.size()), step_accepted);

    // Draft, bounded so that no row is wasted past n_predict and [next, drafts] fits the context.
    drafts.clear();
    if (drafter && spec.n_draft > 0) {
      int64_t k = std::min<int64_t>(budget.Next(), ctx.n_ctx() - ctx.n_past() - 1);
      if (options.n_predict >= 0)
        k = std::min<int64_t>(k, options.n_predict - static_cast<int64_t>(result.tokens.size()) - 1);
      if (k > 0) drafter->Propose(static_cast<int32_t>(k), drafts);
      if (drafts.size() > static_cast<size_t>(std::max<int64_t>(k, 0))) drafts.resize(static_cast<size_t>(k));
    }
    batch.assign(1, next);
    batch.insert(batch.end(), drafts.begin(), drafts.end());
    base = ctx.n_past();
    rows = ctx.Eval(batch, /*all_logits=*/!drafts.empty());
    ++stats.n_steps;
    stats.n_drafted += static_cast<int64_t>(drafts.size());
  }
  if (!stopped && result.finish != FinishReason::kCancelled) {
    std::string rest = stops.Push(decoder.Flush(), stopped);
    emit(rest);
    if (!stopped) emit(stops.Flush());
  }
  result.gen_seconds = Now() - t1;
  return result;
}

}  // namespace seek
