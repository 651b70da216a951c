// End-to-end tests of `seek quantize` and `seek perplexity`: exit codes and messages of real invocations.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"

namespace seek {
namespace {

struct Result {
  int exit_code = -1;
  std::string out;  // stdout and stderr, merged
};

Result Seek(const std::string& args) {
  const std::string cmd = "'" + test::SeekBin() + "' " + args + " < /dev/null 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string Tiny(const std::string& name, const std::string& type) {
  return test::TestdataDir() + "/models/" + name + "/" + name + "-" + type + ".gguf";
}

std::string Temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("seek_cli_q_" + name)).string();
}

bool Has(const Result& r, const std::string& s) {
  return r.out.find(s) != std::string::npos;
}

TEST(CliQuantize, HelpListsTheNewSubcommands) {
  const Result r = Seek("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Has(r, "quantize")) << r.out;
  EXPECT_TRUE(Has(r, "perplexity")) << r.out;
}

TEST(CliPerplexity, ModelWithoutTokenizerIsAClearError) {
  const std::string text = Temp("short.txt");
  std::ofstream(text) << "some text";
  const Result r = Seek("perplexity -m '" + Tiny("llama_untied", "f32") + "' -f '" + text + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "tokenizer")) << r.out;
  std::filesystem::remove(text);
}

TEST(CliQuantize, QuantizesAndReportsEachTensor) {
  const std::string out = Temp("q4km.gguf");
  const Result r = Seek("quantize '" + Tiny("llama_untied", "f16") + "' '" + out + "' Q4_K_M -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Has(r, "blk.0.attn_q.weight")) << r.out;
  EXPECT_TRUE(Has(r, "not a multiple of 256")) << r.out;  // the 64-wide rows fall back
  EXPECT_TRUE(Has(r, "quantized ")) << r.out;
  const Result info = Seek("info -m '" + out + "'");
  EXPECT_EQ(info.exit_code, 0) << info.out;
  std::filesystem::remove(out);
}

TEST(CliQuantize, Errors) {
  const std::string out = Temp("err.gguf");
  Result r = Seek("quantize '" + Tiny("llama_untied", "f32") + "' '" + out + "' Q9_9");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "unknown quantization type 'Q9_9'")) << r.out;
  EXPECT_TRUE(Has(r, "Q4_K_M")) << r.out;
  r = Seek("quantize '" + Tiny("llama_untied", "q8_0") + "' '" + out + "' Q4_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "--allow-requantize")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  r = Seek("quantize '" + Tiny("llama_untied", "q8_0") + "' '" + out + "' Q4_0 --allow-requantize");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = Seek("quantize '" + Tiny("llama_untied", "f32") + "' /nonexistent-dir/out.gguf Q8_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "/nonexistent-dir/out.gguf")) << r.out;
  r = Seek("quantize '" + Tiny("llama_untied", "f32") + "' '" +
           std::filesystem::temp_directory_path().string() + "' Q8_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "is a directory")) << r.out;
  EXPECT_FALSE(Has(r, "[  1/")) << "must fail before converting anything: " << r.out;
  r = Seek("quantize /nonexistent/in.gguf '" + out + "' Q8_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "/nonexistent/in.gguf")) << r.out;
  r = Seek("quantize '" + Tiny("llama_untied", "f32") + "'");
  EXPECT_NE(r.exit_code, 0);
  std::filesystem::remove(out);
}

std::string StoriesText() {
  const std::string path = Temp("story.txt");
  std::ofstream f(path);
  for (int i = 0; i < 6; ++i)
    f << "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One "
         "day, "
         "she saw a big, red ball. She wanted to play with it, but it was too high. Lily asked her mom for "
         "help. "
         "Her mom smiled and said, \"Let's get it together!\" They were very happy.\n";
  return path;
}

TEST(CliPerplexity, StoriesPplAndSelfKl) {
  SEEK_REQUIRE_SHARED();
  const std::string model = test::SharedDir() + "/models/stories260K/stories260K.bin";
  const std::string text = StoriesText(), logits = Temp("stories.logits");
  Result r =
      Seek("perplexity -m '" + model + "' -f '" + text + "' -c 64 --save-logits '" + logits + "' -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Has(r, "PPL = ")) << r.out;
  // A model small enough for the story: PPL well below the vocabulary size (512).
  const double ppl = std::stod(r.out.substr(r.out.find("PPL = ") + 6));
  EXPECT_GT(ppl, 1.0);
  EXPECT_LT(ppl, 50.0) << r.out;
  // Against itself: from the model, and from the saved log-probs.
  r = Seek("perplexity -m '" + model + "' -f '" + text + "' -c 64 --kl-base '" + model + "' --chunks 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Has(r, "mean 0.000000 +/- 0.000000")) << r.out;
  EXPECT_TRUE(Has(r, "top-1 agreement = 100.00%")) << r.out;
  r = Seek("perplexity -m '" + model + "' --kl-base '" + logits + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Has(r, "mean 0.000000 +/- 0.000000")) << r.out;
  // Mismatched n_ctx and too-short text are clear errors.
  r = Seek("perplexity -m '" + model + "' --kl-base '" + logits + "' -c 32");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "n_ctx 64")) << r.out;
  r = Seek("perplexity -m '" + model + "' -f '" + text + "' -c 4096");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "fewer than one chunk")) << r.out;
  r = Seek("perplexity -m '" + model + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Has(r, "-f FILE")) << r.out;
  std::filesystem::remove(text);
  std::filesystem::remove(logits);
}

}  // namespace
}  // namespace seek
