// EvalBatch (several sequences in one forward pass) against separate Context::Eval calls: every logit must be
// the same bit for bit, because MatMul computes each row independently of the batch (kernels/matmul/matmul.h)
// and attention, RoPE and the KV write run per sequence. Models: the tiny HF fixtures (llama, qwen2 with
// biases and YaRN, DeepSeek2 V2-Lite-like and V3-like with MoE and MLA), stories260K (../shared) and SmolLM2
// (when SEEK_SMOLLM2 is set). Also the batch's validation: a bad chunk throws before any context changes.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/model.h"
#include "test_util.h"

namespace seek {
namespace {

std::vector<int32_t> RandomTokens(size_t n, int32_t n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = int32_t(rng() % uint32_t(n_vocab));
  return t;
}

// Bitwise equality of two logit buffers (a NaN is equal to itself here).
void ExpectSameBits(std::span<const float> got, std::span<const float> want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t first_diff = got.size();
  for (size_t i = 0; i < got.size() && first_diff == got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) first_diff = i;
  EXPECT_EQ(first_diff, got.size()) << what << ": first difference at " << first_diff << " ("
                                    << (first_diff < got.size() ? got[first_diff] : 0.0f) << " vs "
                                    << (first_diff < got.size() ? want[first_diff] : 0.0f) << ")";
}

// One sequence evaluated twice: inside batches (batched) and alone (single, the oracle).
struct Seq {
  std::unique_ptr<Context> batched, single;
  std::vector<int32_t> tokens;  // the whole sequence
  size_t next = 0;              // tokens[0, next) are in both caches
};

// A step: chunk sizes per sequence (0: not in this batch) and what logits each wants.
struct StepPlan {
  std::vector<size_t> n;
  std::vector<ChunkLogits> logits;
};

// Runs the steps on fresh sequences of the given history lengths, the batch on a 2-thread pool and the oracle
// one Eval per chunk on one thread, and compares every returned logit.
void CheckBatchesMatchSeparate(const Model& model, const std::vector<size_t>& history,
                               const std::vector<StepPlan>& steps, int32_t n_ctx, const std::string& label) {
  const int32_t n_vocab = model.config().n_vocab;
  ThreadPool pool(2);
  std::vector<Seq> seqs(history.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    Seq& s = seqs[i];
    s.batched = std::make_unique<Context>(model, n_ctx, &pool);
    s.single = std::make_unique<Context>(model, n_ctx, nullptr);
    s.tokens = RandomTokens(size_t(n_ctx), n_vocab, uint32_t(100 + i));
    if (history[i] > 0) {
      const std::span<const int32_t> h(s.tokens.data(), history[i]);
      s.batched->Eval(h);
      s.single->Eval(h);
      s.next = history[i];
    }
  }
  for (size_t step = 0; step < steps.size(); ++step) {
    const StepPlan& p = steps[step];
    std::vector<SeqChunk> chunks;
    std::vector<size_t> which;
    for (size_t i = 0; i < seqs.size(); ++i) {
      if (p.n[i] == 0) continue;
      chunks.push_back({seqs[i].batched.get(),
                        std::span<const int32_t>(seqs[i].tokens).subspan(seqs[i].next, p.n[i]), p.logits[i]});
      which.push_back(i);
    }
    const std::vector<std::span<const float>> got = EvalBatch(chunks);
    ASSERT_EQ(got.size(), chunks.size());
    // Copy first: the oracle's Evals do not touch the batched contexts, but keep the comparison obvious.
    std::vector<std::vector<float>> got_copy;
    for (const auto& g : got) got_copy.emplace_back(g.begin(), g.end());
    for (size_t k = 0; k < chunks.size(); ++k) {
      Seq& s = seqs[which[k]];
      const std::string what = label + " step " + std::to_string(step) + " seq " + std::to_string(which[k]);
      const auto want = s.single->Eval(chunks[k].tokens, chunks[k].logits == ChunkLogits::kAll);
      switch (chunks[k].logits) {
        case ChunkLogits::kNone:
          EXPECT_TRUE(got_copy[k].empty()) << what;
          break;
        case ChunkLogits::kLast:
          EXPECT_EQ(got_copy[k].size(), size_t(n_vocab)) << what;
          ExpectSameBits(got_copy[k], want, what);
          break;
        case ChunkLogits::kAll:
          EXPECT_EQ(got_copy[k].size(), chunks[k].tokens.size() * size_t(n_vocab)) << what;
          ExpectSameBits(got_copy[k], want, what);
          break;
      }
      s.next += chunks[k].tokens.size();
      EXPECT_EQ(s.batched->n_past(), int32_t(s.next)) << what;
      EXPECT_EQ(s.single->n_past(), int32_t(s.next)) << what;
    }
  }
}

// The mixes a server step produces: single decode tokens at different positions beside prefill chunks (with
// and without logits, one with every row's logits), then decodes of all, then a step where one sequence sits
// out.
void CheckMixedBatches(const Model& model, const std::string& label) {
  using L = ChunkLogits;
  const std::vector<size_t> history = {5, 9, 0, 10, 1};
  const std::vector<StepPlan> steps = {
      {{1, 6, 4, 3, 1}, {L::kLast, L::kAll, L::kLast, L::kNone, L::kLast}},
      {{1, 1, 1, 1, 1}, {L::kLast, L::kLast, L::kLast, L::kLast, L::kLast}},
      {{2, 0, 1, 7, 1}, {L::kAll, L::kLast, L::kLast, L::kLast, L::kNone}},
      {{1, 1, 1, 1, 1}, {L::kLast, L::kLast, L::kLast, L::kLast, L::kLast}},
  };
  CheckBatchesMatchSeparate(model, history, steps, 32, label);
}

// More rows than one forward pass holds (512): the batch runs in passes and splits a chunk between them.
void CheckSplitAcrossPasses(const Model& model, const std::string& label) {
  using L = ChunkLogits;
  const std::vector<size_t> history = {3, 0, 0};
  const std::vector<StepPlan> steps = {
      {{1, 300, 300}, {L::kLast, L::kLast, L::kAll}},
      {{1, 1, 1}, {L::kLast, L::kLast, L::kLast}},
  };
  CheckBatchesMatchSeparate(model, history, steps, 640, label);
}

std::string Fixture(const std::string& model, const std::string& file) {
  return test::TestdataDir() + "/models/" + model + "/" + model + "-" + file + ".gguf";
}

class BatchFixtureTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(BatchFixtureTest, MixedBatchesMatchSeparateEvals) {
  const std::string path = Fixture(GetParam().first, GetParam().second);
  ASSERT_TRUE(test::FileExists(path)) << path;
  const auto model = Model::Load(path);
  CheckMixedBatches(*model, GetParam().first + "-" + GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(Tiny, BatchFixtureTest,
                         ::testing::Values(std::pair<std::string, std::string>{"llama_untied", "f32"},
                                           std::pair<std::string, std::string>{"llama_tied", "q8_0"},
                                           std::pair<std::string, std::string>{"llama3_rope", "f32"},
                                           std::pair<std::string, std::string>{"qwen2_bias", "q8_0"},
                                           std::pair<std::string, std::string>{"qwen2_yarn", "f32"},
                                           std::pair<std::string, std::string>{"ds2_lite", "q8_0"},
                                           std::pair<std::string, std::string>{"ds2_group", "f32"},
                                           std::pair<std::string, std::string>{"ds3", "f32"}),
                         [](const auto& info) {
                           std::string s = info.param.first + "_" + info.param.second;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Batch, SplitAcrossPassesLlama) {
  const auto model = Model::Load(Fixture("llama_untied", "q8_0"));
  CheckSplitAcrossPasses(*model, "llama_untied-q8_0");
}

TEST(Batch, SplitAcrossPassesDeepSeek2) {
  const auto model = Model::Load(Fixture("ds3", "q8_0"));
  CheckSplitAcrossPasses(*model, "ds3-q8_0");
}

TEST(Batch, Stories260K) {
  SEEK_REQUIRE_SHARED();
  const auto model = Model::Load(test::SharedDir() + "/models/stories260K/stories260K.bin");
  CheckMixedBatches(*model, "stories260K");
}

TEST(Batch, SmolLM2) {
  const std::string path = test::SmolLM2Path();
  if (path.empty()) GTEST_SKIP() << "SEEK_SMOLLM2 is not set";
  const auto model = Model::Load(path);
  CheckMixedBatches(*model, "SmolLM2");
}

TEST(Batch, KeptHiddenStatesMatch) {
  const auto model = Model::Load(Fixture("ds3", "f32"));
  const int32_t n_vocab = model->config().n_vocab;
  Context a(*model, 16, nullptr), b(*model, 16, nullptr), alone(*model, 16, nullptr);
  a.set_keep_hidden_states(true);
  alone.set_keep_hidden_states(true);
  const auto ta = RandomTokens(5, n_vocab, 1), tb = RandomTokens(3, n_vocab, 2);
  const SeqChunk chunks[2] = {{&b, tb, ChunkLogits::kLast}, {&a, ta, ChunkLogits::kAll}};
  EvalBatch(chunks);
  alone.Eval(ta, true);
  ExpectSameBits(a.hidden_states(), alone.hidden_states(), "hidden states");
  EXPECT_EQ(a.hidden_states().size(), ta.size() * size_t(model->config().n_embd));
}

// Every bad chunk throws a seek::Error naming it, and no context moves.
TEST(Batch, BadChunksThrowBeforeAnyWork) {
  const auto model = Model::Load(Fixture("llama_untied", "f32"));
  const auto other = Model::Load(Fixture("llama_tied", "f32"));
  const int32_t n_vocab = model->config().n_vocab;
  Context a(*model, 8, nullptr), b(*model, 8, nullptr), c(*other, 8, nullptr);
  const auto t3 = RandomTokens(3, n_vocab, 3), t9 = RandomTokens(9, n_vocab, 4);
  a.Eval(t3);
  const std::vector<int32_t> bad_id = {1, n_vocab};
  auto error_of = [&](std::vector<SeqChunk> chunks) -> std::string {
    try {
      EvalBatch(chunks);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  using L = ChunkLogits;
  EXPECT_NE(error_of({{&a, t3, L::kLast}, {&b, t9, L::kLast}}).find("chunk 1: context overflow"),
            std::string::npos);
  EXPECT_NE(error_of({{&a, t3, L::kLast}, {&a, t3, L::kLast}}).find("chunk 1 repeats"), std::string::npos);
  EXPECT_NE(error_of({{&a, t3, L::kLast}, {&c, t3, L::kLast}}).find("another model"), std::string::npos);
  EXPECT_NE(error_of({{&b, t3, L::kLast}, {nullptr, t3, L::kLast}}).find("no context"), std::string::npos);
  EXPECT_NE(error_of({{&b, t3, L::kLast}, {&a, {}, L::kLast}}).find("no tokens"), std::string::npos);
  EXPECT_NE(error_of({{&b, bad_id, L::kLast}, {&a, t3, L::kLast}}).find("chunk 0: token id"),
            std::string::npos);
  EXPECT_NE(error_of({}).find("no chunks"), std::string::npos);
  EXPECT_EQ(a.n_past(), 3);
  EXPECT_EQ(b.n_past(), 0);
  EXPECT_EQ(c.n_past(), 0);
  // Still usable, and the same as a fresh evaluation.
  const SeqChunk ok[2] = {{&a, std::span<const int32_t>(t9).first(2), L::kLast}, {&b, t3, L::kLast}};
  const auto got = EvalBatch(ok);
  Context fresh(*model, 8, nullptr);
  ExpectSameBits(got[1], fresh.Eval(t3), "after errors");
  EXPECT_EQ(a.n_past(), 5);
}

}  // namespace
}  // namespace seek
