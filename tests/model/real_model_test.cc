// Real trained models against independent references.
//
// stories260K (llama2.c checkpoint, ../shared): seek's greedy 64-token continuation of "Once upon a time" must
//   equal, id for id and in text, that of tools/llama2c_ref.py (a plain-numpy re-implementation of llama2.c's
//   run.c), recorded in tests/testdata/models/stories260K_greedy.json.
// SmolLM2-135M-Instruct Q4_1 GGUF (~/.cache/seek, optional): against HF transformers, which dequantizes the
//   same GGUF and runs it in fp32 (tools/make_smollm2_reference.py -> tests/testdata/models/smollm2/):
//   prompt ids from seek's tokenizer + chat template equal HF's; mean KL(HF || seek) over the last 8 prompt
//   positions within kSmolKlBudget and the same top-1 token; the greedy answer equals HF's and names Paris.
// Budgets and measured figures: docs/ACCURACY.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "model_test_util.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"

namespace seek {
namespace {

// Mean KL(HF || seek) over the scored positions. Measured 2.1e-11 while seek computes in fp32 on the exactly
// dequantized weights (docs/ACCURACY.md). The budget is tight for that path, so subtle bugs (a norm epsilon, a
// RoPE detail) fail it; fast kernels that quantize activations to 8 bits must re-measure and raise it, with
// the new figure recorded in docs/ACCURACY.md.
constexpr double kSmolKlBudget = 1e-6;
// With the SIMD kernel table, activations are quantized to 8 bits per block of 32 (docs/KERNELS.md): measured
// mean KL 1.2e-3 (max 9e-3 at one position) with the same top-1 everywhere. Budget ~4x the measurement.
constexpr double kSmolKlBudgetActQuant = 5e-3;

using test::ArgMax;

nlohmann::json ReadJson(const std::string& path) {
  const std::string text = test::ReadFileToString(path);
  if (text.empty()) throw std::runtime_error("missing fixture " + path);
  return nlohmann::json::parse(text);
}

// ---------------------------------------------------------------------------------------------------------
// stories260K vs run.c

TEST(Stories260K, GreedyMatchesRunC) {
  SEEK_REQUIRE_SHARED();
  const auto fx = ReadJson(test::TestdataDir() + "/models/stories260K_greedy.json");
  const auto model = Model::Load(test::SharedDir() + "/models/stories260K/stories260K.bin");
  ASSERT_TRUE(model->has_tokenizer()) << "tok512.bin beside the checkpoint was not found";
  const Tokenizer& tok = model->tokenizer();

  const auto prompt_ids = tok.Encode(fx.at("prompt").get<std::string>(), /*add_special=*/true);
  ASSERT_EQ(prompt_ids, fx.at("prompt_ids").get<std::vector<int32_t>>());

  const auto expected = fx.at("generated").get<std::vector<int32_t>>();
  ThreadPool pool(2);
  Context ctx(*model, 128, &pool);
  auto logits = ctx.Eval(prompt_ids);
  std::vector<int32_t> got;
  for (size_t i = 0; i < expected.size(); ++i) {
    const int32_t next = ArgMax(logits);
    got.push_back(next);
    if (i + 1 < expected.size()) logits = ctx.Eval(std::span<const int32_t>(&next, 1));
  }
  EXPECT_EQ(got, expected);

  // run.c prints the prompt (without BOS and its dummy-prefix space) followed by the continuation.
  std::vector<int32_t> all = prompt_ids;
  all.insert(all.end(), got.begin(), got.end());
  EXPECT_EQ(tok.Decode(all, /*skip_special=*/true), fx.at("text").get<std::string>());
}

// ---------------------------------------------------------------------------------------------------------
// SmolLM2-135M-Instruct vs HF transformers

// The model is loaded once, and the prompt is evaluated once (all logits) and continued greedily once: the two
// tests below read the results, so the suite costs one prefill plus a few decode steps.
class SmolLM2Test : public ::testing::Test {
 protected:
  struct Run {
    std::vector<float> prompt_logits;  // [n_prompt, n_vocab]
    std::vector<int32_t> greedy;       // argmax continuation, up to the reference's length or an end-of-turn token
  };

  static void SetUpTestSuite() {
    if (test::SmolLM2Path().empty()) return;
    model_ = Model::Load(test::SmolLM2Path()).release();
    ref_ = new nlohmann::json(ReadJson(test::TestdataDir() + "/models/smollm2/reference.json"));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete model_;
    delete ref_;
    run_ = nullptr;
    model_ = nullptr;
    ref_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) GTEST_SKIP() << "SmolLM2 GGUF not found (set SEEK_SMOLLM2)";
  }
  static std::vector<int32_t> PromptIds() { return ref_->at("prompt_ids").get<std::vector<int32_t>>(); }

  static const Run& GetRun() {
    if (run_ != nullptr) return *run_;
    auto run = std::make_unique<Run>();
    ThreadPool pool(2);
    Context ctx(*model_, 256, &pool, KvType::kF32);  // the HF budgets are for the exact arithmetic
    const auto ids = PromptIds();
    const auto all = ctx.Eval(ids, /*all_logits=*/true);
    run->prompt_logits.assign(all.begin(), all.end());
    const int32_t n_vocab = model_->config().n_vocab;
    std::span<const float> logits(run->prompt_logits.data() + (ids.size() - 1) * n_vocab, n_vocab);
    const auto& eog = model_->tokenizer().eog_ids();
    const size_t n_max = ref_->at("greedy").size();
    while (run->greedy.size() < n_max) {
      const int32_t next = ArgMax(logits);
      run->greedy.push_back(next);
      if (std::find(eog.begin(), eog.end(), next) != eog.end()) break;
      logits = ctx.Eval(std::span<const int32_t>(&next, 1));
    }
    run_ = run.release();
    return *run_;
  }

  static Model* model_;
  static nlohmann::json* ref_;
  static Run* run_;
};
Model* SmolLM2Test::model_ = nullptr;
nlohmann::json* SmolLM2Test::ref_ = nullptr;
SmolLM2Test::Run* SmolLM2Test::run_ = nullptr;

// Needs seek's tokenizer and Jinja chat template: the rendered prompt and its ids equal transformers'
// apply_chat_template(messages, add_generation_prompt=True).
TEST_F(SmolLM2Test, ChatTemplatePromptIdsMatchHf) {
  const Tokenizer& tok = model_->tokenizer();
  ASSERT_FALSE(model_->chat_template().empty());
  nlohmann::ordered_json context;
  context["messages"] = nlohmann::ordered_json::array();
  for (const auto& m : ref_->at("messages")) {
    context["messages"].push_back({{"role", m.at("role")}, {"content", m.at("content")}});
  }
  context["add_generation_prompt"] = true;
  context["bos_token"] = tok.bos_id() >= 0 ? tok.TokenText(tok.bos_id()) : "";
  context["eos_token"] = tok.eos_id() >= 0 ? tok.TokenText(tok.eos_id()) : "";
  const std::string text = ChatTemplate(model_->chat_template()).Render(context);
  EXPECT_EQ(text, ref_->at("prompt_text").get<std::string>());
  EXPECT_EQ(tok.Encode(text, /*add_special=*/false), PromptIds());
}

// KL over the partition {HF's top-K tokens} + {the rest}, from HF's stored top-K log-probabilities (see
// tools/make_smollm2_reference.py): a lower bound of the full KL that equals it up to O(rest mass).
TEST_F(SmolLM2Test, LogitsMatchHf) {
  const auto ids = PromptIds();
  const auto positions = ref_->at("scored_positions").get<std::vector<int32_t>>();
  const int32_t top_k = ref_->at("top_k").get<int32_t>();
  const auto hf_top1 = ref_->at("top1").get<std::vector<int32_t>>();
  struct Rec {
    int32_t id;
    float logprob;
  };
  static_assert(sizeof(Rec) == 8);
  const std::string raw = test::ReadFileToString(test::TestdataDir() + "/models/smollm2/" +
                                                 ref_->at("top_logprobs_file").get<std::string>());
  ASSERT_EQ(raw.size(), positions.size() * top_k * sizeof(Rec));
  std::vector<Rec> recs(positions.size() * top_k);
  std::memcpy(recs.data(), raw.data(), raw.size());

  const std::span<const float> logits(GetRun().prompt_logits);
  const int32_t n_vocab = model_->config().n_vocab;
  ASSERT_EQ(logits.size(), ids.size() * size_t(n_vocab));

  double kl_sum = 0, kl_max = 0;
  int top1_same = 0;
  for (size_t p = 0; p < positions.size(); ++p) {
    const auto row = logits.subspan(size_t(positions[p]) * n_vocab, n_vocab);
    double mx = -INFINITY;
    for (float v : row) mx = std::max(mx, double(v));
    double sum = 0;
    for (float v : row) sum += std::exp(double(v) - mx);
    const double lse = mx + std::log(sum);
    double kl = 0, p_top = 0, q_top = 0;
    for (int32_t k = 0; k < top_k; ++k) {
      const Rec& r = recs[p * top_k + k];
      const double lp = r.logprob, lq = double(row[r.id]) - lse;
      kl += std::exp(lp) * (lp - lq);
      p_top += std::exp(lp);
      q_top += std::exp(lq);
    }
    const double p_rest = std::max(0.0, 1.0 - p_top), q_rest = std::max(1e-300, 1.0 - q_top);
    if (p_rest > 0) kl += p_rest * std::log(p_rest / q_rest);
    kl_sum += kl;
    kl_max = std::max(kl_max, kl);
    top1_same += ArgMax(row) == hf_top1[p];
  }
  const double kl_mean = kl_sum / double(positions.size());
  std::cout << "[accuracy] SmolLM2 Q4_1 vs HF: mean KL " << kl_mean << ", max KL " << kl_max << ", top-1 "
            << top1_same << "/" << positions.size() << "\n";
  EXPECT_LE(kl_mean, std::string(ActiveKernels().name) == "scalar" ? kSmolKlBudget : kSmolKlBudgetActQuant);
  EXPECT_EQ(top1_same, int(positions.size()));
}

TEST_F(SmolLM2Test, GreedyAnswerMatchesHf) {
  const auto expected = ref_->at("greedy").get<std::vector<int32_t>>();
  const auto& got = GetRun().greedy;
  const std::string answer = model_->tokenizer().Decode(got, /*skip_special=*/true);
  std::cout << "[accuracy] SmolLM2 greedy answer: " << answer << "\n";
  EXPECT_NE(answer.find("Paris"), std::string::npos) << answer;
  EXPECT_EQ(got, expected) << "HF: " << ref_->at("greedy_text").get<std::string>();
}

// The default f16 KV cache: HF's top-1 at every scored position and the same greedy answer, id for id.
TEST_F(SmolLM2Test, F16KvCacheGreedyAnswerMatchesHf) {
  const auto ids = PromptIds();
  const auto positions = ref_->at("scored_positions").get<std::vector<int32_t>>();
  const auto hf_top1 = ref_->at("top1").get<std::vector<int32_t>>();
  ThreadPool pool(2);
  Context ctx(*model_, 256, &pool);
  ASSERT_EQ(ctx.kv_type(), KvType::kF16);
  const auto all = ctx.Eval(ids, /*all_logits=*/true);
  const size_t n_vocab = size_t(model_->config().n_vocab);
  for (size_t p = 0; p < positions.size(); ++p)
    EXPECT_EQ(ArgMax(all.subspan(size_t(positions[p]) * n_vocab, n_vocab)), hf_top1[p]) << "position " << p;
  const auto expected = ref_->at("greedy").get<std::vector<int32_t>>();
  Context greedy_ctx(*model_, 256, &pool);
  EXPECT_EQ(test::GreedyDecode(greedy_ctx, ids, expected.size()), expected);
}

// A q8_0 KV cache (SmolLM2's head_dim 64 is two blocks): HF's top-1 at every scored position and the answer
// still names Paris (8.5-bit K/V may move near-tied later tokens, so the full id sequence is not required).
TEST_F(SmolLM2Test, Q8KvCacheKeepsTop1AndAnswer) {
  const auto ids = PromptIds();
  const auto positions = ref_->at("scored_positions").get<std::vector<int32_t>>();
  const auto hf_top1 = ref_->at("top1").get<std::vector<int32_t>>();
  ThreadPool pool(2);
  Context ctx(*model_, 256, &pool, KvType::kQ8_0);
  const auto all = ctx.Eval(ids, /*all_logits=*/true);
  const size_t n_vocab = size_t(model_->config().n_vocab);
  for (size_t p = 0; p < positions.size(); ++p)
    EXPECT_EQ(ArgMax(all.subspan(size_t(positions[p]) * n_vocab, n_vocab)), hf_top1[p]) << "position " << p;
  Context greedy_ctx(*model_, 256, &pool, KvType::kQ8_0);
  const auto got = test::GreedyDecode(greedy_ctx, ids, ref_->at("greedy").size());
  const std::string answer = model_->tokenizer().Decode(got, /*skip_special=*/true);
  std::cout << "[accuracy] SmolLM2 greedy answer with a q8_0 KV cache: " << answer << "\n";
  EXPECT_NE(answer.find("Paris"), std::string::npos) << answer;
}

}  // namespace
}  // namespace seek
