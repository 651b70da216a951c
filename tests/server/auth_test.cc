#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "server/auth.h"

namespace seek::server {
namespace {

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secre"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(ApiKeys, BearerHeader) {
  ApiKeys none;
  EXPECT_TRUE(none.Check(""));  // no keys configured: open
  ApiKeys keys({"k1", "sk-2"});
  EXPECT_TRUE(keys.Check("Bearer k1"));
  EXPECT_TRUE(keys.Check("bearer sk-2"));
  EXPECT_TRUE(keys.Check("Bearer  k1 "));
  EXPECT_FALSE(keys.Check("Bearer k2"));
  EXPECT_FALSE(keys.Check("Bearer "));
  EXPECT_FALSE(keys.Check("Bearer"));
  EXPECT_FALSE(keys.Check("k1"));
  EXPECT_FALSE(keys.Check("Basic k1"));
  EXPECT_FALSE(keys.Check(""));
  EXPECT_THROW(ApiKeys({""}), Error);
}

TEST(ApiKeys, File) {
  const std::string path = ::testing::TempDir() + "/seek_keys.txt";
  {
    std::ofstream f(path);
    f << "# keys\n\n  alpha  \nbeta\n";
  }
  ApiKeys keys;
  keys.AddFromFile(path);
  EXPECT_TRUE(keys.Check("Bearer alpha"));
  EXPECT_TRUE(keys.Check("Bearer beta"));
  EXPECT_FALSE(keys.Check("Bearer # keys"));
  EXPECT_THROW(keys.AddFromFile(path + ".missing"), Error);
  {
    std::ofstream f(path);
    f << "# nothing\n";
  }
  ApiKeys empty;
  EXPECT_THROW(empty.AddFromFile(path), Error);
}

}  // namespace
}  // namespace seek::server
