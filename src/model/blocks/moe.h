// DeepSeekMoE feed-forward (Dai et al. 2024, arXiv:2401.06066; routing as in DeepSeek-V2 arXiv:2405.04434 and
// V3 arXiv:2412.19437): n_expert routed SwiGLU experts of width n_ff_exp, n_expert_used chosen per token by a
// router, plus always-on shared experts:
//   out = sum_{e in top-k} w_e * Expert_e(x) + Shared(x),   Expert = down(silu(gate x) * up x)
//
// Routing (MoeRoute), one token: logits = ffn_gate_inp . x (fp32)
//   scores    = softmax(logits)                      V2 (scoring_func softmax)
//             | sigmoid(logits)                      V3 (sigmoid)
//   choice    = scores (+ e_score_correction_bias, V3 noaux_tc: used for the selection only)
//   groups    = n_group equal slices of the experts; keep the n_group_used best, ranked by
//               max(choice in group) (V2 group_limited_greedy) | sum of its top-2 choices (V3 noaux_tc);
//               greedy has no groups. Experts of dropped groups are excluded (DeepSeek's reference masks them
//               with -inf; HF fills 0.0, the same whenever the biased scores are positive).
//   top-k     = the n_expert_used highest choices (ties: lower index first)
//   weights   = scores of the chosen experts (unbiased), / their sum when norm_topk_prob,
//               x routed_scaling_factor.
// HF 4.57.1's DeepseekV2MoEGate ignores norm_topk_prob (every V2 release has it false); DeepSeek's original
// V2 code normalised *instead of* scaling. seek follows V3 (normalise, then scale), which agrees with both on
// every released config.
//
// Prefill groups tokens by expert, so each chosen expert's weights stream once per batch; experts no token
// chose are never read (they stay mmap'd and cost no memory). The gate and up multiplies of all chosen experts
// and the shared experts are one MatMulMany (kernels/matmul/matmul.h), the downs another: two parallel
// dispatches per layer instead of three per expert, which is what decode (one token, ~1.6 MB per V2-Lite
// expert matrix) pays most for. The weighted sum runs in expert order, shared experts last, so the result is
// bit-identical to running the experts one by one.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "model/config.h"
#include "model/weights.h"

namespace seek {

// One token: logits [n_expert]; bias [n_expert] or null; writes ids / weights [n_expert_used] (ids in
// descending choice order).
void MoeRoute(const MoeConfig& m, const float* logits, const float* bias, int32_t* ids, float* weights);

// xn: ffn_norm'ed input [n_tokens][n_embd]; out [n_tokens][n_embd] = routed experts + shared experts.
void MoeFeedForward(const ModelConfig& c, const LayerWeights& l, const float* xn, int32_t n_tokens,
                    float* out, ThreadPool* pool);

}  // namespace seek
