// The fp32 reference forward pass for DeepSeek2: the oracle for model/arch/deepseek2.cc, written from the
// papers and HF transformers' modeling_deepseek_v2/v3.py semantics, sharing nothing with the fast path except
// the weight views and RopeInvFreq / RopeAttnFactor (checked on their own in blocks_test).
//
// Plain loops, double accumulation, one token at a time (layer-major, as reference_forward.cc explains), MLA
// in its naive form exactly as the paper writes it: every head's K_nope and V are decompressed from the
// cached latent with attn_kv_b, then ordinary softmax attention over [K_nope ; k_pe] and V. MoE computes
// every chosen expert for each token separately.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/matmul/repack.h"
#include "kernels/quant/quant.h"
#include "model/blocks/rope.h"
#include "model/model.h"
#include "model/weights.h"

namespace seek {

namespace {

struct Mat {  // [n_out][n_in] fp32
  int64_t n_in = 0, n_out = 0;
  std::vector<float> w;
  bool empty() const { return w.empty(); }
};

Mat Load(const TensorView& t) {
  Mat m;
  if (!t.data) return m;
  m.n_in = t.ne[0];
  m.n_out = t.rows();
  m.w.resize(static_cast<size_t>(m.n_in * m.n_out));
  for (int64_t o = 0; o < m.n_out; ++o) DequantizeWeightRow(t, o, m.w.data() + o * m.n_in);
  return m;
}

double Dot(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
  return s;
}

std::vector<float> Apply(const Mat& m, const float* x) {
  std::vector<float> y(static_cast<size_t>(m.n_out));
  for (int64_t o = 0; o < m.n_out; ++o) y[size_t(o)] = float(Dot(m.w.data() + o * m.n_in, x, m.n_in));
  return y;
}

std::vector<float> Norm(const float* x, const TensorView& w, int64_t n, float eps) {
  const float* wf = static_cast<const float*>(w.data);
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const double r = 1.0 / std::sqrt(ss / double(n) + double(eps));
  std::vector<float> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) y[size_t(i)] = float(x[i] * r * wf[i]);
  return y;
}

// Adjacent-pair rotation of x[0..n_rot) (DeepSeek's interleaved RoPE).
void Rotate(float* x, int32_t n_rot, int32_t pos, const std::vector<float>& inv_freq, double mscale) {
  for (int32_t i = 0; i < n_rot / 2; ++i) {
    const double a = double(pos) * double(inv_freq[size_t(i)]);
    const double c = std::cos(a) * mscale, s = std::sin(a) * mscale;
    const double x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = float(x0 * c - x1 * s);
    x[2 * i + 1] = float(x0 * s + x1 * c);
  }
}

std::vector<float> SwiGluRef(const Mat& g, const Mat& u, const Mat& d, const float* x) {
  std::vector<float> a = Apply(g, x), b = Apply(u, x);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(double(a[i]) / (1.0 + std::exp(-double(a[i]))) * b[i]);
  return Apply(d, a.data());
}

// Chosen experts and their weights for one token (HF DeepseekV2MoEGate / DeepseekV3TopkRouter semantics).
std::vector<std::pair<int32_t, double>> Route(const MoeConfig& m, const std::vector<float>& logits,
                                              const float* bias) {
  const int32_t E = m.n_expert;
  std::vector<double> s(static_cast<size_t>(E));
  if (m.scoring == MoeScoring::kSoftmax) {
    const double mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (int32_t e = 0; e < E; ++e) sum += s[size_t(e)] = std::exp(double(logits[size_t(e)]) - mx);
    for (double& v : s) v /= sum;
  } else {
    for (int32_t e = 0; e < E; ++e) s[size_t(e)] = 1.0 / (1.0 + std::exp(-double(logits[size_t(e)])));
  }
  std::vector<double> choice = s;
  if (bias && m.topk_method == MoeTopk::kNoauxTc)
    for (int32_t e = 0; e < E; ++e) choice[size_t(e)] += bias[e];
  if (m.topk_method != MoeTopk::kGreedy && m.n_group > 1) {
    const int32_t per = E / m.n_group;
    std::vector<std::pair<double, int32_t>> groups;  // (-score, g): sorts best first, lower index on ties
    for (int32_t g = 0; g < m.n_group; ++g) {
      std::vector<double> v(choice.begin() + g * per, choice.begin() + (g + 1) * per);
      std::sort(v.rbegin(), v.rend());
      groups.push_back({-(m.topk_method == MoeTopk::kNoauxTc ? v[0] + v[1] : v[0]), g});
    }
    std::sort(groups.begin(), groups.end());
    std::vector<bool> keep(static_cast<size_t>(m.n_group), false);
    for (int32_t k = 0; k < m.n_group_used; ++k) keep[size_t(groups[size_t(k)].second)] = true;
    for (int32_t e = 0; e < E; ++e)
      if (!keep[size_t(e / per)]) choice[size_t(e)] = -std::numeric_limits<double>::infinity();
  }
  std::vector<std::pair<double, int32_t>> order;
  for (int32_t e = 0; e < E; ++e) order.push_back({-choice[size_t(e)], e});
  std::sort(order.begin(), order.end());
  std::vector<std::pair<int32_t, double>> out;
  double sum = 0;
  for (int32_t k = 0; k < m.n_expert_used; ++k) {
    const int32_t e = order[size_t(k)].second;
    out.push_back({e, s[size_t(e)]});
    sum += s[size_t(e)];
  }
  for (auto& [e, w] : out) w = (m.norm_topk_prob ? w / (sum + 1e-20) : w) * m.routed_scaling_factor;
  return out;
}

}  // namespace

std::vector<float> ReferenceForwardDeepSeek2(const Model& model, std::span<const int32_t> tokens) {
  const ModelConfig& c = model.config();
  const Model::Weights& W = model.weights();
  const int32_t n = int32_t(tokens.size());
  const int64_t D = c.n_embd, H = c.n_head, L = c.mla.kv_lora_rank, N = c.mla.qk_nope_head_dim,
                R = c.mla.qk_rope_head_dim, V = c.mla.v_head_dim, QK = N + R;
  const std::vector<float> inv_freq = RopeInvFreq(c.rope, nullptr);
  const double rope_mscale = RopeAttnFactor(c.rope);
  double scale = 1.0 / std::sqrt(double(QK));
  if (c.rope.scaling == RopeScaling::kYarn && c.rope.factor > 1.0f && c.mla.yarn_log_mul > 0.0f) {
    const double m =
        1.0 + double(c.mla.yarn_log_mul) * std::log(double(c.rope.factor));  // 0.1 mscale_all_dim ln s + 1
    scale *= m * m;
  }

  std::vector<float> x(static_cast<size_t>(n * D));  // [n][n_embd] residual streams
  for (int32_t p = 0; p < n; ++p)
    DequantizeWeightRow(W.token_embd, tokens[size_t(p)], &x[size_t(p * D)]);

  for (int32_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = W.layers[size_t(il)];
    const Mat wq = Load(l.wq), wq_a = Load(l.wq_a), wq_b = Load(l.wq_b), wkv_a = Load(l.wkv_a_mqa),
              wkv_b = Load(l.wkv_b), wo = Load(l.wo);
    std::vector<std::vector<float>> k_all, v_all;  // per position: [H][QK] keys, [H][V] values
    for (int32_t pos = 0; pos < n; ++pos) {
      float* xp = &x[size_t(pos * D)];
      const std::vector<float> h = Norm(xp, l.attn_norm, D, c.norm_eps);
      std::vector<float> q;
      if (!wq_a.empty()) {
        const std::vector<float> qa = Apply(wq_a, h.data());
        q = Apply(wq_b, Norm(qa.data(), l.q_a_norm, c.mla.q_lora_rank, c.norm_eps).data());
      } else {
        q = Apply(wq, h.data());
      }
      std::vector<float> kv_a = Apply(wkv_a, h.data());  // [L + R]
      const std::vector<float> c_kv = Norm(kv_a.data(), l.kv_a_norm, L, c.norm_eps);
      float* k_pe = kv_a.data() + L;
      Rotate(k_pe, int32_t(R), pos, inv_freq, rope_mscale);
      for (int64_t hh = 0; hh < H; ++hh)
        Rotate(&q[size_t(hh * QK + N)], int32_t(R), pos, inv_freq, rope_mscale);
      const std::vector<float> kv = Apply(wkv_b, c_kv.data());  // [H][N + V]
      std::vector<float> k(static_cast<size_t>(H * QK)), v(static_cast<size_t>(H * V));
      for (int64_t hh = 0; hh < H; ++hh) {
        for (int64_t i = 0; i < N; ++i) k[size_t(hh * QK + i)] = kv[size_t(hh * (N + V) + i)];
        for (int64_t i = 0; i < R; ++i) k[size_t(hh * QK + N + i)] = k_pe[i];
        for (int64_t i = 0; i < V; ++i) v[size_t(hh * V + i)] = kv[size_t(hh * (N + V) + N + i)];
      }
      k_all.push_back(std::move(k));
      v_all.push_back(std::move(v));

      std::vector<float> att(static_cast<size_t>(H * V));
      std::vector<double> sc(static_cast<size_t>(pos + 1));
      for (int64_t hh = 0; hh < H; ++hh) {
        double mx = -INFINITY;
        for (int32_t t = 0; t <= pos; ++t) {
          sc[size_t(t)] = Dot(&q[size_t(hh * QK)], &k_all[size_t(t)][size_t(hh * QK)], QK) * scale;
          mx = std::max(mx, sc[size_t(t)]);
        }
        double sum = 0;
        for (int32_t t = 0; t <= pos; ++t) sum += sc[size_t(t)] = std::exp(sc[size_t(t)] - mx);
        for (int64_t i = 0; i < V; ++i) {
          double o = 0;
          for (int32_t t = 0; t <= pos; ++t) o += sc[size_t(t)] / sum * v_all[size_t(t)][size_t(hh * V + i)];
          att[size_t(hh * V + i)] = float(o);
        }
      }
      const std::vector<float> proj = Apply(wo, att.data());
      for (int64_t i = 0; i < D; ++i) xp[i] += proj[size_t(i)];
    }
    // Feed-forward, token by token.
    if (!c.layer(il).moe) {
      const Mat g = Load(l.ffn_gate), u = Load(l.ffn_up), d = Load(l.ffn_down);
      for (int32_t pos = 0; pos < n; ++pos) {
        float* xp = &x[size_t(pos * D)];
        const std::vector<float> y = SwiGluRef(g, u, d, Norm(xp, l.ffn_norm, D, c.norm_eps).data());
        for (int64_t i = 0; i < D; ++i) xp[i] += y[size_t(i)];
      }
      continue;
    }
    const Mat router = Load(l.ffn_gate_inp);
    const Mat sg = Load(l.ffn_gate_shexp), su = Load(l.ffn_up_shexp), sd = Load(l.ffn_down_shexp);
    const float* bias = l.exp_probs_b.data ? static_cast<const float*>(l.exp_probs_b.data) : nullptr;
    std::vector<Mat> eg(size_t(c.moe.n_expert)), eu(size_t(c.moe.n_expert)), ed(size_t(c.moe.n_expert));
    for (int32_t pos = 0; pos < n; ++pos) {
      float* xp = &x[size_t(pos * D)];
      const std::vector<float> h = Norm(xp, l.ffn_norm, D, c.norm_eps);
      std::vector<double> y(static_cast<size_t>(D), 0.0);
      for (const auto& [e, w] : Route(c.moe, Apply(router, h.data()), bias)) {
        if (eg[size_t(e)].empty()) {  // dequantize experts on first use
          eg[size_t(e)] = Load(l.ffn_gate_exp[size_t(e)]);
          eu[size_t(e)] = Load(l.ffn_up_exp[size_t(e)]);
          ed[size_t(e)] = Load(l.ffn_down_exp[size_t(e)]);
        }
        const std::vector<float> ye = SwiGluRef(eg[size_t(e)], eu[size_t(e)], ed[size_t(e)], h.data());
        for (int64_t i = 0; i < D; ++i) y[size_t(i)] += w * ye[size_t(i)];
      }
      if (!sg.empty()) {
        const std::vector<float> ys = SwiGluRef(sg, su, sd, h.data());
        for (int64_t i = 0; i < D; ++i) y[size_t(i)] += ys[size_t(i)];
      }
      for (int64_t i = 0; i < D; ++i) xp[i] += float(y[size_t(i)]);
    }
  }
  std::vector<float> logits(static_cast<size_t>(n) * c.n_vocab);
  std::vector<float> row(static_cast<size_t>(D));
  std::vector<std::vector<float>> normed;
  for (int32_t p = 0; p < n; ++p) normed.push_back(Norm(&x[size_t(p * D)], W.output_norm, D, c.norm_eps));
  for (int64_t o = 0; o < c.n_vocab; ++o) {
    DequantizeWeightRow(W.output, o, row.data());
    for (int32_t p = 0; p < n; ++p)
      logits[size_t(p) * c.n_vocab + o] = float(Dot(row.data(), normed[size_t(p)].data(), D));
  }
  return logits;
}

}  // namespace seek
