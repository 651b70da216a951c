// Speculative decoding: the n-gram drafter (against a brute-force scan), the speculative-sampling rule (chi-square
// against the target distribution, with a negative control that must fail), and Generate with drafts against
// Generate without: greedy tokens identical on the tiny test models, stories260K and SmolLM2 (when present),
// stops / EOS / n_predict / context limit unchanged, seeded sampling reproducible and distributed as the target.
// Every random draw uses a fixed seed, so the statistical checks are deterministic; thresholds are the 1e-4
// upper quantile of the chi-square distribution, so a correct implementation passes for almost any seed.
#include "runtime/speculative.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/chat.h"
#include "runtime/generate.h"
#include "test_util.h"

namespace seek {
namespace {

// ---------------------------------------------------------------------------------------------------------
// NgramDrafter

std::vector<int32_t> Propose(NgramDrafter& d, int32_t k) {
  std::vector<int32_t> out;
  d.Propose(k, out);
  return out;
}

TEST(NgramDrafter, ProposesWhatFollowedTheMostRecentEarlierOccurrence) {
  NgramDrafter d(1, 3);
  d.Reset(std::vector<int32_t>{1, 2, 3, 9, 1, 2, 3, 7, 5, 1, 2, 3});
  // [1 2 3] occurs ending at positions 2 and 6 (and at the end, which does not count): the most recent is 6.
  EXPECT_EQ(d.Lookup(3), 7);
  EXPECT_EQ(Propose(d, 3), (std::vector<int32_t>{7, 5, 1}));
  EXPECT_EQ(Propose(d, 1), (std::vector<int32_t>{7}));
  EXPECT_TRUE(Propose(d, 0).empty());
}

TEST(NgramDrafter, FallsBackToShorterNGrams) {
  NgramDrafter d(1, 3);
  d.Reset(std::vector<int32_t>{4, 2, 3, 8, 6, 5, 2, 3});
  EXPECT_EQ(d.Lookup(3), -1);  // [5 2 3] is new
  EXPECT_EQ(d.Lookup(2), 3);   // [2 3] was followed by 8
  EXPECT_EQ(Propose(d, 3), (std::vector<int32_t>{8, 6, 5}));
  d.Accept(9);  // [3 9], [9] are new; nothing to propose
  EXPECT_TRUE(Propose(d, 4).empty());
  d.Accept(6);  // [6] was followed by 5
  EXPECT_EQ(d.Lookup(2), -1);
  EXPECT_EQ(d.Lookup(1), 5);
  EXPECT_EQ(Propose(d, 2), (std::vector<int32_t>{5, 2}));

  NgramDrafter strict(2, 3);  // n_min 2: a single matching token is not enough
  strict.Reset(std::vector<int32_t>{4, 2, 3, 8, 6, 5, 2, 3, 9, 6});
  EXPECT_EQ(strict.Lookup(1), -1);
  EXPECT_TRUE(Propose(strict, 2).empty());
}

TEST(NgramDrafter, CopyContinuesFromItsOwnOutput) {
  NgramDrafter d(1, 3);
  d.Reset(std::vector<int32_t>{7, 1, 2, 1, 2});
  // [1 2] was followed by 1 at position 3; the copy reaches the end after two tokens and keeps cycling.
  EXPECT_EQ(Propose(d, 5), (std::vector<int32_t>{1, 2, 1, 2, 1}));
  NgramDrafter r(1, 2);
  r.Reset(std::vector<int32_t>{5, 5});
  EXPECT_EQ(Propose(r, 4), (std::vector<int32_t>{5, 5, 5, 5}));
}

// What Propose must return, by scanning backwards: the longest n in [n_min, n_max] whose suffix occurs earlier,
// then the tokens after its most recent occurrence (copying on through the draft itself).
std::vector<int32_t> BruteForcePropose(const std::vector<int32_t>& t, int32_t n_min, int32_t n_max, int32_t k) {
  const size_t L = t.size();
  for (int32_t n = n_max; n >= n_min; --n) {
    if (L < size_t(n) + 1) continue;
    for (size_t end = L - 1; end >= size_t(n); --end) {  // candidate occurrence t[end - n, end), successor t[end]
      bool match = true;
      for (size_t i = 0; i < size_t(n); ++i) match = match && t[end - n + i] == t[L - n + i];
      if (!match) continue;
      std::vector<int32_t> seq = t;
      for (int32_t j = 0; j < k; ++j) seq.push_back(seq[end + size_t(j)]);
      return std::vector<int32_t>(seq.begin() + std::ptrdiff_t(L), seq.end());
    }
  }
  return {};
}

TEST(NgramDrafter, IncrementalIndexMatchesBruteForce) {
  std::mt19937 rng(7);
  for (int32_t vocab : {3, 6, 40}) {
    for (auto [n_min, n_max] : {std::pair{1, 3}, std::pair{2, 4}, std::pair{1, 1}}) {
      std::vector<int32_t> seq;
      for (int i = 0; i < 30; ++i) seq.push_back(int32_t(rng() % uint32_t(vocab)));
      NgramDrafter inc(n_min, n_max);
      inc.Reset(seq);
      for (int step = 0; step < 300; ++step) {
        const int32_t k = 1 + int32_t(rng() % 6);
        ASSERT_EQ(Propose(inc, k), BruteForcePropose(seq, n_min, n_max, k))
            << "vocab " << vocab << " n " << n_min << ".." << n_max << " step " << step;
        const int32_t next = int32_t(rng() % uint32_t(vocab));
        seq.push_back(next);
        inc.Accept(next);
        if (step % 97 == 0) {  // a fresh index over the same tokens agrees with the incremental one
          NgramDrafter fresh(n_min, n_max);
          fresh.Reset(seq);
          ASSERT_EQ(Propose(fresh, 5), Propose(inc, 5));
        }
      }
    }
  }
}

TEST(NgramDrafter, RejectsBadRanges) {
  EXPECT_THROW(NgramDrafter(0, 3), Error);
  EXPECT_THROW(NgramDrafter(3, 2), Error);
  EXPECT_THROW(NgramDrafter(1, NgramDrafter::kMaxN + 1), Error);
  SpeculativeOptions o;
  o.kind = ParseDraftKind("ngram");
  o.ngram_min = 4;
  o.ngram_max = 2;
  EXPECT_THROW(MakeDrafter(o), Error);
  EXPECT_THROW(ParseDraftKind("medusa"), Error);
  EXPECT_EQ(MakeDrafter(SpeculativeOptions{}), nullptr);
}

TEST(DraftBudget, GrowsOnFullAcceptanceShrinksOnRejectionBacksOffOnFailure) {
  DraftBudget b(8);
  EXPECT_EQ(b.Next(), 2);
  b.Update(2, 2);  // all accepted: double
  EXPECT_EQ(b.Next(), 4);
  b.Update(4, 4);
  EXPECT_EQ(b.Next(), 8);
  b.Update(8, 8);  // capped at n_draft
  EXPECT_EQ(b.Next(), 8);
  b.Update(8, 3);  // partly accepted: one more than the accepted run
  EXPECT_EQ(b.Next(), 4);
  b.Update(4, 0);  // nothing accepted: one draft, after skipping one step
  EXPECT_EQ(b.Next(), 0);
  EXPECT_EQ(b.Next(), 1);
  b.Update(1, 0);  // again: skip two steps
  EXPECT_EQ(b.Next(), 0);
  EXPECT_EQ(b.Next(), 0);
  EXPECT_EQ(b.Next(), 1);
  for (int i = 0; i < 10; ++i) {  // the back-off doubles up to 16 steps
    b.Update(1, 0);
    while (b.Next() == 0) continue;
  }
  b.Update(1, 0);
  int skipped = 0;
  while (b.Next() == 0) ++skipped;
  EXPECT_EQ(skipped, 16);
  b.Update(1, 1);  // any acceptance resets the back-off
  b.Update(2, 0);
  EXPECT_EQ(b.Next(), 0);
  EXPECT_EQ(b.Next(), 1);

  DraftBudget fixed(5, /*adaptive=*/false);
  EXPECT_EQ(fixed.Next(), 5);
  fixed.Update(5, 0);
  EXPECT_EQ(fixed.Next(), 5);
}

// ---------------------------------------------------------------------------------------------------------
// The acceptance rule

// Upper 1e-4 quantile of chi-square with df degrees of freedom (Wilson-Hilferty approximation).
double ChiSquareLimit(int df) {
  const double z = 3.719, a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Pearson's statistic of `counts` against probabilities `p` (same keys); cells expecting < 5 draws are pooled.
double ChiSquare(const std::map<int64_t, int64_t>& counts, const std::map<int64_t, double>& p, int64_t n,
                 int& df) {
  double stat = 0, pooled_expected = 0, pooled_observed = 0;
  int cells = 0;
  for (const auto& [key, prob] : p) {
    const double expected = prob * double(n);
    const auto it = counts.find(key);
    const double observed = it == counts.end() ? 0.0 : double(it->second);
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += observed;
      continue;
    }
    stat += (observed - expected) * (observed - expected) / expected;
    ++cells;
  }
  for (const auto& [key, c] : counts)
    if (!p.count(key)) pooled_observed += double(c);  // outcomes the target never produces
  if (pooled_expected > 0 || pooled_observed > 0) {
    stat += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / std::max(pooled_expected, 1e-9);
    ++cells;
  }
  df = std::max(1, cells - 1);
  return stat;
}

double Uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

TEST(SpeculativeRule, AcceptAndResidual) {
  const std::vector<TokenProb> dist = {{4, 0.5}, {1, 0.3}, {7, 0.2}};
  EXPECT_TRUE(AcceptDraft(dist, 4, 0.49));
  EXPECT_FALSE(AcceptDraft(dist, 4, 0.5));
  EXPECT_FALSE(AcceptDraft(dist, 9, 0.0));  // p(9) = 0
  // Without 4 the rest is {1: 0.6, 7: 0.4}.
  EXPECT_EQ(SampleResidual(dist, 4, 0.0), 1);
  EXPECT_EQ(SampleResidual(dist, 4, 0.59), 1);
  EXPECT_EQ(SampleResidual(dist, 4, 0.61), 7);
  EXPECT_EQ(SampleResidual(dist, 4, 0.999999), 7);
  EXPECT_EQ(SampleResidual(dist, 9, 0.6), 1);  // a draft outside the support leaves p as it is
  const std::vector<TokenProb> point = {{3, 1.0}};
  EXPECT_TRUE(AcceptDraft(point, 3, 0.9999999));
  EXPECT_EQ(SampleResidual(point, 5, 0.5), 3);
}

// One draw of the rule: the draft when accepted, else a residual draw. `naive` is a wrong rule (resample from
// the full p on rejection), the negative control.
int32_t DrawWithDraft(const std::vector<TokenProb>& dist, int32_t draft, std::mt19937_64& rng, bool naive) {
  if (AcceptDraft(dist, draft, Uniform01(rng))) return draft;
  if (!naive) return SampleResidual(dist, draft, Uniform01(rng));
  const double u = Uniform01(rng);
  double cum = 0;
  for (const TokenProb& t : dist)
    if (u < (cum += t.p)) return t.id;
  return dist.back().id;
}

TEST(SpeculativeRule, OutputIsDistributedAsTheTarget) {
  const std::vector<TokenProb> dist = {{0, 0.4}, {1, 0.25}, {2, 0.2}, {3, 0.1}, {4, 0.05}};
  std::map<int64_t, double> p;
  for (const TokenProb& t : dist) p[t.id] = t.p;
  std::mt19937_64 rng(2024);
  const int64_t n = 40000;
  // Every draft (including 5, outside the support) must leave the output distributed as p.
  for (int32_t draft = 0; draft <= 5; ++draft) {
    for (bool naive : {false, true}) {
      std::map<int64_t, int64_t> counts;
      for (int64_t i = 0; i < n; ++i) ++counts[DrawWithDraft(dist, draft, rng, naive)];
      int df = 0;
      const double stat = ChiSquare(counts, p, n, df);
      if (!naive || draft == 5) {  // the naive rule is right only when the draft can never be accepted
        EXPECT_LT(stat, ChiSquareLimit(df)) << "draft " << draft << (naive ? " naive" : "");
      } else {
        EXPECT_GT(stat, ChiSquareLimit(df)) << "the negative control passed: the test cannot fail, draft "
                                            << draft;
      }
    }
  }
}

SamplingParams Params(float temperature, uint64_t seed) {
  SamplingParams s;
  s.temperature = temperature;
  s.top_k = 4;
  s.top_p = 0.9f;
  s.min_p = 0.02f;
  s.repeat_penalty = 1.3f;
  s.penalty_last_n = 8;
  s.seed = seed;
  return s;
}

// Sampler::Distribution is what Sample draws from (same chain, penalties included).
TEST(SpeculativeRule, SamplerDistributionMatchesSample) {
  const std::vector<float> logits = {1.0f, 2.5f, 0.3f, 2.2f, -1.0f, 1.9f, 2.4f, 0.0f};
  Sampler s(Params(0.8f, 5), int32_t(logits.size()));
  for (int32_t t : {1, 6, 6}) s.Accept(t);  // penalise 1 and 6
  std::vector<float> l = logits;
  std::vector<TokenProb> dist;
  s.Distribution(l, dist);
  ASSERT_GE(dist.size(), 2u);
  std::map<int64_t, double> p;
  double sum = 0;
  for (const TokenProb& t : dist) p[t.id] = t.p, sum += t.p;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  std::map<int64_t, int64_t> counts;
  const int64_t n = 40000;
  for (int64_t i = 0; i < n; ++i) {
    l = logits;
    ++counts[s.Sample(l)];
  }
  int df = 0;
  const double stat = ChiSquare(counts, p, n, df);
  EXPECT_LT(stat, ChiSquareLimit(df));

  Sampler greedy(Params(0.0f, 5), int32_t(logits.size()));
  l = logits;
  greedy.Distribution(l, dist);
  ASSERT_EQ(dist.size(), 1u);
  EXPECT_EQ(dist[0].id, 1);
  EXPECT_EQ(dist[0].p, 1.0);
}

// ---------------------------------------------------------------------------------------------------------
// Generate with drafts vs without

// Proposes the continuation of a known token sequence (prompt + reference output), with a wrong token at draft
// index `corrupt_at` of every `corrupt_every`-th proposal (0: never), so both acceptance and rejection happen.
class ScriptDrafter final : public Drafter {
 public:
  ScriptDrafter(std::vector<int32_t> script, int32_t n_vocab, int corrupt_every = 0, size_t corrupt_at = 0)
      : script_(std::move(script)), n_vocab_(n_vocab), corrupt_every_(corrupt_every), corrupt_at_(corrupt_at) {}
  void Reset(std::span<const int32_t> tokens) override { pos_ = tokens.size(); }
  void Accept(int32_t) override { ++pos_; }
  void Propose(int32_t max_draft, std::vector<int32_t>& out) override {
    out.clear();
    for (size_t i = pos_; i < script_.size() && out.size() < size_t(max_draft); ++i) out.push_back(script_[i]);
    ++calls_;
    if (corrupt_every_ > 0 && calls_ % corrupt_every_ == 0 && corrupt_at_ < out.size())
      out[corrupt_at_] = (out[corrupt_at_] + 1) % n_vocab_;
  }

 private:
  std::vector<int32_t> script_;
  int32_t n_vocab_;
  int corrupt_every_;
  size_t corrupt_at_;
  size_t pos_ = 0;
  int calls_ = 0;
};

// Always proposes the same tokens.
class FixedDrafter final : public Drafter {
 public:
  explicit FixedDrafter(std::vector<int32_t> draft) : draft_(std::move(draft)) {}
  void Reset(std::span<const int32_t>) override {}
  void Accept(int32_t) override {}
  void Propose(int32_t max_draft, std::vector<int32_t>& out) override {
    out.assign(draft_.begin(), draft_.begin() + std::min<std::ptrdiff_t>(max_draft, std::ptrdiff_t(draft_.size())));
  }

 private:
  std::vector<int32_t> draft_;
};

struct GenRun {
  GenerateResult r;
  std::vector<int32_t> history;
  int32_t n_past = 0;
};

GenRun Gen(const Model& model, std::span<const int32_t> prompt, const GenerateOptions& go, const SamplingParams& sp,
        int32_t n_ctx = 256) {
  Context ctx(model, n_ctx, nullptr);
  Sampler sampler(sp, model.config().n_vocab);
  GenRun run;
  run.r = Generate(ctx, model.tokenizer(), sampler, run.history, prompt, go);
  run.n_past = ctx.n_past();
  return run;
}

SamplingParams Greedy() {
  SamplingParams s;
  s.temperature = 0.0f;
  s.seed = 1;
  return s;
}

GenerateOptions WithNgram(GenerateOptions go, int32_t n_draft = 4) {
  go.speculative.kind = DraftKind::kNgram;
  go.speculative.n_draft = n_draft;
  return go;
}
GenerateOptions WithDrafter(GenerateOptions go, Drafter* d, int32_t n_draft = 4) {
  go.speculative.drafter = d;
  go.speculative.n_draft = n_draft;
  return go;
}

// Same tokens, text, finish reason and KV-cache content as plain decoding.
void ExpectSameAsPlain(const GenRun& plain, const GenRun& spec, const std::string& what) {
  EXPECT_EQ(spec.r.tokens, plain.r.tokens) << what;
  EXPECT_EQ(spec.r.text, plain.r.text) << what;
  EXPECT_EQ(FinishReasonName(spec.r.finish), std::string(FinishReasonName(plain.r.finish))) << what;
  EXPECT_EQ(spec.history, plain.history) << what;
  EXPECT_EQ(spec.n_past, int32_t(spec.history.size())) << what;
}

// The tiny test models have no tokenizer: use stories260K's llama2.c one (ids 0..n_vocab-1 decode to text).
std::unique_ptr<Model> LoadTiny(const std::string& file) {
  LoadOptions lo;
  lo.tokenizer_path = test::SharedDir() + "/models/stories260K/tok512.bin";
  return Model::Load(test::TestdataDir() + "/models/" + file, lo);
}

const char* const kTinyModels[] = {"llama_tied/llama_tied-f32.gguf", "llama_untied/llama_untied-q8_0.gguf",
                                   "qwen2_bias/qwen2_bias-bf16.gguf", "llama3_rope/llama3_rope-f32.gguf",
                                   "qwen2_yarn/qwen2_yarn-f32.gguf"};

// A prompt with repeats, so the n-gram drafter has something to match from the start.
std::vector<int32_t> RepetitivePrompt(uint32_t seed, int32_t n_vocab) {
  std::mt19937 rng(seed);
  std::vector<int32_t> base;
  for (int i = 0; i < 10; ++i) base.push_back(3 + int32_t(rng() % uint32_t(n_vocab - 3)));
  std::vector<int32_t> p = {1};
  for (int r = 0; r < 2; ++r) p.insert(p.end(), base.begin(), base.end());
  p.insert(p.end(), base.begin(), base.begin() + 4);
  return p;
}

TEST(SpeculativeGenerate, GreedyIdenticalOnTinyModels) {
  SEEK_REQUIRE_SHARED();
  SpeculativeStats ngram_total, script_total;
  for (const char* file : kTinyModels) {
    const auto model = LoadTiny(file);
    const int32_t n_vocab = model->config().n_vocab;
    for (uint32_t seed : {1u, 2u, 3u}) {
      const auto prompt = RepetitivePrompt(seed, n_vocab);
      for (bool ignore_eos : {true, false}) {
        GenerateOptions go;
        go.n_predict = 40;
        go.ignore_eos = ignore_eos;
        const GenRun plain = Gen(*model, prompt, go, Greedy());
        const std::string what = std::string(file) + " seed " + std::to_string(seed);
        for (int32_t n_draft : {1, 3, 8}) {
          const GenRun ng = Gen(*model, prompt, WithNgram(go, n_draft), Greedy());
          ExpectSameAsPlain(plain, ng, what + " ngram k=" + std::to_string(n_draft));
          ngram_total.n_drafted += ng.r.speculative.n_drafted;
          ngram_total.n_accepted += ng.r.speculative.n_accepted;
        }
        // A drafter that knows the answer but lies now and then: long accepted runs and certain rejections.
        std::vector<int32_t> script = prompt;
        script.insert(script.end(), plain.r.tokens.begin(), plain.r.tokens.end());
        ScriptDrafter sd(script, n_vocab, /*corrupt_every=*/3, /*corrupt_at=*/2);
        const GenRun sr = Gen(*model, prompt, WithDrafter(go, &sd, 5), Greedy());
        ExpectSameAsPlain(plain, sr, what + " script");
        script_total.n_drafted += sr.r.speculative.n_drafted;
        script_total.n_accepted += sr.r.speculative.n_accepted;
        EXPECT_GT(sr.r.speculative.tokens_per_step(), 1.5) << what;
      }
    }
  }
  // Both outcomes happened, for the real drafter too.
  EXPECT_GT(ngram_total.n_accepted, 0);
  EXPECT_GT(ngram_total.n_drafted, ngram_total.n_accepted);
  EXPECT_GT(script_total.n_accepted, 0);
  EXPECT_GT(script_total.n_drafted, script_total.n_accepted);
}

TEST(SpeculativeGenerate, PerfectDrafterRespectsNPredict) {
  SEEK_REQUIRE_SHARED();
  const auto model = LoadTiny(kTinyModels[0]);
  const auto prompt = RepetitivePrompt(4, model->config().n_vocab);
  GenerateOptions go;
  go.ignore_eos = true;
  go.n_predict = 60;
  const GenRun full = Gen(*model, prompt, go, Greedy());
  std::vector<int32_t> script = prompt;
  script.insert(script.end(), full.r.tokens.begin(), full.r.tokens.end());
  for (int32_t n_predict : {0, 1, 2, 5, 9, 10, 11, 23}) {
    go.n_predict = n_predict;
    const GenRun plain = Gen(*model, prompt, go, Greedy());
    ScriptDrafter sd(script, model->config().n_vocab);
    GenerateOptions fixed = WithDrafter(go, &sd, 4);
    fixed.speculative.adaptive = false;  // exactly 4 drafts per step
    const GenRun spec = Gen(*model, prompt, fixed, Greedy());
    ExpectSameAsPlain(plain, spec, "n_predict " + std::to_string(n_predict));
    EXPECT_EQ(spec.r.tokens.size(), size_t(n_predict));
    // Every draft is right: each step yields its k drafts + 1, and no row is spent past n_predict.
    EXPECT_EQ(spec.r.speculative.n_accepted, spec.r.speculative.n_drafted);
    if (n_predict >= 1) {
      EXPECT_EQ(spec.r.speculative.n_step_tokens, n_predict - 1);
    }
    if (n_predict == 11) {
      EXPECT_EQ(spec.r.speculative.n_steps, 2 + 1);  // 1 + 5 + 5 tokens, then the last eval
    }
  }
}

TEST(SpeculativeGenerate, ContextLimitAsPlainDecoding) {
  SEEK_REQUIRE_SHARED();
  const auto model = LoadTiny(kTinyModels[1]);
  const auto prompt = RepetitivePrompt(5, model->config().n_vocab);
  GenerateOptions go;
  go.ignore_eos = true;
  const int32_t n_ctx = int32_t(prompt.size()) + 13;
  const GenRun plain = Gen(*model, prompt, go, Greedy(), n_ctx);
  ASSERT_EQ(plain.r.finish, FinishReason::kContext);
  std::vector<int32_t> script = prompt;
  script.insert(script.end(), plain.r.tokens.begin(), plain.r.tokens.end());
  script.resize(script.size() + 20, 5);  // the drafter would run past the end of the context
  for (int32_t n_draft : {1, 4, 6, 16}) {
    ScriptDrafter sd(script, model->config().n_vocab);
    ExpectSameAsPlain(plain, Gen(*model, prompt, WithDrafter(go, &sd, n_draft), Greedy(), n_ctx),
                      "script k=" + std::to_string(n_draft));
    ExpectSameAsPlain(plain, Gen(*model, prompt, WithNgram(go, n_draft), Greedy(), n_ctx),
                      "ngram k=" + std::to_string(n_draft));
  }
}

TEST(SpeculativeGenerate, StopsAtEosAsPlainDecoding) {
  SEEK_REQUIRE_SHARED();
  // Find a prompt whose greedy continuation ends with the end-of-text token (id 2 in the llama2.c vocabulary)
  // well before n_predict, then give the drafter the continuation past it (as if EOS were ignored).
  for (const char* file : kTinyModels) {
    const auto model = LoadTiny(file);
    const int32_t n_vocab = model->config().n_vocab;
    int found = 0;
    for (uint32_t seed = 0; seed < 60 && found < 2; ++seed) {
      std::mt19937 rng(seed);
      std::vector<int32_t> prompt = {1};
      for (int i = 0; i < 6; ++i) prompt.push_back(3 + int32_t(rng() % uint32_t(n_vocab - 3)));
      GenerateOptions go;
      go.n_predict = 30;
      const GenRun plain = Gen(*model, prompt, go, Greedy());
      if (plain.r.finish != FinishReason::kStop || plain.r.tokens.size() < 3) continue;
      ++found;
      ASSERT_EQ(plain.r.tokens.back(), model->tokenizer().eos_id());
      GenerateOptions past = go;
      past.ignore_eos = true;
      const GenRun beyond = Gen(*model, prompt, past, Greedy());
      std::vector<int32_t> script = prompt;
      script.insert(script.end(), beyond.r.tokens.begin(), beyond.r.tokens.end());
      for (int32_t n_draft : {2, 8}) {
        ScriptDrafter sd(script, n_vocab);
        const GenRun spec = Gen(*model, prompt, WithDrafter(go, &sd, n_draft), Greedy());
        ExpectSameAsPlain(plain, spec, std::string(file) + " eos");
        EXPECT_GT(spec.r.speculative.n_accepted, 0);
      }
    }
    if (found > 0) return;  // one model with an EOS case is enough
  }
  FAIL() << "no tiny model produced an end-of-text token: the EOS path went untested";
}

TEST(SpeculativeGenerate, StopStringsAsPlainDecoding) {
  SEEK_REQUIRE_SHARED();
  const auto model = Model::Load(test::SharedDir() + "/models/stories260K/stories260K.bin");
  const Tokenizer& tok = model->tokenizer();
  const auto prompt = tok.Encode("Once upon a time, there was a little girl", true);
  GenerateOptions go;
  go.n_predict = 80;
  go.ignore_eos = true;
  const GenRun full = Gen(*model, prompt, go, Greedy());
  ASSERT_GT(full.r.text.size(), 60u);
  std::vector<int32_t> script = prompt;
  script.insert(script.end(), full.r.tokens.begin(), full.r.tokens.end());
  // Stops that start, end and sit inside tokens, taken from the middle of the text.
  const std::string& t = full.r.text;
  for (const std::string& stop : {t.substr(30, 5), t.substr(45, 1), t.substr(52, 9), std::string("\x01zz")}) {
    GenerateOptions gs = go;
    gs.stop = {stop};
    const GenRun plain = Gen(*model, prompt, gs, Greedy());
    EXPECT_EQ(plain.r.text.find(stop), std::string::npos);
    for (int32_t n_draft : {3, 12}) {
      ScriptDrafter sd(script, model->config().n_vocab);
      ExpectSameAsPlain(plain, Gen(*model, prompt, WithDrafter(gs, &sd, n_draft), Greedy()), "stop " + stop);
      ExpectSameAsPlain(plain, Gen(*model, prompt, WithNgram(gs, n_draft), Greedy()), "ngram stop " + stop);
    }
  }
}

TEST(SpeculativeGenerate, SeededSamplingIsReproducible) {
  SEEK_REQUIRE_SHARED();
  const auto model = LoadTiny(kTinyModels[0]);
  const auto prompt = RepetitivePrompt(6, model->config().n_vocab);
  GenerateOptions go = WithNgram(GenerateOptions{}, 6);
  go.n_predict = 40;
  go.ignore_eos = true;
  const GenRun a = Gen(*model, prompt, go, Params(0.9f, 77));
  const GenRun b = Gen(*model, prompt, go, Params(0.9f, 77));
  EXPECT_EQ(a.r.tokens, b.r.tokens);
  EXPECT_EQ(a.r.speculative.n_accepted, b.r.speculative.n_accepted);
  EXPECT_EQ(a.n_past, int32_t(a.history.size()));
  // With drafts that are never proposed, sampling is plain sampling draw for draw.
  FixedDrafter none({});
  GenerateOptions plain;
  plain.n_predict = go.n_predict;
  plain.ignore_eos = true;
  EXPECT_EQ(Gen(*model, prompt, WithDrafter(go, &none), Params(0.9f, 78)).r.tokens,
            Gen(*model, prompt, plain, Params(0.9f, 78)).r.tokens);
}

// Speculative sampling through Generate preserves the joint distribution of the first three tokens. The
// target: a tiny model with top-k 4, top-p, min-p and a repetition penalty (so each row's distribution
// depends on the tokens committed before it); the exact joint is enumerated with Sampler::Distribution.
TEST(SpeculativeGenerate, SamplingPreservesTheTargetDistribution) {
  SEEK_REQUIRE_SHARED();
  const auto model = LoadTiny(kTinyModels[0]);
  const int32_t n_vocab = model->config().n_vocab;
  const auto prompt = RepetitivePrompt(8, n_vocab);
  SamplingParams sp = Params(1.3f, 0);

  // Exact p(t1, t2, t3).
  Context ctx(*model, 64, nullptr);
  ctx.Eval(prompt);
  std::map<int64_t, double> joint;
  std::vector<TokenProb> d1, d2, d3;
  auto dist_after = [&](const std::vector<int32_t>& prefix, std::vector<TokenProb>& out) {
    ctx.Truncate(int32_t(prompt.size()) - 1);
    std::vector<int32_t> feed = {prompt.back()};
    feed.insert(feed.end(), prefix.begin(), prefix.end());
    const auto l = ctx.Eval(feed);
    std::vector<float> row(l.begin(), l.end());
    Sampler s(sp, n_vocab);
    for (int32_t t : prompt) s.Accept(t);
    for (int32_t t : prefix) s.Accept(t);
    s.Distribution(row, out);
  };
  dist_after({}, d1);
  for (const TokenProb& a : d1) {
    dist_after({a.id}, d2);
    for (const TokenProb& b : d2) {
      dist_after({a.id, b.id}, d3);
      for (const TokenProb& c : d3) joint[(int64_t(a.id) * n_vocab + b.id) * n_vocab + c.id] = a.p * b.p * c.p;
    }
  }
  // Drafts: the likeliest second and third tokens after the likeliest first one (Distribution lists the
  // tokens in sampling order, likeliest first with top-k on), so they are often right.
  dist_after({d1[0].id}, d2);
  const int32_t best2 = d2[0].id;
  dist_after({d1[0].id, best2}, d3);
  FixedDrafter drafter({best2, d3[0].id});

  // n_predict 4, so that both drafts are checked (no row is spent past n_predict); the 4th token is ignored.
  GenerateOptions go = WithDrafter(GenerateOptions{}, &drafter, 2);
  go.n_predict = 4;
  go.ignore_eos = true;
  Context gctx(*model, 64, nullptr);
  std::vector<int32_t> history;
  std::map<int64_t, int64_t> counts;
  SpeculativeStats total;
  const int64_t n = 6000;
  for (int64_t i = 0; i < n; ++i) {
    sp.seed = uint64_t(1000 + i);
    Sampler sampler(sp, n_vocab);
    const GenerateResult r = Generate(gctx, model->tokenizer(), sampler, history, prompt, go);
    ASSERT_EQ(r.tokens.size(), 4u);
    ++counts[(int64_t(r.tokens[0]) * n_vocab + r.tokens[1]) * n_vocab + r.tokens[2]];
    total.n_drafted += r.speculative.n_drafted;
    total.n_accepted += r.speculative.n_accepted;
  }
  EXPECT_GT(total.n_accepted, n / 10);
  EXPECT_LT(total.n_accepted, total.n_drafted - n / 10);
  int df = 0;
  const double stat = ChiSquare(counts, joint, n, df);
  EXPECT_LT(stat, ChiSquareLimit(df)) << "df " << df << ", acceptance " << total.acceptance_rate();
}

// SmolLM2 through a chat session: a code-edit request, where the answer copies most of the prompt.
TEST(SpeculativeGenerate, SmolLM2GreedyIdentical) {
  if (test::SmolLM2Path().empty()) GTEST_SKIP() << "SmolLM2 GGUF not found (set SEEK_SMOLLM2)";
  const auto model = Model::Load(test::SmolLM2Path());
  const std::string request =
      "Here is a Python function:\n\n```python\ndef mean(values):\n    total = 0\n    for v in values:\n"
      "        total += v\n    return total / len(values)\n```\n\nRewrite this function with the variable "
      "`total` renamed to `acc`. Reply with the code only.";
  ThreadPool pool(2);
  GenerateOptions go;
  go.n_predict = 72;
  auto reply = [&](const GenerateOptions& o) {
    Context ctx(*model, 512, &pool);
    ChatSession chat(*model, ctx, model->chat_template(), Greedy());
    return chat.Reply(request, o);
  };
  const GenerateResult plain = reply(go);
  const GenerateResult spec = reply(WithNgram(go, 8));
  EXPECT_EQ(spec.tokens, plain.tokens);
  EXPECT_EQ(spec.text, plain.text);
  EXPECT_GT(spec.speculative.n_accepted, 0);
  EXPECT_GT(spec.speculative.n_drafted, spec.speculative.n_accepted);
  EXPECT_LT(spec.speculative.n_steps, int64_t(plain.tokens.size()) - 1);
  std::printf("SmolLM2 code edit, ngram k=8: %s\n", spec.speculative.Summary().c_str());
}

}  // namespace
}  // namespace seek
