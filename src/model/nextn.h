// DeepSeek-V3 multi-token prediction (MTP, "NextN") head: the extra layer stored after the main ones
// (HF model.layers.{num_hidden_layers}.*, GGUF blk.{n_layer}.nextn.*), for speculative decoding (runtime/).
//
// For the token at position i with final hidden state h_i (after output_norm, Context::hidden_states()) and
// the token t_{i+1} that follows it (sampled or drafted), the module predicts t_{i+2}
// (DeepSeek-V3 paper section 2.2; README_WEIGHTS.md; vLLM's DeepSeekMTP):
//   h' = eh_proj([enorm(embed(t_{i+1})) ; hnorm(h_i)])   concat: embedding first, as vLLM / lmdeploy
//   h' = DecoderLayer_mtp(h', position i)               MLA (own compressed cache) + MoE, as a main layer
//   logits = shared_head.head(shared_head.norm(h'))     head / embedding default to the main model's
// Usage (one draft token per step):
//   Context ctx(model, n_ctx, pool);  ctx.set_keep_hidden_states(true);
//   NextN mtp(model, n_ctx, pool);
//   ctx.Eval(prompt) -> sample t;
//   mtp.Eval(ctx.hidden_states(), [prompt[1:], t]) -> draft d from its last row; verify [t, d] with ctx ...
// Positions of the MTP cache follow the hidden states: Eval appends at n_past(); Truncate rolls back rejected
// drafts, exactly as Context does.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"

namespace seek {

class NextN {
 public:
  // Throws seek::Error when the model has no (complete) MTP layer `k` (num_nextn_predict_layers > k).
  NextN(const Model& model, int32_t n_ctx, ThreadPool* pool, int32_t k = 0);
  ~NextN();
  NextN(const NextN&) = delete;
  NextN& operator=(const NextN&) = delete;

  // hidden: [n][n_embd] hidden states of positions [n_past(), n_past() + n); next_tokens: [n] the token after
  // each. Returns the logits of the last row (n_vocab floats), or of every row when all_logits.
  std::span<const float> Eval(std::span<const float> hidden, std::span<const int32_t> next_tokens,
                              bool all_logits = false);
  int32_t n_past() const { return n_past_; }
  void Truncate(int32_t n);
  void set_mla_form(MlaForm form) { mla_form_ = form; }

  static bool Available(const Model& model, int32_t k = 0);

 private:
  struct State;
  const Model& model_;
  ThreadPool* pool_;
  int32_t layer_;  // index into weights().layers
  int32_t n_ctx_;
  int32_t n_past_ = 0;
  MlaForm mla_form_ = MlaForm::kAuto;
  std::unique_ptr<State> state_;
};

}  // namespace seek
