// model/blocks: RMSNorm rows, RoPE layouts and scaled frequency tables (expected values computed by hand from
// the formulas of HF transformers' modeling_rope_utils.py), GQA attention against a naive loop, config
// checks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "model/blocks/attention.h"
#include "model/blocks/norm.h"
#include "model/blocks/rope.h"
#include "model/config.h"

namespace seek {
namespace {

std::vector<float> RandomVec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

RopeConfig Rope8() {
  RopeConfig r;
  r.n_rot = 8;
  r.theta = 10000.0f;
  return r;
}

TEST(RmsNormRows, NormalisesEachRow) {
  std::vector<float> w = {1.0f, 2.0f};
  TensorView wv;
  wv.type = DType::kF32;
  wv.n_dims = 1;
  wv.ne[0] = 2;
  wv.data = w.data();
  wv.nbytes = 8;
  std::vector<float> x = {3, 4, 0, 2};  // two rows
  RmsNormRows(x.data(), wv, x.data(), 2, 0.0f + 1e-12f);
  const double r0 = std::sqrt(12.5), r1 = std::sqrt(2.0);
  EXPECT_NEAR(x[0], 3 / r0, 1e-6);
  EXPECT_NEAR(x[1], 4 / r0 * 2, 1e-6);
  EXPECT_NEAR(x[2], 0, 1e-6);
  EXPECT_NEAR(x[3], 2 / r1 * 2, 1e-6);
}

TEST(Rope, UnscaledFrequencies) {
  const auto f = RopeInvFreq(Rope8(), nullptr);  // 1 / 10000^(2i/8)
  ASSERT_EQ(f.size(), 4u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[1], 0.1f);
  EXPECT_FLOAT_EQ(f[2], 0.01f);
  EXPECT_FLOAT_EQ(f[3], 0.001f);
  EXPECT_EQ(RopeAttnFactor(Rope8()), 1.0f);
}

TEST(Rope, LinearScaling) {
  RopeConfig r = Rope8();
  r.scaling = RopeScaling::kLinear;
  r.factor = 4.0f;
  const auto f = RopeInvFreq(r, nullptr);
  EXPECT_FLOAT_EQ(f[0], 0.25f);
  EXPECT_FLOAT_EQ(f[1], 0.025f);
  EXPECT_FLOAT_EQ(f[2], 0.0025f);
  EXPECT_FLOAT_EQ(f[3], 0.00025f);
}

TEST(Rope, Llama3Scaling) {
  // original ctx 64, low 1, high 4: wavelengths < 16 keep, > 64 divide by 8, between blend.
  RopeConfig r = Rope8();
  r.scaling = RopeScaling::kLlama3;
  r.factor = 8.0f;
  r.low_freq_factor = 1.0f;
  r.high_freq_factor = 4.0f;
  r.original_ctx = 64;
  const auto f = RopeInvFreq(r, nullptr);
  EXPECT_FLOAT_EQ(f[0], 1.0f);                      // wavelen 6.28: high frequency, kept
  EXPECT_NEAR(f[1], 0.013042256680862672, 1e-8);    // wavelen 62.8: smooth = (64/62.83 - 1) / 3
  EXPECT_NEAR(f[2], 0.0012499999720603228, 1e-10);  // wavelen 628: divided by 8
  EXPECT_NEAR(f[3], 0.0001250000059371814, 1e-11);
}

TEST(Rope, YarnScaling) {
  // original ctx 64, factor 4, beta_fast 32, beta_slow 1: correction dims floor(-0.497) -> 0, ceil(1.008)
  // = 2.
  RopeConfig r = Rope8();
  r.scaling = RopeScaling::kYarn;
  r.factor = 4.0f;
  r.original_ctx = 64;
  const auto f = RopeInvFreq(r, nullptr);
  EXPECT_FLOAT_EQ(f[0], 1.0f);                      // ramp 0: extrapolated
  EXPECT_NEAR(f[1], 0.06250000093132257, 1e-9);     // ramp 0.5: half of each
  EXPECT_NEAR(f[2], 0.0024999999441206455, 1e-10);  // ramp 1: interpolated (divided by 4)
  EXPECT_NEAR(f[3], 0.0002500000118743628, 1e-11);
  EXPECT_NEAR(RopeAttnFactor(r), 1.138629436111989, 1e-6);  // 0.1 ln 4 + 1
  r.attn_factor = 1.5f;
  EXPECT_EQ(RopeAttnFactor(r), 1.5f);
}

TEST(Rope, FreqFactorsDivide) {
  const float ff[4] = {1.0f, 2.0f, 4.0f, 8.0f};
  const auto f = RopeInvFreq(Rope8(), ff);
  EXPECT_FLOAT_EQ(f[1], 0.05f);
  EXPECT_FLOAT_EQ(f[3], 0.000125f);
}

TEST(Rope, TableHoldsCosSinOfPositionTimesFrequency) {
  RopeTable t(Rope8(), nullptr, 10);
  EXPECT_NEAR(t.cos(7)[1], std::cos(0.7), 1e-6);
  EXPECT_NEAR(t.sin(7)[1], std::sin(0.7), 1e-6);
  EXPECT_NEAR(t.cos(0)[3], 1.0, 1e-7);
}

// llama.cpp's converter permutes each head's Q/K rows so that HF's pair (i, i + d/2) lands at (2i, 2i + 1).
// Rotating the permuted vector in kNorm layout must equal permuting the kNeox-rotated vector.
TEST(Rope, NormOfPermutedEqualsPermutedNeox) {
  const int32_t n_heads = 3, head_dim = 12;
  for (int32_t n_rot : {12, 8}) {  // full and partial rotary
    RopeConfig r = Rope8();
    r.n_rot = n_rot;
    RopeTable table(r, nullptr, 50);
    const auto x = RandomVec(size_t(n_heads * head_dim), 7);
    auto permute = [&](const std::vector<float>& v) {
      std::vector<float> p = v;
      for (int32_t h = 0; h < n_heads; ++h) {
        for (int32_t i = 0; i < n_rot / 2; ++i) {
          p[size_t(h * head_dim + 2 * i)] = v[size_t(h * head_dim + i)];
          p[size_t(h * head_dim + 2 * i + 1)] = v[size_t(h * head_dim + i + n_rot / 2)];
        }
      }
      return p;
    };
    std::vector<float> neox = x, norm = permute(x);
    ApplyRope(neox.data(), n_heads, head_dim, table, 37, RopeLayout::kNeox);
    ApplyRope(norm.data(), n_heads, head_dim, table, 37, RopeLayout::kNorm);
    const auto want = permute(neox);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(norm[i], want[i], 1e-6) << "n_rot " << n_rot << " at " << i;
  }
}

// Against attention in double on the unrounded K and V: f32 cache within fp32 noise, f16 within the K/V
// rounding (2^-11 relative; measured max 9e-5 on these N(0,1)-ish values).
TEST(GqaAttention, MatchesNaiveCausalAttention) {
  for (const auto& [type, budget] : {std::pair{KvType::kF32, 1e-5}, std::pair{KvType::kF16, 1e-3}}) {
    SCOPED_TRACE(KvTypeName(type));
    const AttentionShape s{4, 2, 8};  // two query heads per KV head
    const int32_t n_ctx = 16, pos0 = 3, n_tokens = 5, kv_dim = s.n_head_kv * s.head_dim,
                  q_dim = s.n_head * s.head_dim;
    KvCache kv;
    kv.Allocate(2, n_ctx, s.n_head_kv, s.head_dim, type);
    const auto past_k = RandomVec(size_t(pos0 + n_tokens) * kv_dim, 1), past_v = RandomVec(past_k.size(), 2);
    KvWrite(kv, 1, 0, pos0 + n_tokens, past_k.data(), past_v.data());
    const auto q = RandomVec(size_t(n_tokens * q_dim), 3);
    ThreadPool pool(2);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> out(q.size());
      GqaAttention(q.data(), kv, 1, pos0, n_tokens, s, out.data(), p);
      for (int32_t t = 0; t < n_tokens; ++t) {
        for (int32_t h = 0; h < s.n_head; ++h) {
          const int32_t kvh = h / 2, n_kv = pos0 + t + 1;
          std::vector<double> w(static_cast<size_t>(n_kv));
          double max = -1e30, sum = 0;
          for (int32_t j = 0; j < n_kv; ++j) {
            double d = 0;
            for (int32_t i = 0; i < s.head_dim; ++i) {
              d += double(q[size_t(t * q_dim + h * s.head_dim + i)]) *
                   past_k[size_t(j * kv_dim + kvh * s.head_dim + i)];
            }
            w[size_t(j)] = d / std::sqrt(double(s.head_dim));
            max = std::max(max, w[size_t(j)]);
          }
          for (double& e : w) sum += (e = std::exp(e - max));
          for (int32_t i = 0; i < s.head_dim; ++i) {
            double o = 0;
            for (int32_t j = 0; j < n_kv; ++j)
              o += w[size_t(j)] / sum * past_v[size_t(j * kv_dim + kvh * s.head_dim + i)];
            EXPECT_NEAR(out[size_t(t * q_dim + h * s.head_dim + i)], o, budget);
          }
        }
      }
    }
  }
}

TEST(ModelConfig, ValidateNamesFieldAndFile) {
  nlohmann::json j = {{"model_type", "llama"},   {"vocab_size", 32},         {"hidden_size", 64},
                      {"num_hidden_layers", 2},  {"num_attention_heads", 6}, {"num_key_value_heads", 4},
                      {"intermediate_size", 128}};
  try {
    ModelConfig::FromHfConfig(j, "tiny/config.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tiny/config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n_embd"), std::string::npos) << e.what();  // 64 % 6 != 0
  }
  j["num_attention_heads"] = 8;
  j["num_key_value_heads"] = 3;
  EXPECT_THROW(ModelConfig::FromHfConfig(j, "tiny/config.json"), Error);  // 8 % 3
  j["num_key_value_heads"] = 4;
  const ModelConfig c = ModelConfig::FromHfConfig(j, "tiny/config.json");
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.rope.n_rot, 8);
  EXPECT_EQ(c.rope.layout, RopeLayout::kNeox);
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  EXPECT_EQ(ModelConfig::FromHfConfig(j, "x").rope.scaling, RopeScaling::kLlama3);
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  EXPECT_THROW(ModelConfig::FromHfConfig(j, "x"), Error);
  j.erase("rope_scaling");
  j["mlp_bias"] = true;
  EXPECT_THROW(ModelConfig::FromHfConfig(j, "x"), Error);
  j["mlp_bias"] = false;
  j["intermediate_size"] = 0;
  EXPECT_THROW(ModelConfig::FromHfConfig(j, "x"), Error);
  j["intermediate_size"] = 128;
  j["head_dim"] = 4;
  j["partial_rotary_factor"] = 1.5;  // n_rot 6 > head_dim 4
  EXPECT_THROW(ModelConfig::FromHfConfig(j, "x"), Error);
}

}  // namespace
}  // namespace seek
