#include "model/blocks/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "kernels/ops/activation.h"
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

// One SwiGLU expert (or the shared experts) over some rows: y [n_rows][n_embd] = down(silu(gate x) * up x).
struct ExpertRun {
  const TensorView* gate;
  const TensorView* up;
  const TensorView* down;
  const float* x;  // [n_rows][n_embd]
  int64_t n_rows;
  float* g;        // [n_rows][n_ff] scratch (gate, then the SwiGLU product)
  float* u;        // [n_rows][n_ff] scratch
  float* y;        // [n_rows][n_embd]
};

// All runs' gate and up multiplies as one MatMulMany, SwiGLU, then all downs as another: two parallel
// dispatches however many experts there are. Each y is bit-identical to running the experts one by one.
void SwiGluMany(const std::vector<ExpertRun>& runs, ThreadPool* pool) {
  std::vector<MatMulJob> jobs;
  jobs.reserve(2 * runs.size());
  for (const ExpertRun& r : runs) {
    jobs.push_back({AsMatMulWeight(*r.gate), r.x, r.g, r.n_rows});
    jobs.push_back({AsMatMulWeight(*r.up), r.x, r.u, r.n_rows});
  }
  MatMulMany(jobs, pool);
  jobs.clear();
  for (const ExpertRun& r : runs) {
    ApplySwiGLU(r.g, r.u, r.n_rows * r.gate->ne[1], pool);
    jobs.push_back({AsMatMulWeight(*r.down), r.g, r.y, r.n_rows});
  }
  MatMulMany(jobs, pool);
}

// Scratch floats per batch of experts in MoeFeedForward (64 MB): bounds the gathered inputs and
// intermediates of a long prefill; decode and small batches take all experts in one batch.
constexpr int64_t kExpertBatchFloats = int64_t(16) << 20;

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

  // Group the (token, slot) pairs by expert: entries t * k + slot, so tokens ascend and none repeats.
  std::vector<std::vector<int64_t>> by_expert(size_t(m.n_expert));
  for (int64_t i = 0; i < n * k; ++i) by_expert[size_t(ids[size_t(i)])].push_back(i);
  std::vector<int32_t> chosen;  // experts some token chose, ascending
  for (int32_t e = 0; e < m.n_expert; ++e)
    if (!by_expert[size_t(e)].empty()) chosen.push_back(e);

  // Experts run in batches (all at once unless the batch is long); the shared experts join the first batch.
  // The weighted sum then goes in expert order, shared experts last, as one expert at a time would.
  std::memset(out, 0, size_t(n * n_embd) * sizeof(float));
  const bool has_shared = m.n_expert_shared > 0;
  const int64_t n_ff_shexp = has_shared ? l.ffn_gate_shexp.ne[1] : 0;
  std::vector<float> shared(has_shared ? size_t(n * n_embd) : 0);  // [n][n_embd]
  // Kept across calls: resize() zero-fills only growth, so a decode step does not clear ~140 KB per MoE layer
  // (V2-Lite: 2 x 2816 + 6 x (2 x 1408 + 2048) floats; the clearing was ~1% of a decode step's time).
  thread_local std::vector<float> scratch;
  std::vector<ExpertRun> runs;
  size_t next = 0;
  bool shared_pending = has_shared;
  while (next < chosen.size() || shared_pending) {
    // Choose the batch [next, end) and size its scratch.
    int64_t floats = shared_pending ? 2 * n * n_ff_shexp : 0;
    size_t end = next;
    while (end < chosen.size()) {
      const int32_t e = chosen[end];
      const int64_t n_e = int64_t(by_expert[size_t(e)].size());
      // gathered input (unless every token chose e: then xn itself), gate, up, output
      const int64_t f = n_e * ((n_e == n ? 0 : n_embd) + 2 * l.ffn_gate_exp[size_t(e)].ne[1] + n_embd);
      if (end > next && floats + f > kExpertBatchFloats) break;
      floats += f;
      ++end;
    }
    scratch.resize(size_t(floats));
    float* p = scratch.data();
    auto take = [&p](int64_t count) { float* q = p; p += count; return q; };
    runs.clear();
    for (size_t i = next; i < end; ++i) {
      const int32_t e = chosen[i];
      const auto& items = by_expert[size_t(e)];
      const int64_t n_e = int64_t(items.size()), n_ff = l.ffn_gate_exp[size_t(e)].ne[1];
      const float* xe = xn;  // [n_e][n_embd] the rows of the tokens that chose e
      if (n_e != n) {
        float* g = take(n_e * n_embd);
        for (int64_t r = 0; r < n_e; ++r)
          std::memcpy(g + r * n_embd, xn + (items[size_t(r)] / k) * n_embd, size_t(n_embd) * sizeof(float));
        xe = g;
      }
      float* g = take(n_e * n_ff);
      float* u = take(n_e * n_ff);
      runs.push_back({&l.ffn_gate_exp[size_t(e)], &l.ffn_up_exp[size_t(e)], &l.ffn_down_exp[size_t(e)], xe, n_e, g,
                      u, take(n_e * n_embd)});
    }
    if (shared_pending) {
      float* g = take(n * n_ff_shexp);
      runs.push_back({&l.ffn_gate_shexp, &l.ffn_up_shexp, &l.ffn_down_shexp, xn, n, g, take(n * n_ff_shexp),
                      shared.data()});
      shared_pending = false;
    }
    SwiGluMany(runs, pool);
    for (size_t i = next; i < end; ++i) {
      const auto& items = by_expert[size_t(chosen[i])];
      const float* ye = runs[i - next].y;  // [n_e][n_embd]
      for (size_t r = 0; r < items.size(); ++r) {
        const int64_t t = items[r] / k;
        const float a = w[size_t(items[r])];
        float* o = out + t * n_embd;
        const float* y = ye + int64_t(r) * n_embd;
        for (int64_t i2 = 0; i2 < n_embd; ++i2) o[i2] += a * y[i2];
      }
    }
    next = end;
  }
  if (has_shared) {
    for (int64_t i = 0; i < n * n_embd; ++i) out[i] += shared[size_t(i)];
  }
}

}  // namespace seek
