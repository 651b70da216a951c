#include "test_util.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace seek::test {
namespace {
std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : std::string(fallback);
}
}  // namespace

bool FileExists(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

std::string TestdataDir() { return EnvOr("SEEK_TESTDATA_DIR", SEEK_TESTDATA_DIR_DEFAULT); }

std::string SharedDir() {
  std::string d = EnvOr("SEEK_SHARED_DIR", SEEK_SHARED_DIR_DEFAULT);
  return FileExists(d + "/README.md") ? d : std::string();
}

std::string SmolLM2Path() {
  std::string p = EnvOr("SEEK_SMOLLM2", "");
  if (p.empty()) {
    const char* home = std::getenv("HOME");
    std::string cache = EnvOr("SEEK_CACHE", home ? (std::string(home) + "/.cache/seek").c_str() : "/tmp/seek-cache");
    p = cache + "/SmolLM2-135M-Instruct.Q4_1.gguf";
  }
  return FileExists(p) ? p : std::string();
}

std::string SeekBin() { return EnvOr("SEEK_BIN", SEEK_BIN_DEFAULT); }

std::string ReadFileToString(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace seek::test
