// llama.cpp tokenizer vectors (../shared/vocab-gguf/ggml-vocab-*.gguf.inp/.out, produced with HF tokenizers):
// 47 strings separated by "\n__ggml_vocab_test__\n", one line of expected ids per string, no BOS.
#include <gtest/gtest.h>

#include <sstream>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace seek {
namespace {

struct Vectors {
  std::vector<std::string> inputs;
  std::vector<std::vector<int32_t>> ids;
};

Vectors LoadVectors(const std::string& base) {
  Vectors v;
  const std::string inp = test::ReadFileToString(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  while (true) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    v.inputs.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream out(test::ReadFileToString(base + ".out"));
  std::string line;
  while (std::getline(out, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ls >> id) ids.push_back(id);
    v.ids.push_back(std::move(ids));
  }
  return v;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

void CheckVectors(const Tokenizer& tok, const std::string& name) {
  const Vectors v = LoadVectors(test::SharedDir() + "/vocab-gguf/ggml-vocab-" + name + ".gguf");
  ASSERT_EQ(v.inputs.size(), v.ids.size()) << name;
  ASSERT_GE(v.inputs.size(), 40u) << name;
  int failures = 0;
  for (size_t i = 0; i < v.inputs.size(); ++i) {
    const auto got = tok.Encode(v.inputs[i], /*add_special=*/false);
    if (got != v.ids[i]) {
      ++failures;
      ADD_FAILURE() << name << " #" << i << " input [" << v.inputs[i] << "]\n  want " << Show(v.ids[i])
                    << "\n  got  " << Show(got);
    }
  }
  EXPECT_EQ(failures, 0) << name;
}

std::unique_ptr<Tokenizer> LoadGguf(const std::string& name) {
  return Tokenizer::FromGguf(*GgufFile::Open(test::SharedDir() + "/vocab-gguf/ggml-vocab-" + name + ".gguf"));
}

TEST(BpeVocab, DeepSeekLlm) {
  SEEK_REQUIRE_SHARED();
  CheckVectors(*LoadGguf("deepseek-llm"), "deepseek-llm");
}

TEST(BpeVocab, DeepSeekCoder) {
  SEEK_REQUIRE_SHARED();
  CheckVectors(*LoadGguf("deepseek-coder"), "deepseek-coder");
}

TEST(BpeVocab, Gpt2) {
  SEEK_REQUIRE_SHARED();
  CheckVectors(*LoadGguf("gpt-2"), "gpt-2");
}

TEST(BpeVocab, Qwen2) {
  SEEK_REQUIRE_SHARED();
  auto tok = Tokenizer::FromPath(test::SharedDir() + "/tokenizers/qwen3");
  CheckVectors(*tok, "qwen2");
}

TEST(BpeVocab, DeepSeekR1Qwen) {
  SEEK_REQUIRE_SHARED();
  auto tok = Tokenizer::FromPath(test::SharedDir() + "/tokenizers/deepseek-r1-distill-qwen");
  CheckVectors(*tok, "deepseek-r1-qwen");
}

TEST(BpeVocab, GgufAddSpecial) {
  SEEK_REQUIRE_SHARED();
  auto tok = LoadGguf("deepseek-llm");
  EXPECT_EQ(tok->bos_id(), 100000);
  EXPECT_EQ(tok->eos_id(), 100001);
  EXPECT_TRUE(tok->add_bos());
  const auto ids = tok->Encode("Hello", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 100000);
}

}  // namespace
}  // namespace seek
