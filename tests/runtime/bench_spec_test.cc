// seek bench --draft (runtime/bench_spec.h) on tiny models: both modes produce the same tokens, the counts add
// up, and the report names the figures. No timings are checked (the machine is shared).
#include "runtime/bench_spec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"

namespace seek {
namespace {

std::unique_ptr<Model> LoadWithStoriesTokenizer(const std::string& file) {
  LoadOptions lo;
  lo.tokenizer_path = test::SharedDir() + "/models/stories260K/tok512.bin";
  return Model::Load(test::TestdataDir() + "/models/" + file, lo);
}

TEST(SpecBench, NgramAndMtpRunsAreIdenticalAndCounted) {
  SEEK_REQUIRE_SHARED();
  ThreadPool pool(1);
  for (const auto& [file, kind] : {std::pair{"llama_tied/llama_tied-f32.gguf", DraftKind::kNgram},
                                   std::pair{"ds3/ds3-f32.gguf", DraftKind::kMtp}}) {
    const auto model = LoadWithStoriesTokenizer(file);
    SpecBenchOptions o;
    o.speculative.kind = kind;
    o.speculative.adaptive = kind != DraftKind::kMtp;
    o.prompt = "one two three one two three one two three one two";
    o.n_gen = 24;
    o.repetitions = 2;
    const SpecBenchResult r = RunSpecBench(*model, pool, o);
    EXPECT_TRUE(r.identical) << file;
    EXPECT_EQ(r.plain_tok_s.samples.size(), 2u);
    EXPECT_EQ(r.spec_tok_s.samples.size(), 2u);
    EXPECT_GT(r.stats.n_drafted, 0) << file;
    EXPECT_LE(r.stats.n_accepted, r.stats.n_drafted);
    // Every generated token but the first of each run comes from a verification row.
    EXPECT_EQ(r.stats.n_step_tokens, 2 * (o.n_gen - 1)) << file;
    const std::string md = SpecBenchMarkdown(r, ComputeModelCost(*model), nullptr);
    EXPECT_NE(md.find(DraftKindName(kind)), std::string::npos);
    EXPECT_NE(md.find("| yes |"), std::string::npos);
    // -o json: the same figures as one "speculative" object.
    const ModelCost cost = ComputeModelCost(*model);
    const auto j = nlohmann::json::parse(BenchJson(nullptr, nullptr, &r, &cost));
    ASSERT_TRUE(j.contains("speculative")) << file;
    const auto& sj = j["speculative"];
    EXPECT_EQ(sj["draft"], DraftKindName(kind));
    EXPECT_EQ(sj["n_drafted"], r.stats.n_drafted);
    EXPECT_EQ(sj["n_accepted"], r.stats.n_accepted);
    EXPECT_EQ(sj["identical"], true);
    EXPECT_DOUBLE_EQ(sj["effective_tok_s"]["median"].get<double>(), r.spec_tok_s.median);
    EXPECT_DOUBLE_EQ(sj["effective_gbps"].get<double>(),
                     r.spec_tok_s.median * double(cost.decode_bytes_per_token) / 1e9);
  }
  const auto model = LoadWithStoriesTokenizer("llama_tied/llama_tied-f32.gguf");
  SpecBenchOptions none;
  EXPECT_THROW(RunSpecBench(*model, pool, none), Error);
  SpecBenchOptions mtp;
  mtp.speculative.kind = DraftKind::kMtp;
  EXPECT_THROW(RunSpecBench(*model, pool, mtp), Error);  // no MTP layer
}

}  // namespace
}  // namespace seek
