// Engine events -> OpenAI response JSON (chat.completion, chat.completion.chunk, text_completion) and SSE.
//
// One GenerationFormatter per HTTP request. It keeps each choice's state (the reasoning splitter, accumulated
// text, logprobs) and turns the engine's SeqEvents into either SSE chunks (streaming) or one final object.
// Streaming follows OpenAI's wire format: `data: {json}\n\n` per chunk, a first chat chunk with the role, a
// last chunk per choice with finish_reason, an optional usage chunk (stream_options.include_usage: every
// chunk carries "usage": null and the last one has empty choices and the usage), then `data: [DONE]\n\n`.
// With tools, content is streamed until a tool-calls tag; the parsed calls come in one delta at the end
// (finish_reason "tool_calls").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "server/engine.h"
#include "server/reasoning.h"
#include "server/request.h"
#include "server/tool_calls.h"

namespace seek::server {

// JSON text; invalid UTF-8 (a token's raw bytes) is replaced with U+FFFD instead of throwing.
std::string DumpJson(const Json& j);
// One SSE event: "data: <json>\n\n".
std::string SseData(const Json& j);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";
// {"error": {"message", "type", "param", "code"}} (param / code null when empty).
Json ErrorJson(const ApiError& e);

enum class ApiKind { kChat, kCompletion };

struct FormatterOptions {
  ApiKind kind = ApiKind::kChat;
  std::string id;     // "chatcmpl-..." / "cmpl-..."
  std::string model;
  int64_t created = 0;
  int32_t n_choices = 1;
  int32_t n_per_prompt = 1;      // n: choices [i * n, (i + 1) * n) share prompt i
  bool separate_reasoning = false;
  bool prompt_opens_think = false;  // the chat prompt ends inside <think>
  bool logprobs = false;
  bool parse_tool_calls = false;
  bool include_usage = false;     // streaming: every chunk has "usage": null, then a usage chunk  // chat with tools: DeepSeek-format tool calls -> message.tool_calls
  std::vector<std::string> echo;  // completions with echo: prompt text per prompt
  std::vector<int32_t> prompt_tokens;  // per prompt
};

class GenerationFormatter {
 public:
  GenerationFormatter(FormatterOptions options, const Tokenizer& tok);
  ~GenerationFormatter();
  GenerationFormatter(const GenerationFormatter&) = delete;
  GenerationFormatter& operator=(const GenerationFormatter&) = delete;

  // Streaming. Start: the role chunk (chat) or echo chunk (completions). Events: deltas and finish chunks.
  // End: usage chunk (if asked) and [DONE].
  std::string StreamStart();
  std::string StreamEvents(std::vector<SeqEvent>& events);
  std::string StreamEnd(bool include_usage);

  // Non-streaming: accumulate, then the final object.
  void Accumulate(std::vector<SeqEvent>& events);
  Json Final() const;

  bool all_done() const { return n_done_ == options_.n_choices; }
  // The first sequence error, "" if none.
  const std::string& error() const { return error_; }
  Json Usage() const;

 private:
  struct Choice;
  Json ChunkBase() const;
  Json LogprobsJson(Choice& c, const std::vector<TokenLogprob>& lps);
  // Feeds one event into its choice; returns the (reasoning, content) delta of this event.
  ReasoningSplitter::Delta Apply(Choice& c, SeqEvent& ev);

  FormatterOptions options_;
  const Tokenizer& tok_;
  std::vector<Choice> choices_;
  int32_t n_done_ = 0;
  std::string error_;
};

}  // namespace seek::server
