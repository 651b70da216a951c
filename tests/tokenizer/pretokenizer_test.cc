// Hand-written scanners against splits recorded from HF tokenizers' Split(Regex(...), "isolated").
#include <gtest/gtest.h>

#include "tokenizer/pretokenizer.h"

namespace seek {
namespace {

std::vector<std::string> Pieces(const PreTokenizer& p, const std::string& s) {
  std::vector<std::pair<uint32_t, uint32_t>> r;
  p.Split(s, &r);
  std::vector<std::string> out;
  for (auto [b, e] : r) out.push_back(s.substr(b, e - b));
  return out;
}

using V = std::vector<std::string>;

TEST(PreTokenizer, Gpt2) {
  const auto p = PreTokenizer::FromGgufPre("gpt-2");
  EXPECT_EQ(Pieces(p, "Hello world  it's 123abc!!  \n"),
            (V{"Hello", " world", " ", " it", "'s", " 123", "abc", "!!", "  \n"}));
  EXPECT_EQ(Pieces(p, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(Pieces(p, "I'M"), (V{"I", "'", "M"}));  // case-sensitive contractions
}

TEST(PreTokenizer, Llama3AndQwen2) {
  const auto l = PreTokenizer::FromGgufPre("llama-bpe");
  const auto q = PreTokenizer::FromGgufPre("qwen2");
  EXPECT_EQ(Pieces(l, "I'M 12345 (hi)\n\n  x"), (V{"I", "'M", " ", "123", "45", " (", "hi", ")\n\n", " ", " x"}));
  EXPECT_EQ(Pieces(q, "12345"), (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(Pieces(q, "a \n \n b"), (V{"a", " \n \n", " b"}));
}

TEST(PreTokenizer, DeepSeekV3) {
  const auto p = PreTokenizer::FromGgufPre("deepseek-v3");
  EXPECT_EQ(Pieces(p, "abc1234你好x.yz"), (V{"abc", "123", "4", "你好", "x", ".yz"}));
}

TEST(PreTokenizer, Smollm) {
  const auto p = PreTokenizer::FromGgufPre("smollm");
  EXPECT_EQ(Pieces(p, "ab 12"), (V{"ab", " ", "1", "2"}));
}

TEST(PreTokenizer, InvalidUtf8CoversAllBytes) {
  const auto p = PreTokenizer::FromGgufPre("deepseek-v3");
  const std::string s("a\xff\xfe b\xe4\xbd", 7);
  std::string joined;
  for (const auto& x : Pieces(p, s)) joined += x;
  EXPECT_EQ(joined, s);
}

}  // namespace
}  // namespace seek
