// DeepSeek2 (MLA + MoE) against HF transformers 4.57.1, on the tiny models of tools/make_tiny_deepseek.py:
//   ds2_lite  (V2-Lite-style: softmax greedy routing, plain q_proj, dense first layer, 2 shared experts)
//   ds2_group (V2-style group_limited_greedy, q_lora, routed scale 16)
//   ds3       (V3-style: sigmoid + e_score_correction_bias, groups, q_lora, YaRN with mscale !=
//   mscale_all_dim
//              beyond the original context of 32, an MTP layer; also BF16 and official-FP8 HF folders)
// Budgets as hf_logits_test.cc / docs/ACCURACY.md: F32 max|d| <= 1e-4 of the HF logit range, greedy 32
// identical; BF16 / Q8_0 mean KL <= 1e-3. FP8 is compared with HF's logits of the same weights dequantized to
// bf16 (block x scale_inv), at the F32 budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/blocks/mla.h"
#include "model/blocks/moe.h"
#include "model/model.h"
#include "model/nextn.h"
#include "model/quantize.h"
#include "model/weights.h"
#include "model_test_util.h"
#include "test_util.h"

namespace seek {
namespace {

constexpr double kF32RelBudget = 1e-4;
constexpr double kQuantKlBudget = 1e-3;
// The default f16 MLA cache on the exact files (~5x above the measured figures, docs/ACCURACY.md "KV cache").
constexpr double kKvF16RelBudget = 2e-3;  // max |d| of the logit range (measured <= 5.1e-4)
constexpr double kKvF16KlBudget = 5e-7;   // nats, mean over positions (measured <= 1.0e-7)
// Quantized weights under a SIMD kernel table: activations are quantized to 8 bits as well (docs/KERNELS.md,
// "Fast kernels"), so the logits no longer equal HF's on the same dequantized weights to fp32 precision. Those
// checks then use the KL budget (measured 2e-4 for ds2_lite and 4.9e-4 for ds3 q8_0), and the KL against the
// fp32 model may grow by that much on top of HF's own value (KL of small independent errors adds up).
constexpr double kActQuantKlBudget = 1e-3;
bool ActivationsQuantized(const std::string& file) {
  return file == "q8_0" && std::string(ActiveKernels().name) != "scalar";
}

struct Ref {
  std::string dir;
  std::vector<int32_t> ids, greedy_prompt, greedy;
  int32_t n_vocab = 0;
  nlohmann::json json;
  std::vector<float> logits;
  float range = 0;
};

std::vector<float> ReadF32(const std::string& path, size_t n) {
  const std::string raw = test::ReadFileToString(path);
  if (raw.size() != n * sizeof(float)) throw std::runtime_error("bad size: " + path);
  std::vector<float> v(n);
  std::memcpy(v.data(), raw.data(), raw.size());
  return v;
}

float Range(const std::vector<float>& v) {
  const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
  return *mx - *mn;
}

Ref LoadRef(const std::string& model) {
  Ref r;
  r.dir = test::TestdataDir() + "/models/" + model;
  r.json = nlohmann::json::parse(test::ReadFileToString(r.dir + "/reference.json"));
  r.ids = r.json.at("ids").get<std::vector<int32_t>>();
  r.n_vocab = r.json.at("n_vocab").get<int32_t>();
  r.greedy_prompt = r.json.at("greedy_prompt").get<std::vector<int32_t>>();
  r.greedy = r.json.at("greedy").get<std::vector<int32_t>>();
  r.logits = ReadF32(r.dir + "/hf_logits.f32", r.ids.size() * size_t(r.n_vocab));
  r.range = Range(r.logits);
  return r;
}

double MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

double MeanKl(std::span<const float> ref, std::span<const float> got, int32_t n_vocab) {
  auto lsm = [&](std::span<const float> row) {
    double mx = -INFINITY, sum = 0;
    for (float v : row) mx = std::max(mx, double(v));
    for (float v : row) sum += std::exp(double(v) - mx);
    std::vector<double> out(row.size());
    for (size_t i = 0; i < row.size(); ++i) out[i] = double(row[i]) - mx - std::log(sum);
    return out;
  };
  const size_t rows = ref.size() / size_t(n_vocab);
  double total = 0;
  for (size_t r = 0; r < rows; ++r) {
    const auto lp = lsm(ref.subspan(r * n_vocab, n_vocab)), lq = lsm(got.subspan(r * n_vocab, n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) total += std::exp(lp[size_t(i)]) * (lp[size_t(i)] - lq[size_t(i)]);
  }
  return total / double(rows);
}

using test::ArgMax;

// --- HF logits, every file of every model ---

struct Case {
  std::string model, file;  // file: "hf", "hf_bf16", "hf_fp8" (folders) or a GGUF suffix ("f32", "kb-bf16")
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const char* f : {"hf", "f32", "bf16", "q8_0", "kb-bf16"}) cases.push_back({"ds2_lite", f});
  for (const char* f : {"hf", "f32"}) cases.push_back({"ds2_group", f});
  for (const char* f : {"hf", "hf_bf16", "hf_fp8", "f32", "bf16", "q8_0", "kb-bf16"})
    cases.push_back({"ds3", f});
  return cases;
}

class DeepSeek2HfTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    ref_ = LoadRef(GetParam().model);
    const std::string& f = GetParam().file;
    path_ =
        f.rfind("hf", 0) == 0 ? ref_.dir + "/" + f : ref_.dir + "/" + GetParam().model + "-" + f + ".gguf";
    ASSERT_TRUE(test::FileExists(path_)) << path_ << " is missing: run tools/make_tiny_deepseek.py";
    model_ = Model::Load(path_);
    // The reference: HF on exactly the weights seek reads, when the fixture has it, at the F32 budget.
    const std::string type = f == "kb-bf16" ? "bf16" : f;  // the same bf16 numbers in the other MLA layout
    const auto& deq = ref_.json.value("gguf_dequantized", nlohmann::json::object());
    exact_ = true;
    if (f == "hf_fp8") {  // the FP8 weights dequantized to bf16, through HF
      expected_ = ReadF32(ref_.dir + "/fp8_logits.f32", ref_.logits.size());
    } else if (deq.contains(type)) {  // a GGUF dequantized by gguf-py, through HF
      expected_ = ReadF32(ref_.dir + "/" + deq[type]["logits_file"].get<std::string>(), ref_.logits.size());
      hf_kl_vs_f32_ = deq[type]["mean_kl_vs_f32"].get<double>();
    } else {
      expected_ = ref_.logits;
      exact_ = f == "hf" || f == "f32";
    }
    range_ = Range(expected_);
  }
  bool exact() const { return exact_; }
  std::string Label() const { return GetParam().model + " " + GetParam().file; }
  void Check(std::span<const float> got, const char* what) {
    ASSERT_EQ(got.size(), expected_.size());
    const double d = MaxAbsDiff(got, expected_), kl = MeanKl(expected_, got, ref_.n_vocab);
    std::cout << "[accuracy] " << Label() << " " << what << ": max|d| " << d << " (" << d / range_
              << " of range), mean KL " << kl << "\n";
    if (exact() && !ActivationsQuantized(GetParam().file)) {
      EXPECT_LE(d, kF32RelBudget * range_) << what;
    } else {
      EXPECT_LE(kl, kQuantKlBudget) << what;
    }
  }
  // A quantized file against the fp32 model: the KL budget, unless HF itself (on the same dequantized
  // weights) exceeds it, which happens when quantization flips routing decisions (ds3 q8_0: 1.3e-3); then
  // HF's value.
  void CheckKlVsF32(std::span<const float> got) {
    if (hf_kl_vs_f32_ < 0) return;
    const double kl = MeanKl(ref_.logits, got, ref_.n_vocab);
    std::cout << "[accuracy] " << Label() << " vs the f32 model: mean KL " << kl
              << " (HF on the same weights: " << hf_kl_vs_f32_ << ")\n";
    const double extra = ActivationsQuantized(GetParam().file) ? kActQuantKlBudget : 0.0;
    EXPECT_LE(kl, std::max(kQuantKlBudget, 1.05 * hf_kl_vs_f32_) + extra);
  }

  Ref ref_;
  std::string path_;
  std::vector<float> expected_;
  float range_ = 0;
  bool exact_ = false;
  double hf_kl_vs_f32_ = -1;
  std::unique_ptr<Model> model_;
  ThreadPool pool_{2};
};

TEST_P(DeepSeek2HfTest, AllPositions) {
  Context ctx(*model_, 128, &pool_, KvType::kF32);
  const auto got = ctx.Eval(ref_.ids, true);
  Check(got, "Eval");
  CheckKlVsF32(got);
}

// Prefill 40 tokens, then one token per Eval (absorbed decode), then a 16-token batch forced absorbed.
TEST_P(DeepSeek2HfTest, IncrementalDecode) {
  Context ctx(*model_, 128, &pool_, KvType::kF32);
  std::vector<float> got;
  const std::span<const int32_t> ids(ref_.ids);
  auto add = [&](std::span<const float> part) { got.insert(got.end(), part.begin(), part.end()); };
  add(ctx.Eval(ids.subspan(0, 40), true));
  for (size_t i = 40; i < 48; ++i) add(ctx.Eval(ids.subspan(i, 1), true));
  ctx.set_mla_form(MlaForm::kAbsorbed);
  add(ctx.Eval(ids.subspan(48), true));
  Check(got, "prefill 40 + 8 x 1 + 16 absorbed");
}

TEST_P(DeepSeek2HfTest, BothMlaFormsFullBatch) {
  for (MlaForm form : {MlaForm::kNaive, MlaForm::kAbsorbed}) {
    Context ctx(*model_, 128, &pool_, KvType::kF32);
    ctx.set_mla_form(form);
    Check(ctx.Eval(ref_.ids, true), form == MlaForm::kNaive ? "naive" : "absorbed");
  }
}

TEST_P(DeepSeek2HfTest, GreedyContinuation) {
  // (The greedy reference is of the unquantized model: only hf and f32 must agree exactly.)
  Context ctx(*model_, 128, &pool_, KvType::kF32);
  const std::vector<int32_t> got = test::GreedyDecode(ctx, ref_.greedy_prompt, ref_.greedy.size());
  size_t same = 0;
  while (same < got.size() && got[same] == ref_.greedy[same]) ++same;
  std::cout << "[accuracy] " << Label() << ": greedy agreement " << same << "/" << ref_.greedy.size() << "\n";
  const std::string& f = GetParam().file;
  if (f == "hf" || f == "f32") {
    EXPECT_EQ(got, ref_.greedy);
  }
}

// The default f16 compressed cache (latent + RoPE key rounded to f16), on the files held to the F32 budget:
// all positions at once (naive form), and prefill 40 + 8 single-token decodes + a 16-token absorbed batch
// (the absorbed form reads the f16 rows directly). Budget: kKvF16KlBudget (docs/ACCURACY.md, "KV cache").
TEST_P(DeepSeek2HfTest, F16CacheWithinBudget) {
  if (!exact() || ActivationsQuantized(GetParam().file)) GTEST_SKIP() << "budgets for the exact files";
  // The FP8 weights move ds3's router scores: the f16 rounding (2e-4 of the logit range) flips near-tied
  // routing decisions there (measured mean KL 1e-3), which says nothing about the cache.
  if (GetParam().file == "hf_fp8") GTEST_SKIP() << "near-tied routing on the fp8 weights";
  for (const bool incremental : {false, true}) {
    Context ctx(*model_, 128, &pool_);
    ASSERT_EQ(ctx.kv_type(), KvType::kF16);
    std::vector<float> got;
    const std::span<const int32_t> ids(ref_.ids);
    auto add = [&](std::span<const float> part) { got.insert(got.end(), part.begin(), part.end()); };
    if (incremental) {
      add(ctx.Eval(ids.subspan(0, 40), true));
      for (size_t i = 40; i < 48; ++i) add(ctx.Eval(ids.subspan(i, 1), true));
      ctx.set_mla_form(MlaForm::kAbsorbed);
      add(ctx.Eval(ids.subspan(48), true));
    } else {
      add(ctx.Eval(ids, true));
    }
    ASSERT_EQ(got.size(), expected_.size());
    const double d = MaxAbsDiff(got, expected_), kl = MeanKl(expected_, got, ref_.n_vocab);
    std::cout << "[accuracy] " << Label() << (incremental ? " f16 cache, incremental" : " f16 cache, batch")
              << ": max|d| " << d << " (" << d / range_ << " of range), mean KL " << kl << "\n";
    EXPECT_LE(d, kKvF16RelBudget * range_);
    EXPECT_LE(kl, kKvF16KlBudget);
  }
}

TEST_P(DeepSeek2HfTest, ReferenceForward) {
  Check(ReferenceForward(*model_, ref_.ids), "ReferenceForward");
}

INSTANTIATE_TEST_SUITE_P(Tiny, DeepSeek2HfTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           std::string s = param_info.param.model + "_" + param_info.param.file;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// --- file layouts agree with each other ---

std::vector<float> Logits(const std::string& path, const std::vector<int32_t>& ids, MlaForm form) {
  auto model = Model::Load(path);
  Context ctx(*model, 128, nullptr, KvType::kF32);
  ctx.set_mla_form(form);
  const auto l = ctx.Eval(ids, true);
  return {l.begin(), l.end()};
}

TEST(DeepSeek2Files, KvbAndKbLayoutsGiveTheSameLogits) {
  for (const char* m : {"ds2_lite", "ds3"}) {
    const Ref r = LoadRef(m);
    for (MlaForm form : {MlaForm::kNaive, MlaForm::kAbsorbed}) {
      const auto a = Logits(r.dir + "/" + m + "-bf16.gguf", r.ids, form);
      const auto b = Logits(r.dir + "/" + m + "-kb-bf16.gguf", r.ids, form);
      const double d = MaxAbsDiff(a, b);
      std::cout << "[accuracy] " << m << " attn_kv_b vs attn_k_b/attn_v_b (bf16): max|d| " << d << "\n";
      EXPECT_LE(d, 1e-6 * r.range) << m;  // the same bf16 numbers, re-laid out: identical up to fp32 noise
    }
  }
}

TEST(DeepSeek2Files, HfFolderEqualsGguf) {
  for (const char* m : {"ds2_lite", "ds2_group", "ds3"}) {
    const Ref r = LoadRef(m);
    const auto a = Logits(r.dir + "/hf", r.ids, MlaForm::kAuto);
    const auto b = Logits(r.dir + "/" + m + "-f32.gguf", r.ids, MlaForm::kAuto);
    const double d = MaxAbsDiff(a, b);
    std::cout << "[accuracy] " << m << " HF folder vs F32 GGUF: max|d| " << d << "\n";
    EXPECT_LE(d, 1e-6 * r.range) << m;
  }
}

TEST(DeepSeek2Files, Fp8LoadsDequantizedWithBlockScales) {
  const Ref r = LoadRef("ds3");
  auto fp8 = Model::Load(r.dir + "/hf_fp8");
  // Every FP8 weight was turned into bf16; the routers and norms stayed as stored.
  EXPECT_EQ(fp8->weights().layers[0].wkv_a_mqa.type, DType::kBF16);
  EXPECT_EQ(fp8->weights().layers[1].ffn_gate_exp[3].type, DType::kBF16);
  EXPECT_EQ(fp8->source().FindTensor("blk.0.attn_kv_a_mqa.weight")->type, DType::kF8_E4M3);
  // Dequantized FP8 == HF's bf16 dequantization == close to, but not exactly, the bf16 model.
  auto bf16 = Model::Load(r.dir + "/hf_bf16");
  Context a(*fp8, 128, nullptr), b(*bf16, 128, nullptr);
  const auto la = a.Eval(r.ids, true);
  const std::vector<float> got(la.begin(), la.end());
  const auto lb = b.Eval(r.ids, true);
  const double kl = MeanKl(std::vector<float>(lb.begin(), lb.end()), got, r.n_vocab);
  std::cout << "[accuracy] ds3 FP8 vs BF16 model: mean KL " << kl << "\n";
  EXPECT_GT(MaxAbsDiff(got, std::vector<float>(lb.begin(), lb.end())),
            0.0);  // the scales were applied, not skipped
  EXPECT_LE(kl, 1e-2);
}

// A copy of an HF folder whose safetensors header lacks `drop` (the data bytes stay; offsets still hold).
std::string FolderWithout(const std::string& src, const std::string& drop, const std::string& tag) {
  const std::string dir = ::testing::TempDir() + "/seek_ds2_" + tag;
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(src + "/config.json", dir + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string st = test::ReadFileToString(src + "/model.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, st.data(), 8);
  nlohmann::json header = nlohmann::json::parse(st.substr(8, n));
  EXPECT_TRUE(header.contains(drop)) << drop;
  header.erase(drop);
  std::string h = header.dump();
  h.resize(n, ' ');  // same length: the data section does not move
  std::ofstream out(dir + "/model.safetensors", std::ios::binary);
  out.write(st.data(), 8);
  out.write(h.data(), std::streamsize(h.size()));
  out.write(st.data() + 8 + n, std::streamsize(st.size() - 8 - n));
  return dir;
}

void ExpectLoadError(const std::string& path, const std::string& needle) {
  try {
    Model::Load(path);
    ADD_FAILURE() << "no error, expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(DeepSeek2Files, Fp8WithoutScalesIsAnError) {
  const std::string src = test::TestdataDir() + "/models/ds3/hf_fp8";
  ExpectLoadError(FolderWithout(src, "model.layers.1.mlp.experts.3.up_proj.weight_scale_inv", "noscale"),
                  "blk.1.ffn_up.3.weight.scale_inv");
}

TEST(DeepSeek2Files, MissingTensorsAreNamed) {
  const std::string src = test::TestdataDir() + "/models/ds3/hf";
  ExpectLoadError(FolderWithout(src, "model.layers.0.self_attn.kv_b_proj.weight", "nokvb"), "attn_kv_b");
  ExpectLoadError(FolderWithout(src, "model.layers.1.mlp.experts.5.down_proj.weight", "noexp"),
                  "blk.1.ffn_down.5.weight");
  ExpectLoadError(FolderWithout(src, "model.layers.1.mlp.gate.e_score_correction_bias", "nobias"),
                  "blk.1.exp_probs_b.bias");
  // The MTP layer is optional: without it the model loads and NextN says so.
  auto m = Model::Load(FolderWithout(src, "model.layers.2.eh_proj.weight", "nomtp"));
  EXPECT_FALSE(NextN::Available(*m));
}

// --- MTP / NextN head vs HF (the MTP block built from transformers' DeepseekV3DecoderLayer) ---

TEST(DeepSeek2NextN, MatchesHf) {
  const Ref r = LoadRef("ds3");
  const size_t n = r.ids.size() - 1;
  const std::vector<float> expected = ReadF32(r.dir + "/mtp_logits.f32", n * size_t(r.n_vocab));
  const float range = Range(expected);
  for (const char* file : {"/hf", "/ds3-f32.gguf"}) {
    auto model = Model::Load(r.dir + file);
    ASSERT_TRUE(NextN::Available(*model));
    ThreadPool pool(2);
    Context ctx(*model, 128, &pool, KvType::kF32);
    ctx.set_keep_hidden_states(true);
    ctx.Eval(r.ids, false);
    const auto hidden = ctx.hidden_states();
    NextN mtp(*model, 128, &pool);
    const std::span<const int32_t> next(r.ids.data() + 1, n);
    // In two pieces: 30 positions, then the rest (cache across calls).
    std::vector<float> got;
    auto a = mtp.Eval(hidden.subspan(0, 30 * model->config().n_embd), next.subspan(0, 30), true);
    got.insert(got.end(), a.begin(), a.end());
    auto b = mtp.Eval(hidden.subspan(30 * model->config().n_embd, (n - 30) * model->config().n_embd),
                      next.subspan(30), true);
    got.insert(got.end(), b.begin(), b.end());
    const double d = MaxAbsDiff(got, expected);
    std::cout << "[accuracy] ds3" << file << " MTP logits: max|d| " << d << " (" << d / range
              << " of range)\n";
    EXPECT_LE(d, kF32RelBudget * range);
  }
  auto no_mtp = Model::Load(test::TestdataDir() + "/models/ds2_lite/hf");
  EXPECT_FALSE(NextN::Available(*no_mtp));
  EXPECT_THROW(NextN(*no_mtp, 16, nullptr), Error);
}

// --- KV cache size ---

TEST(DeepSeek2Config, KvBytesPerToken) {
  const Ref r = LoadRef("ds3");
  auto model = Model::Load(r.dir + "/hf");
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.kv_elements_per_token(), int64_t(c.n_layer) * (c.mla.kv_lora_rank + c.mla.qk_rope_head_dim));
  EXPECT_EQ(model->kv_bytes_per_token(KvType::kF32), size_t(2 * (32 + 8)) * sizeof(float));
  EXPECT_EQ(model->kv_bytes_per_token(), size_t(2 * (32 + 8)) * 2);  // f16, the default
  Context ctx(*model, 16, nullptr);
  EXPECT_EQ(ctx.kv_type(), KvType::kF16);
  // rope 8 is no multiple of 32: a q8_0 cache is refused with the dimension's name.
  EXPECT_THROW(Context(*model, 16, nullptr, KvType::kQ8_0), Error);
}

TEST(DeepSeek2Config, RealV2LiteAndV3KvBytes) {
  SEEK_REQUIRE_SHARED();
  const std::string dir = test::SharedDir() + "/deepseek-configs/";
  const auto lite = ModelConfig::FromDeepSeekInferenceConfig(
      nlohmann::json::parse(test::ReadFileToString(dir + "config_16B.json")), "config_16B.json");
  EXPECT_EQ(lite.kv_elements_per_token() * 2, 31104);  // f16: 576 x 27 x 2 B (docs: DEEPSEEK.md section 4)
  EXPECT_EQ(KvBytesPerToken(lite, KvType::kF16), 31104u);  // what Model::kv_bytes_per_token and `seek info` say
  EXPECT_EQ(KvBytesPerToken(lite, KvType::kF32), 62208u);
  EXPECT_EQ(KvBytesPerToken(lite, KvType::kQ8_0), 27u * 18 * 34);  // 576 = 18 blocks of 32, 34 B each
  EXPECT_EQ(lite.mla.q_lora_rank, 0);
  EXPECT_EQ(lite.moe.n_expert, 64);
  EXPECT_EQ(lite.moe.scoring, MoeScoring::kSoftmax);
  EXPECT_EQ(lite.layer(0).moe, false);
  EXPECT_EQ(lite.layer(1).moe, true);
  EXPECT_NEAR(MlaSoftmaxScale(lite), std::pow(1 + 0.0707 * std::log(40.0), 2) / std::sqrt(192.0), 1e-6);
  const auto v3 = ModelConfig::FromDeepSeekInferenceConfig(
      nlohmann::json::parse(test::ReadFileToString(dir + "config_671B.json")), "config_671B.json");
  EXPECT_EQ(v3.kv_elements_per_token() * 2, 70272);
  EXPECT_EQ(KvBytesPerToken(v3, KvType::kF16), 70272u);
  EXPECT_EQ(v3.moe.topk_method, MoeTopk::kNoauxTc);
  EXPECT_EQ(v3.moe.n_group, 8);
  EXPECT_EQ(v3.moe.n_group_used, 4);
}

// Parameter counts from the config alone (ForEachTensor's shapes): DeepSeek-V3 is 671B with 37B activated;
// V2 236B / 21B; V2-Lite 15.7B / 2.4B (their papers and model cards). seek counts what a token reads (one
// embedding row), which lands within 5% of each published figure.
TEST(DeepSeek2Config, TotalAndActiveParamsOfRealShapes) {
  SEEK_REQUIRE_SHARED();
  const std::string dir = test::SharedDir() + "/deepseek-configs/";
  struct Expect {
    const char* file;
    double total_b, active_b;
  };
  for (const Expect& e : {Expect{"config_671B.json", 671, 37}, Expect{"config_236B.json", 236, 21},
                          Expect{"config_16B.json", 15.7, 2.4}}) {
    const auto c = ModelConfig::FromDeepSeekInferenceConfig(
        nlohmann::json::parse(test::ReadFileToString(dir + e.file)), e.file);
    Model::Weights w;
    int64_t total = 0;
    ForEachTensor(c, w, [&](TensorSlot& slot) {
      int64_t n = 1;
      for (int i = 0; i < slot.n_dims; ++i) n *= slot.ne[i];
      if (slot.name.find("attn_k_b") != std::string::npos || slot.name.find("attn_v_b") != std::string::npos)
        return;
      total += n;  // (attn_k_b / attn_v_b duplicate attn_kv_b)
    });
    const double active = double(c.active_params_per_token(total));
    std::cout << "[params] " << e.file << ": " << total / 1e9 << "B total, " << active / 1e9 << "B active\n";
    EXPECT_NEAR(total / 1e9, e.total_b, 0.02 * e.total_b) << e.file;
    EXPECT_NEAR(active / 1e9, e.active_b, 0.05 * e.active_b) << e.file;
  }
}

// --- Routing by hand ---

TEST(DeepSeek2Moe, SoftmaxGreedy) {
  MoeConfig m;
  m.n_expert = 4, m.n_expert_used = 2, m.routed_scaling_factor = 2.0f;
  const float logits[4] = {0.0f, 2.0f, 1.0f, 3.0f};
  int32_t ids[2];
  float w[2];
  MoeRoute(m, logits, nullptr, ids, w);
  const double z = 1 + std::exp(2.0) + std::exp(1.0) + std::exp(3.0);
  EXPECT_EQ(ids[0], 3);
  EXPECT_EQ(ids[1], 1);
  EXPECT_NEAR(w[0], 2 * std::exp(3.0) / z, 1e-6);  // not renormalised
  EXPECT_NEAR(w[1], 2 * std::exp(2.0) / z, 1e-6);
}

TEST(DeepSeek2Moe, GroupLimitedGreedyUsesGroupMax) {
  MoeConfig m;
  m.n_expert = 6, m.n_expert_used = 2, m.n_group = 3, m.n_group_used = 1;
  m.topk_method = MoeTopk::kGroupLimitedGreedy;
  // Groups {0,1} {2,3} {4,5}: max is in group 2 (expert 5), though group 0 has the larger sum.
  const float logits[6] = {1.9f, 1.9f, 0.0f, 0.0f, -3.0f, 2.0f};
  int32_t ids[2];
  float w[2];
  MoeRoute(m, logits, nullptr, ids, w);
  EXPECT_EQ(ids[0], 5);
  EXPECT_EQ(ids[1], 4);
}

TEST(DeepSeek2Moe, NoauxTcBiasSelectsOnlyAndTop2GroupSum) {
  MoeConfig m;
  m.n_expert = 6, m.n_expert_used = 2, m.n_group = 2, m.n_group_used = 1;
  m.scoring = MoeScoring::kSigmoid, m.topk_method = MoeTopk::kNoauxTc, m.norm_topk_prob = true;
  m.routed_scaling_factor = 2.5f;
  // Group 0 {0,1,2}: top-2 of biased = 0.9 + 0.8 (group max 0.9); group 1 {3,4,5}: 0.95 + 0.1 (larger max).
  const float sig[6] = {0.5f, 0.6f, 0.2f, 0.55f, 0.1f, 0.05f};
  const float bias[6] = {0.4f, 0.2f, 0.0f, 0.4f, 0.0f, 0.05f};
  float logits[6];
  for (int i = 0; i < 6; ++i) logits[i] = std::log(sig[i] / (1 - sig[i]));
  int32_t ids[2];
  float w[2];
  MoeRoute(m, logits, bias, ids, w);
  EXPECT_EQ(ids[0], 0);                      // biased 0.9
  EXPECT_EQ(ids[1], 1);                      // biased 0.8
  EXPECT_NEAR(w[0], 2.5 * 0.5 / 1.1, 1e-5);  // weights from the unbiased scores, renormalised, scaled
  EXPECT_NEAR(w[1], 2.5 * 0.6 / 1.1, 1e-5);
}

TEST(DeepSeek2Config, RejectsBadFields) {
  nlohmann::json j =
      nlohmann::json::parse(test::ReadFileToString(test::TestdataDir() + "/models/ds3/hf/config.json"));
  auto expect_error = [&](nlohmann::json cfg, const std::string& needle) {
    try {
      ModelConfig::FromHfConfig(cfg, "x/config.json");
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto bad = j;
  bad["n_group"] = 3;
  expect_error(bad, "n_group");
  bad = j;
  bad["topk_group"] = 5;
  expect_error(bad, "topk_group");
  bad = j;
  bad["num_experts_per_tok"] = 9;
  expect_error(bad, "num_experts_per_tok");
  bad = j;
  bad["qk_rope_head_dim"] = 7;
  expect_error(bad, "qk_rope_head_dim");
  bad = j;
  bad.erase("kv_lora_rank");
  expect_error(bad, "kv_lora_rank");
  bad = j;
  bad["scoring_func"] = "relu";
  expect_error(bad, "scoring_func");
  bad = j;
  bad["rope_interleave"] = false;
  expect_error(bad, "rope_interleave");
}

// attn_k_b / attn_v_b are 3-D (one matrix per head): RepackWeights repacks them slice by slice and Slice2D
// finds each head's slice in the repacked buffer. A Q8_0 copy of the kb-layout files has a repackable attn_v_b
// (n_in = kv_lora_rank, a multiple of 32); its logits with and without repacking differ only by the kernels'
// rounding, and a wrong slice would give garbage.
TEST(DeepSeek2Files, RepackedPerHeadMatricesGiveTheSameLogits) {
  if (PreferredLayout(ActiveKernels(), DType::kQ8_0, 32, 8) == WeightLayout::kRows)
    GTEST_SKIP() << "the " << ActiveKernels().name << " kernels repack nothing";
  for (const char* m : {"ds2_lite", "ds3"}) {
    const Ref r = LoadRef(m);
    const std::string q8 = ::testing::TempDir() + "/seek_ds2_repack_" + m + "-kb-q8_0.gguf";
    QuantScheme scheme = *ParseQuantScheme("q8_0");
    scheme.pure = true;
    QuantizeModel(r.dir + "/" + m + "-kb-bf16.gguf", q8, scheme, QuantizeOptions{});
    setenv("SEEK_REPACK", "0", 1);
    auto rows = Model::Load(q8);
    unsetenv("SEEK_REPACK");
    auto packed = Model::Load(q8);
    const TensorView& v_b = packed->weights().layers[0].wv_b;
    ASSERT_EQ(v_b.n_dims, 3);
    ASSERT_EQ(v_b.type, DType::kQ8_0);
    EXPECT_EQ(v_b.layout, WeightLayout::kInterleaved8) << m << ": attn_v_b was not repacked";
    EXPECT_EQ(rows->weights().layers[0].wv_b.layout, WeightLayout::kRows);
    for (MlaForm form : {MlaForm::kNaive, MlaForm::kAbsorbed}) {
      Context a(*rows, 128, nullptr, KvType::kF32), b(*packed, 128, nullptr, KvType::kF32);
      a.set_mla_form(form);
      b.set_mla_form(form);
      const auto la = a.Eval(r.ids, true);
      const auto lb = b.Eval(r.ids, true);
      const double d = MaxAbsDiff(la, lb);
      std::cout << "[accuracy] " << m << " q8_0 kb layout, repacked vs rows: max|d| " << d << "\n";
      EXPECT_LE(d, 1e-4 * r.range) << m;
    }
    std::filesystem::remove(q8);
  }
}

// Q5_0 weights (llama.cpp's fallback for ffn_down_exps when n_ff_exp % 256 != 0 in its K-quant mixes) are
// repacked too, routed experts included (kernels/matmul/repack.h, BlockQ5_0x8). A pure Q5_0 copy of ds2_lite
// computes the same with repacked weights as in rows, up to the kernels' fp32 summation order; a wrong bit-4
// plane or a wrong expert slice would not.
//  - Every MoE block (routed + shared experts through MatMulMany) on random inputs: the router is F32, so both
//    route alike and only the expert multiplies differ.
//  - The model's logits over the first 16 prompt tokens: at least the first 8 positions must agree. The two
//    summation orders differ by ~1e-6, and on this tiny random model that is enough to flip a near-tied
//    expert choice somewhere past position 8 (at 20 with the naive MLA form, at 8-16 with the absorbed one
//    after the SwiGLU exp changed; Q4_0 copies do it too), after which the two runs legitimately diverge.
TEST(DeepSeek2Files, RepackedQ5_0ExpertsGiveTheSameResults) {
  if (PreferredLayout(ActiveKernels(), DType::kQ5_0, 32, 8) == WeightLayout::kRows)
    GTEST_SKIP() << "the " << ActiveKernels().name << " kernels do not repack Q5_0";
  const Ref r = LoadRef("ds2_lite");
  const std::string q5 = ::testing::TempDir() + "/seek_ds2_repack_ds2_lite-q5_0.gguf";
  QuantScheme scheme = *ParseQuantScheme("q5_0");
  scheme.pure = true;
  QuantizeModel(r.dir + "/ds2_lite-bf16.gguf", q5, scheme, QuantizeOptions{});
  const char* experts_env = std::getenv("SEEK_REPACK_EXPERTS");
  const std::string saved = experts_env ? experts_env : "";
  setenv("SEEK_REPACK_EXPERTS", "1", 1);
  setenv("SEEK_REPACK", "0", 1);
  auto rows = Model::Load(q5);
  unsetenv("SEEK_REPACK");
  auto packed = Model::Load(q5);
  if (experts_env) {
    setenv("SEEK_REPACK_EXPERTS", saved.c_str(), 1);
  } else {
    unsetenv("SEEK_REPACK_EXPERTS");
  }
  const ModelConfig& c = packed->config();
  const int64_t n_embd = c.n_embd;
  ThreadPool pool(2);
  int n_moe = 0;
  for (size_t il = 0; il < packed->weights().layers.size(); ++il) {
    const LayerWeights& lp = packed->weights().layers[il];
    const LayerWeights& lr = rows->weights().layers[il];
    if (lp.ffn_down_exp.empty()) continue;
    ++n_moe;
    for (size_t e = 0; e < lp.ffn_down_exp.size(); ++e) {
      ASSERT_EQ(lp.ffn_down_exp[e].type, DType::kQ5_0);
      EXPECT_EQ(lp.ffn_down_exp[e].layout, WeightLayout::kInterleaved8) << "layer " << il << " expert " << e;
      EXPECT_EQ(lr.ffn_down_exp[e].layout, WeightLayout::kRows);
    }
    for (int32_t n_tokens : {1, 7}) {
      std::vector<float> xn(size_t(n_tokens * n_embd)), a(xn.size()), b(xn.size());
      for (size_t i = 0; i < xn.size(); ++i) xn[i] = std::sin(0.37f * float(i) + float(il));
      MoeFeedForward(c, lr, xn.data(), n_tokens, a.data(), &pool);
      MoeFeedForward(c, lp, xn.data(), n_tokens, b.data(), &pool);
      double amax = 0;
      for (float v : a) amax = std::max(amax, double(std::fabs(v)));
      EXPECT_GT(amax, 0.0);
      EXPECT_LE(MaxAbsDiff(a, b), 1e-5 * amax) << "layer " << il << " n_tokens " << n_tokens;
    }
  }
  EXPECT_GT(n_moe, 0);
  const std::span<const int32_t> ids(r.ids.data(), 16);
  for (MlaForm form : {MlaForm::kNaive, MlaForm::kAbsorbed}) {
    Context a(*rows, 128, nullptr, KvType::kF32), b(*packed, 128, nullptr, KvType::kF32);
    a.set_mla_form(form);
    b.set_mla_form(form);
    const auto la = a.Eval(ids, true);
    const auto lb = b.Eval(ids, true);
    // Positions agree until the first near-tied expert choice flips (then the runs legitimately diverge);
    // a wrong kernel differs from position 0 (a broken bit plane: ~1.0).
    const size_t n_vocab = size_t(c.n_vocab);
    size_t agree = 0;
    double d = 0;
    for (; agree < ids.size(); ++agree) {
      const double dt = MaxAbsDiff(std::span<const float>(la).subspan(agree * n_vocab, n_vocab),
                                   std::span<const float>(lb).subspan(agree * n_vocab, n_vocab));
      if (dt > 1e-4 * r.range) break;
      d = std::max(d, dt);
    }
    std::cout << "[accuracy] ds2_lite q5_0, repacked vs rows: first " << agree << " of " << ids.size()
              << " positions within 1e-4 of the range, max|d| " << d << "\n";
    EXPECT_GE(agree, 8u);
  }
  std::filesystem::remove(q5);
}

}  // namespace
}  // namespace seek
