// Request parsing and validation: good requests parse into the right fields; bad ones throw ApiError 400 whose
// message names the field and the reason.
#include <gtest/gtest.h>

#include "server/request.h"

namespace seek::server {
namespace {

constexpr int32_t kVocab = 1000;

// Expects a 400 naming `param` whose message contains `needle`.
void ExpectBad(const std::string& body, const std::string& param, const std::string& needle, bool chat = true) {
  try {
    if (chat) ParseChatRequest(body, kVocab);
    else ParseCompletionRequest(body, kVocab);
    ADD_FAILURE() << "accepted: " << body;
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, param) << body << " -> " << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << body << " -> " << e.what();
    EXPECT_EQ(e.type, "invalid_request_error");
  }
}

const std::string kMsgs = R"("messages":[{"role":"user","content":"hi"}])";

TEST(ParseChatRequest, FullRequest) {
  ChatRequest r = ParseChatRequest(R"({
    "model": "m", "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "1", "type": "function",
        "function": {"name": "f", "arguments": "{}"}}]},
      {"role": "tool", "content": "42", "tool_call_id": "1"}],
    "max_completion_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 20, "min_p": 0.1, "seed": 3,
    "stop": ["x", "y"], "presence_penalty": 1, "frequency_penalty": -1, "logit_bias": {"5": 10, "7": -100},
    "logprobs": true, "top_logprobs": 3, "n": 2, "stream": true, "stream_options": {"include_usage": true},
    "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto",
    "reasoning_format": "none", "unknown_field": {"ignored": true}})",
                                   kVocab);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.messages[1]["content"], "ab");
  EXPECT_TRUE(r.messages[2]["content"].is_null());
  EXPECT_EQ(r.messages[2]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(r.messages[3]["tool_call_id"], "1");
  EXPECT_EQ(*r.max_tokens, 7);
  EXPECT_FLOAT_EQ(*r.temperature, 0.5f);
  EXPECT_EQ(*r.top_k, 20);
  EXPECT_EQ(*r.seed, 3u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_FLOAT_EQ(r.logit_bias.at(5), 10.0f);
  EXPECT_FLOAT_EQ(r.logit_bias.at(7), -100.0f);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_EQ(r.n, 2);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.tools.is_array());
  EXPECT_EQ(r.tool_choice, "auto");
  EXPECT_FALSE(r.separate_reasoning);

  SamplingParams defaults;
  SamplingParams s0 = r.Resolve(defaults, 0), s1 = r.Resolve(defaults, 1);
  EXPECT_EQ(s0.seed, 3u);
  EXPECT_EQ(s1.seed, 4u);  // choices differ but are reproducible
  EXPECT_FLOAT_EQ(s0.top_p, 0.9f);
  EXPECT_FLOAT_EQ(s0.presence_penalty, 1.0f);
}

TEST(ParseChatRequest, Defaults) {
  ChatRequest r = ParseChatRequest("{" + kMsgs + R"(, "temperature": null, "stop": "END"})", kVocab);
  EXPECT_FALSE(r.temperature.has_value());
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.separate_reasoning);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"END"}));
  SamplingParams d;
  d.temperature = 0.6f;
  EXPECT_FLOAT_EQ(r.Resolve(d, 0).temperature, 0.6f);  // unset: the model's default
}

TEST(ParseChatRequest, BadRequests) {
  ExpectBad("not json", "", "not valid JSON");
  ExpectBad("[1]", "", "must be a JSON object");
  ExpectBad("{}", "messages", "messages: required");
  ExpectBad(R"({"messages": []})", "messages", "at least one");
  ExpectBad(R"({"messages": "hi"})", "messages", "expected an array");
  ExpectBad(R"({"messages": [{"role": "robot", "content": "x"}]})", "messages", "'robot' is not one of");
  ExpectBad(R"({"messages": [{"content": "x"}]})", "messages", "role: required");
  ExpectBad(R"({"messages": [{"role": "user"}]})", "messages", "content: required");
  ExpectBad(R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content", "expected a string or an array");
  ExpectBad(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
            "messages[0].content", "'image_url' parts are not supported");
  ExpectBad("{" + kMsgs + R"(, "temperature": 3})", "temperature", "<= 2");
  ExpectBad("{" + kMsgs + R"(, "temperature": -0.1})", "temperature", ">= 0");
  ExpectBad("{" + kMsgs + R"(, "temperature": "hot"})", "temperature", "expected a number, got a string");
  ExpectBad("{" + kMsgs + R"(, "top_p": 0})", "top_p", "> 0");
  ExpectBad("{" + kMsgs + R"(, "top_p": 1.5})", "top_p", "<= 1");
  ExpectBad("{" + kMsgs + R"(, "n": 0})", "n", "between 1 and");
  ExpectBad("{" + kMsgs + R"(, "n": 1.5})", "n", "expected an integer");
  ExpectBad("{" + kMsgs + R"(, "max_tokens": 0})", "max_tokens", "between 1 and");
  ExpectBad("{" + kMsgs + R"(, "max_tokens": "10"})", "max_tokens", "expected an integer, got a string");
  ExpectBad("{" + kMsgs + R"(, "presence_penalty": 2.5})", "presence_penalty", "<= 2");
  ExpectBad("{" + kMsgs + R"(, "stream": "yes"})", "stream", "expected a boolean");
  ExpectBad("{" + kMsgs + R"(, "stream_options": {"include_usage": true}})", "stream_options", "only allowed when stream");
  ExpectBad("{" + kMsgs + R"(, "stop": 5})", "stop", "expected a string or an array");
  ExpectBad("{" + kMsgs + R"(, "stop": ["a", 1]})", "stop", "expected strings");
  ExpectBad("{" + kMsgs + R"(, "logit_bias": {"abc": 1}})", "logit_bias", "not a token id");
  ExpectBad("{" + kMsgs + R"(, "logit_bias": {"5000": 1}})", "logit_bias", "out of range");
  ExpectBad("{" + kMsgs + R"(, "logit_bias": {"5": 101}})", "logit_bias", "outside [-100, 100]");
  ExpectBad("{" + kMsgs + R"(, "top_logprobs": 3})", "top_logprobs", "requires logprobs");
  ExpectBad("{" + kMsgs + R"(, "logprobs": true, "top_logprobs": 21})", "top_logprobs", "between 0 and 20");
  ExpectBad("{" + kMsgs + R"(, "response_format": {"type": "json_object"}})", "response_format", "not supported");
  ExpectBad("{" + kMsgs + R"(, "reasoning_format": "weird"})", "reasoning_format", "not one of");
  ExpectBad("{" + kMsgs + R"(, "tools": [{"type": "function"}]})", "tools", "each tool");
}

TEST(ParseCompletionRequest, PromptForms) {
  auto r = ParseCompletionRequest(R"({"prompt": "hi", "logprobs": 2, "echo": true})", kVocab);
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(std::get<std::string>(r.prompts[0]), "hi");
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 2);
  EXPECT_TRUE(r.echo);
  r = ParseCompletionRequest(R"({"prompt": [1, 2, 3]})", kVocab);
  EXPECT_EQ(std::get<std::vector<int32_t>>(r.prompts[0]), (std::vector<int32_t>{1, 2, 3}));
  r = ParseCompletionRequest(R"({"prompt": ["a", [4]]})", kVocab);
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_FALSE(r.logprobs);
  ExpectBad(R"({})", "prompt", "prompt: required", false);
  ExpectBad(R"({"prompt": []})", "prompt", "empty array", false);
  ExpectBad(R"({"prompt": [1, 99999]})", "prompt", "out of range", false);
  ExpectBad(R"({"prompt": [1, "a"]})", "prompt", "expected a token id", false);
  ExpectBad(R"({"prompt": "x", "suffix": "y"})", "suffix", "not supported", false);
  ExpectBad(R"({"prompt": "x", "logprobs": true})", "logprobs", "expected an integer", false);
}

TEST(ParseTokenize, Fields) {
  EXPECT_EQ(ParseTokenizeRequest(R"({"content": "abc", "with_pieces": true})").content, "abc");
  EXPECT_THROW(ParseTokenizeRequest(R"({"content": 3})"), ApiError);
  EXPECT_EQ(ParseDetokenizeRequest(R"({"tokens": [1, 2]})", kVocab).tokens.size(), 2u);
  EXPECT_THROW(ParseDetokenizeRequest(R"({"tokens": [-1]})", kVocab), ApiError);
  EXPECT_THROW(ParseDetokenizeRequest(R"({"tokens": 1})", kVocab), ApiError);
}

}  // namespace
}  // namespace seek::server
