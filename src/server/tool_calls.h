// DeepSeek-format tool calls in model output (V3 / R1 / distills, DEEPSEEK.md §5):
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
//   ...<｜tool▁calls▁end｜>
// Distills also write variant tags (`<｜tool_calls_begin｜>`, `<｜tool calls begin｜>`, `<｜tool\_calls\_begin｜>`);
// all are accepted, as llama.cpp's common/chat.cpp does (complaint 6 in DEEPSEEK.md).
//
// ToolCallDetector is streaming-safe: it passes content through until a calls-begin tag appears (holding back
// only a possible partial tag), then collects the rest for ParseToolCalls at the end.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace seek::server {

struct ToolCall {
  std::string name;
  std::string arguments;  // the JSON text as the model wrote it
};

// Parses text that starts at a calls-begin tag. Returns no calls when none is well-formed enough to use.
std::vector<ToolCall> ParseToolCalls(std::string_view text);

class ToolCallDetector {
 public:
  // Returns the content that is safe to emit now.
  std::string Push(std::string_view text);
  // End of output. Returns the remaining content: the held-back text, or the whole tool-call text when it
  // did not parse into any call. `calls` receives the parsed calls.
  std::string Finish(std::vector<ToolCall>& calls);

 private:
  bool in_calls_ = false;
  std::string pending_;  // before the tag: held back; after it: the tool-call text
};

}  // namespace seek::server
