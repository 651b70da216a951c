// Stop strings over streamed text: holds back text that might be the start of a stop string and cuts at the
// first complete one (the stop string itself is not part of the output, as OpenAI does).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace seek {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stop);
  // Appends `piece`; returns the text that is safe to emit now. Sets `stopped` when a stop string completed
  // (the returned text then ends right before it, and later calls must not be made).
  std::string Push(std::string_view piece, bool& stopped);
  // End of output: everything held back.
  std::string Flush();

 private:
  std::vector<std::string> stop_;
  std::string pending_;
};

}  // namespace seek
