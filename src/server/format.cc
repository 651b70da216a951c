#include "server/format.h"

namespace seek::server {
namespace {

const char* FinishName(FinishReason r) { return r == FinishReason::kStop ? "stop" : "length"; }

Json ToolCallsJson(const std::vector<ToolCall>& calls, const std::string& id, size_t choice, bool with_index) {
  Json out = Json::array();
  for (size_t k = 0; k < calls.size(); ++k) {
    Json call = {{"id", "call_" + id + "_" + std::to_string(choice) + "_" + std::to_string(k)},
                 {"type", "function"},
                 {"function", {{"name", calls[k].name}, {"arguments", calls[k].arguments}}}};
    if (with_index) call["index"] = k;
    out.push_back(std::move(call));
  }
  return out;
}

Json Bytes(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

}  // namespace

std::string DumpJson(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string SseData(const Json& j) { return "data: " + DumpJson(j) + "\n\n"; }

Json ErrorJson(const ApiError& e) {
  Json err;
  err["message"] = e.what();
  err["type"] = e.type;
  err["param"] = e.param.empty() ? Json(nullptr) : Json(e.param);
  err["code"] = e.code.empty() ? Json(nullptr) : Json(e.code);
  return Json{{"error", err}};
}

struct GenerationFormatter::Choice {
  explicit Choice(bool in_reasoning) : splitter(in_reasoning) {}
  ReasoningSplitter splitter;
  std::string content, reasoning;
  Json lp_content = Json::array();  // chat logprobs
  Json legacy = Json{{"tokens", Json::array()}, {"token_logprobs", Json::array()},
                     {"top_logprobs", Json::array()}, {"text_offset", Json::array()}};
  size_t text_offset = 0;  // bytes of completion text (with echo) before the next token
  ToolCallDetector tool_detector;
  std::vector<ToolCall> tool_calls;
  std::string finish_name = "stop";
  bool done = false;
  FinishReason finish = FinishReason::kStop;
  int32_t n_prompt = 0, n_cached = 0, n_generated = 0;
};

GenerationFormatter::GenerationFormatter(FormatterOptions options, const Tokenizer& tok)
    : options_(std::move(options)), tok_(tok) {
  for (int32_t i = 0; i < options_.n_choices; ++i) {
    choices_.emplace_back(options_.prompt_opens_think);
    if (options_.kind == ApiKind::kCompletion && !options_.echo.empty())
      choices_.back().text_offset = options_.echo[size_t(i / options_.n_per_prompt)].size();
  }
}

GenerationFormatter::~GenerationFormatter() = default;

Json GenerationFormatter::ChunkBase() const {
  Json j;
  j["id"] = options_.id;
  j["object"] = options_.kind == ApiKind::kChat ? "chat.completion.chunk" : "text_completion";
  j["created"] = options_.created;
  j["model"] = options_.model;
  j["system_fingerprint"] = "seek";
  if (options_.include_usage) j["usage"] = nullptr;
  return j;
}

Json GenerationFormatter::LogprobsJson(Choice& c, const std::vector<TokenLogprob>& lps) {
  if (options_.kind == ApiKind::kChat) {
    Json content = Json::array();
    for (const TokenLogprob& lp : lps) {
      const std::string text = tok_.TokenBytes(lp.id);
      Json top = Json::array();
      for (const auto& [id, l] : lp.top) {
        const std::string t = tok_.TokenBytes(id);
        top.push_back({{"token", t}, {"logprob", l}, {"bytes", Bytes(t)}});
      }
      Json e = {{"token", text}, {"logprob", lp.logprob}, {"bytes", Bytes(text)}, {"top_logprobs", top}};
      c.lp_content.push_back(e);
      content.push_back(std::move(e));
    }
    return Json{{"content", content}, {"refusal", nullptr}};
  }
  Json delta = Json{{"tokens", Json::array()}, {"token_logprobs", Json::array()},
                    {"top_logprobs", Json::array()}, {"text_offset", Json::array()}};
  for (const TokenLogprob& lp : lps) {
    const std::string text = tok_.TokenBytes(lp.id);
    Json top = Json::object();
    for (const auto& [id, l] : lp.top) top[tok_.TokenBytes(id)] = l;
    for (Json* dst : {&delta, &c.legacy}) {
      (*dst)["tokens"].push_back(text);
      (*dst)["token_logprobs"].push_back(lp.logprob);
      (*dst)["top_logprobs"].push_back(top);
      (*dst)["text_offset"].push_back(c.text_offset);
    }
    c.text_offset += text.size();
  }
  return delta;
}

ReasoningSplitter::Delta GenerationFormatter::Apply(Choice& c, SeqEvent& ev) {
  ReasoningSplitter::Delta d;
  const bool split = options_.kind == ApiKind::kChat && options_.separate_reasoning;
  if (split) {
    d = c.splitter.Push(ev.text);
    if (ev.done) {
      ReasoningSplitter::Delta tail = c.splitter.Flush();
      d.reasoning += tail.reasoning;
      d.content += tail.content;
    }
  } else {
    d.content = ev.text;
  }
  if (options_.kind == ApiKind::kChat && options_.parse_tool_calls) {
    d.content = c.tool_detector.Push(d.content);
    if (ev.done) d.content += c.tool_detector.Finish(c.tool_calls);
  }
  c.content += d.content;
  c.reasoning += d.reasoning;
  if (ev.done) {
    c.done = true;
    ++n_done_;
    c.finish = ev.finish;
    c.finish_name = !c.tool_calls.empty() && ev.finish == FinishReason::kStop ? "tool_calls" : FinishName(ev.finish);
    c.n_prompt = ev.n_prompt;
    c.n_cached = ev.n_cached;
    c.n_generated = ev.n_generated;
    if (!ev.error.empty() && error_.empty()) error_ = ev.error;
  }
  return d;
}

std::string GenerationFormatter::StreamStart() {
  std::string out;
  for (int32_t i = 0; i < options_.n_choices; ++i) {
    Json j = ChunkBase();
    Json choice;
    choice["index"] = i;
    if (options_.kind == ApiKind::kChat) {
      choice["delta"] = {{"role", "assistant"}, {"content", ""}};
    } else {
      if (options_.echo.empty()) continue;
      choice["text"] = options_.echo[size_t(i / options_.n_per_prompt)];
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = nullptr;
    j["choices"] = Json::array({choice});
    out += SseData(j);
  }
  return out;
}

std::string GenerationFormatter::StreamEvents(std::vector<SeqEvent>& events) {
  std::string out;
  for (SeqEvent& ev : events) {
    if (ev.index < 0 || ev.index >= options_.n_choices) continue;
    Choice& c = choices_[size_t(ev.index)];
    if (c.done) continue;
    if (!ev.error.empty()) {
      Apply(c, ev);
      out += SseData(ErrorJson(ApiError(500, ev.error)));
      continue;
    }
    ReasoningSplitter::Delta d = Apply(c, ev);
    Json lps = options_.logprobs && !ev.logprobs.empty() ? LogprobsJson(c, ev.logprobs) : Json(nullptr);
    if (!d.empty() || !lps.is_null()) {
      Json j = ChunkBase();
      Json choice;
      choice["index"] = ev.index;
      if (options_.kind == ApiKind::kChat) {
        Json delta = Json::object();
        if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
        if (!d.content.empty() || d.reasoning.empty()) delta["content"] = d.content;
        choice["delta"] = delta;
      } else {
        choice["text"] = d.content;
      }
      choice["logprobs"] = lps;
      choice["finish_reason"] = nullptr;
      j["choices"] = Json::array({choice});
      out += SseData(j);
    }
    if (ev.done && !c.tool_calls.empty()) {
      Json j = ChunkBase();
      j["choices"] = Json::array({{{"index", ev.index},
                                   {"delta", {{"tool_calls", ToolCallsJson(c.tool_calls, options_.id, size_t(ev.index), true)}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", nullptr}}});
      out += SseData(j);
    }
    if (ev.done) {
      Json j = ChunkBase();
      Json choice;
      choice["index"] = ev.index;
      if (options_.kind == ApiKind::kChat) choice["delta"] = Json::object();
      else choice["text"] = "";
      choice["logprobs"] = nullptr;
      choice["finish_reason"] = c.finish_name;
      j["choices"] = Json::array({choice});
      out += SseData(j);
    }
  }
  return out;
}

Json GenerationFormatter::Usage() const {
  int64_t prompt = 0, cached = 0, completion = 0;
  for (int32_t p : options_.prompt_tokens) prompt += p;
  for (size_t i = 0; i < choices_.size(); ++i) {
    completion += choices_[i].n_generated;
    if (i % size_t(options_.n_per_prompt) == 0) cached += choices_[i].n_cached;
  }
  return Json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

std::string GenerationFormatter::StreamEnd(bool include_usage) {
  std::string out;
  if (include_usage) {
    Json j = ChunkBase();
    j["choices"] = Json::array();
    j["usage"] = Usage();
    out += SseData(j);
  }
  out += kSseDone;
  return out;
}

void GenerationFormatter::Accumulate(std::vector<SeqEvent>& events) {
  for (SeqEvent& ev : events) {
    if (ev.index < 0 || ev.index >= options_.n_choices) continue;
    Choice& c = choices_[size_t(ev.index)];
    if (c.done) continue;
    Apply(c, ev);
    if (options_.logprobs && !ev.logprobs.empty()) LogprobsJson(c, ev.logprobs);
  }
}

Json GenerationFormatter::Final() const {
  Json j;
  j["id"] = options_.id;
  j["object"] = options_.kind == ApiKind::kChat ? "chat.completion" : "text_completion";
  j["created"] = options_.created;
  j["model"] = options_.model;
  j["system_fingerprint"] = "seek";
  Json choices = Json::array();
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& c = choices_[i];
    Json choice;
    choice["index"] = i;
    if (options_.kind == ApiKind::kChat) {
      Json msg = {{"role", "assistant"}, {"content", c.content}};
      // Present whenever the output had a think block (even an empty one), as DeepSeek's API does.
      if (!c.reasoning.empty() || (options_.separate_reasoning && options_.prompt_opens_think))
        msg["reasoning_content"] = c.reasoning;
      if (!c.tool_calls.empty()) {
        msg["tool_calls"] = ToolCallsJson(c.tool_calls, options_.id, i, false);
        if (c.content.empty()) msg["content"] = nullptr;
      }
      choice["message"] = msg;
      choice["logprobs"] = options_.logprobs ? Json{{"content", c.lp_content}, {"refusal", nullptr}} : Json(nullptr);
    } else {
      const std::string echo = options_.echo.empty() ? "" : options_.echo[i / size_t(options_.n_per_prompt)];
      choice["text"] = echo + c.content;
      choice["logprobs"] = options_.logprobs ? c.legacy : Json(nullptr);
    }
    choice["finish_reason"] = c.finish_name;
    choices.push_back(std::move(choice));
  }
  j["choices"] = choices;
  j["usage"] = Usage();
  return j;
}

}  // namespace seek::server
