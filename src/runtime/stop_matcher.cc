// Stop strings over streamed text, shared by Generate (seek run / chat) and the server engine.
#include "runtime/stop_matcher.h"

#include <algorithm>
#include <utility>

namespace seek {

StopMatcher::StopMatcher(std::vector<std::string> stop) : stop_(std::move(stop)) {
  std::erase_if(stop_, [](const std::string& s) { return s.empty(); });
}

std::string StopMatcher::Push(std::string_view piece, bool& stopped) {
  pending_ += piece;
  // The earliest complete stop string wins (two may overlap in the pending text).
  size_t first = std::string::npos;
  for (const std::string& s : stop_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    stopped = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  // Keep the longest suffix of pending_ that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const std::string& s : stop_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > keep; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string StopMatcher::Flush() { return std::exchange(pending_, std::string()); }

}  // namespace seek
