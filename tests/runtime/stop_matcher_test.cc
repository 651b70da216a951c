#include <gtest/gtest.h>

#include "runtime/stop_matcher.h"

namespace seek {
namespace {

std::string RunStops(const std::vector<std::string>& stop, const std::string& text, size_t piece, bool& stopped) {
  StopMatcher m(stop);
  std::string out;
  stopped = false;
  for (size_t i = 0; i < text.size() && !stopped; i += piece) out += m.Push(text.substr(i, piece), stopped);
  if (!stopped) out += m.Flush();
  return out;
}

TEST(StopMatcher, CutsBeforeTheFirstStopAtAnyPieceSize) {
  for (size_t piece = 1; piece <= 8; ++piece) {
    bool stopped = false;
    EXPECT_EQ(RunStops({"STOP"}, "hello STOP world", piece, stopped), "hello ");
    EXPECT_TRUE(stopped);
    EXPECT_EQ(RunStops({"xyz", "lo w"}, "hello world", piece, stopped), "hel");
    EXPECT_TRUE(stopped);
    EXPECT_EQ(RunStops({"STOP"}, "hello STO", piece, stopped), "hello STO");  // a partial stop is released at the end
    EXPECT_FALSE(stopped);
    EXPECT_EQ(RunStops({}, "plain", piece, stopped), "plain");
  }
}

TEST(StopMatcher, HoldsBackOnlyAPossibleStop) {
  StopMatcher m({"\n\n"});
  bool stopped = false;
  EXPECT_EQ(m.Push("abc\n", stopped), "abc");
  EXPECT_EQ(m.Push("d", stopped), "\nd");
  EXPECT_EQ(m.Push("\n\ne", stopped), "");
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace seek
