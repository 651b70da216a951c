#include "server/tool_calls.h"

#include <algorithm>
#include <cctype>

namespace seek::server {
namespace {

// "<｜tool" SEP a SEP b "｜>" in every separator spelling the distills use.
std::vector<std::string> Variants(const char* a, const char* b) {
  std::vector<std::string> v;
  for (const char* sep : {"\u2581", "_", " ", "\\_"}) {
    std::string t = std::string("<\uFF5Ctool") + sep + a;
    if (b) t += std::string(sep) + b;
    v.push_back(t + "\uFF5C>");
  }
  return v;
}

const std::vector<std::string>& CallsBegin() {
  static const std::vector<std::string> v = Variants("calls", "begin");
  return v;
}
const std::vector<std::string>& CallBegin() {
  static const std::vector<std::string> v = Variants("call", "begin");
  return v;
}
const std::vector<std::string>& CallEnd() {
  static const std::vector<std::string> v = Variants("call", "end");
  return v;
}
const std::vector<std::string>& Sep() {
  static const std::vector<std::string> v = Variants("sep", nullptr);
  return v;
}

// Earliest occurrence of any of `tags` in `s` at or after `from`: (position, tag length); npos if none.
std::pair<size_t, size_t> FindAny(std::string_view s, const std::vector<std::string>& tags, size_t from = 0) {
  size_t best = std::string_view::npos, len = 0;
  for (const std::string& t : tags) {
    const size_t at = s.find(t, from);
    if (at < best) best = at, len = t.size();
  }
  return {best, len};
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<ToolCall> ParseToolCalls(std::string_view text) {
  std::vector<ToolCall> calls;
  size_t pos = 0;
  for (;;) {
    auto [begin, begin_len] = FindAny(text, CallBegin(), pos);
    if (begin == std::string_view::npos) break;
    const size_t body = begin + begin_len;
    auto [sep, sep_len] = FindAny(text, Sep(), body);
    auto [end, end_len] = FindAny(text, CallEnd(), body);
    if (sep == std::string_view::npos || (end != std::string_view::npos && sep > end)) break;
    const size_t name_start = sep + sep_len;
    std::string_view rest = text.substr(name_start, end == std::string_view::npos ? std::string_view::npos
                                                                                  : end - name_start);
    const size_t nl = rest.find('\n');
    ToolCall call;
    call.name = std::string(Trim(rest.substr(0, nl)));
    std::string_view args = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    args = Trim(args);
    if (args.starts_with("```")) {  // ```json ... ```
      const size_t line_end = args.find('\n');
      args = line_end == std::string_view::npos ? std::string_view() : args.substr(line_end + 1);
      const size_t fence = args.rfind("```");
      if (fence != std::string_view::npos) args = args.substr(0, fence);
      args = Trim(args);
    }
    if (call.name.empty()) break;
    call.arguments = args.empty() ? "{}" : std::string(args);
    calls.push_back(std::move(call));
    if (end == std::string_view::npos) break;
    pos = end + end_len;
  }
  return calls;
}

std::string ToolCallDetector::Push(std::string_view text) {
  pending_ += text;
  if (in_calls_) return {};
  auto [at, len] = FindAny(pending_, CallsBegin());
  if (at != std::string::npos) {
    std::string out = pending_.substr(0, at);
    pending_.erase(0, at);
    in_calls_ = true;
    return out;
  }
  size_t keep = 0;  // longest suffix that is a proper prefix of a tag
  for (const std::string& t : CallsBegin())
    for (size_t n = std::min(t.size() - 1, pending_.size()); n > keep; --n)
      if (pending_.compare(pending_.size() - n, n, t, 0, n) == 0) {
        keep = n;
        break;
      }
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string ToolCallDetector::Finish(std::vector<ToolCall>& calls) {
  calls.clear();
  if (in_calls_) calls = ParseToolCalls(pending_);
  std::string rest = calls.empty() ? pending_ : std::string();
  pending_.clear();
  return rest;
}

}  // namespace seek::server
