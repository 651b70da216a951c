// model/quantize (seek quantize's library): the per-tensor type rules, and the quantization quality gates:
// tiny models quantized to each scheme are loaded and their KL-divergence against the F32 model is held to
// the budgets of docs/ACCURACY.md ("Quantization gates"). The tiny HF-derived models are 64 wide, so K-quant
// schemes fall back there (rows of 64 cannot hold 256-element super-blocks); a synthetic 4-layer llama with
// rows of 256 and 512, written here with GgufWriter and random N(0, 1/n_in) weights, exercises the K-quants.
#include "model/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "kernels/quant/quant.h"
#include "model/model.h"
#include "runtime/perplexity.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace seek {
namespace {

std::string Temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("seek_quantize_test_" + name)).string();
}

std::string TinyPath(const std::string& name, const std::string& type) {
  return test::TestdataDir() + "/models/" + name + "/" + name + "-" + type + ".gguf";
}

std::vector<int32_t> Ids(int n, int n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(n);
  for (int32_t& t : ids) t = static_cast<int32_t>(rng() % n_vocab);
  return ids;
}

PerplexityResult Kl(const std::string& base_path, const std::string& path, const std::vector<int32_t>& ids) {
  auto base = Model::Load(base_path);
  auto model = Model::Load(path);
  ThreadPool pool(2);
  PerplexityOptions o;
  o.n_ctx = 32;
  o.pool = &pool;
  return ComputePerplexity(*model, ids, o, BaseFromModel(*base, o), nullptr);
}

// A llama GGUF with n_embd 256, n_ff 512, 4 heads of 64 (2 KV heads), 4 layers, vocab 320, untied output;
// weights ~N(0, 1 / n_in), norms ~1 + N(0, 0.1^2). Written once per test run.
const std::string& WideModel() {
  static const std::string path = [] {
    const std::string p = Temp("wide-f32.gguf");
    const int64_t n_embd = 256, n_ff = 512, n_head = 4, n_kv = 2, head_dim = 64, n_layer = 4, n_vocab = 320;
    GgufWriter w(p);
    w.SetString("general.architecture", "llama");
    w.SetString("general.name", "wide-test");
    w.SetU32("general.file_type", 0);
    w.SetU32("llama.context_length", 256);
    w.SetU32("llama.embedding_length", n_embd);
    w.SetU32("llama.block_count", n_layer);
    w.SetU32("llama.feed_forward_length", n_ff);
    w.SetU32("llama.attention.head_count", n_head);
    w.SetU32("llama.attention.head_count_kv", n_kv);
    w.SetF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.SetF32("llama.rope.freq_base", 10000.0f);
    w.SetU32("llama.rope.dimension_count", head_dim);
    w.SetU32("llama.vocab_size", n_vocab);
    struct T {
      std::string name;
      int64_t ne0, ne1;  // ne1 = 0: 1-D
    };
    std::vector<T> ts = {{"token_embd.weight", n_embd, n_vocab}};
    for (int l = 0; l < n_layer; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      ts.push_back({b + "attn_q.weight", n_embd, n_head * head_dim});
      ts.push_back({b + "attn_k.weight", n_embd, n_kv * head_dim});
      ts.push_back({b + "attn_v.weight", n_embd, n_kv * head_dim});
      ts.push_back({b + "attn_output.weight", n_head * head_dim, n_embd});
      ts.push_back({b + "ffn_gate.weight", n_embd, n_ff});
      ts.push_back({b + "ffn_up.weight", n_embd, n_ff});
      ts.push_back({b + "ffn_down.weight", n_ff, n_embd});
      ts.push_back({b + "attn_norm.weight", n_embd, 0});
      ts.push_back({b + "ffn_norm.weight", n_embd, 0});
    }
    ts.push_back({"output_norm.weight", n_embd, 0});
    ts.push_back({"output.weight", n_embd, n_vocab});
    for (const T& t : ts) {
      const int64_t ne[2] = {t.ne0, t.ne1};
      w.AddTensor(t.name, DType::kF32, t.ne1 ? 2 : 1, ne);
    }
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const T& t : ts) {
      std::vector<float> x(static_cast<size_t>(t.ne0 * std::max<int64_t>(t.ne1, 1)));
      const float sd = t.name == "token_embd.weight" ? 1.0f : 1.0f / std::sqrt(static_cast<float>(t.ne0));
      for (float& v : x) v = t.ne1 ? sd * normal(rng) : 1.0f + 0.1f * normal(rng);
      w.WriteTensorData(x.data(), x.size() * sizeof(float));
    }
    w.Finish();
    return p;
  }();
  return path;
}

TEST(Quantize, ParsesSchemes) {
  EXPECT_EQ(ParseQuantScheme("q4_k_m")->base, DType::kQ4_K);
  EXPECT_EQ(ParseQuantScheme("Q4_K_M")->file_type, 15u);
  EXPECT_EQ(ParseQuantScheme("Q8_0")->file_type, 7u);
  EXPECT_EQ(ParseQuantScheme("bf16")->base, DType::kBF16);
  EXPECT_FALSE(ParseQuantScheme("Q4_K_X"));
  EXPECT_FALSE(ParseQuantScheme(""));
  EXPECT_NE(QuantSchemeNames().find("Q5_K_M"), std::string::npos);
}

TensorView Fake(const std::string& name, int64_t ne0, int64_t ne1) {
  TensorView t;
  t.name = name;
  t.n_dims = ne1 ? 2 : 1;
  t.ne[0] = ne0;
  t.ne[1] = ne1 ? ne1 : 1;
  return t;
}

TEST(Quantize, MixRules) {
  const QuantScheme m = *ParseQuantScheme("Q4_K_M");
  TensorPlace p;
  p.n_layer = 32;
  // 32 layers: more bits for layers 0-3, 28-31 and 4 + 3k + 2 = 6, 9, ..., 27.
  std::vector<int> q6_layers;
  for (int l = 0; l < 32; ++l) {
    p.layer = l;
    const DType v = ChooseTensorType(m, Fake("blk." + std::to_string(l) + ".attn_v.weight", 4096, 1024), p);
    const DType d =
        ChooseTensorType(m, Fake("blk." + std::to_string(l) + ".ffn_down.weight", 11008, 4096), p);
    const DType q = ChooseTensorType(m, Fake("blk." + std::to_string(l) + ".attn_q.weight", 4096, 4096), p);
    EXPECT_EQ(q, DType::kQ4_K);
    EXPECT_EQ(v, d) << l;
    if (v == DType::kQ6_K) q6_layers.push_back(l);
  }
  EXPECT_EQ(q6_layers, (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
  p.layer = -1;
  EXPECT_EQ(ChooseTensorType(m, Fake("output.weight", 4096, 32000), p), DType::kQ6_K);
  EXPECT_EQ(ChooseTensorType(m, Fake("token_embd.weight", 4096, 32000), p), DType::kQ4_K);
  EXPECT_EQ(ChooseTensorType(m, Fake("output_norm.weight", 4096, 0), p), DType::kF32);
  p.tied_output = true;
  EXPECT_EQ(ChooseTensorType(m, Fake("token_embd.weight", 4096, 32000), p), DType::kQ6_K);
  EXPECT_EQ(ChooseTensorType(m, Fake("blk.0.ffn_gate_inp.weight", 4096, 64), p), DType::kF32);

  const QuantScheme s = *ParseQuantScheme("Q4_K_S");
  p.tied_output = false;
  p.layer = 3;
  EXPECT_EQ(ChooseTensorType(s, Fake("blk.3.attn_v.weight", 4096, 1024), p), DType::kQ5_K);
  EXPECT_EQ(ChooseTensorType(s, Fake("blk.3.ffn_down.weight", 11008, 4096), p), DType::kQ5_K);
  p.layer = 4;
  EXPECT_EQ(ChooseTensorType(s, Fake("blk.4.attn_v.weight", 4096, 1024), p), DType::kQ4_K);
  EXPECT_EQ(ChooseTensorType(s, Fake("blk.4.ffn_down.weight", 11008, 4096), p), DType::kQ4_K);

  // Legacy types: output becomes Q6_K except for Q8_0; F16 keeps everything 2-D in F16.
  p.layer = -1;
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q4_0"), Fake("output.weight", 4096, 32000), p), DType::kQ6_K);
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q8_0"), Fake("output.weight", 4096, 32000), p), DType::kQ8_0);
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("F16"), Fake("output.weight", 4096, 32000), p), DType::kF16);
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("F16"), Fake("output_norm.weight", 4096, 0), p), DType::kF32);
}

TEST(Quantize, PureSkipsOutputAndMixRules) {
  QuantScheme k = *ParseQuantScheme("Q4_K");
  k.pure = true;
  TensorPlace p;
  p.n_layer = 32;
  p.tied_output = true;
  EXPECT_EQ(ChooseTensorType(k, Fake("token_embd.weight", 4096, 32000), p), DType::kQ4_K);
  EXPECT_EQ(ChooseTensorType(k, Fake("output.weight", 4096, 32000), p), DType::kQ4_K);
  EXPECT_EQ(ChooseTensorType(k, Fake("output_norm.weight", 4096, 0), p), DType::kF32);
  p.layer = 0;
  EXPECT_EQ(ChooseTensorType(k, Fake("blk.0.ffn_gate_inp.weight", 4096, 64), p), DType::kF32);
  // The row-length fallbacks still apply.
  EXPECT_EQ(ChooseTensorType(k, Fake("blk.0.attn_q.weight", 576, 576), p), DType::kQ5_0);
  QuantScheme q = *ParseQuantScheme("Q4_0");
  q.pure = true;
  p.layer = -1;
  EXPECT_EQ(ChooseTensorType(q, Fake("token_embd.weight", 576, 49152), p), DType::kQ4_0);
}

TEST(Quantize, Fallbacks) {
  TensorPlace p;
  p.n_layer = 2;
  p.layer = 0;
  std::string reason;
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q4_K"), Fake("blk.0.attn_q.weight", 576, 576), p, &reason),
            DType::kQ5_0);
  EXPECT_NE(reason.find("not a multiple of 256"), std::string::npos) << reason;
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q5_K"), Fake("blk.0.attn_q.weight", 576, 576), p),
            DType::kQ5_1);
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q6_K"), Fake("blk.0.attn_q.weight", 576, 576), p),
            DType::kQ8_0);
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q4_0"), Fake("blk.0.attn_q.weight", 100, 576), p, &reason),
            DType::kF16);
  EXPECT_NE(reason.find("f16"), std::string::npos) << reason;
  EXPECT_EQ(ChooseTensorType(*ParseQuantScheme("Q4_K"), Fake("blk.0.attn_q.weight", 512, 576), p, &reason),
            DType::kQ4_K);
  EXPECT_EQ(reason, "");
}

// Quality gates (docs/ACCURACY.md "Quantization gates"): mean KL(F32 || quantized) over 4 chunks of 32
// tokens (64 scored tokens).
struct Gate {
  const char* scheme;
  double max_mean_kl;
};

TEST(Quantize, TinyModelGates) {
  // Measured (llama_untied / qwen2_bias): Q8_0 1.9e-4 / 9.4e-5, Q5_1 7.2e-3 / 4.6e-3, Q4_0 3.6e-2 / 1.8e-2,
  // Q4_K_M (falls back to Q5_0, output Q8_0) 9.5e-3 / 5.0e-3, F16 2.5e-7 / 1.5e-7.
  const Gate gates[] = {{"Q8_0", 1e-3}, {"Q5_1", 2e-2}, {"Q4_0", 8e-2}, {"Q4_K_M", 3e-2}, {"F16", 2e-6}};
  for (const char* name : {"llama_untied", "qwen2_bias"}) {
    const std::string base = TinyPath(name, "f32");
    const std::vector<int32_t> ids = Ids(128, 320, 9);
    for (const Gate& g : gates) {
      const std::string out = Temp(std::string(name) + "-" + g.scheme + ".gguf");
      QuantizeOptions qo;
      qo.n_threads = 2;
      const QuantizeStats st = QuantizeModel(base, out, *ParseQuantScheme(g.scheme), qo);
      EXPECT_GT(st.n_quantized, 0);
      const PerplexityResult r = Kl(base, out, ids);
      std::printf(
          "%s %-6s: %.3f MB -> %.3f MB, mean KL %.3g (99%% %.3g, max %.3g), top-1 %.1f%%, PPL %.3f vs %.3f\n",
          name, g.scheme, st.bytes_in / 1e6, st.bytes_out / 1e6, r.kl_mean, r.kl_p99, r.kl_max,
          100 * r.top1_agreement, r.ppl, r.base_ppl);
      EXPECT_GT(r.kl_mean, 0.0) << g.scheme;
      EXPECT_LE(r.kl_mean, g.max_mean_kl) << name << " " << g.scheme;
      std::filesystem::remove(out);
    }
  }
}

TEST(Quantize, WideModelKQuantGates) {
  // Measured: Q8_0 1.3e-4, Q6_K 1.4e-3, Q5_K_M 5.0e-3, Q4_K_M 2.0e-2, Q4_K_S 1.9e-2, Q4_0 2.8e-2,
  // Q3_K 8.2e-2, Q2_K 0.25.
  const Gate gates[] = {{"Q8_0", 5e-4},   {"Q6_K", 4e-3}, {"Q5_K_M", 1.2e-2}, {"Q4_K_M", 4e-2},
                        {"Q4_K_S", 4e-2}, {"Q4_0", 6e-2}, {"Q3_K", 0.16},     {"Q2_K", 0.5}};
  const std::string base = WideModel();
  const std::vector<int32_t> ids = Ids(128, 320, 10);
  double prev_k = 0;
  for (const Gate& g : gates) {
    const std::string out = Temp(std::string("wide-") + g.scheme + ".gguf");
    QuantizeOptions qo;
    qo.n_threads = 2;
    const QuantizeStats st = QuantizeModel(base, out, *ParseQuantScheme(g.scheme), qo);
    // The K schemes really use K-quant tensors here.
    auto f = GgufFile::Open(out);
    if (std::string(g.scheme) == "Q4_K_M") {
      EXPECT_EQ(f->FindTensor("blk.0.attn_q.weight")->type, DType::kQ4_K);
      // 4 layers: "more bits" for layer 3 (the last eighth) and 2 ((2 - 0) % 3 == 2), as llama.cpp.
      EXPECT_EQ(f->FindTensor("blk.0.attn_v.weight")->type, DType::kQ4_K);
      EXPECT_EQ(f->FindTensor("blk.2.attn_v.weight")->type, DType::kQ6_K);
      EXPECT_EQ(f->FindTensor("blk.3.ffn_down.weight")->type, DType::kQ6_K);
      EXPECT_EQ(f->FindTensor("blk.1.ffn_down.weight")->type, DType::kQ4_K);
      EXPECT_EQ(f->FindTensor("output.weight")->type, DType::kQ6_K);
      EXPECT_EQ(f->FindTensor("blk.0.attn_norm.weight")->type, DType::kF32);
      EXPECT_EQ(f->GetInt("general.file_type"), 15);
      EXPECT_EQ(f->GetString("general.name"), "wide-test");
    }
    const PerplexityResult r = Kl(base, out, ids);
    std::printf(
        "wide %-6s: %.2f MB -> %.2f MB, mean KL %.3g (median %.3g, 99%% %.3g, max %.3g), top-1 %.1f%%\n",
        g.scheme, st.bytes_in / 1e6, st.bytes_out / 1e6, r.kl_mean, r.kl_median, r.kl_p99, r.kl_max,
        100 * r.top1_agreement);
    EXPECT_GT(r.kl_mean, 0.0) << g.scheme;
    EXPECT_LE(r.kl_mean, g.max_mean_kl) << g.scheme;
    // Along Q6_K, Q5_K_M, Q4_K_M, Q3_K, Q2_K fewer bits must mean more divergence (Q4_K_S is not ordered
    // against Q4_K_M on 4 layers: it gives Q5_K to all four attn_v, M gives Q6_K to two).
    if (std::string(g.scheme).find("_K") != std::string::npos && std::string(g.scheme) != "Q4_K_S") {
      EXPECT_GT(r.kl_mean, prev_k) << g.scheme;
      prev_k = r.kl_mean;
    }
    std::filesystem::remove(out);
  }
}

TEST(Quantize, RequantizeNeedsTheFlag) {
  const std::string out = Temp("requant.gguf");
  const std::string q8 = TinyPath("llama_tied", "q8_0");
  QuantizeOptions qo;
  try {
    QuantizeModel(q8, out, *ParseQuantScheme("Q4_0"), qo);
    ADD_FAILURE() << "requantizing without the flag must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--allow-requantize"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  qo.allow_requantize = true;
  QuantizeModel(q8, out, *ParseQuantScheme("Q4_0"), qo);
  const PerplexityResult r = Kl(TinyPath("llama_tied", "f32"), out, Ids(64, 320, 4));
  EXPECT_LE(r.kl_mean, 5e-2);
  // Same type in and out: copied byte for byte, no flag needed.
  qo.allow_requantize = false;
  const std::string copy = Temp("copy.gguf");
  QuantizeModel(q8, copy, *ParseQuantScheme("Q8_0"), qo);
  auto a = GgufFile::Open(q8), b = GgufFile::Open(copy);
  for (const TensorView& t : a->tensors()) {
    const TensorView* u = b->FindTensor(t.name);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->type, t.type);
    EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << t.name;
  }
  std::filesystem::remove(out);
  std::filesystem::remove(copy);
}

TEST(Quantize, CopiesMetadataAndErrors) {
  const std::string out = Temp("meta.gguf");
  QuantizeModel(TinyPath("qwen2_bias", "f16"), out, *ParseQuantScheme("Q8_0"), {});
  auto a = GgufFile::Open(TinyPath("qwen2_bias", "f16")), b = GgufFile::Open(out);
  for (const std::string& k : a->keys()) {
    ASSERT_NE(b->Find(k), nullptr) << k;
    if (k != "general.file_type") {
      EXPECT_EQ(b->Find(k)->type, a->Find(k)->type) << k;
    }
  }
  EXPECT_EQ(b->GetInt("general.file_type"), 7);
  EXPECT_EQ(b->GetInt("general.quantization_version"), 2);
  EXPECT_EQ(b->FindTensor("blk.0.attn_q.bias")->type,
            DType::kF32);  // 1-D stays F32 (was F32 in the F16 file)
  std::filesystem::remove(out);

  EXPECT_THROW(QuantizeModel("/nonexistent.gguf", out, *ParseQuantScheme("Q8_0"), {}), Error);
  EXPECT_THROW(QuantizeModel(TinyPath("qwen2_bias", "f16"), "/nonexistent-dir/out.gguf",
                             *ParseQuantScheme("Q8_0"), {}),
               Error);
  EXPECT_THROW(QuantizeModel(TinyPath("qwen2_bias", "f16"), TinyPath("qwen2_bias", "f16"),
                             *ParseQuantScheme("Q8_0"), {}),
               Error);
}

// An HF folder converted to F32 by seek quantize must equal the F32 GGUF that tools/hf_to_gguf.py (gguf-py's
// writer) made from the same folder: same keys and values, same tensors and bytes (q/k permutation, llama3
// rope_freqs, yarn keys, tied embeddings included). general.file_type and general.quantization_version are
// seek's additions / settings.
TEST(Quantize, HfFolderMatchesPythonConverter) {
  for (const char* name : {"llama_untied", "llama_tied", "qwen2_bias", "llama3_rope", "qwen2_yarn"}) {
    const std::string out = Temp(std::string(name) + "-hf.gguf");
    QuantizeModel(test::TestdataDir() + "/models/" + name + "/hf", out, *ParseQuantScheme("F32"), {});
    auto want = GgufFile::Open(TinyPath(name, "f32")), got = GgufFile::Open(out);
    for (const std::string& k : want->keys()) {
      const GgufValue* a = want->Find(k);
      const GgufValue* b = got->Find(k);
      ASSERT_NE(b, nullptr) << name << " " << k;
      EXPECT_EQ(a->type, b->type) << name << " " << k;
      EXPECT_EQ(a->str, b->str) << name << " " << k;
      EXPECT_EQ(a->i, b->i) << name << " " << k;
      EXPECT_EQ(a->u, b->u) << name << " " << k;
      EXPECT_EQ(a->f, b->f) << name << " " << k;
    }
    EXPECT_EQ(got->keys().size(), want->keys().size() + 1) << name;  // + general.quantization_version
    ASSERT_EQ(got->tensors().size(), want->tensors().size()) << name;
    for (const TensorView& t : want->tensors()) {
      const TensorView* u = got->FindTensor(t.name);
      ASSERT_NE(u, nullptr) << name << " " << t.name;
      EXPECT_EQ(u->type, t.type) << t.name;
      EXPECT_EQ(u->ShapeString(), t.ShapeString()) << t.name;
      ASSERT_EQ(u->nbytes, t.nbytes) << t.name;
      EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes), 0) << name << " " << t.name;
    }
    std::filesystem::remove(out);
  }
}

// An HF folder's tokenizer.json becomes GGUF tokenizer keys that tokenize exactly as the tokenizer.json does
// (seek's HF tokenizer is itself checked against HF tokenizers), with the same special ids and chat template.
// The folder borrows the tiny qwen2 model's weights; the tokenizers come from ../shared.
TEST(Quantize, HfTokenizerBecomesGgufTokenizer) {
  SEEK_REQUIRE_SHARED();
  const std::vector<std::string> texts = {
      "Hello, world! It's 2024-05-17 and 12345 apples cost $3.50.",
      "<|im_start|>user\nWhat is 1+1?<|im_end|>\n<｜begin▁of▁sentence｜>",
      "中文测试：你好，世界。 日本語 テスト",
      "def f(x):\n    return x**2  # comment\n\n\t tabs   spaces",
  };
  for (const char* tok_name : {"deepseek-r1-distill-qwen", "deepseek-v3"}) {
    const std::string tok_dir = test::SharedDir() + "/tokenizers/" + tok_name;
    const std::filesystem::path dir = Temp(std::string("hf-") + tok_name);
    std::filesystem::create_directories(dir);
    const std::string hf = test::TestdataDir() + "/models/qwen2_bias/hf/";
    for (const char* f : {"config.json", "model.safetensors"})
      std::filesystem::copy_file(hf + f, dir / f, std::filesystem::copy_options::overwrite_existing);
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      std::filesystem::copy_file(tok_dir + "/" + f, dir / f,
                                 std::filesystem::copy_options::overwrite_existing);
    const std::string out = Temp(std::string("tok-") + tok_name + ".gguf");
    QuantizeModel(dir.string(), out, *ParseQuantScheme("Q8_0"), {});
    auto gguf = GgufFile::Open(out);
    auto from_gguf = Tokenizer::FromGguf(*gguf);
    const nlohmann::json config =
        nlohmann::json::parse(test::ReadFileToString(tok_dir + "/tokenizer_config.json"));
    auto from_json = Tokenizer::FromHfJson(tok_dir + "/tokenizer.json", &config);
    EXPECT_EQ(from_gguf->n_vocab(), from_json->n_vocab()) << tok_name;
    EXPECT_EQ(from_gguf->bos_id(), from_json->bos_id()) << tok_name;
    EXPECT_EQ(from_gguf->eos_id(), from_json->eos_id()) << tok_name;
    EXPECT_EQ(from_gguf->add_bos(), from_json->add_bos()) << tok_name;
    for (const std::string& t : texts) {
      EXPECT_EQ(from_gguf->Encode(t, true), from_json->Encode(t, true)) << tok_name << ": " << t;
      EXPECT_EQ(from_gguf->Encode(t, false), from_json->Encode(t, false)) << tok_name << ": " << t;
    }
    if (config.contains("chat_template") && config["chat_template"].is_string())
      EXPECT_EQ(gguf->GetString("tokenizer.chat_template"), config["chat_template"].get<std::string>());
    std::filesystem::remove_all(dir);
    std::filesystem::remove(out);
  }
}

}  // namespace
}  // namespace seek
