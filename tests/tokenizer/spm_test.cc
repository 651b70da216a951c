// SentencePiece-BPE (Llama-2 vocabulary from GGUF) against llama.cpp's HF-made vectors
// (../shared/vocab-gguf/ggml-vocab-llama-spm.gguf{,.inp,.out}) and HF LlamaTokenizerFast behaviour checked by
// hand with transformers 4.57.1 / tokenizers 0.22.1 (special tokens in text, decode with/without skip_special).
#include <gtest/gtest.h>

#include <sstream>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/spm.h"

namespace seek {
namespace {

using Ids = std::vector<int32_t>;

std::string VocabPath() { return test::SharedDir() + "/vocab-gguf/ggml-vocab-llama-spm.gguf"; }

class SpmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::SharedDir().empty() || !test::FileExists(VocabPath())) return;
    gguf_ = GgufFile::Open(VocabPath()).release();
    tok_ = MakeSpmTokenizerFromGguf(*gguf_).release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete gguf_;
    tok_ = nullptr;
    gguf_ = nullptr;
  }
  void SetUp() override {
    if (tok_ == nullptr) GTEST_SKIP() << "missing " << VocabPath();
  }
  static inline GgufFile* gguf_ = nullptr;
  static inline Tokenizer* tok_ = nullptr;
};

// Splits llama.cpp's .inp file: cases separated by "\n__ggml_vocab_test__\n" (the file ends with one).
std::vector<std::string> SplitCases(const std::string& inp) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (pos < inp.size()) {
    const size_t hit = inp.find(sep, pos);
    if (hit == std::string::npos) {
      cases.push_back(inp.substr(pos));
      break;
    }
    cases.push_back(inp.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  return cases;
}

std::vector<Ids> ParseOut(const std::string& out) {
  std::vector<Ids> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    Ids ids;
    for (int32_t id; ls >> id;) ids.push_back(id);
    lines.push_back(ids);
  }
  return lines;
}

// Undoes Python's unicode_escape of latin-1 text: \\ \n \t \r \xHH.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'r') {
      out += '\r';
    } else if (c == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

TEST_F(SpmTest, Metadata) {
  EXPECT_EQ(tok_->n_vocab(), 32000);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  EXPECT_TRUE(tok_->add_bos());
  EXPECT_FALSE(tok_->add_eos());
  EXPECT_EQ(tok_->eog_ids(), Ids({2}));
  EXPECT_TRUE(tok_->IsSpecial(0));
  EXPECT_TRUE(tok_->IsSpecial(1));
  EXPECT_FALSE(tok_->IsSpecial(15043));
  EXPECT_FALSE(tok_->IsSpecial(3));  // byte token
  EXPECT_EQ(tok_->TokenText(15043), "\xE2\x96\x81Hello");
  EXPECT_EQ(tok_->TokenBytes(15043), " Hello");
  EXPECT_EQ(tok_->TokenBytes(13), "\n");  // <0x0A>
  EXPECT_EQ(tok_->TokenId("\xE2\x96\x81Hello"), 15043);
  EXPECT_EQ(tok_->TokenId("<s>"), 1);
  EXPECT_EQ(tok_->TokenId("no such piece"), std::nullopt);
  EXPECT_EQ(tok_->TokenText(-1), "");
  EXPECT_EQ(tok_->TokenBytes(32000), "");
}

TEST_F(SpmTest, LlamaCppVectors) {
  const std::string base = test::SharedDir() + "/vocab-gguf/ggml-vocab-llama-spm.gguf";
  const std::vector<std::string> cases = SplitCases(test::ReadFileToString(base + ".inp"));
  const std::vector<Ids> expected = ParseOut(test::ReadFileToString(base + ".out"));
  ASSERT_EQ(cases.size(), 46u);  // 46 separators, the file ends with one
  ASSERT_EQ(expected.size(), cases.size());
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Ids got = tok_->Encode(cases[i], /*add_special=*/false);
    EXPECT_EQ(got, expected[i]) << "case " << i << ": \"" << cases[i] << "\"";
    failures += got != expected[i];
    // Decode (as HF, dropping the prefix space) gives the text back, and BOS is added in front on request.
    EXPECT_EQ(tok_->Decode(got), cases[i]) << "case " << i;
    Ids with_bos = {1};
    with_bos.insert(with_bos.end(), expected[i].begin(), expected[i].end());
    EXPECT_EQ(tok_->Encode(cases[i], true), with_bos) << "case " << i;
  }
  EXPECT_EQ(failures, 0);
}

// 120 random strings (mixed scripts, emoji, spaces, special tokens in the text) encoded by HF
// LlamaTokenizerFast: tools/make_spm_fixture.py.
TEST_F(SpmTest, HfRandomStrings) {
  const std::string data =
      test::ReadFileToString(test::TestdataDir() + "/tokenizer/spm/llama_spm_random.txt");
  ASSERT_FALSE(data.empty());
  std::istringstream in(data);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const size_t tab = line.rfind('\t');
    ASSERT_NE(tab, std::string::npos);
    const std::string text = Unescape(line.substr(0, tab));
    Ids want;
    std::istringstream ids(line.substr(tab + 1));
    for (int32_t id; ids >> id;) want.push_back(id);
    EXPECT_EQ(tok_->Encode(text, false), want) << "text: " << line.substr(0, tab);
    ++n;
  }
  EXPECT_EQ(n, 120);
}

TEST_F(SpmTest, SpecialTokensInText) {  // expected ids from HF LlamaTokenizerFast
  EXPECT_EQ(tok_->Encode("<s>Hello", false), Ids({1, 15043}));
  EXPECT_EQ(tok_->Encode("<s>Hello", true), Ids({1, 1, 15043}));
  EXPECT_EQ(tok_->Encode("Hello</s> world", false), Ids({15043, 2, 29871, 3186}));
  EXPECT_EQ(tok_->Encode("<unk>x", false), Ids({0, 921}));
  EXPECT_EQ(tok_->Encode("a<s>b", false), Ids({263, 1, 289}));
  EXPECT_EQ(tok_->Encode("<s> x", false), Ids({1, 29871, 921}));
  EXPECT_EQ(tok_->Encode("", true), Ids({1}));
  EXPECT_EQ(tok_->Encode("", false), Ids({}));
  EXPECT_EQ(tok_->Encode(" ", true), Ids({1, 259}));
  EXPECT_EQ(tok_->Encode("\xC3\xBF", false), Ids({29871, 30370}));
}

TEST_F(SpmTest, DecodeLikeHf) {  // HF LlamaTokenizerFast.decode(ids) / decode(ids, skip_special_tokens=True)
  struct Case {
    Ids ids;
    std::string text, skipped;
  };
  const Case cases[] = {
      {{1, 15043}, "<s> Hello", "Hello"},
      {{15043}, "Hello", "Hello"},
      {{29871, 15043}, " Hello", " Hello"},
      {{1, 29871, 15043}, "<s>  Hello", " Hello"},
      {{2, 15043}, "</s> Hello", "Hello"},
      {{259}, " ", " "},
      {{29871}, "", ""},
      {{29871, 29871, 15043}, "  Hello", "  Hello"},
      {{1, 2}, "<s></s>", ""},
      {{0, 15043}, "<unk> Hello", "Hello"},
      {{243, 162, 169, 156}, "\xF0\x9F\xA6\x99", "\xF0\x9F\xA6\x99"},
      {{3}, std::string(1, '\0'), std::string(1, '\0')},
      // HF prints U+FFFD per byte here; seek returns the raw bytes the ids spell.
      {{15043, 243, 162}, "Hello\xF0\x9F", "Hello\xF0\x9F"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(tok_->Decode(c.ids), c.text);
    EXPECT_EQ(tok_->Decode(c.ids, true), c.skipped);
  }
  EXPECT_EQ(tok_->Decode(Ids({-5, 15043, 99999})), "Hello");  // out-of-range ids are ignored
}

TEST_F(SpmTest, InvalidUtf8RoundTripsThroughByteTokens) {
  const std::string texts[] = {"\xFF\xFE bad", "cut \xE2\x82", "\x80\x80 conts", "over\xC0\xAFlong",
                               "surrogate \xED\xA0\x80", std::string("nul\0byte", 8)};
  for (const std::string& t : texts) {
    const Ids ids = tok_->Encode(t, false);
    EXPECT_EQ(tok_->Decode(ids), t);
  }
  EXPECT_EQ(tok_->Encode("\xFF", false), Ids({29871, 258}));  // ▁ then <0xFF>
}

TEST_F(SpmTest, LongAndHostileInputsInBoundedTime) {
  std::string big;
  big.reserve(10u << 20);
  const std::string chunk = "The quick brown fox \xF0\x9F\xA6\x99 jumps\n\xFF over 33333 \xE4\xB8\xAD dogs. ";
  while (big.size() + chunk.size() <= (10u << 20)) big += chunk;
  const Ids ids = tok_->Encode(big, false);  // a quadratic path would show as a ctest timeout
  EXPECT_EQ(tok_->Decode(ids), big);
  // One long run without spaces (the worst case for a quadratic merge loop) and a long run of one character.
  const std::string aaa(1u << 20, 'a');
  EXPECT_EQ(tok_->Decode(tok_->Encode(aaa, false)), aaa);
  const std::string lt(1u << 20, '<');
  EXPECT_EQ(tok_->Decode(tok_->Encode(lt, false)), lt);
}

}  // namespace
}  // namespace seek
