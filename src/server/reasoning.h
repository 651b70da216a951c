// Splits a reasoning model's output into reasoning and answer: text between <think> and </think> is reasoning
// (OpenAI-compatible servers return it as message.reasoning_content, delta.reasoning_content when streaming),
// the rest is content.
//
// R1 and its distills are prompted with "<｜Assistant｜><think>\n" (their official template writes the opening
// tag), so the model's output usually has only the closing tag; R1-0528 writes both. The splitter therefore
// treats the opening tag as optional: it starts "in reasoning" when the rendered prompt already opened a think
// block (PromptOpensThink), and otherwise accepts a <think> at the very start of the output (after
// whitespace). The approach follows llama.cpp's `((?:<think>)?([\s\S]*?)</think>)?([\s\S]*)` parse
// (common/chat.cpp), done incrementally.
//
// Streaming safety: text arrives in arbitrary pieces (a tag may be split across tokens or even bytes), so the
// splitter holds back a suffix that could still become a tag and releases it once it cannot. Whitespace at the
// start of the reasoning and of the content after a think block (the "\n\n" after </think>) is dropped, as llama.cpp does.
// Pure: no I/O, no JSON; the concatenation of all deltas is independent of how the input was split.
#pragma once
#include <string>
#include <string_view>

namespace seek::server {

class ReasoningSplitter {
 public:
  struct Delta {
    std::string reasoning, content;
    bool empty() const { return reasoning.empty() && content.empty(); }
  };

  // in_reasoning: the prompt already opened a think block (the output starts inside it).
  explicit ReasoningSplitter(bool in_reasoning);

  Delta Push(std::string_view text);
  // End of output: releases what is held back (an unfinished tag is text).
  Delta Flush();

 private:
  enum class State { kStart, kReasoning, kContent };
  void Append(Delta& d, std::string_view text, bool reasoning);
  State state_;
  std::string pending_;           // held back: may be the start of a tag
  bool reasoning_started_ = false;  // a non-whitespace reasoning byte was emitted
  bool content_started_ = false;
  bool after_think_ = false;        // a </think> was seen
};

// True when the rendered prompt ends inside an open <think> block ("...<think>\n"), so the model's output
// starts with reasoning and has no opening tag.
bool PromptOpensThink(std::string_view prompt);

}  // namespace seek::server
