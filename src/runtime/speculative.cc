// Drafters, the speculative-sampling rule and the statistics (the verification loop is in generate.cc).
// Prompt-lookup decoding as in Saxena 2023, "Prompt Lookup Decoding" (github.com/apoorvumang/
// prompt-lookup-decoding) and llama.cpp's examples/lookup; the index, the copy rule and the code are seek's own.
#include "runtime/speculative.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace seek {

// --- NgramDrafter ---

NgramDrafter::NgramDrafter(int32_t n_min, int32_t n_max) : n_min_(n_min), n_max_(n_max) {
  if (n_min < 1 || n_max < n_min || n_max > kMaxN)
    Fail("n-gram drafter: need 1 <= ngram_min <= ngram_max <= %d, got %d..%d", kMaxN, n_min, n_max);
  index_.resize(static_cast<size_t>(n_max - n_min + 1));
}

uint64_t NgramDrafter::Hash(size_t begin, int32_t n) const {
  // A multiply-xorshift mix per token (constants from splitmix64). Collisions are harmless: Lookup checks the
  // tokens, so a collision costs at most one missed draft.
  uint64_t h = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(n);
  for (int32_t i = 0; i < n; ++i) {
    h ^= static_cast<uint32_t>(tokens_[begin + static_cast<size_t>(i)]);
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  return h;
}

void NgramDrafter::IndexSuccessor(size_t pos) {
  for (int32_t n = n_min_; n <= n_max_; ++n) {
    if (pos < static_cast<size_t>(n)) break;
    index_[static_cast<size_t>(n - n_min_)][Hash(pos - static_cast<size_t>(n), n)] = static_cast<int64_t>(pos);
  }
}

void NgramDrafter::Reset(std::span<const int32_t> tokens) {
  tokens_.assign(tokens.begin(), tokens.end());
  for (auto& m : index_) {
    m.clear();
    m.reserve(tokens_.size());
  }
  for (size_t pos = 1; pos < tokens_.size(); ++pos) IndexSuccessor(pos);
}

void NgramDrafter::Accept(int32_t token) {
  tokens_.push_back(token);
  IndexSuccessor(tokens_.size() - 1);
}

int64_t NgramDrafter::Lookup(int32_t n) const {
  if (n < n_min_ || n > n_max_ || tokens_.size() < static_cast<size_t>(n)) return -1;
  const size_t suffix = tokens_.size() - static_cast<size_t>(n);
  const auto& m = index_[static_cast<size_t>(n - n_min_)];
  const auto it = m.find(Hash(suffix, n));
  if (it == m.end()) return -1;
  const size_t at = static_cast<size_t>(it->second) - static_cast<size_t>(n);  // start of the earlier n-gram
  for (size_t i = 0; i < static_cast<size_t>(n); ++i)
    if (tokens_[at + i] != tokens_[suffix + i]) return -1;  // hash collision
  return it->second;
}

void NgramDrafter::Propose(int32_t max_draft, std::vector<int32_t>& out) {
  out.clear();
  if (max_draft <= 0) return;
  const size_t n_tokens = tokens_.size();
  for (int32_t n = n_max_; n >= n_min_; --n) {
    const int64_t from = Lookup(n);
    if (from < 0) continue;
    // from < n_tokens, so a source index past the end lands on a draft token already written.
    for (size_t j = 0; j < static_cast<size_t>(max_draft); ++j) {
      const size_t src = static_cast<size_t>(from) + j;
      out.push_back(src < n_tokens ? tokens_[src] : out[src - n_tokens]);
    }
    return;
  }
}

// --- the acceptance rule ---

bool AcceptDraft(std::span<const TokenProb> dist, int32_t draft, double u) {
  for (const TokenProb& t : dist)
    if (t.id == draft) return u < t.p;
  return false;  // p(draft) = 0
}

int32_t SampleResidual(std::span<const TokenProb> dist, int32_t draft, double u) {
  double total = 0.0;
  for (const TokenProb& t : dist)
    if (t.id != draft) total += t.p;
  if (!(total > 0.0)) return draft;  // all the mass is on the draft (AcceptDraft accepts it for every u < 1)
  const double target = u * total;
  double cum = 0.0;
  int32_t last = draft;
  for (const TokenProb& t : dist) {
    if (t.id == draft || t.p <= 0.0) continue;
    cum += t.p;
    last = t.id;
    if (target < cum) return t.id;
  }
  return last;  // u * total rounded to the very top
}

int32_t ChooseToken(Sampler& sampler, std::span<float> row, int32_t draft, std::vector<TokenProb>& scratch) {
  if (draft < 0 || sampler.greedy()) return sampler.Sample(row);
  sampler.Distribution(row, scratch);
  if (AcceptDraft(scratch, draft, sampler.Uniform())) return draft;
  return SampleResidual(scratch, draft, sampler.Uniform());
}

// --- DraftBudget ---

DraftBudget::DraftBudget(int32_t n_draft, bool adaptive)
    : n_draft_(std::max(0, n_draft)),
      k_(adaptive ? std::min(kFirst, std::max(0, n_draft)) : std::max(0, n_draft)),
      adaptive_(adaptive) {}

int32_t DraftBudget::Next() {
  if (skip_ > 0) {
    --skip_;
    return 0;
  }
  return k_;
}

void DraftBudget::Update(int32_t drafted, int32_t accepted) {
  if (!adaptive_ || drafted <= 0) return;
  k_ = accepted >= drafted ? std::min(n_draft_, 2 * k_) : std::max(1, accepted + 1);
  if (accepted == 0) {
    backoff_ = std::min(kMaxBackoff, std::max(1, backoff_ * 2));
    skip_ = backoff_;
  } else {
    backoff_ = 0;
  }
}

// --- options and statistics ---

const char* DraftKindName(DraftKind k) {
  switch (k) {
    case DraftKind::kNone: return "none";
    case DraftKind::kNgram: return "ngram";
    case DraftKind::kMtp: return "mtp";
  }
  return "?";
}

DraftKind ParseDraftKind(const std::string& name) {
  if (name == "none") return DraftKind::kNone;
  if (name == "ngram") return DraftKind::kNgram;
  if (name == "mtp") return DraftKind::kMtp;
  Fail("unknown draft method '%s' (choose none, ngram or mtp)", name.c_str());
}

std::unique_ptr<Drafter> MakeDrafter(const SpeculativeOptions& o) {
  switch (o.kind) {
    case DraftKind::kNone: return nullptr;
    case DraftKind::kNgram: return std::make_unique<NgramDrafter>(o.ngram_min, o.ngram_max);
    case DraftKind::kMtp: Fail("the mtp drafter needs the model: build it with MakeModelDrafter");
  }
  return nullptr;
}

double SpeculativeStats::acceptance_rate() const {
  return n_drafted > 0 ? static_cast<double>(n_accepted) / static_cast<double>(n_drafted) : 0.0;
}

double SpeculativeStats::tokens_per_step() const {
  return n_steps > 0 ? static_cast<double>(n_step_tokens) / static_cast<double>(n_steps) : 0.0;
}

std::string SpeculativeStats::Summary() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "drafted %lld, accepted %lld (%.1f%%), %.2f tokens/step over %lld steps",
                static_cast<long long>(n_drafted), static_cast<long long>(n_accepted), 100.0 * acceptance_rate(),
                tokens_per_step(), static_cast<long long>(n_steps));
  return buf;
}

}  // namespace seek
