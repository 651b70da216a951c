// DeepSeek tool-call parsing: canonical and variant tags, several calls, missing fences, malformed text kept as
// content; the detector gives the same result however the text is split; the formatter's OpenAI shape.
#include <gtest/gtest.h>

#include "server/format.h"
#include "server/tool_calls.h"
#include "test_util.h"

namespace seek::server {
namespace {

const std::string kCanonical =
    "Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
    "{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n"
    "```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";

struct Detected {
  std::string content;
  std::vector<ToolCall> calls;
};

Detected Detect(const std::vector<std::string>& pieces) {
  ToolCallDetector d;
  Detected r;
  for (const auto& p : pieces) r.content += d.Push(p);
  r.content += d.Finish(r.calls);
  return r;
}

TEST(ToolCalls, Canonical) {
  Detected r = Detect({kCanonical});
  EXPECT_EQ(r.content, "Let me check.");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, "{\"city\": \"Paris\"}");
  EXPECT_EQ(r.calls[1].name, "get_time");
  EXPECT_EQ(r.calls[1].arguments, "{}");
}

TEST(ToolCalls, VariantTagsAndNoFence) {
  Detected r = Detect({"<｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜>f\n{\"a\": 1}<｜tool_call_end｜>"});
  EXPECT_EQ(r.content, "");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "f");
  EXPECT_EQ(r.calls[0].arguments, "{\"a\": 1}");
  r = Detect({"<｜tool calls begin｜><｜tool call begin｜>function<｜tool sep｜>g\n```json\n[1]\n```"});  // unterminated
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, "[1]");
}

TEST(ToolCalls, MalformedStaysContent) {
  const std::string text = "x<｜tool▁calls▁begin｜>garbage";
  Detected r = Detect({text});
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, text);
  r = Detect({"plain text with <｜tool but no call"});
  EXPECT_EQ(r.content, "plain text with <｜tool but no call");
}

TEST(ToolCalls, SplitAtEveryBytePosition) {
  const Detected whole = Detect({kCanonical});
  for (size_t i = 0; i <= kCanonical.size(); ++i) {
    Detected r = Detect({kCanonical.substr(0, i), kCanonical.substr(i)});
    ASSERT_EQ(r.content, whole.content) << i;
    ASSERT_EQ(r.calls.size(), whole.calls.size()) << i;
    EXPECT_EQ(r.calls[0].arguments, whole.calls[0].arguments) << i;
  }
}

TEST(ToolCalls, FormatterShapes) {
  SEEK_REQUIRE_SHARED();
  auto tok = Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-r1-distill-qwen");
  FormatterOptions o;
  o.kind = ApiKind::kChat;
  o.id = "c1";
  o.parse_tool_calls = true;
  o.prompt_tokens = {1};
  SeqEvent a, b;
  a.text = kCanonical.substr(0, 20);
  b.text = kCanonical.substr(20);
  b.done = true;
  {
    GenerationFormatter f(o, *tok);
    std::vector<SeqEvent> ev = {a, b};
    f.Accumulate(ev);
    Json j = f.Final()["choices"][0];
    EXPECT_EQ(j["finish_reason"], "tool_calls");
    EXPECT_EQ(j["message"]["content"], "Let me check.");
    ASSERT_EQ(j["message"]["tool_calls"].size(), 2u);
    EXPECT_EQ(j["message"]["tool_calls"][0]["type"], "function");
    EXPECT_EQ(j["message"]["tool_calls"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(j["message"]["tool_calls"][1]["function"]["arguments"], "{}");
  }
  {
    GenerationFormatter f(o, *tok);
    std::vector<SeqEvent> ev = {a, b};
    const std::string body = f.StreamEvents(ev);
    EXPECT_NE(body.find("\"tool_calls\":[{\"id\":\"call_c1_0_0\""), std::string::npos) << body;
    EXPECT_NE(body.find("\"index\":1"), std::string::npos) << body;
    EXPECT_NE(body.find("\"finish_reason\":\"tool_calls\""), std::string::npos) << body;
    EXPECT_EQ(body.find("tool▁calls▁begin"), std::string::npos) << "the tag leaked into content: " << body;
  }
}

}  // namespace
}  // namespace seek::server
