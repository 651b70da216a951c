// MtpDrafter: self-speculative decoding with DeepSeek-V3's multi-token-prediction (NextN) layer as the drafter
// (model/nextn.h; /work/shared/DEEPSEEK.md §3). The target model verifies the draft in its one batched Eval
// (runtime/generate.cc), so greedy output is exactly plain decoding's.
//
// The MTP entry of position i pairs the target's final hidden state h_i with the token t_{i+1} after it and
// predicts t_{i+2}. The drafter keeps its own one-layer MLA cache (NextN) of such entries for the committed
// sequence. Generate hands it the hidden rows of every committed position (Drafter::AcceptHidden: the prompt
// chunks, then the kept rows of each verification Eval); when it is asked for a draft after the last
// committed token t_n (not yet in the target's cache), it evaluates the pending entries i = mtp.n_past() ..
// n-1 in one batch, and the argmax of the last row is the draft for t_{n+1}. Drafts never enter the MTP
// cache, so it never rolls back during a generation.
//
// One draft per step: a second draft would need h_n, which only the target's next Eval produces (chaining
// the module on its own output is possible but acceptance drops, DEEPSEEK.md §3). The draft is greedy (argmax);
// with temperature > 0 the verifier's rule for a deterministic draft keeps the target's distribution
// (runtime/speculative.h, ChooseToken).
//
// Hidden rows the drafter never saw (a generation that reuses a cached prompt prefix whose MTP entries are
// gone, e.g. after another drafter or a cache edit) are taken as zeros: hnorm(0) = 0, so such an entry sees
// only its token. That can only lower the acceptance rate, never change the output.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"
#include "model/nextn.h"
#include "runtime/speculative.h"

namespace seek {

class MtpDrafter final : public Drafter {
 public:
  // Throws seek::Error when the model has no MTP layer. n_ctx: the target context's size.
  MtpDrafter(const Model& model, int32_t n_ctx, ThreadPool* pool);

  void Reset(std::span<const int32_t> tokens) override;
  void Accept(int32_t token) override;
  void Propose(int32_t max_draft, std::vector<int32_t>& out) override;
  bool wants_hidden() const override { return true; }
  void AcceptHidden(int32_t pos, std::span<const float> rows) override;

  // MTP-layer evaluations so far (each is one batched NextN::Eval) and the entries they covered.
  int64_t n_evals() const { return n_evals_; }
  int64_t n_entries() const { return n_entries_; }
  const NextN& mtp() const { return mtp_; }

 private:
  int64_t n_embd_;
  int32_t n_vocab_;
  NextN mtp_;
  std::vector<int32_t> tokens_;  // the committed sequence t_0..t_n
  // Hidden rows of positions [mtp_.n_past(), mtp_.n_past() + rows) not yet in the MTP cache: [rows][n_embd].
  std::vector<float> pending_;
  int32_t last_pos_ = -1;    // position of the MTP row that gave last_draft_
  int32_t last_draft_ = -1;  // its argmax
  int64_t n_evals_ = 0, n_entries_ = 0;
};

// The drafter `o.kind` names, including the model-backed ones (kMtp); nullptr for kNone. The caller owns it
// and passes it as SpeculativeOptions::drafter (it outlives one Generate call, so the MTP cache is reused).
std::unique_ptr<Drafter> MakeModelDrafter(const SpeculativeOptions& o, const Model& model, int32_t n_ctx,
                                          ThreadPool* pool);

}  // namespace seek
