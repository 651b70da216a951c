// Speculative decoding: a cheap Drafter guesses the next few tokens, the target model checks all of them in one
// batched Context::Eval, and every guess the target agrees with is a token gained for the price of one forward
// pass. On a CPU a decode step is bound by reading the weights, so evaluating k+1 tokens costs little more
// than evaluating one.
//
// One verification step (Generate in runtime/generate.cc runs it):
//   1. the drafter proposes d_1..d_k to follow the sequence so far (prompt + committed tokens); k comes from
//      DraftBudget (adaptive, at most SpeculativeOptions::n_draft) and the n_predict / context limits;
//   2. Eval([t, d_1..d_k], all_logits) where t is the last committed token (not yet in the KV cache):
//      row i holds the target's logits for the token after d_i (row 0: after t);
//   3. for i = 0..k: pick y_i from row i with ChooseToken (below); commit y_i; stop at the first y_i != d_{i+1}.
//      The step yields accepted + 1 tokens (the last one is the target's own: a correction or a bonus token);
//   4. Context::Truncate drops the KV entries of the rejected drafts.
// Greedy decoding gives exactly the tokens of plain decoding, because ChooseToken on a row is the plain sampler
// on that row and Context computes each row the same way whatever the batch size (tests/model/context_test.cc
// checks this bit for bit). With temperature > 0 the output has the target's distribution (see ChooseToken).
//
// Drafters:
//   - NgramDrafter: prompt-lookup decoding (no second model): find the most recent earlier occurrence of the
//     last n tokens, n = ngram_max..ngram_min, and propose what followed it. Shines when the output copies
//     from the context: document Q&A, code edits, summaries quoting the source, multi-turn chat.
//   - MtpDrafter (runtime/speculative_mtp.h): DeepSeek-V3's NextN / multi-token-prediction layer, one draft per
//     step from the target's own hidden state. It needs the target's final hidden rows of the committed
//     positions: Generate turns on Context::set_keep_hidden_states and passes them through
//     Drafter::AcceptHidden (prompt chunks, then the kept rows of each verification Eval); the verifier is
//     unchanged.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/sampler.h"

namespace seek {

// Proposes tokens to follow a sequence. It sees the whole sequence: Reset with the prompt, then Accept with
// each committed token (never a rejected draft).
class Drafter {
 public:
  virtual ~Drafter() = default;
  // Starts over with `tokens` as the sequence so far.
  virtual void Reset(std::span<const int32_t> tokens) = 0;
  // Appends one committed token to the sequence.
  virtual void Accept(int32_t token) = 0;
  // Appends up to max_draft guesses for the tokens after the sequence to `out` (cleared first); none when
  // the drafter has no good guess (the step is then a plain decode step).
  virtual void Propose(int32_t max_draft, std::vector<int32_t>& out) = 0;
  // Drafters that read the target's final hidden states (MtpDrafter) say so; Generate then keeps them and
  // calls AcceptHidden with the rows of positions [pos, pos + n) of the committed sequence, in order,
  // each position once per evaluation (rows: [n][n_embd], after the output norm).
  virtual bool wants_hidden() const { return false; }
  virtual void AcceptHidden(int32_t /*pos*/, std::span<const float> /*rows*/) {}
};

// Prompt-lookup decoding. For each n in [n_min, n_max] an index maps every n-gram of the sequence that has a
// successor to the position just after its most recent occurrence; Accept updates it in O(n_max) and Propose
// looks up the current suffix, longest n first (a longer match predicts better), in O(n_max + max_draft).
// The draft is copied from the matched position onward; when the copy runs into the end of the sequence it
// continues from its own output (as an LZ77 copy does), so a repeating cycle shorter than max_draft is still
// proposed in full.
class NgramDrafter final : public Drafter {
 public:
  NgramDrafter(int32_t n_min, int32_t n_max);  // 1 <= n_min <= n_max <= kMaxN
  static constexpr int32_t kMaxN = 16;

  void Reset(std::span<const int32_t> tokens) override;
  void Accept(int32_t token) override;
  void Propose(int32_t max_draft, std::vector<int32_t>& out) override;

  // The position after the most recent earlier occurrence of the last n tokens, or -1. ("Earlier": the
  // suffix itself does not count, it has no successor yet.) For tests and Propose.
  int64_t Lookup(int32_t n) const;
  const std::vector<int32_t>& tokens() const { return tokens_; }

 private:
  uint64_t Hash(size_t begin, int32_t n) const;  // hash of tokens_[begin, begin + n)
  // Records the n-grams that end just before position `pos` (tokens_[pos] is their successor).
  void IndexSuccessor(size_t pos);

  int32_t n_min_, n_max_;
  std::vector<int32_t> tokens_;
  // index_[n - n_min_]: n-gram hash -> position of the token that followed its most recent occurrence.
  std::vector<std::unordered_map<uint64_t, int64_t>> index_;
};

// --- the verifier ---

// The speculative-sampling rule for a deterministic draft (Leviathan, Kalman, Matias 2023, "Fast Inference
// from Transformers via Speculative Decoding", Algorithm 1; Chen et al. 2023, "Accelerating LLM Decoding with
// Speculative Sampling"): with draft distribution q and target p, accept the draft d with probability
// min(1, p(d)/q(d)), else draw from norm(max(p - q, 0)). A drafter that proposes one token for certain has
// q = point mass on d, so: accept with probability p(d); on rejection draw from p with d removed,
// renormalised. The result is distributed exactly as p. Pure functions of the distribution and the uniform
// variates, so the rule is testable without a model.
//
// dist: the target's distribution (tokens with probabilities summing to 1), as Sampler::Distribution gives it.
// u in [0, 1).
bool AcceptDraft(std::span<const TokenProb> dist, int32_t draft, double u);
// A draw from dist with `draft` removed and the rest renormalised. Never returns draft unless it is the only
// token with non-zero probability (then AcceptDraft always accepts, and this is not called).
int32_t SampleResidual(std::span<const TokenProb> dist, int32_t draft, double u);

// Picks the target's token for one verification row (row: logits[n_vocab], may be modified) given the draft
// for that position (-1: none, e.g. the bonus row after the last draft). Returns the token; it equals the
// draft exactly when the draft is accepted.
//   - no draft: sampler.Sample(row), so a step without drafts is plain decoding, bit for bit and RNG draw for
//     RNG draw;
//   - greedy: sampler.Sample(row) (the argmax after penalties), compared with the draft;
//   - temperature > 0: Sampler::Distribution (the same chain: bias, penalties, top-k/top-p/min-p,
//     temperature), then AcceptDraft / SampleResidual with the sampler's own RNG stream, so a seed reproduces
//     a run. The sampled sequence differs from plain decoding with the same seed (more variates are drawn),
//     but its distribution is the same.
// The caller must Accept() each committed token into the sampler before choosing the next row, so the
// penalties see the same history as in plain decoding.
int32_t ChooseToken(Sampler& sampler, std::span<float> row, int32_t draft, std::vector<TokenProb>& scratch);

// --- options and statistics ---

enum class DraftKind { kNone, kNgram, kMtp };
const char* DraftKindName(DraftKind k);  // "none", "ngram", "mtp"
// "none" / "ngram" / "mtp" -> kind; throws seek::Error naming the valid choices otherwise.
DraftKind ParseDraftKind(const std::string& name);

struct SpeculativeOptions {
  DraftKind kind = DraftKind::kNone;
  int32_t n_draft = 8;    // most draft tokens per verification step
  bool adaptive = true;   // DraftBudget: fewer drafts (or none) after rejections, more after full acceptance
  int32_t ngram_min = 1;  // NgramDrafter's n range: the longest suffix that matches wins
  int32_t ngram_max = 3;
  // A drafter supplied by the caller (not owned), used instead of `kind` when set: tests' mock drafters,
  // later the MtpDrafter, which needs the model.
  Drafter* drafter = nullptr;

  bool enabled() const { return drafter != nullptr || kind != DraftKind::kNone; }
};

// How many drafts to check next. A verification step of 1 + k tokens costs more than a plain step (with the
// current matmul kernels nearly in proportion to k, docs/BENCHMARKS.md "Speculative decoding"), so drafts that
// keep failing make decoding slower. The schedule: start at 2; double after a fully accepted step (copy runs
// tend to go on), else ask for one more than were just accepted (the run length is the evidence); after a
// step that accepts nothing, also skip drafting for 1, 2, 4 .. 16 steps (reset by any acceptance). In the
// spirit of Hugging Face's assisted-generation "heuristic" schedule, tuned on speculative_bench. It depends
// only on past acceptances, never on timing, so seeded sampling stays reproducible (and greedy output never
// depends on it).
class DraftBudget {
 public:
  explicit DraftBudget(int32_t n_draft, bool adaptive = true);
  // Drafts to ask for at this step (0: skip drafting); call once per step.
  int32_t Next();
  // Reports a verified step that checked `drafted` > 0 drafts and accepted `accepted` of them.
  void Update(int32_t drafted, int32_t accepted);

 private:
  static constexpr int32_t kFirst = 2, kMaxBackoff = 16;
  int32_t n_draft_, k_;
  bool adaptive_;
  int32_t backoff_ = 0, skip_ = 0;
};

// Builds the drafter `o.kind` names (nullptr for kNone). Throws seek::Error on a bad n range, and for kMtp,
// which needs the model: use MakeModelDrafter (runtime/speculative_mtp.h).
std::unique_ptr<Drafter> MakeDrafter(const SpeculativeOptions& o);

struct SpeculativeStats {
  int64_t n_steps = 0;        // verification Evals after the prompt (each is one target forward pass)
  int64_t n_drafted = 0;      // draft tokens evaluated
  int64_t n_accepted = 0;     // draft tokens the target agreed with
  int64_t n_step_tokens = 0;  // tokens committed from verification rows (all but the first generated token)

  // accepted / drafted (0 when nothing was drafted).
  double acceptance_rate() const;
  // Tokens gained per target forward pass during decoding (1.0 without speculation).
  double tokens_per_step() const;
  // "drafted 120, accepted 96 (80.0%), 2.41 tokens/step over 50 steps"
  std::string Summary() const;
};

}  // namespace seek
