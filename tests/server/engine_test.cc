// The engine on the real SmolLM2 model (skipped without SEEK_SMOLLM2): its output equals the single-sequence
// Generate loop (an independent path through Context + Sampler), slots reuse cached prefixes, concurrent
// sequences do not disturb each other, and cancelled sequences free their slot.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "runtime/chat.h"
#include "runtime/generate.h"
#include "server/engine.h"
#include "server/format.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"

namespace seek::server {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = test::SmolLM2Path();
    if (!path.empty()) model_ = Model::Load(path).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "SEEK_SMOLLM2 not set";
  }

  std::vector<int32_t> ChatPrompt(const std::string& user, const std::string& tmpl_source = "") {
    ChatTemplate tmpl(tmpl_source.empty() ? model_->chat_template() : tmpl_source);
    Json msgs = Json::array({{{"role", "user"}, {"content", user}}});
    return model_->tokenizer().Encode(tmpl.Render(ChatTemplateContext(model_->tokenizer(), msgs, true)), false);
  }

  static SeqRequest Greedy(std::vector<int32_t> prompt, int32_t max_tokens, std::shared_ptr<RequestStream> out,
                           int32_t index = 0) {
    SeqRequest r;
    r.prompt = std::move(prompt);
    r.sampling.temperature = 0;
    r.sampling.penalty_last_n = 0;
    r.max_tokens = max_tokens;
    r.out = std::move(out);
    r.index = index;
    r.submitted = Clock::now();
    return r;
  }

  struct Result {
    std::string text;
    SeqEvent last;
    size_t n_events = 0;
  };
  // Collects events of `n` sequences until all are done.
  static std::vector<Result> Collect(RequestStream& s, size_t n) {
    std::vector<Result> r(n);
    size_t done = 0;
    while (done < n) {
      std::vector<SeqEvent> ev;
      s.Pop(ev, std::chrono::milliseconds(100));
      for (auto& e : ev) {
        Result& x = r.at(size_t(e.index));
        x.text += e.text;
        ++x.n_events;
        if (e.done) {
          x.last = e;
          ++done;
        }
      }
    }
    return r;
  }

  static Model* model_;
  Metrics metrics_;
};

Model* EngineTest::model_ = nullptr;

TEST_F(EngineTest, MatchesGenerateAndReusesThePrefix) {
  EngineConfig cfg;
  cfg.n_slots = 2;
  cfg.n_ctx = 512;
  cfg.n_threads = 2;
  cfg.step_tokens = 16;  // several prefill chunks
  Engine engine(*model_, cfg, &metrics_);
  const std::vector<int32_t> prompt = ChatPrompt("What is the capital of France?");

  // Reference: the plain generation loop on its own Context.
  ThreadPool pool(2);
  Context ctx(*model_, 512, &pool);
  SamplingParams sp;
  sp.temperature = 0;
  sp.penalty_last_n = 0;
  Sampler sampler(sp, model_->config().n_vocab);
  std::vector<int32_t> history;
  GenerateOptions go;
  go.n_predict = 12;
  const GenerateResult want = Generate(ctx, model_->tokenizer(), sampler, history, prompt, go);

  auto s1 = std::make_shared<RequestStream>();
  ASSERT_TRUE(engine.Submit({Greedy(prompt, 12, s1)}));
  Result r1 = Collect(*s1, 1)[0];
  EXPECT_EQ(r1.text, want.text);
  EXPECT_EQ(r1.last.n_prompt, int32_t(prompt.size()));
  EXPECT_EQ(r1.last.n_cached, 0);
  EXPECT_EQ(r1.last.n_generated, int32_t(want.tokens.size()));
  EXPECT_EQ(r1.last.finish, want.finish == FinishReason::kLength ? FinishReason::kLength : FinishReason::kStop);

  // A prompt that shares nothing goes to the least recently used slot (the empty one)...
  auto s2 = std::make_shared<RequestStream>();
  ASSERT_TRUE(engine.Submit({Greedy(model_->tokenizer().Encode("Colors:", false), 4, s2)}));
  EXPECT_EQ(Collect(*s2, 1)[0].last.n_cached, 0);
  // ...so the first prompt is still cached: all but its last token are reused, and the text is the same.
  auto s3 = std::make_shared<RequestStream>();
  ASSERT_TRUE(engine.Submit({Greedy(prompt, 12, s3)}));
  Result r3 = Collect(*s3, 1)[0];
  EXPECT_EQ(r3.last.n_cached, int32_t(prompt.size()) - 1);
  EXPECT_EQ(r3.text, want.text);
  // A prompt sharing the template's system prompt goes to the slot with the longest common prefix.
  const std::vector<int32_t> other = ChatPrompt("Name a color.");
  const size_t shared = CommonPrefix(prompt, other);
  ASSERT_GT(shared, 10u);
  auto s4 = std::make_shared<RequestStream>();
  ASSERT_TRUE(engine.Submit({Greedy(other, 4, s4)}));
  EXPECT_EQ(Collect(*s4, 1)[0].last.n_cached, int32_t(shared));
  EXPECT_GE(metrics_.prompt_tokens_cached.load(), prompt.size() - 1);
}

TEST_F(EngineTest, ConcurrentSequencesMatchSoloRuns) {
  EngineConfig cfg;
  cfg.n_slots = 2;
  cfg.n_ctx = 256;
  cfg.n_threads = 2;
  Engine engine(*model_, cfg, &metrics_);
  const auto pa = ChatPrompt("Tell me a story."), pb = ChatPrompt("Count to five.");
  auto solo = [&](const std::vector<int32_t>& p) {
    auto s = std::make_shared<RequestStream>();
    EXPECT_TRUE(engine.Submit({Greedy(p, 10, s)}));
    return Collect(*s, 1)[0].text;
  };
  const std::string a = solo(pa), b = solo(pb);
  auto s = std::make_shared<RequestStream>();
  ASSERT_TRUE(engine.Submit({Greedy(pa, 10, s, 0), Greedy(pb, 10, s, 1)}));
  std::vector<Result> both = Collect(*s, 2);
  EXPECT_EQ(both[0].text, a);
  EXPECT_EQ(both[1].text, b);
}

// Four slots decode in one batch while prefill chunks (a small step budget splits each prompt) join it; a
// sequence whose chunk cannot be evaluated (a token id out of range) fails alone, and every other sequence's
// text equals its solo run.
TEST_F(EngineTest, BatchedSlotsMatchSoloRunsAndFailuresIsolate) {
  EngineConfig cfg;
  cfg.n_slots = 4;
  cfg.n_ctx = 256;
  cfg.n_threads = 2;
  cfg.step_tokens = 8;
  Engine engine(*model_, cfg, &metrics_);
  const std::vector<std::vector<int32_t>> prompts = {ChatPrompt("Tell me a story."), ChatPrompt("Count to five."),
                                                     ChatPrompt("Name a colour."), ChatPrompt("What is 2+2?")};
  std::vector<std::string> solo;
  for (const auto& p : prompts) {
    auto s = std::make_shared<RequestStream>();
    EXPECT_TRUE(engine.Submit({Greedy(p, 12, s)}));
    solo.push_back(Collect(*s, 1)[0].text);
  }
  auto s = std::make_shared<RequestStream>();
  std::vector<SeqRequest> reqs;
  for (size_t i = 0; i < prompts.size(); ++i) reqs.push_back(Greedy(prompts[i], 12, s, int32_t(i)));
  std::vector<int32_t> bad = prompts[0];
  bad[bad.size() / 2] = model_->config().n_vocab;  // fails when its chunk reaches the batch
  reqs.insert(reqs.begin() + 2, Greedy(bad, 12, s, 4));  // runs beside three good ones
  ASSERT_TRUE(engine.Submit(std::move(reqs)));
  std::vector<Result> all = Collect(*s, 5);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(all[i].text, solo[i]) << i;
    EXPECT_TRUE(all[i].last.error.empty()) << all[i].last.error;
  }
  EXPECT_NE(all[4].last.error.find("out of range"), std::string::npos) << all[4].last.error;
}

TEST_F(EngineTest, StopStringsAndSeededSampling) {
  EngineConfig cfg;
  cfg.n_ctx = 256;
  cfg.n_threads = 2;
  Engine engine(*model_, cfg, &metrics_);
  const auto p = ChatPrompt("Write a short poem about the sea.");
  auto run = [&](SeqRequest r) {
    auto s = std::make_shared<RequestStream>();
    r.out = s;
    EXPECT_TRUE(engine.Submit({std::move(r)}));
    return Collect(*s, 1)[0];
  };
  Result full = run(Greedy(p, 16, nullptr));
  ASSERT_GE(full.text.size(), 6u);
  SeqRequest stop = Greedy(p, 16, nullptr);
  stop.stop = {full.text.substr(3, 3)};
  Result cut = run(stop);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop.stop[0])));
  EXPECT_EQ(cut.last.finish, FinishReason::kStop);

  SeqRequest sampled = Greedy(p, 16, nullptr);
  sampled.sampling.temperature = 1.0f;
  sampled.sampling.seed = 1234;
  EXPECT_EQ(run(sampled).text, run(sampled).text);
}

TEST_F(EngineTest, CancelFreesTheSlot) {
  EngineConfig cfg;
  cfg.n_slots = 1;
  cfg.n_ctx = 256;
  cfg.n_threads = 2;
  Engine engine(*model_, cfg, &metrics_);
  auto s = std::make_shared<RequestStream>();
  SeqRequest r = Greedy(ChatPrompt("Tell me a long story."), -1, s);
  r.ignore_eos = true;  // would run until the context is full
  ASSERT_TRUE(engine.Submit({std::move(r)}));
  std::vector<SeqEvent> ev;
  while (ev.empty()) s->Pop(ev, std::chrono::milliseconds(100));
  s->Cancel();
  // The only slot must come free for the next request.
  auto s2 = std::make_shared<RequestStream>();
  ASSERT_TRUE(engine.Submit({Greedy(ChatPrompt("Hi"), 3, s2)}));
  Result r2 = Collect(*s2, 1)[0];
  EXPECT_LE(r2.last.n_generated, 3);
  EXPECT_EQ(metrics_.sequences_cancelled.load(), 1u);
}

TEST_F(EngineTest, QueueBound) {
  EngineConfig cfg;
  cfg.n_slots = 1;
  cfg.n_ctx = 128;
  cfg.n_threads = 1;
  cfg.max_queue = 2;
  Engine engine(*model_, cfg, &metrics_);
  auto s = std::make_shared<RequestStream>();
  const auto p = ChatPrompt("Hi");
  // The queue takes a request of any size when empty, and refuses one that would overflow it.
  ASSERT_TRUE(engine.Submit({Greedy(p, 40, s, 0), Greedy(p, 40, s, 1), Greedy(p, 40, s, 2)}));
  EXPECT_FALSE(engine.Submit({Greedy(p, 2, s, 3), Greedy(p, 2, s, 4)}));
  s->Cancel();
}

// The reasoning split on the engine's real output: SmolLM2 prompted with the R1-Distill template (whose
// generation prompt opens <think>), and logit_bias forcing the tokens of "</think>", so the model's output
// contains the closing tag. Reasoning + "</think>" + content must rebuild the raw text (modulo the trimmed
// whitespace), streamed piece by piece through the formatter.
TEST_F(EngineTest, ReasoningSplitOnEngineOutput) {
  SEEK_REQUIRE_SHARED();
  const std::string r1 =
      test::ReadFileToString(test::SharedDir() + "/tokenizers/chat-templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  ChatTemplate tmpl(r1);
  Json msgs = Json::array({{{"role", "user"}, {"content", "Hi"}}});
  const std::string text = tmpl.Render(ChatTemplateContext(model_->tokenizer(), msgs, true));
  ASSERT_TRUE(PromptOpensThink(text));
  EngineConfig cfg;
  cfg.n_ctx = 256;
  cfg.n_threads = 2;
  Engine engine(*model_, cfg, &metrics_);
  auto s = std::make_shared<RequestStream>();
  SeqRequest r = Greedy(model_->tokenizer().Encode(text, false), 12, s);
  for (int32_t id : model_->tokenizer().Encode("Ok</think>", false)) r.sampling.logit_bias[id] = 30;
  ASSERT_TRUE(engine.Submit({std::move(r)}));

  FormatterOptions o;
  o.kind = ApiKind::kChat;
  o.separate_reasoning = true;
  o.prompt_opens_think = true;
  o.prompt_tokens = {1};
  GenerationFormatter f(o, model_->tokenizer());
  std::string raw;
  std::vector<SeqEvent> ev;
  while (!f.all_done()) {
    ev.clear();
    s->Pop(ev, std::chrono::milliseconds(100));
    for (const auto& e : ev) raw += e.text;
    f.Accumulate(ev);
  }
  const Json msg = f.Final()["choices"][0]["message"];
  const size_t close = raw.find("</think>");
  ASSERT_NE(close, std::string::npos) << "biased output has no closing tag: " << raw;
  auto trim = [](std::string x) {
    x.erase(0, x.find_first_not_of(" \n"));
    x.erase(x.find_last_not_of(" \n") + 1);
    return x;
  };
  EXPECT_EQ(msg.value("reasoning_content", ""), trim(raw.substr(0, close))) << raw;
  EXPECT_EQ(msg["content"], trim(raw.substr(close + 8)).empty() ? "" : raw.substr(raw.find_first_not_of(" \n", close + 8))) << raw;
}

}  // namespace
}  // namespace seek::server
