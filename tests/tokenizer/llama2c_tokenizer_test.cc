// The llama2.c tokenizer (tok512.bin from stories260K) against tools/llama2c_tokenizer_ref.py, an independent
// plain-Python transcription of run.c's encode loop (expected ids in testdata/tokenizer/spm/llama2c_expected.txt).
#include <gtest/gtest.h>

#include <sstream>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/spm.h"

namespace seek {
namespace {

using Ids = std::vector<int32_t>;

std::string TokPath() { return test::SharedDir() + "/models/stories260K/tok512.bin"; }

// Undoes Python's unicode_escape of latin-1 text: \\ \n \t \r \xHH (\uHHHH never occurs for bytes < 256).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'n') out += '\n';
    else if (c == 't') out += '\t';
    else if (c == 'r') out += '\r';
    else if (c == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

class Llama2cTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SEEK_REQUIRE_SHARED();
    if (!test::FileExists(TokPath())) GTEST_SKIP() << "missing " << TokPath();
    tok_ = MakeLlama2cTokenizer(TokPath(), 512);
  }
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(Llama2cTokenizerTest, Metadata) {
  EXPECT_EQ(tok_->n_vocab(), 512);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  EXPECT_TRUE(tok_->add_bos());
  EXPECT_FALSE(tok_->add_eos());
  EXPECT_EQ(tok_->eog_ids(), Ids({2}));
  EXPECT_EQ(tok_->TokenText(1), "\n<s>\n");
  EXPECT_EQ(tok_->TokenText(259), " t");
  EXPECT_EQ(tok_->TokenBytes(3 + 'A'), "A");
  EXPECT_EQ(tok_->TokenId(" the"), 265);
  EXPECT_TRUE(tok_->IsSpecial(1));
  EXPECT_FALSE(tok_->IsSpecial(265));
}

TEST_F(Llama2cTokenizerTest, MatchesRunCReference) {
  const std::string data = test::ReadFileToString(test::TestdataDir() + "/tokenizer/spm/llama2c_expected.txt");
  ASSERT_FALSE(data.empty());
  std::istringstream in(data);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const size_t tab = line.rfind('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string text = Unescape(line.substr(0, tab));
    Ids want;
    std::istringstream ids(line.substr(tab + 1));
    for (int32_t id; ids >> id;) want.push_back(id);
    EXPECT_EQ(tok_->Encode(text, true), want) << "text: " << line.substr(0, tab);
    Ids no_bos(want.begin() + 1, want.end());
    EXPECT_EQ(tok_->Encode(text, false), no_bos);
    // run.c decode: the space after BOS is dropped, so decoding gives the text back.
    EXPECT_EQ(tok_->Decode(want, /*skip_special=*/true), text);
    EXPECT_EQ(tok_->Decode(no_bos), text);
    ++n;
  }
  EXPECT_GE(n, 30);
}

TEST_F(Llama2cTokenizerTest, DecodeLikeRunC) {
  EXPECT_EQ(tok_->Decode(Ids({1, 403, 407})), "\n<s>\nOnce upon");  // BOS keeps its text unless skipped
  EXPECT_EQ(tok_->Decode(Ids({1, 403, 407}), true), "Once upon");
  EXPECT_EQ(tok_->Decode(Ids({407, 407})), "upon upon");           // no BOS before: first token stripped
  EXPECT_EQ(tok_->Decode(Ids({3 + ' ', 407})), "  upon");          // <0x20> is a raw byte, never stripped
  EXPECT_EQ(tok_->Decode(Ids({-1, 600})), "");
}

TEST_F(Llama2cTokenizerTest, HostileInputs) {
  std::string big;
  const std::string chunk = "Once upon a time \xF0\x9F\xA6\x99\xFF\x80 there was a dog. ";
  while (big.size() < (10u << 20)) big += chunk;
  const Ids ids = tok_->Encode(big, false);  // a quadratic path would show as a ctest timeout
  EXPECT_EQ(tok_->Decode(ids), big);
  EXPECT_EQ(tok_->Encode(std::string(1u << 20, '\x80'), false).size(), 1u + (1u << 20));  // " " + bytes
}

TEST(Llama2cTokenizerFileTest, BadFilesThrow) {
  EXPECT_THROW(MakeLlama2cTokenizer("/nonexistent/tok.bin", 512), Error);
  SEEK_REQUIRE_SHARED();
  if (!test::FileExists(TokPath())) GTEST_SKIP();
  EXPECT_THROW(MakeLlama2cTokenizer(TokPath(), 100000), Error);  // truncated for that many tokens
}

}  // namespace
}  // namespace seek
