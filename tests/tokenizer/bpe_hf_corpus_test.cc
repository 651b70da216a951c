// HF `tokenizers` corpus fixture (tools/make_tokenizer_fixture.py): ~2000 strings of every kind, encoded with
// add_special_tokens=False by the reference for each vocabulary; we must match every id and HF's decode.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer.h"

namespace seek {
namespace {

std::string FixtureDir() { return test::TestdataDir() + "/tokenizer"; }

const std::vector<std::string>& Corpus() {
  static const auto* texts = [] {
    auto* t = new std::vector<std::string>();
    const auto j = nlohmann::json::parse(test::ReadFileToString(FixtureDir() + "/corpus.json"));
    for (const auto& s : j.at("texts")) t->push_back(s.get<std::string>());
    return t;
  }();
  return *texts;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

void CheckCorpus(const Tokenizer& tok, const std::string& name) {
  const auto& texts = Corpus();
  std::istringstream ids_in(test::ReadFileToString(FixtureDir() + "/" + name + ".ids"));
  const auto decode_diffs =
      nlohmann::json::parse(test::ReadFileToString(FixtureDir() + "/" + name + ".decode.json"));
  ASSERT_GE(texts.size(), 2000u);
  int enc_fail = 0, dec_fail = 0;
  std::string line;
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(std::getline(ids_in, line)) << name << ": fixture has fewer lines than the corpus";
    std::istringstream ls(line);
    std::vector<int32_t> want;
    int32_t id;
    while (ls >> id) want.push_back(id);
    const auto got = tok.Encode(texts[i], false);
    if (got != want && ++enc_fail <= 10) {
      ADD_FAILURE() << name << " #" << i << " [" << Escape(texts[i]) << "]\n  want " << Show(want) << "\n  got  "
                    << Show(got);
    }
    const std::string key = std::to_string(i);
    const std::string want_text = decode_diffs.contains(key) ? decode_diffs[key].get<std::string>() : texts[i];
    const std::string got_text = tok.Decode(want, false);
    if (got_text != want_text && ++dec_fail <= 10) {
      ADD_FAILURE() << name << " decode #" << i << "\n  want [" << Escape(want_text) << "]\n  got  ["
                    << Escape(got_text) << "]";
    }
  }
  EXPECT_EQ(enc_fail, 0) << name << ": encode mismatches of " << texts.size();
  EXPECT_EQ(dec_fail, 0) << name << ": decode mismatches of " << texts.size();
}

TEST(BpeHfCorpus, DeepSeekV3) {
  SEEK_REQUIRE_SHARED();
  CheckCorpus(*Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-v3"), "deepseek-v3");
}

TEST(BpeHfCorpus, Qwen3) {
  SEEK_REQUIRE_SHARED();
  CheckCorpus(*Tokenizer::FromPath(test::SharedDir() + "/tokenizers/qwen3"), "qwen3");
}

TEST(BpeHfCorpus, DeepSeekR1DistillQwen) {
  SEEK_REQUIRE_SHARED();
  CheckCorpus(*Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-r1-distill-qwen"),
              "deepseek-r1-distill-qwen");
}

// Llama-3 style: the Qwen vocabulary with the Llama-3 regex (\p{N}{1,3}), ignore_merges and no normaliser,
// built here exactly as tools/make_tokenizer_fixture.py builds the reference (no Llama-3 vocabulary is shipped).
TEST(BpeHfCorpus, Llama3Style) {
  SEEK_REQUIRE_SHARED();
  auto j = nlohmann::json::parse(test::ReadFileToString(test::SharedDir() + "/tokenizers/qwen3/tokenizer.json"));
  j["normalizer"] = nullptr;
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
      "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  j["model"]["ignore_merges"] = true;
  auto tok = MakeBpeTokenizer(BpeConfigFromHfJson(j, nullptr, "llama3-style"));
  CheckCorpus(*tok, "llama3-style");
}

// SmolLM2 from its GGUF (pre "smollm": individual digits, then GPT-2 regex). The reference is HF with
// SmolLM2's own pre-tokenizer; see tools/make_tokenizer_fixture.py.
TEST(BpeHfCorpus, SmolLM2Gguf) {
  const std::string path = test::SmolLM2Path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 GGUF not in the cache";
  CheckCorpus(*Tokenizer::FromGguf(*GgufFile::Open(path)), "smollm2");
}

}  // namespace
}  // namespace seek
