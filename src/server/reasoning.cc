#include "server/reasoning.h"

#include <algorithm>

namespace seek::server {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t PartialTagSuffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool in_reasoning)
    : state_(in_reasoning ? State::kReasoning : State::kStart) {}

void ReasoningSplitter::Append(Delta& d, std::string_view text, bool reasoning) {
  bool& started = reasoning ? reasoning_started_ : content_started_;
  // Leading whitespace is dropped from the reasoning, and from the content only after a think block (the
  // "\n\n" after </think>); a model that does not reason keeps its text as is.
  if (!started && !reasoning && !after_think_) started = true;
  if (!started) {
    size_t i = 0;
    while (i < text.size() && IsSpace(text[i])) ++i;
    text.remove_prefix(i);
    if (text.empty()) return;
    started = true;
  }
  (reasoning ? d.reasoning : d.content) += text;
}

ReasoningSplitter::Delta ReasoningSplitter::Push(std::string_view text) {
  Delta d;
  pending_ += text;
  for (;;) {
    switch (state_) {
      case State::kStart: {
        size_t i = 0;
        while (i < pending_.size() && IsSpace(pending_[i])) ++i;
        std::string_view rest = std::string_view(pending_).substr(i);
        if (rest.size() >= kOpen.size() && rest.substr(0, kOpen.size()) == kOpen) {
          pending_.erase(0, i + kOpen.size());
          state_ = State::kReasoning;
          continue;
        }
        if (rest.size() < kOpen.size() && rest == kOpen.substr(0, rest.size())) return d;  // maybe a tag
        state_ = State::kContent;
        continue;
      }
      case State::kReasoning: {
        const size_t at = pending_.find(kClose);
        if (at != std::string::npos) {
          size_t end = at;
          while (end > 0 && IsSpace(pending_[end - 1])) --end;  // trailing whitespace of the reasoning
          Append(d, std::string_view(pending_).substr(0, end), true);
          pending_.erase(0, at + kClose.size());
          state_ = State::kContent;
          after_think_ = true;
          continue;
        }
        // Hold back a possible partial closing tag and the whitespace before it (dropped if the tag follows).
        size_t hold_from = pending_.size() - PartialTagSuffix(pending_, kClose);
        while (hold_from > 0 && IsSpace(pending_[hold_from - 1])) --hold_from;
        Append(d, std::string_view(pending_).substr(0, hold_from), true);
        pending_.erase(0, hold_from);
        return d;
      }
      case State::kContent:
        Append(d, pending_, false);
        pending_.clear();
        return d;
    }
  }
}

ReasoningSplitter::Delta ReasoningSplitter::Flush() {
  Delta d;
  if (state_ == State::kReasoning) {
    size_t end = pending_.size();
    while (end > 0 && IsSpace(pending_[end - 1])) --end;
    Append(d, std::string_view(pending_).substr(0, end), true);
  } else {
    Append(d, pending_, false);
  }
  pending_.clear();
  return d;
}

bool PromptOpensThink(std::string_view prompt) {
  const size_t open = prompt.rfind(kOpen);
  if (open == std::string_view::npos) return false;
  const std::string_view after = prompt.substr(open + kOpen.size());
  return std::all_of(after.begin(), after.end(), IsSpace);
}

}  // namespace seek::server
