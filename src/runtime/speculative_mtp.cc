#include "runtime/speculative_mtp.h"

#include <algorithm>

#include "core/error.h"

namespace seek {

MtpDrafter::MtpDrafter(const Model& model, int32_t n_ctx, ThreadPool* pool)
    : n_embd_(model.config().n_embd), n_vocab_(model.config().n_vocab), mtp_(model, n_ctx, pool) {}

void MtpDrafter::Reset(std::span<const int32_t> tokens) {
  // Entry i depends on t_0..t_{i+1}: it stays valid while those are unchanged.
  size_t same = 0;
  while (same < tokens_.size() && same < tokens.size() && tokens_[same] == tokens[same]) ++same;
  const int32_t valid = same > 0 ? int32_t(same) - 1 : 0;
  mtp_.Truncate(std::min(mtp_.n_past(), valid));
  tokens_.assign(tokens.begin(), tokens.end());
  pending_.clear();
  last_pos_ = last_draft_ = -1;
}

void MtpDrafter::Accept(int32_t token) { tokens_.push_back(token); }

void MtpDrafter::AcceptHidden(int32_t pos, std::span<const float> rows) {
  if (rows.size() % size_t(n_embd_) != 0) Fail("MtpDrafter: %zu hidden values is not whole rows", rows.size());
  const int32_t n = int32_t(rows.size() / size_t(n_embd_));
  const int32_t base = mtp_.n_past();
  for (int32_t r = 0; r < n; ++r) {
    const int32_t p = pos + r;
    if (p < base) continue;  // already in the MTP cache (Reset kept only entries of the same tokens)
    const size_t at = size_t(p - base) * size_t(n_embd_);
    if (pending_.size() < at + size_t(n_embd_)) pending_.resize(at + size_t(n_embd_), 0.0f);  // gaps: zeros
    std::copy_n(rows.data() + size_t(r) * size_t(n_embd_), n_embd_, pending_.data() + at);
  }
}

void MtpDrafter::Propose(int32_t max_draft, std::vector<int32_t>& out) {
  out.clear();
  if (max_draft <= 0 || tokens_.size() < 2) return;
  const int32_t last = int32_t(tokens_.size()) - 2;  // the MTP row to draft from: (h_last, t_{last+1})
  const int32_t from = mtp_.n_past();
  if (from <= last) {
    const int32_t m = last - from + 1;
    pending_.resize(size_t(m) * size_t(n_embd_), 0.0f);  // rows never handed over are zeros (see the header)
    const std::span<const int32_t> next(tokens_.data() + from + 1, size_t(m));
    const std::span<const float> logits = mtp_.Eval(pending_, next, /*all_logits=*/false);
    pending_.clear();
    ++n_evals_;
    n_entries_ += m;
    last_pos_ = last;
    last_draft_ = int32_t(std::max_element(logits.begin(), logits.begin() + n_vocab_) - logits.begin());
  }
  if (last_pos_ == last && last_draft_ >= 0) out.push_back(last_draft_);
}

std::unique_ptr<Drafter> MakeModelDrafter(const SpeculativeOptions& o, const Model& model, int32_t n_ctx,
                                          ThreadPool* pool) {
  if (o.kind == DraftKind::kMtp) return std::make_unique<MtpDrafter>(model, n_ctx, pool);
  return MakeDrafter(o);
}

}  // namespace seek
