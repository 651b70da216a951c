// The <think> splitter: whole-text results against a plain reference parse, and every split of the input into
// two or three pieces (tags broken at every byte position) gives the same result.
#include <gtest/gtest.h>

#include <string>

#include "server/reasoning.h"

namespace seek::server {
namespace {

struct Split {
  std::string reasoning, content;
};

Split RunPieces(bool in_reasoning, const std::vector<std::string>& pieces) {
  ReasoningSplitter s(in_reasoning);
  Split out;
  for (const std::string& p : pieces) {
    auto d = s.Push(p);
    out.reasoning += d.reasoning;
    out.content += d.content;
  }
  auto d = s.Flush();
  out.reasoning += d.reasoning;
  out.content += d.content;
  return out;
}

struct Case {
  bool in_reasoning;
  std::string text, reasoning, content;
};

const Case kCases[] = {
    // The R1 prompt opened the block: only the closing tag appears.
    {true, "Let me think.\n</think>\n\nThe answer is 4.", "Let me think.", "The answer is 4."},
    // R1-0528 style: both tags in the output.
    {false, "<think>\nhmm\n</think>\n\nHi!", "hmm", "Hi!"},
    {false, "  <think>x</think>y", "x", "y"},
    // Not a reasoning output at all.
    {false, "Hello <think> world", "", "Hello <think> world"},
    {false, "<thin", "", "<thin"},
    {false, "  Hi <think>", "", "  Hi <think>"},  // no think block: the text is kept as is
    // Skipped thinking.
    {true, "\n\n</think>\n\nDirect answer", "", "Direct answer"},
    // Never closed (length limit): everything is reasoning.
    {true, "still thinking </thi", "still thinking </thi", ""},
    // A second closing tag stays in the content.
    {true, "a</think>b</think>c", "a", "b</think>c"},
    // Look-alikes inside the reasoning.
    {true, "a </thinking> b < /think> c</think>d", "a </thinking> b < /think> c", "d"},
    // Multi-byte UTF-8 around the tag.
    {true, "é思考</think>答え", "é思考", "答え"},
    {true, "", "", ""},
};

TEST(ReasoningSplitter, WholeText) {
  for (const Case& c : kCases) {
    Split s = RunPieces(c.in_reasoning, {c.text});
    EXPECT_EQ(s.reasoning, c.reasoning) << c.text;
    EXPECT_EQ(s.content, c.content) << c.text;
  }
}

TEST(ReasoningSplitter, TagsSplitAtEveryBytePosition) {
  for (const Case& c : kCases) {
    const size_t n = c.text.size();
    for (size_t i = 0; i <= n; ++i) {
      for (size_t j = i; j <= n; ++j) {
        Split s = RunPieces(c.in_reasoning, {c.text.substr(0, i), c.text.substr(i, j - i), c.text.substr(j)});
        ASSERT_EQ(s.reasoning, c.reasoning) << c.text << " split at " << i << "," << j;
        ASSERT_EQ(s.content, c.content) << c.text << " split at " << i << "," << j;
      }
    }
  }
}

TEST(ReasoningSplitter, ByteByByte) {
  for (const Case& c : kCases) {
    std::vector<std::string> bytes;
    for (char ch : c.text) bytes.emplace_back(1, ch);
    Split s = RunPieces(c.in_reasoning, bytes);
    EXPECT_EQ(s.reasoning, c.reasoning) << c.text;
    EXPECT_EQ(s.content, c.content) << c.text;
  }
}

TEST(ReasoningSplitter, StreamsWithoutWaitingForTheEnd) {
  // Reasoning text is released as it comes, not held until </think>.
  ReasoningSplitter s(true);
  EXPECT_EQ(s.Push("First step").reasoning, "First step");
  auto d = s.Push(" then </th");  // a possible tag (and the space before it) is held back
  EXPECT_EQ(d.reasoning, " then");
  d = s.Push("ink>Answer");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "Answer");
}

TEST(PromptOpensThink, DetectsTheR1GenerationPrompt) {
  EXPECT_TRUE(PromptOpensThink("<｜User｜>hi<｜Assistant｜><think>\n"));
  EXPECT_TRUE(PromptOpensThink("x<think>"));
  EXPECT_FALSE(PromptOpensThink("<｜User｜>hi<｜Assistant｜>"));
  EXPECT_FALSE(PromptOpensThink("<think>a</think>b<｜Assistant｜>"));
  EXPECT_FALSE(PromptOpensThink("<think>\nsome text"));
  EXPECT_FALSE(PromptOpensThink(""));
}

}  // namespace
}  // namespace seek::server
