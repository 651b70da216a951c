// runtime/perplexity: PPL of the tiny models against HF transformers
// (tests/testdata/perplexity/reference.json, made by tools/make_perplexity_fixture.py with the HF model in
// float64), KL of a model against itself (0), KL of the Q8_0 GGUF against the F32 one (small and positive),
// and the saved log-probs file. Budgets: per-token NLL within kNllBudget nats of HF's (seek runs in fp32; the
// tiny models' logits span ~7, so fp32 logit errors ~1e-5 give NLL errors of the same order); Q8_0 vs F32
// mean KL <= kQ8KlBudget.
#include "runtime/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"

namespace seek {
namespace {

constexpr double kNllBudget = 1e-4;   // nats, mean |NLL_seek - NLL_HF| per scored token
constexpr double kQ8KlBudget = 1e-3;  // nats, mean KL(F32 || Q8_0)

std::string ModelPath(const std::string& name, const std::string& type) {
  return test::TestdataDir() + "/models/" + name + "/" + name + "-" + type + ".gguf";
}

std::vector<int32_t> ReferenceIds(const std::string& name) {
  auto j = nlohmann::json::parse(
      test::ReadFileToString(test::TestdataDir() + "/models/" + name + "/reference.json"));
  return j["ids"].get<std::vector<int32_t>>();
}

TEST(Perplexity, MatchesTransformers) {
  auto ref =
      nlohmann::json::parse(test::ReadFileToString(test::TestdataDir() + "/perplexity/reference.json"));
  ThreadPool pool(2);
  for (const auto& [name, by_ctx] : ref["models"].items()) {
    auto model = Model::Load(ModelPath(name, "f32"));
    const std::vector<int32_t> ids = ReferenceIds(name);
    for (const auto& [ctx, r] : by_ctx.items()) {
      PerplexityOptions o;
      o.n_ctx = std::stoi(ctx);
      o.pool = &pool;
      const PerplexityResult res = ComputePerplexity(*model, ids, o, nullptr, nullptr);
      EXPECT_EQ(res.n_scored, r["n_scored"].get<int64_t>()) << name << " " << ctx;
      EXPECT_EQ(res.n_chunks, static_cast<int32_t>(ids.size()) / o.n_ctx);
      EXPECT_NEAR(res.mean_nll, r["mean_nll"].get<double>(), kNllBudget) << name << " " << ctx;
      EXPECT_NEAR(res.ppl / r["ppl"].get<double>(), 1.0, 2 * kNllBudget) << name << " " << ctx;
      EXPECT_GT(res.ppl_se, 0.0);
      EXPECT_FALSE(res.has_base);
      std::printf("%s n_ctx %s: PPL %.6f +/- %.4f (HF %.6f)\n", name.c_str(), ctx.c_str(), res.ppl,
                  res.ppl_se, r["ppl"].get<double>());
    }
  }
}

TEST(Perplexity, ChunkLimitAndBosReplacement) {
  std::vector<int32_t> ids(40);
  for (int i = 0; i < 40; ++i) ids[i] = i + 10;
  PerplexityOptions o;
  o.n_ctx = 16;
  o.bos_id = 1;
  EXPECT_EQ(ChunkTokens(ids, 1, o)[0], 1);
  EXPECT_EQ(ChunkTokens(ids, 1, o)[1], 27);
  EXPECT_EQ(ScoredPerChunk(16), 7);
  EXPECT_EQ(ScoredPerChunk(5), 2);
  auto model = Model::Load(ModelPath("llama_tied", "f32"));
  o.n_chunks = 1;
  EXPECT_EQ(ComputePerplexity(*model, ids, o, nullptr, nullptr).n_scored, 7);
  o.n_chunks = -1;
  EXPECT_EQ(ComputePerplexity(*model, ids, o, nullptr, nullptr).n_chunks, 2);  // the partial chunk is dropped
  o.n_ctx = 64;
  EXPECT_THROW(ComputePerplexity(*model, ids, o, nullptr, nullptr), Error);  // fewer tokens than one chunk
  o.n_ctx = 2;
  EXPECT_THROW(ComputePerplexity(*model, ids, o, nullptr, nullptr), Error);
}

TEST(Perplexity, KlAgainstItselfIsZero) {
  auto model = Model::Load(ModelPath("qwen2_bias", "f32"));
  auto base = Model::Load(ModelPath("qwen2_bias", "f32"));
  PerplexityOptions o;
  o.n_ctx = 16;
  const PerplexityResult r =
      ComputePerplexity(*model, ReferenceIds("qwen2_bias"), o, BaseFromModel(*base, o), nullptr);
  ASSERT_TRUE(r.has_base);
  EXPECT_EQ(r.kl_mean, 0.0);
  EXPECT_EQ(r.kl_max, 0.0);
  EXPECT_EQ(r.top1_agreement, 1.0);
  EXPECT_EQ(r.ppl, r.base_ppl);
}

TEST(Perplexity, KlQ8VsF32IsSmallAndPositive) {
  for (const char* name : {"llama_untied", "qwen2_bias"}) {
    auto f32 = Model::Load(ModelPath(name, "f32"));
    auto q8 = Model::Load(ModelPath(name, "q8_0"));
    PerplexityOptions o;
    o.n_ctx = 16;
    o.kv_type = KvType::kF32;  // isolate the weight rounding (an f16 cache adds its own, on both sides)
    const PerplexityResult r = ComputePerplexity(*q8, ReferenceIds(name), o, BaseFromModel(*f32, o), nullptr);
    std::printf(
        "%s Q8_0 vs F32: mean KL %.3g (median %.3g, 99%% %.3g, max %.3g), top-1 %.1f%%, PPL %.4f vs %.4f\n",
        name, r.kl_mean, r.kl_median, r.kl_p99, r.kl_max, 100 * r.top1_agreement, r.ppl, r.base_ppl);
    EXPECT_GT(r.kl_mean, 0.0);
    EXPECT_LE(r.kl_mean, kQ8KlBudget);
    EXPECT_LE(r.kl_median, r.kl_p99);
    EXPECT_LE(r.kl_p99, r.kl_max);
    EXPECT_GE(r.top1_agreement, 0.9);
    EXPECT_NEAR(std::log(r.ppl / r.base_ppl), 0.0, 0.05);
  }
}

TEST(Perplexity, SavedLogProbsReproduceTheBase) {
  const std::string path = (std::filesystem::temp_directory_path() / "seek_ppl_test.logits").string();
  auto f32 = Model::Load(ModelPath("llama_untied", "f32"));
  auto q8 = Model::Load(ModelPath("llama_untied", "q8_0"));
  const std::vector<int32_t> ids = ReferenceIds("llama_untied");
  PerplexityOptions o;
  o.n_ctx = 32;
  PerplexityResult saved_run;
  {
    LogProbsWriter w(path, f32->config().n_vocab, o.n_ctx, ids);
    saved_run = ComputePerplexity(*f32, ids, o, nullptr, &w);
    w.Finish();
  }
  ASSERT_TRUE(LogProbsFile::Sniff(path));
  auto file = LogProbsFile::Open(path);
  EXPECT_EQ(file->n_ctx(), 32);
  EXPECT_EQ(file->n_chunks(), 2);
  EXPECT_EQ(std::vector<int32_t>(file->tokens().begin(), file->tokens().end()), ids);
  const PerplexityResult from_file = ComputePerplexity(*q8, ids, o, BaseFromFile(*file), nullptr);
  const PerplexityResult from_model = ComputePerplexity(*q8, ids, o, BaseFromModel(*f32, o), nullptr);
  EXPECT_EQ(from_file.kl_mean, from_model.kl_mean);
  EXPECT_EQ(from_file.base_ppl, saved_run.ppl);
  EXPECT_EQ(from_file.top1_agreement, from_model.top1_agreement);

  // A truncated file is rejected with a clear error.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
  EXPECT_THROW(LogProbsFile::Open(path), Error);
  std::ofstream(path, std::ios::binary) << "SKLP\x02";
  EXPECT_THROW(LogProbsFile::Open(path), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace seek
