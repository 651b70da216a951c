// End-to-end tests of `seek bench`: the JSON report of a real run on a tiny model, and usage errors.
// No timing is asserted.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace seek {
namespace {

struct Output {
  int exit_code = -1;
  std::string out, err;
};

// Runs `seek ARGS`, keeping stdout (the report) apart from stderr.
Output Seek(const std::string& args) {
  const std::string err_path = ::testing::TempDir() + "/bench_cli_stderr.txt";
  const std::string cmd = "'" + test::SeekBin() + "' " + args + " < /dev/null 2>'" + err_path + "'";
  Output r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = test::ReadFileToString(err_path);
  return r;
}

std::string Tiny() {
  return test::TestdataDir() + "/models/llama_untied/llama_untied-q8_0.gguf";
}

void ExpectPositiveStats(const nlohmann::json& s, size_t runs) {
  ASSERT_TRUE(s.is_object()) << s;
  for (const char* k : {"median", "min", "max", "mean"}) EXPECT_GT(s[k].get<double>(), 0) << k;
  EXPECT_LE(s["min"].get<double>(), s["median"].get<double>());
  EXPECT_LE(s["median"].get<double>(), s["max"].get<double>());
  EXPECT_EQ(s["samples"].size(), runs);
}

TEST(CliBench, JsonReportOfATinyModel) {
  Output r = Seek("bench -m '" + Tiny() + "' -p 8 -n 4 -r 2 -t 2 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["n_ctx"], 12);
  EXPECT_EQ(j["model"]["arch"], "llama");
  EXPECT_GT(j["model"]["n_params"].get<int64_t>(), 0);
  EXPECT_GT(j["model"]["decode_bytes_per_token"].get<int64_t>(), 0);
  EXPECT_EQ(j["pp"]["n_tokens"], 8);
  EXPECT_EQ(j["tg"]["n_tokens"], 4);
  ExpectPositiveStats(j["pp"]["tok_s"], 2);
  ExpectPositiveStats(j["tg"]["tok_s"], 2);
  ExpectPositiveStats(j["pp"]["seconds"], 2);
  EXPECT_GT(j["pp"]["gflops"].get<double>(), 0);
  EXPECT_GT(j["tg"]["gbps"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_bytes"].get<int64_t>(), 0);
  EXPECT_FALSE(j.contains("machine"));
}

TEST(CliBench, MarkdownByDefault) {
  Output r = Seek("bench -m '" + Tiny() + "' -p 4 -n 2 -r 1 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| pp4 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tg2 |"), std::string::npos) << r.out;
}

TEST(CliBench, MachineAlone) {
  Output r = Seek("bench --machine --machine-mib 8 -r 1 -t 2 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j.contains("pp"));
  EXPECT_EQ(j["machine"]["threads"], 2);
  ExpectPositiveStats(j["machine"]["read_gbps"], 1);
  ExpectPositiveStats(j["machine"]["fma_gflops"], 1);
}

TEST(CliBench, ModelAndMachineGiveFractions) {
  Output r = Seek("bench -m '" + Tiny() + "' -p 4 -n 2 -r 1 -t 1 --machine --machine-mib 8 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["tg"]["fraction_of_read_bandwidth"].get<double>(), 0);
  EXPECT_GT(j["pp"]["fraction_of_fma_peak"].get<double>(), 0);
}

TEST(CliBench, PairedRead) {
  Output r = Seek("bench -m '" + Tiny() + "' -p 0 -n 2 -r 2 -t 2 --paired-read --machine-mib 8 -o json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ExpectPositiveStats(j["tg"]["paired_read_gbps"], 2);
  ExpectPositiveStats(j["tg"]["paired_fraction"], 2);
  EXPECT_FALSE(j.contains("machine"));  // the paired passes need no --machine
  Output md = Seek("bench -m '" + Tiny() + "' -p 0 -n 2 -r 1 -t 1 --paired-read --machine-mib 8");
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("of paired read"), std::string::npos) << md.out;
  Output alone = Seek("bench --paired-read");
  EXPECT_EQ(alone.exit_code, 1) << alone.err;
  EXPECT_NE(alone.err.find("-m"), std::string::npos) << alone.err;
}

TEST(CliBench, BadFlagsAreUsageErrors) {
  const std::string m = " -m '" + Tiny() + "'";
  for (const std::string& args : std::vector<std::string>{
           "bench" + m + " -o xml", "bench" + m + " -r 0", "bench" + m + " -p -1", "bench" + m + " -n abc",
           "bench" + m + " --no-such-flag", "bench" + m + " -p 0 -n 0", "bench" + m + " -p 64 -n 4 -c 16",
           "bench", "bench -m /nonexistent/model.gguf"}) {
    Output r = Seek(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_EQ(r.exit_code < 128, true) << args << " crashed: " << r.err;
  }
  Output r = Seek("bench -p 8");
  EXPECT_NE(r.err.find("-m"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace seek
