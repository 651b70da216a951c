// Tests of seek bench's library side: statistics, the cost model (checked against the tensor list and the
// config, computed independently here), the bench runner on a tiny model, the reports, and the machine
// probes. No timing is asserted: only that runs happen, counts are right and figures are positive and finite.
#include "runtime/bench.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "runtime/machine_limits.h"
#include "test_util.h"

namespace seek {
namespace {

std::string TinyModel(const char* name, const char* type) {
  return test::TestdataDir() + "/models/" + name + "/" + name + "-" + type + ".gguf";
}

TEST(BenchStats, MedianSpreadAndStdev) {
  Stats s = Summarize({5, 1, 3});
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.stdev, 2);                          // sqrt((4 + 0 + 4) / 2)
  EXPECT_EQ(s.samples, (std::vector<double>{5, 1, 3}));  // in run order
  Stats e = Summarize({4, 1, 2, 3});
  EXPECT_DOUBLE_EQ(e.median, 2.5);
  Stats one = Summarize({7});
  EXPECT_DOUBLE_EQ(one.median, 7);
  EXPECT_DOUBLE_EQ(one.stdev, 0);
}

// The cost model against sums taken directly over the file's tensor list and the config.
void CheckCost(const char* name, bool tied) {
  auto model = Model::Load(TinyModel(name, "f32"));
  const ModelConfig& c = model->config();
  ASSERT_EQ(c.tied_embeddings, tied);
  uint64_t all = 0, embd = 0;
  for (const TensorView& t : model->source().tensors()) {
    all += t.nbytes;
    if (t.name == "token_embd.weight") embd = t.nbytes;
  }
  ASSERT_GT(embd, 0u);
  const uint64_t embd_row = embd / uint64_t(c.n_vocab);
  const ModelCost cost = ComputeModelCost(*model);
  EXPECT_EQ(cost.weight_bytes, all);
  // Untied: everything but the embedding table, plus one row. Tied: the table is also the output, read in
  // full.
  EXPECT_EQ(cost.decode_bytes_per_token, all - embd + embd_row + (tied ? embd : 0));
  const int64_t per_layer =
      int64_t(c.n_embd) * c.q_dim() * 2 + int64_t(c.n_embd) * c.kv_dim() * 2 + int64_t(c.n_embd) * c.n_ff * 3;
  EXPECT_EQ(cost.layer_matmul_params, per_layer * c.n_layer);
  EXPECT_EQ(cost.output_params, int64_t(c.n_embd) * c.n_vocab);
  // One token: 2 flops per matmul weight, one (query, key) pair per head and layer.
  const double attn = 4.0 * c.n_layer * c.n_head * c.head_dim;
  EXPECT_DOUBLE_EQ(cost.PrefillFlops(1), 2.0 * (per_layer * c.n_layer + cost.output_params) + attn);
  // Three tokens: logits for the last only; 1 + 2 + 3 causal pairs.
  EXPECT_DOUBLE_EQ(cost.PrefillFlops(3), 6.0 * per_layer * c.n_layer + 2.0 * cost.output_params + 6 * attn);
}

TEST(BenchCost, UntiedModel) {
  CheckCost("llama_untied", false);
}
TEST(BenchCost, TiedModel) {
  CheckCost("llama_tied", true);
}

TEST(Bench, RunsEveryTestAndReportsPositiveFigures) {
  auto model = Model::Load(TinyModel("qwen2_bias", "q8_0"));
  ThreadPool pool(2);
  BenchOptions o;
  o.n_prompt = 8;
  o.n_gen = 4;
  o.repetitions = 2;
  int steps = 0;
  static int* counter = &steps;
  BenchResult r = RunBench(*model, pool, o, [](const char*) { ++*counter; });
  EXPECT_EQ(steps, 1 + 2 + 2);  // warm-up, pp x2, tg x2
  EXPECT_EQ(r.n_ctx, 12);
  EXPECT_EQ(r.threads, 2);
  EXPECT_EQ(r.pp.n_tokens, 8);
  EXPECT_EQ(r.tg.n_tokens, 4);
  for (const BenchTest* t : {&r.pp, &r.tg}) {
    ASSERT_EQ(t->tok_s.samples.size(), 2u);
    ASSERT_EQ(t->seconds.samples.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_GT(t->seconds.samples[i], 0);
      EXPECT_NEAR(t->tok_s.samples[i] * t->seconds.samples[i], t->n_tokens, 1e-6 * t->n_tokens);
    }
  }
  EXPECT_GT(r.prefill_gflops(), 0);
  EXPECT_TRUE(std::isfinite(r.prefill_gflops()));
  EXPECT_GT(r.decode_gbps(), 0);
  EXPECT_GT(r.peak_rss_bytes, 0u);
  EXPECT_NE(r.type_summary.find("q8_0"), std::string::npos) << r.type_summary;

  const auto j = nlohmann::json::parse(BenchJson(&r, nullptr));
  EXPECT_EQ(j["pp"]["n_tokens"], 8);
  EXPECT_EQ(j["tg"]["n_tokens"], 4);
  EXPECT_EQ(j["tg"]["tok_s"]["samples"].size(), 2u);
  EXPECT_GT(j["tg"]["gbps"].get<double>(), 0);
  EXPECT_EQ(j["model"]["arch"], "qwen2");
  EXPECT_FALSE(j.contains("machine"));
  const std::string md = BenchMarkdown(&r, nullptr);
  EXPECT_NE(md.find("| pp8 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| tg4 |"), std::string::npos) << md;
}

// -d: the runs start from a cache of `depth` tokens, evaluated once; n_ctx, the flops and the report follow.
TEST(Bench, RunsAtDepth) {
  auto model = Model::Load(TinyModel("llama_untied", "q8_0"));
  ThreadPool pool(2);
  BenchOptions o;
  o.n_prompt = 4;
  o.n_gen = 3;
  o.repetitions = 2;
  o.depth = 600;  // more than one 512-token batch
  o.n_ctx = 604;  // exactly depth + the longest test: each run must roll back to the depth, or the next overflows
  std::vector<std::string> steps;
  static std::vector<std::string>* log = &steps;
  BenchResult r = RunBench(*model, pool, o, [](const char* s) { log->push_back(s); });
  EXPECT_EQ(std::count(steps.begin(), steps.end(), "depth 600"), 1);  // filled once, then kept
  EXPECT_EQ(r.depth, 600);
  EXPECT_EQ(r.n_ctx, 604);
  EXPECT_EQ(r.tg.tok_s.samples.size(), 2u);
  const ModelCost& c = r.cost;
  EXPECT_DOUBLE_EQ(c.PrefillFlops(4, 600) - c.PrefillFlops(4), double(c.attn_flops_per_pair) * 4 * 600);
  EXPECT_DOUBLE_EQ(r.prefill_gflops(), c.PrefillFlops(4, 600) / r.pp.seconds.median / 1e9);
  const std::string md = BenchMarkdown(&r, nullptr);
  EXPECT_NE(md.find("| pp4 @ d600 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| tg3 @ d600 |"), std::string::npos) << md;
  const auto j = nlohmann::json::parse(BenchJson(&r, nullptr));
  EXPECT_EQ(j["depth"], 600);
  EXPECT_DOUBLE_EQ(j["pp"]["flops"].get<double>(), c.PrefillFlops(4, 600));

  o.n_ctx = 0;  // the default: depth + prompt + gen
  o.repetitions = 1;
  o.depth = 5;
  EXPECT_EQ(RunBench(*model, pool, o).n_ctx, 12);
  o.n_ctx = 8;  // below depth + the longest test
  EXPECT_THROW(RunBench(*model, pool, o), Error);
  o.n_ctx = 0;
  o.depth = -1;
  EXPECT_THROW(RunBench(*model, pool, o), Error);
}

// --paired-read: read passes before, inside (every kPairedReadEvery tokens) and after each decode run, each
// after a warm-up pass; each run's fraction is its own decode GB/s over the mean of its passes.
TEST(Bench, PairedReadSetsEachRunAgainstItsOwnPasses) {
  auto model = Model::Load(TinyModel("llama_untied", "q8_0"));
  ThreadPool pool(2);
  ReadProbe probe(pool, size_t(8) << 20);
  BenchOptions o;
  o.n_prompt = 4;
  o.n_gen = kPairedReadEvery + 3;  // two segments: 16 tokens, then 3
  o.repetitions = 2;
  o.paired_read = &probe;
  BenchResult r = RunBench(*model, pool, o);
  // 2 passes at each of 3 points (before, after 16 tokens, at the end), 2 runs.
  EXPECT_EQ(probe.passes(), 2 * 3 * 2);
  ASSERT_EQ(r.tg.paired_fraction.samples.size(), 2u);
  ASSERT_EQ(r.tg.paired_read_gbps.samples.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const double read = r.tg.paired_read_gbps.samples[i];
    EXPECT_GT(read, 0);
    EXPECT_TRUE(std::isfinite(read));
    const double decode_gbps = double(r.cost.decode_bytes_per_token) * r.tg.tok_s.samples[i] / 1e9;
    EXPECT_NEAR(r.tg.paired_fraction.samples[i], decode_gbps / read, 1e-9 * decode_gbps / read);
  }
  const auto j = nlohmann::json::parse(BenchJson(&r, nullptr));
  EXPECT_EQ(j["tg"]["paired_read_every"], kPairedReadEvery);
  EXPECT_DOUBLE_EQ(j["tg"]["paired_fraction"]["median"].get<double>(), r.tg.paired_fraction.median);
  EXPECT_FALSE(j["pp"].contains("paired_fraction"));
  const std::string md = BenchMarkdown(&r, nullptr);
  EXPECT_NE(md.find("of paired read"), std::string::npos) << md;
  EXPECT_NE(md.find("Paired read:"), std::string::npos) << md;

  // Without it: no passes, no paired figures.
  o.paired_read = nullptr;
  r = RunBench(*model, pool, o);
  EXPECT_EQ(probe.passes(), 12);
  EXPECT_TRUE(r.tg.paired_fraction.samples.empty());
  EXPECT_FALSE(nlohmann::json::parse(BenchJson(&r, nullptr))["tg"].contains("paired_fraction"));
  EXPECT_EQ(BenchMarkdown(&r, nullptr).find("paired"), std::string::npos);
}

TEST(Bench, SkipsATestWithZeroTokens) {
  auto model = Model::Load(TinyModel("llama_untied", "q8_0"));
  ThreadPool pool(1);
  BenchOptions o;
  o.n_prompt = 0;
  o.n_gen = 3;
  o.repetitions = 1;
  BenchResult r = RunBench(*model, pool, o);
  EXPECT_EQ(r.pp.n_tokens, 0);
  EXPECT_TRUE(r.pp.tok_s.samples.empty());
  EXPECT_EQ(r.tg.tok_s.samples.size(), 1u);
  const auto j = nlohmann::json::parse(BenchJson(&r, nullptr));
  EXPECT_FALSE(j.contains("pp"));
  EXPECT_TRUE(j.contains("tg"));
}

TEST(Bench, BadOptionsAreErrors) {
  auto model = Model::Load(TinyModel("llama_untied", "q8_0"));
  ThreadPool pool(1);
  auto run = [&](int32_t p, int32_t n, int32_t r, int32_t ctx) {
    BenchOptions o;
    o.n_prompt = p;
    o.n_gen = n;
    o.repetitions = r;
    o.n_ctx = ctx;
    RunBench(*model, pool, o);
  };
  EXPECT_THROW(run(0, 0, 1, 0), Error);
  EXPECT_THROW(run(-1, 4, 1, 0), Error);
  EXPECT_THROW(run(4, 4, 0, 0), Error);
  EXPECT_THROW(run(16, 4, 1, 8), Error);  // n_ctx below the prompt
}

void CheckMachine(bool simd) {
  ThreadPool pool(2);
  MachineProbeOptions o;
  o.buffer_bytes = 8 << 20;
  o.runs = 2;
  o.allow_simd = simd;
  MachineLimits m = MeasureMachine(pool, o);
  EXPECT_EQ(m.threads, 2);
  EXPECT_EQ(m.buffer_bytes, size_t(8) << 20);
  if (!simd) {
    EXPECT_EQ(m.isa, "scalar");
  }
  for (const Stats* s : {&m.read_gbps, &m.fma_gflops}) {
    ASSERT_EQ(s->samples.size(), 2u);
    for (double v : s->samples) {
      EXPECT_GT(v, 0);
      EXPECT_TRUE(std::isfinite(v));
    }
  }
  EXPECT_GT(m.fma_gflops_1t, 0);
  if (m.isa == "avx2+fma") {
    ASSERT_EQ(m.int8_gops.samples.size(), 2u);
    EXPECT_GT(m.int8_gops.median, 0);
  } else {
    EXPECT_TRUE(m.int8_gops.samples.empty());
  }
  const auto j = nlohmann::json::parse(BenchJson(nullptr, &m));
  EXPECT_FALSE(j.contains("pp"));
  EXPECT_GT(j["machine"]["read_gbps"]["median"].get<double>(), 0);
  EXPECT_NE(BenchMarkdown(nullptr, &m).find("memory read bandwidth"), std::string::npos);
}

TEST(MachineLimits, ProbesGivePositiveFigures) {
  CheckMachine(true);
}
TEST(MachineLimits, ScalarProbesGivePositiveFigures) {
  CheckMachine(false);
}

TEST(MachineLimits, BadOptionsAreErrors) {
  ThreadPool pool(1);
  MachineProbeOptions o;
  o.buffer_bytes = 100;
  EXPECT_THROW(MeasureMachine(pool, o), Error);
  o.buffer_bytes = 1 << 20;
  o.runs = 0;
  EXPECT_THROW(MeasureMachine(pool, o), Error);
}

TEST(Bench, ReportsCarryMachineFractions) {
  auto model = Model::Load(TinyModel("llama_untied", "q8_0"));
  ThreadPool pool(1);
  BenchOptions o;
  o.n_prompt = 4;
  o.n_gen = 2;
  o.repetitions = 1;
  BenchResult r = RunBench(*model, pool, o);
  MachineLimits m;
  m.threads = 1;
  m.isa = "test";
  m.read_gbps = Summarize({10.0});
  m.fma_gflops = Summarize({100.0});
  const auto j = nlohmann::json::parse(BenchJson(&r, &m));
  EXPECT_DOUBLE_EQ(j["tg"]["fraction_of_read_bandwidth"].get<double>(), r.decode_gbps() / 10.0);
  EXPECT_DOUBLE_EQ(j["pp"]["fraction_of_fma_peak"].get<double>(), r.prefill_gflops() / 100.0);
  const std::string md = BenchMarkdown(&r, &m);
  EXPECT_NE(md.find("of read bandwidth"), std::string::npos) << md;
  EXPECT_NE(md.find("of f32 FMA peak"), std::string::npos) << md;
}

}  // namespace
}  // namespace seek
