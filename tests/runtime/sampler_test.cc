// Tests of the sampler chain. All draws use fixed seeds, so every statistical check is deterministic; the
// tolerances are still chosen so that a correct sampler passes for any seed with overwhelming probability.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <vector>

namespace seek {
namespace {

SamplingParams Plain(float temperature, uint64_t seed = 42) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

// Token counts over n draws from the same logits.
std::vector<int> Histogram(const SamplingParams& p, const std::vector<float>& logits, int n) {
  Sampler s(p, static_cast<int32_t>(logits.size()));
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    ++counts[static_cast<size_t>(s.Sample(l))];
  }
  return counts;
}

std::set<int> Support(const std::vector<int>& counts) {
  std::set<int> s;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) s.insert(static_cast<int>(i));
  return s;
}

// Logits whose softmax is exactly `probs` (up to rounding).
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double q : probs) l.push_back(static_cast<float>(std::log(q)));
  return l;
}

TEST(Sampler, GreedyIsArgmaxWithLowestIdOnTies) {
  Sampler s(Plain(0.0f), 5);
  std::vector<float> l = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  EXPECT_EQ(s.Sample(l), 1);
  std::vector<float> l2 = {-5.0f, -4.0f, -1.0f, -3.0f, -1.5f};
  EXPECT_EQ(s.Sample(l2), 2);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(std::sin(i * 0.37) * 2);
  auto run = [&](uint64_t seed) {
    SamplingParams p = Plain(1.0f, seed);
    p.top_k = 100;
    p.top_p = 0.9f;
    Sampler s(p, 1000);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) {
      std::vector<float> l = logits;
      out.push_back(s.Sample(l));
    }
    return out;
  };
  EXPECT_EQ(run(1234), run(1234));
  EXPECT_NE(run(1234), run(1235));
}

TEST(Sampler, RandomSeedIsReportedAndReproduces) {
  SamplingParams p = Plain(1.0f, 0xFFFFFFFFFFFFFFFFull);
  Sampler a(p, 50);
  p.seed = a.seed();
  Sampler b(p, 50);
  std::vector<float> logits(50, 0.0f);
  for (int i = 0; i < 32; ++i) {
    std::vector<float> la = logits, lb = logits;
    EXPECT_EQ(a.Sample(la), b.Sample(lb));
  }
  // Reset restarts the RNG stream.
  Sampler c(p, 50);
  std::vector<float> l1 = logits, l2 = logits;
  const int32_t first = c.Sample(l1);
  c.Reset();
  EXPECT_EQ(c.Sample(l2), first);
}

TEST(Sampler, TopK1IsGreedy) {
  std::vector<float> logits(5000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(std::cos(i * 1.7) * 5);
  SamplingParams g = Plain(0.0f);
  Sampler greedy(g, 5000);
  std::vector<float> lg = logits;
  const int32_t want = greedy.Sample(lg);
  SamplingParams p = Plain(1.5f, 9);
  p.top_k = 1;
  Sampler s(p, 5000);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> l = logits;
    EXPECT_EQ(s.Sample(l), want);
  }
}

TEST(Sampler, TopKKeepsExactlyKHighest) {
  const std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
  SamplingParams p = Plain(1.0f);
  p.top_k = 3;
  EXPECT_EQ(Support(Histogram(p, logits, 3000)), (std::set<int>{5, 6, 7}));
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.75 keeps {0, 1}; 0.85 keeps {0, 1, 2}; 0.3 keeps {0}.
  const std::vector<float> logits = LogitsOf({0.5, 0.3, 0.15, 0.05});
  for (const auto& [top_p, want] : std::vector<std::pair<float, std::set<int>>>{
           {0.75f, {0, 1}}, {0.85f, {0, 1, 2}}, {0.3f, {0}}, {0.99f, {0, 1, 2, 3}}}) {
    SamplingParams p = Plain(1.0f);
    p.top_p = top_p;
    EXPECT_EQ(Support(Histogram(p, logits, 4000)), want) << "top_p " << top_p;
  }
  // With top-k too (the sorted prefix comes from top-k).
  SamplingParams p = Plain(1.0f);
  p.top_k = 3;
  p.top_p = 0.75f;
  EXPECT_EQ(Support(Histogram(p, logits, 4000)), (std::set<int>{0, 1}));
}

TEST(Sampler, TopPOnLargeVocabExtendsSortedPrefix) {
  // 1000 tokens of equal probability: top_p 0.5 must keep exactly 500 of them, the lowest ids (ties are
  // ordered by id), which needs two rounds of the incremental sort (256, then 512 more).
  const std::vector<float> logits(1000, 1.0f);
  SamplingParams p = Plain(1.0f);
  p.top_p = 0.5f;
  const std::vector<int> counts = Histogram(p, logits, 3000);
  const std::set<int> support = Support(counts);
  EXPECT_LE(*support.rbegin(), 499);
  EXPECT_GE(support.size(), 475u);  // each kept token is drawn 6 times on average (P(never) = e^-6)
}

TEST(Sampler, MinPDropsBelowFractionOfMax) {
  // Probabilities 0.4, 0.3, 0.2, 0.06, 0.04: min_p 0.2 drops p < 0.08, keeping {0, 1, 2}.
  const std::vector<float> logits = LogitsOf({0.4, 0.3, 0.2, 0.06, 0.04});
  SamplingParams p = Plain(1.0f);
  p.min_p = 0.2f;
  EXPECT_EQ(Support(Histogram(p, logits, 4000)), (std::set<int>{0, 1, 2}));
  p.min_p = 0.12f;  // threshold 0.048: keeps 0.06, drops 0.04
  EXPECT_EQ(Support(Histogram(p, logits, 4000)), (std::set<int>{0, 1, 2, 3}));
}

TEST(Sampler, PenaltiesChangeLogitsExactly) {
  // With temperature 0 the sampler returns the argmax of the penalised logits, so set up logits where each
  // penalty decides the winner by a known margin.
  SamplingParams p = Plain(0.0f);
  p.repeat_penalty = 2.0f;
  p.penalty_last_n = 3;
  Sampler s(p, 4);
  s.Accept(0);  // falls out of the window
  s.Accept(1);
  s.Accept(2);
  s.Accept(2);
  // Token 0 is outside the last 3, token 1: 3.0 / 2 = 1.5 < 1.6, token 2: -0.1 * 2.
  std::vector<float> l = {1.0f, 3.0f, -0.1f, 1.6f};
  EXPECT_EQ(s.Sample(l), 3);
  EXPECT_EQ(l[0], 1.0f);
  EXPECT_EQ(l[1], 1.5f);
  EXPECT_EQ(l[2], -0.2f);  // once per distinct token, not per occurrence
  EXPECT_EQ(l[3], 1.6f);

  SamplingParams q = Plain(0.0f);
  q.presence_penalty = 0.5f;
  q.frequency_penalty = 0.25f;
  q.penalty_last_n = -1;  // whole history
  Sampler t(q, 4);
  for (int32_t tok : {0, 1, 1, 1, 2}) t.Accept(tok);
  std::vector<float> l2 = {2.0f, 2.0f, 2.0f, 0.0f};
  t.Sample(l2);
  EXPECT_EQ(l2[0], 2.0f - 0.25f - 0.5f);
  EXPECT_EQ(l2[1], 2.0f - 0.75f - 0.5f);
  EXPECT_EQ(l2[2], 2.0f - 0.25f - 0.5f);
  EXPECT_EQ(l2[3], 0.0f);

  SamplingParams off = q;
  off.penalty_last_n = 0;
  Sampler u(off, 4);
  u.Accept(0);
  std::vector<float> l3 = {2.0f, 1.0f, 0.0f, 0.0f};
  u.Sample(l3);
  EXPECT_EQ(l3[0], 2.0f);
}

TEST(Sampler, LogitBiasMinusInfBansToken) {
  SamplingParams p = Plain(1.0f);
  p.logit_bias[1] = -std::numeric_limits<float>::infinity();
  p.logit_bias[2] = 1.0f;
  p.logit_bias[99] = 5.0f;  // out of range: ignored
  const std::vector<float> logits = {0.0f, 10.0f, 0.0f};
  const std::vector<int> counts = Histogram(p, logits, 2000);
  EXPECT_EQ(counts[1], 0);
  EXPECT_GT(counts[2], counts[0]);
  SamplingParams g = p;
  g.temperature = 0.0f;
  Sampler s(g, 3);
  std::vector<float> l = logits;
  EXPECT_EQ(s.Sample(l), 2);
}

// The empirical distribution at temperature 1 (and at 0.5) matches the softmax: Pearson chi-square with
// 7 degrees of freedom below 30 (p < 1e-4 for a correct sampler).
TEST(Sampler, EmpiricalDistributionMatchesSoftmax) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 0.25f, 1.5f};
  for (float temp : {1.0f, 0.5f}) {
    const int n = 40000;
    const std::vector<int> counts = Histogram(Plain(temp, 77), logits, n);
    double z = 0.0;
    std::vector<double> probs;
    for (float l : logits) probs.push_back(std::exp(l / temp));
    for (double q : probs) z += q;
    double chi2 = 0.0;
    for (size_t i = 0; i < logits.size(); ++i) {
      const double expected = n * probs[i] / z;
      chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    EXPECT_LT(chi2, 30.0) << "temperature " << temp;
  }
}

TEST(Sampler, LargeVocabTopK) {
  const int32_t n_vocab = 150000;
  std::vector<float> logits(n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i)
    logits[static_cast<size_t>(i)] = static_cast<float>(std::sin(i * 0.001) * 3);
  SamplingParams p;  // defaults: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8
  p.seed = 5;
  Sampler s(p, n_vocab);
  std::vector<float> sorted = logits;
  std::nth_element(sorted.begin(), sorted.begin() + 39, sorted.end(), std::greater<float>());
  const float kth = sorted[39];
  for (int i = 0; i < 20; ++i) {
    std::vector<float> l = logits;
    const int32_t tok = s.Sample(l);
    EXPECT_GE(logits[static_cast<size_t>(tok)], kth);
  }
}

}  // namespace
}  // namespace seek
