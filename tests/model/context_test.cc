// Context::Eval (the batched fast path) against ReferenceForward (the fp32 oracle), batch vs single-token
// evaluation, thread counts, Truncate, and the errors of Eval and Model::Load. Models: tiny GGUF files built
// here (llama and qwen2, f32 and q8_0), stories260K (../shared) and SmolLM2-135M Q4_1 (when present).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "formats/gguf_builder.h"
#include "kernels/dispatch.h"
#include "kernels/quant/quant.h"
#include "model/model.h"
#include "model/weights.h"
#include "test_util.h"

namespace seek {
namespace {

// max |a - b| relative to the logit range of b.
double RelDiff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  const auto [lo, hi] = std::minmax_element(b.begin(), b.end());
  double max_diff = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - b[i]));
  return max_diff / std::max(1e-6, double(*hi - *lo));
}

// Budget (of the logit range) for Context vs ReferenceForward. ReferenceForward computes in fp32 on the
// dequantized weights; so does Context for F32 weights and under the scalar kernel table, hence the tight
// fp32 budgets. For quantized weights the SIMD table quantizes activations to 8 bits (docs/KERNELS.md, "Fast
// kernels"): about 0.5% rms error per matmul, which these models amplify to a max logit error of 2-5% of the
// range (measured 0.024-0.028 on the random-weight tiny Q8_0 models, 0.020-0.048 on SmolLM2 Q4_1). The
// relaxed budget (docs/ACCURACY.md) is about 2x the largest measurement.
constexpr double kActQuantRelBudget = 0.1;
double EvalBudget(double fp32_budget, bool quantized_weights) {
  const bool fp32_path = !quantized_weights || std::string(ActiveKernels().name) == "scalar";
  return fp32_path ? fp32_budget : kActQuantRelBudget;
}

std::vector<int32_t> SomeTokens(int32_t n, int32_t n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int32_t& x : t) x = int32_t(rng() % uint32_t(n_vocab));
  return t;
}

// --- tiny GGUF models ---

struct TinySpec {
  std::string arch = "llama";
  uint32_t n_vocab = 40, n_embd = 32, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 48;
  uint32_t weight_type = 0;  // GGML type id of the matrices (0 = f32, 8 = q8_0)
  bool tied = false;
  std::string skip_tensor;       // leave this tensor out
  std::string bad_shape_tensor;  // give this tensor one row too many
};

std::string WriteTinyGguf(const TinySpec& s, const std::string& file_name) {
  test::GgufBuilder b;
  const std::string a = s.arch;
  b.AddString("general.architecture", a);
  b.AddU32(a + ".block_count", s.n_layer);
  b.AddU32(a + ".embedding_length", s.n_embd);
  b.AddU32(a + ".feed_forward_length", s.n_ff);
  b.AddU32(a + ".attention.head_count", s.n_head);
  b.AddU32(a + ".attention.head_count_kv", s.n_head_kv);
  b.AddF32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  b.AddF32(a + ".rope.freq_base", 10000.0f);
  b.AddU32(a + ".context_length", 64);
  b.AddU32(a + ".vocab_size", s.n_vocab);
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 0.3f);
  auto add = [&](const std::string& name, uint64_t n0, uint64_t n1, bool matrix) {
    if (name == s.skip_tensor) return;
    if (name == s.bad_shape_tensor) ++n1;
    std::vector<float> v(size_t(n0 * n1));
    for (float& x : v) x = matrix ? nd(rng) : 1.0f + 0.1f * nd(rng);
    std::vector<uint64_t> ne = n1 == 1 && !matrix ? std::vector<uint64_t>{n0} : std::vector<uint64_t>{n0, n1};
    const uint32_t type = matrix ? s.weight_type : 0;
    const size_t row_bytes = *RowBytes(DType(type), int64_t(n0));
    std::vector<uint8_t> bytes(row_bytes * n1);
    for (uint64_t r = 0; r < n1; ++r)
      QuantizeRow(DType(type), v.data() + r * n0, bytes.data() + r * row_bytes, int64_t(n0));
    b.AddTensor(name, type, ne, bytes);
  };
  const uint32_t head_dim = s.n_embd / s.n_head, q_dim = s.n_head * head_dim, kv_dim = s.n_head_kv * head_dim;
  add("token_embd.weight", s.n_embd, s.n_vocab, true);
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    add(p + "attn_norm.weight", s.n_embd, 1, false);
    add(p + "attn_q.weight", s.n_embd, q_dim, true);
    add(p + "attn_k.weight", s.n_embd, kv_dim, true);
    add(p + "attn_v.weight", s.n_embd, kv_dim, true);
    if (a == "qwen2") {
      add(p + "attn_q.bias", q_dim, 1, false);
      add(p + "attn_k.bias", kv_dim, 1, false);
      add(p + "attn_v.bias", kv_dim, 1, false);
    }
    add(p + "attn_output.weight", q_dim, s.n_embd, true);
    add(p + "ffn_norm.weight", s.n_embd, 1, false);
    add(p + "ffn_gate.weight", s.n_embd, s.n_ff, true);
    add(p + "ffn_up.weight", s.n_embd, s.n_ff, true);
    add(p + "ffn_down.weight", s.n_ff, s.n_embd, true);
  }
  add("output_norm.weight", s.n_embd, 1, false);
  if (!s.tied) add("output.weight", s.n_embd, s.n_vocab, true);
  const std::string path = ::testing::TempDir() + "/" + file_name;
  test::WriteFile(path, b.Build());
  return path;
}

std::string LoadError(const std::string& path) {
  try {
    Model::Load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// --- the checks every model goes through ---

void CheckEvalMatchesReference(const Model& model, std::span<const int32_t> tokens, double budget) {
  const auto ref = ReferenceForward(model, tokens);
  Context ctx(model, int32_t(tokens.size()) + 4, nullptr, KvType::kF32);
  const auto all = ctx.Eval(tokens, /*all_logits=*/true);
  const size_t n_vocab = size_t(model.config().n_vocab);
  ASSERT_EQ(all.size(), tokens.size() * n_vocab);
  for (size_t t = 0; t < tokens.size(); ++t) {
    EXPECT_LE(
        RelDiff(all.subspan(t * n_vocab, n_vocab), std::span<const float>(ref).subspan(t * n_vocab, n_vocab)),
        budget)
        << "position " << t;
  }
}

void CheckBatchThreadsTruncate(const Model& model, std::span<const int32_t> tokens) {
  const size_t n_vocab = size_t(model.config().n_vocab), n = tokens.size();
  ThreadPool pool(2);
  Context batch(model, int32_t(n) + 2, &pool, KvType::kF32);
  const auto b = batch.Eval(tokens, true);
  const std::vector<float> batch_logits(b.begin(), b.end());

  // N single-token evals on one thread give the same logits: MatMul and attention compute each row the same
  // way whatever the batch size or thread count.
  Context single(model, int32_t(n) + 2, nullptr, KvType::kF32);
  for (size_t t = 0; t < n; ++t) {
    const auto l = single.Eval(tokens.subspan(t, 1));
    ASSERT_EQ(l.size(), n_vocab);
    EXPECT_EQ(RelDiff(l, std::span<const float>(batch_logits).subspan(t * n_vocab, n_vocab)), 0.0) << t;
  }
  EXPECT_EQ(single.n_past(), int32_t(n));

  // Last-token logits only.
  Context last(model, int32_t(n) + 2, &pool, KvType::kF32);
  const auto l = last.Eval(tokens);
  ASSERT_EQ(l.size(), n_vocab);
  EXPECT_EQ(RelDiff(l, std::span<const float>(batch_logits).subspan((n - 1) * n_vocab, n_vocab)), 0.0);

  // Truncate and re-evaluate the tail: same logits.
  const int32_t keep = int32_t(n / 2);
  batch.Truncate(keep);
  EXPECT_EQ(batch.n_past(), keep);
  const auto again = batch.Eval(tokens.subspan(size_t(keep)), true);
  EXPECT_EQ(RelDiff(again, std::span<const float>(batch_logits).subspan(size_t(keep) * n_vocab)), 0.0);

  // Overflow and bad ids throw without corrupting the state.
  EXPECT_THROW(batch.Eval(tokens.subspan(0, 3)), Error);
  EXPECT_EQ(batch.n_past(), int32_t(n));
  const int32_t bad[2] = {0, model.config().n_vocab};
  Context fresh(model, 8, nullptr);
  EXPECT_THROW(fresh.Eval(bad), Error);
  const int32_t negative[1] = {-1};
  EXPECT_THROW(fresh.Eval(negative), Error);
  EXPECT_THROW(fresh.Eval({}), Error);
  EXPECT_EQ(fresh.n_past(), 0);
  EXPECT_THROW(ReferenceForward(model, bad), Error);
}

struct TinyCase {
  const char* name;
  TinySpec spec;
};

void PrintTo(const TinyCase& c, std::ostream* os) {
  *os << c.name;
}

class TinyGgufTest : public ::testing::TestWithParam<TinyCase> {};

TEST_P(TinyGgufTest, EvalMatchesReferenceBatchThreadsTruncate) {
  const auto path = WriteTinyGguf(GetParam().spec, std::string(GetParam().name) + ".gguf");
  const auto model = Model::Load(path);
  EXPECT_FALSE(model->has_tokenizer());
  EXPECT_THROW(model->tokenizer(), Error);
  const auto tokens = SomeTokens(11, model->config().n_vocab, 1);
  CheckEvalMatchesReference(*model, tokens, EvalBudget(1e-5, GetParam().spec.weight_type != 0));
  CheckBatchThreadsTruncate(*model, tokens);
}

TinySpec Spec(const std::string& arch, uint32_t n_ff, uint32_t weight_type, bool tied) {
  TinySpec s;
  s.arch = arch;
  s.n_ff = n_ff;
  s.weight_type = weight_type;
  s.tied = tied;
  return s;
}

INSTANTIATE_TEST_SUITE_P(Archs, TinyGgufTest,
                         ::testing::Values(TinyCase{"llama_f32", Spec("llama", 48, 0, false)},
                                           TinyCase{"llama_q8_0_tied", Spec("llama", 64, 8, true)},
                                           TinyCase{"qwen2_f32", Spec("qwen2", 48, 0, false)},
                                           TinyCase{"qwen2_q8_0", Spec("qwen2", 64, 8, false)}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(TinyGguf, ConfigAndAccounting) {
  const auto model = Model::Load(WriteTinyGguf(Spec("qwen2", 48, 0, false), "acct.gguf"));
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.arch, ModelArch::kQwen2);
  EXPECT_EQ(c.rope.layout, RopeLayout::kNeox);
  EXPECT_TRUE(c.attn_qkv_bias);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_FALSE(c.tied_embeddings);
  // embd + out: 2*32*40; per layer: norms 2*32, q 32*32, k,v 2*32*16, biases 32+2*16, o 32*32, ffn 3*32*48.
  const int64_t per_layer = 2 * 32 + 32 * 32 + 2 * 32 * 16 + 32 + 2 * 16 + 32 * 32 + 3 * 32 * 48;
  EXPECT_EQ(model->n_params(), 2 * 32 * 40 + 32 + 2 * per_layer);
  EXPECT_EQ(model->kv_bytes_per_token(KvType::kF32), size_t(2 * 2 * 16 * 4));  // layers x (K, V) x kv_dim x 4
  EXPECT_EQ(model->kv_bytes_per_token(), size_t(2 * 2 * 16 * 2));               // f16, the default
  EXPECT_EQ(model->chat_template(), "");
}

TEST(TinyGguf, MissingTensorIsNamed) {
  TinySpec s;
  s.skip_tensor = "blk.1.attn_k.weight";
  const std::string err = LoadError(WriteTinyGguf(s, "missing.gguf"));
  EXPECT_NE(err.find("missing.gguf: missing tensor blk.1.attn_k.weight"), std::string::npos) << err;
}

TEST(TinyGguf, MissingOutputWhenTiedIsFine) {
  TinySpec s;
  s.tied = true;
  const auto model = Model::Load(WriteTinyGguf(s, "tied.gguf"));
  EXPECT_TRUE(model->config().tied_embeddings);
  EXPECT_EQ(model->weights().output.data, model->weights().token_embd.data);
}

TEST(TinyGguf, WrongShapeNamesExpectedAndGot) {
  TinySpec s;
  s.bad_shape_tensor = "blk.0.ffn_up.weight";
  const std::string err = LoadError(WriteTinyGguf(s, "shape.gguf"));
  EXPECT_NE(err.find("blk.0.ffn_up.weight"), std::string::npos) << err;
  EXPECT_NE(err.find("[32, 49]"), std::string::npos) << err;
  EXPECT_NE(err.find("expected [32, 48]"), std::string::npos) << err;
}

TEST(TinyGguf, ImpossibleConfigIsRejected) {
  TinySpec s;
  s.n_head_kv = 3;  // 4 % 3 != 0
  const std::string err = LoadError(WriteTinyGguf(s, "heads.gguf"));
  EXPECT_NE(err.find("heads.gguf"), std::string::npos) << err;
  EXPECT_NE(err.find("n_head_kv"), std::string::npos) << err;
  s = TinySpec{};
  s.arch = "gpt2";
  EXPECT_NE(LoadError(WriteTinyGguf(s, "arch.gguf")).find("unsupported architecture 'gpt2'"),
            std::string::npos);
}

// --- real models ---

TEST(Stories260K, EvalMatchesReference) {
  SEEK_REQUIRE_SHARED();
  const auto model = Model::Load(test::SharedDir() + "/models/stories260K/stories260K.bin");
  EXPECT_EQ(model->config().rope.layout, RopeLayout::kNorm);
  const auto tokens = SomeTokens(40, model->config().n_vocab, 2);
  CheckEvalMatchesReference(*model, tokens, EvalBudget(1e-4, /*quantized_weights=*/false));
  CheckBatchThreadsTruncate(*model, tokens);
}

TEST(SmolLM2, EvalMatchesReference) {
  const std::string path = test::SmolLM2Path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 GGUF not found (set SEEK_SMOLLM2)";
  const auto model = Model::Load(path);
  const auto tokens = SomeTokens(30, model->config().n_vocab, 3);
  CheckEvalMatchesReference(*model, tokens, EvalBudget(1e-4, /*quantized_weights=*/true));
}

TEST(SmolLM2, BatchEqualsSingleAndThreads) {
  const std::string path = test::SmolLM2Path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 GGUF not found (set SEEK_SMOLLM2)";
  const auto model = Model::Load(path);
  CheckBatchThreadsTruncate(*model, SomeTokens(6, model->config().n_vocab, 4));
}

}  // namespace
}  // namespace seek
