// libFuzzer entry: parses the input as a chat template and renders it with a fixed, realistic context.
// Any seek::Error is an accepted outcome; crashes, hangs, sanitizer reports and other exceptions are bugs.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace {

const nlohmann::ordered_json& Context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi <think>x</think> \u00e9\ud83d\ude80"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
      {"role": "tool", "content": "{\"ok\": true}"},
      {"role": "assistant", "content": "<think>hm</think>done"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "documents": null,
    "add_generation_prompt": true,
    "enable_thinking": false,
    "bos_token": "<s>",
    "eos_token": "</s>"
  })");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64 << 10)) return 0;
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    seek::ChatTemplate tmpl(source);
    std::string out = tmpl.Render(Context());
    (void)out;
  } catch (const seek::Error&) {
  }
  return 0;
}
