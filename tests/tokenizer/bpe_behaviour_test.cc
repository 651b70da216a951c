// Byte-level BPE behaviour beyond the fixtures: BOS/EOS as HF adds them, EOG ids, special-token decoding,
// hostile input (invalid UTF-8, NUL bytes, 10 MB strings) and speed on long words.
#include <gtest/gtest.h>


#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace seek {
namespace {

const Tokenizer& R1Qwen() {
  static auto tok = Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-r1-distill-qwen");
  return *tok;
}
const Tokenizer& V3() {
  static auto tok = Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-v3");
  return *tok;
}
const Tokenizer& Qwen3() {
  static auto tok = Tokenizer::FromPath(test::SharedDir() + "/tokenizers/qwen3");
  return *tok;
}

bool Contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Expected values recorded with transformers 4.57.1 AutoTokenizer on the same files.
TEST(BpeBehaviour, AddSpecialMatchesHf) {
  SEEK_REQUIRE_SHARED();
  EXPECT_EQ(R1Qwen().Encode("Hi", true), (std::vector<int32_t>{151646, 13048}));
  EXPECT_EQ(V3().Encode("Hi", true), (std::vector<int32_t>{0, 23166}));
  EXPECT_EQ(Qwen3().Encode("Hi", true), (std::vector<int32_t>{13048}));
  // HF does not deduplicate: text that already starts with BOS gets a second one (callers such as the chat
  // template path must pass add_special=false when the template writes {{bos_token}}).
  EXPECT_EQ(R1Qwen().Encode("<｜begin▁of▁sentence｜>Hi", true), (std::vector<int32_t>{151646, 151646, 13048}));
  EXPECT_EQ(V3().Encode("<｜begin▁of▁sentence｜>Hi", true), (std::vector<int32_t>{0, 0, 23166}));
  EXPECT_EQ(R1Qwen().bos_id(), 151646);
  EXPECT_EQ(R1Qwen().eos_id(), 151643);
  EXPECT_EQ(V3().bos_id(), 0);
  EXPECT_EQ(V3().eos_id(), 1);
  EXPECT_EQ(Qwen3().bos_id(), -1);
  EXPECT_EQ(Qwen3().eos_id(), 151645);
}

TEST(BpeBehaviour, EogIds) {
  SEEK_REQUIRE_SHARED();
  EXPECT_TRUE(Contains(Qwen3().eog_ids(), 151645));  // <|im_end|>
  EXPECT_TRUE(Contains(Qwen3().eog_ids(), 151643));  // <|endoftext|>
  EXPECT_TRUE(Contains(V3().eog_ids(), 1));
  EXPECT_TRUE(Contains(R1Qwen().eog_ids(), 151643));
}

TEST(BpeBehaviour, SpecialTokensDecode) {
  SEEK_REQUIRE_SHARED();
  const auto ids = Qwen3().Encode("<|im_start|>user\nHi<|im_end|>", false);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151645);
  EXPECT_TRUE(Qwen3().IsSpecial(151644));
  EXPECT_EQ(Qwen3().Decode(ids), "<|im_start|>user\nHi<|im_end|>");
  EXPECT_EQ(Qwen3().Decode(ids, true), "user\nHi");
  EXPECT_EQ(Qwen3().TokenText(151645), "<|im_end|>");
  EXPECT_EQ(Qwen3().TokenId("<|im_end|>"), std::optional<int32_t>(151645));
  // <｜User｜> is a non-special added token in R1-Distill: kept by skip_special (as HF does).
  const auto r = R1Qwen().Encode("<｜User｜>Hi", false);
  EXPECT_EQ(r.front(), 151644);
  EXPECT_EQ(R1Qwen().Decode(r, true), "<｜User｜>Hi");
  const auto th = R1Qwen().Encode("<think>\n", false);
  EXPECT_EQ(th.front(), 151648);
}

TEST(BpeBehaviour, InvalidUtf8RoundTrips) {
  SEEK_REQUIRE_SHARED();
  const std::string cases[] = {
      std::string("\xff\xfe", 2), std::string("a\x80" "b", 3), std::string("\xe4\xbd", 2),  // truncated 你
      std::string("\xed\xa0\x80", 3),                                                     // encoded surrogate
      std::string("\xc0\xaf", 2), std::string("\xf4\x90\x80\x80", 4), std::string("x\0y\0", 4),
      std::string("\0", 1), std::string("ok \xf0\x9f\x98 done", 12)};
  for (const auto* tok : {&Qwen3(), &V3(), &R1Qwen()}) {
    for (const auto& s : cases) {
      const auto ids = tok->Encode(s, false);
      EXPECT_EQ(tok->Decode(ids), s) << "bytes do not round-trip";
    }
  }
}

// Hostile sizes: 10 MB of mixed text, of one letter (the worst case for a quadratic merge loop), of spaces,
// of invalid bytes and of NULs encode and decode back exactly. Tests do not time things (the machines are
// shared): a quadratic path would show up here as a ctest timeout, and the speed itself is measured by
// bench/tokenizer_bench (docs/BENCHMARKS.md).
TEST(BpeBehaviour, HugeInputsRoundTrip) {
  SEEK_REQUIRE_SHARED();
  std::string mixed;
  const std::string unit = "The quick brown fox 123 jumps; 你好世界 \n\t  😀 def f(x): return x*2\n";
  while (mixed.size() < 10u << 20) mixed += unit;
  const std::vector<std::string> inputs = {mixed, std::string(10u << 20, 'a'), std::string(10u << 20, ' '),
                                           std::string(4u << 20, '\xff'), std::string(4u << 20, '\0')};
  for (const auto& s : inputs) {
    const auto ids = Qwen3().Encode(s, false);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(Qwen3().Decode(ids), s);
  }
}

TEST(BpeBehaviour, HundredKbDocumentRoundTrips) {
  SEEK_REQUIRE_SHARED();
  std::string doc;
  const std::string unit = "Hello, world! It's 2025-02-14; café naïve 東京 \t\n    indent();\n";
  while (doc.size() < 100000) doc += unit;
  for (const auto* tok : {&Qwen3(), &V3()}) {
    const auto ids = tok->Encode(doc, false);
    EXPECT_GT(ids.size(), doc.size() / 8);
    EXPECT_EQ(tok->Decode(ids), doc);
  }
}

TEST(BpeBehaviour, UnknownPatternIsAnError) {
  nlohmann::json pre = {{"type", "Split"}, {"pattern", {{"Regex", "[a-z]+"}}}, {"behavior", "Isolated"},
                        {"invert", false}};
  try {
    PreTokenizer::FromHfJson(pre);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("[a-z]+"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PreTokenizer::FromGgufPre("no-such-pre"), std::exception);
}

// A tiny in-memory vocabulary: merges by rank, ties broken leftmost, added tokens with lstrip/rstrip.
TEST(BpeBehaviour, TinyVocabMerges) {
  BpeConfig c;
  c.source = "tiny";
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::AppendUtf8(unicode::ByteToUnicode(static_cast<uint8_t>(b)), &s);
    c.tokens.push_back(s);
  }
  c.tokens.push_back("aa");   // 256
  c.tokens.push_back("aaa");  // 257
  c.tokens.push_back("<x>");  // 258
  c.merges = {{"a", "a"}, {"aa", "a"}};
  AddedToken x;
  x.id = 258;
  x.content = "<x>";
  x.special = true;
  x.lstrip = x.rstrip = true;
  c.added.push_back(x);
  auto tok = MakeBpeTokenizer(std::move(c));
  EXPECT_EQ(tok->Encode("aaa", false), (std::vector<int32_t>{257}));  // "a a" (leftmost) then "aa a"
  EXPECT_EQ(tok->Encode("aaaa", false), (std::vector<int32_t>{256, 256}));
  EXPECT_EQ(tok->Encode("a  <x>  a", false), (std::vector<int32_t>{'a', 258, 'a'}));
  EXPECT_EQ(tok->Decode(std::vector<int32_t>{256, 258}, true), "aa");
}

}  // namespace
}  // namespace seek
