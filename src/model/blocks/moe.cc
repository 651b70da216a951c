#include "model/blocks/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "kernels/ref/matmul.h"
#include "kernels/ref/ops.h"

namespace seek {

namespace {

// Indices of the k largest values (ties: lower index first), in descending order.
void TopK(const float* v, int32_t n, int32_t k, int32_t* out) {
  std::vector<int32_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  std::copy(idx.begin(), idx.begin() + k, out);
}

// A SwiGLU MLP on rows x [n][n_embd] -> y [n][n_embd] with the given 2-D weights.
void SwiGlu(const TensorView& gate, const TensorView& up, const TensorView& down, const float* x, int64_t n,
            float* y, ThreadPool* pool) {
  const int64_t n_ff = gate.ne[1];
  std::vector<float> g(static_cast<size_t>(n * n_ff)), u(size_t(n * n_ff));
  MatMul(gate, x, g.data(), n, pool);
  MatMul(up, x, u.data(), n, pool);
  SwiGLU(g.data(), u.data(), n * n_ff);
  MatMul(down, g.data(), y, n, pool);
}

}  // namespace

void MoeRoute(const MoeConfig& m, const float* logits, const float* bias, int32_t* ids, float* weights) {
  const int32_t n_exp = m.n_expert;
  std::vector<float> scores(logits, logits + n_exp);
  if (m.scoring == MoeScoring::kSoftmax) {
    Softmax(scores.data(), n_exp);
  } else {
    for (float& s : scores) s = 1.0f / (1.0f + std::exp(-s));
  }
  std::vector<float> choice = scores;
  if (bias && m.topk_method == MoeTopk::kNoauxTc) {
    for (int32_t e = 0; e < n_exp; ++e) choice[size_t(e)] += bias[e];
  }
  if (m.topk_method != MoeTopk::kGreedy && m.n_group > 1) {
    const int32_t per_group = n_exp / m.n_group;
    std::vector<float> group_score(static_cast<size_t>(m.n_group));
    for (int32_t g = 0; g < m.n_group; ++g) {
      const float* s = choice.data() + g * per_group;
      if (m.topk_method == MoeTopk::kGroupLimitedGreedy) {
        group_score[size_t(g)] = *std::max_element(s, s + per_group);
      } else {  // noaux_tc: sum of the two best
        int32_t top2[2];
        TopK(s, per_group, 2, top2);
        group_score[size_t(g)] = s[top2[0]] + s[top2[1]];
      }
    }
    std::vector<int32_t> kept(static_cast<size_t>(m.n_group_used));
    TopK(group_score.data(), m.n_group, m.n_group_used, kept.data());
    std::vector<bool> keep(size_t(m.n_group), false);
    for (int32_t g : kept) keep[size_t(g)] = true;
    for (int32_t e = 0; e < n_exp; ++e) {
      if (!keep[size_t(e / per_group)]) choice[size_t(e)] = -std::numeric_limits<float>::infinity();
    }
  }
  TopK(choice.data(), n_exp, m.n_expert_used, ids);
  float sum = 0.0f;
  for (int32_t k = 0; k < m.n_expert_used; ++k) {
    weights[k] = scores[size_t(ids[k])];
    sum += weights[k];
  }
  const float norm = m.norm_topk_prob ? 1.0f / (sum + 1e-20f) : 1.0f;
  for (int32_t k = 0; k < m.n_expert_used; ++k) weights[k] = weights[k] * norm * m.routed_scaling_factor;
}

void MoeFeedForward(const ModelConfig& c, const LayerWeights& l, const float* xn, int32_t n_tokens,
                    float* out, ThreadPool* pool) {
  const MoeConfig& m = c.moe;
  const int64_t n = n_tokens, n_embd = c.n_embd, k = m.n_expert_used;
  std::vector<float> logits(static_cast<size_t>(n * m.n_expert));  // [n][n_expert]
  MatMul(l.ffn_gate_inp, xn, logits.data(), n, pool);
  std::vector<int32_t> ids(static_cast<size_t>(n * k));
  std::vector<float> w(static_cast<size_t>(n * k));
  const float* bias = l.exp_probs_b.data ? F32Data(l.exp_probs_b) : nullptr;
  for (int64_t t = 0; t < n; ++t)
    MoeRoute(m, logits.data() + t * m.n_expert, bias, ids.data() + t * k, w.data() + t * k);

  // Group the (token, slot) pairs by expert.
  std::vector<std::vector<int64_t>> by_expert(size_t(m.n_expert));  // entries t * k + slot
  for (int64_t i = 0; i < n * k; ++i) by_expert[size_t(ids[size_t(i)])].push_back(i);

  std::memset(out, 0, size_t(n * n_embd) * sizeof(float));
  std::vector<float> xe, ye;
  for (int32_t e = 0; e < m.n_expert; ++e) {
    const auto& items = by_expert[size_t(e)];
    if (items.empty()) continue;
    const int64_t n_e = int64_t(items.size());
    xe.resize(size_t(n_e * n_embd));
    ye.resize(size_t(n_e * n_embd));
    for (int64_t r = 0; r < n_e; ++r)
      std::memcpy(xe.data() + r * n_embd, xn + (items[size_t(r)] / k) * n_embd,
                  size_t(n_embd) * sizeof(float));
    SwiGlu(l.ffn_gate_exp[size_t(e)], l.ffn_up_exp[size_t(e)], l.ffn_down_exp[size_t(e)], xe.data(), n_e,
           ye.data(), pool);
    for (int64_t r = 0; r < n_e; ++r) {
      const int64_t t = items[size_t(r)] / k;
      const float a = w[size_t(items[size_t(r)])];
      float* o = out + t * n_embd;
      const float* y = ye.data() + r * n_embd;
      for (int64_t i = 0; i < n_embd; ++i) o[i] += a * y[i];
    }
  }
  if (m.n_expert_shared > 0) {
    std::vector<float> shared(static_cast<size_t>(n * n_embd));
    SwiGlu(l.ffn_gate_shexp, l.ffn_up_shexp, l.ffn_down_shexp, xn, n, shared.data(), pool);
    for (int64_t i = 0; i < n * n_embd; ++i) out[i] += shared[size_t(i)];
  }
}

}  // namespace seek
