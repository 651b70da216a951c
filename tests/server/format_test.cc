// SSE and response JSON: the wire format OpenAI clients parse (data: lines, role chunk, deltas with
// reasoning_content, finish chunk, usage chunk, [DONE]); logprobs shapes; error shape.
#include <gtest/gtest.h>

#include <memory>

#include "server/format.h"
#include "test_util.h"

namespace seek::server {
namespace {

std::unique_ptr<Tokenizer> R1Tokenizer() {
  return Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-r1-distill-qwen");
}

// Splits an SSE body into its data payloads, checking the framing.
std::vector<std::string> SsePayloads(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event";
    if (end == std::string::npos) break;
    const std::string event = body.substr(pos, end - pos);
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    EXPECT_EQ(event.find('\n'), std::string::npos) << "one line per event: " << event;
    out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

SeqEvent Text(int32_t index, std::string text) {
  SeqEvent e;
  e.index = index;
  e.text = std::move(text);
  return e;
}

SeqEvent Done(int32_t index, std::string text, FinishReason r, int32_t n_gen) {
  SeqEvent e = Text(index, std::move(text));
  e.done = true;
  e.finish = r;
  e.n_prompt = 10;
  e.n_cached = 4;
  e.n_generated = n_gen;
  return e;
}

TEST(SseData, Framing) {
  EXPECT_EQ(SseData(Json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(std::string(kSseDone), "data: [DONE]\n\n");
  // A token's raw bytes may be a partial UTF-8 character: replaced, never a throw.
  EXPECT_EQ(DumpJson(Json(std::string("a\xE4"))), "\"a\xEF\xBF\xBD\"");
}

TEST(ErrorJson, OpenAIShape) {
  Json j = ErrorJson(ApiError(400, "temperature: bad", "temperature"));
  EXPECT_EQ(j["error"]["message"], "temperature: bad");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "temperature");
  EXPECT_TRUE(j["error"]["code"].is_null());
}

TEST(GenerationFormatter, ChatStreamWithReasoning) {
  SEEK_REQUIRE_SHARED();
  auto tok = R1Tokenizer();
  FormatterOptions o;
  o.kind = ApiKind::kChat;
  o.id = "chatcmpl-1";
  o.model = "m";
  o.n_choices = 2;
  o.n_per_prompt = 2;
  o.separate_reasoning = true;
  o.prompt_opens_think = true;
  o.prompt_tokens = {10};
  o.include_usage = true;
  GenerationFormatter f(o, *tok);
  std::string body = f.StreamStart();
  std::vector<SeqEvent> ev = {Text(0, "Let me"), Text(1, "Quick</"), Text(0, " think.\n</th")};
  body += f.StreamEvents(ev);
  ev = {Text(0, "ink>\n\nThe answer"), Done(1, "think>ok", FinishReason::kStop, 3)};
  body += f.StreamEvents(ev);
  EXPECT_FALSE(f.all_done());
  ev = {Done(0, " is 4.", FinishReason::kLength, 5)};
  body += f.StreamEvents(ev);
  ASSERT_TRUE(f.all_done());
  body += f.StreamEnd(/*include_usage=*/true);

  std::vector<std::string> payloads = SsePayloads(body);
  ASSERT_GE(payloads.size(), 3u);
  EXPECT_EQ(payloads.back(), "[DONE]");
  std::string reasoning[2], content[2], finish[2];
  Json usage;
  int roles = 0;
  for (size_t i = 0; i + 1 < payloads.size(); ++i) {
    Json j = Json::parse(payloads[i]);
    EXPECT_EQ(j["object"], "chat.completion.chunk");
    EXPECT_EQ(j["id"], "chatcmpl-1");
    ASSERT_TRUE(j.contains("usage")) << payloads[i];  // include_usage: null until the last chunk
    if (j["choices"].empty()) {
      usage = j["usage"];
      continue;
    }
    EXPECT_TRUE(j["usage"].is_null());
    ASSERT_EQ(j["choices"].size(), 1u);
    const Json& c = j["choices"][0];
    const int idx = c["index"].get<int>();
    const Json& d = c["delta"];
    if (d.contains("role")) ++roles;
    if (d.contains("reasoning_content")) reasoning[idx] += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) content[idx] += d["content"].get<std::string>();
    if (!c["finish_reason"].is_null()) finish[idx] = c["finish_reason"];
  }
  EXPECT_EQ(roles, 2);
  EXPECT_EQ(reasoning[0], "Let me think.");
  EXPECT_EQ(content[0], "The answer is 4.");
  EXPECT_EQ(finish[0], "length");
  EXPECT_EQ(reasoning[1], "Quick");
  EXPECT_EQ(content[1], "ok");
  EXPECT_EQ(finish[1], "stop");
  EXPECT_EQ(usage["prompt_tokens"], 10);
  EXPECT_EQ(usage["completion_tokens"], 8);
  EXPECT_EQ(usage["total_tokens"], 18);
  EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"], 4);
}

TEST(GenerationFormatter, ChatFinalWithLogprobsAndNoSplit) {
  SEEK_REQUIRE_SHARED();
  auto tok = R1Tokenizer();
  FormatterOptions o;
  o.kind = ApiKind::kChat;
  o.n_choices = 1;
  o.separate_reasoning = false;
  o.logprobs = true;
  o.prompt_tokens = {3};
  GenerationFormatter f(o, *tok);
  const int32_t think = *tok->TokenId("<think>");
  SeqEvent e = Text(0, "<think>x</think>y");
  e.logprobs.push_back({think, -0.5f, {{think, -0.5f}, {0, -2.0f}}});
  std::vector<SeqEvent> ev = {e, Done(0, "", FinishReason::kStop, 1)};
  f.Accumulate(ev);
  Json j = f.Final();
  EXPECT_EQ(j["object"], "chat.completion");
  const Json& msg = j["choices"][0]["message"];
  EXPECT_EQ(msg["content"], "<think>x</think>y");  // reasoning_format none: raw text
  EXPECT_FALSE(msg.contains("reasoning_content"));
  const Json& lp = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 1u);
  EXPECT_EQ(lp[0]["token"], "<think>");
  EXPECT_FLOAT_EQ(lp[0]["logprob"].get<float>(), -0.5f);
  EXPECT_EQ(lp[0]["bytes"], Json::parse("[60,116,104,105,110,107,62]"));
  ASSERT_EQ(lp[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(lp[0]["top_logprobs"][1]["token"], tok->TokenBytes(0));
}

TEST(GenerationFormatter, CompletionLegacyLogprobsAndEcho) {
  SEEK_REQUIRE_SHARED();
  auto tok = R1Tokenizer();
  FormatterOptions o;
  o.kind = ApiKind::kCompletion;
  o.n_choices = 1;
  o.logprobs = true;
  o.echo = {"Say:"};
  o.prompt_tokens = {2};
  GenerationFormatter f(o, *tok);
  const std::vector<int32_t> ids = tok->Encode(" hi there", false);
  ASSERT_EQ(ids.size(), 2u);
  SeqEvent a = Text(0, " hi"), b = Done(0, " there", FinishReason::kStop, 2);
  a.logprobs.push_back({ids[0], -1.0f, {{ids[0], -1.0f}}});
  b.logprobs.push_back({ids[1], -2.0f, {{ids[1], -2.0f}}});
  std::vector<SeqEvent> ev = {a, b};
  f.Accumulate(ev);
  Json j = f.Final();
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0]["text"], "Say: hi there");
  const Json& lp = j["choices"][0]["logprobs"];
  EXPECT_EQ(lp["tokens"], Json::parse(R"([" hi", " there"])"));
  EXPECT_EQ(lp["text_offset"], Json::parse("[4, 7]"));
  EXPECT_FLOAT_EQ(lp["token_logprobs"][1].get<float>(), -2.0f);
  EXPECT_FLOAT_EQ(lp["top_logprobs"][0][" hi"].get<float>(), -1.0f);
}

}  // namespace
}  // namespace seek::server
