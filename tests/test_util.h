// Helpers shared by all test executables: where the fixtures are.
#pragma once
#include <string>

namespace seek::test {

// tests/testdata (env SEEK_TESTDATA_DIR overrides).
std::string TestdataDir();
// ../shared beside the checkout (env SEEK_SHARED_DIR overrides); empty when it does not exist.
std::string SharedDir();
// The SmolLM2-135M-Instruct Q4_1 GGUF (env SEEK_SMOLLM2); empty when it is not there.
std::string SmolLM2Path();
// The seek executable (env SEEK_BIN overrides).
std::string SeekBin();
bool FileExists(const std::string& path);
std::string ReadFileToString(const std::string& path);

}  // namespace seek::test

// Skips the current test when ../shared is missing.
#define SEEK_REQUIRE_SHARED()                                                \
  do {                                                                       \
    if (::seek::test::SharedDir().empty()) GTEST_SKIP() << "../shared is missing"; \
  } while (0)
