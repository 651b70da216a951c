#include "server/request.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace seek::server {
namespace {

constexpr int32_t kMaxN = 16;           // choices per request
constexpr size_t kMaxStop = 16;         // stop strings (OpenAI allows 4)
constexpr int32_t kMaxTopLogprobs = 20;
constexpr size_t kMaxPrompts = 16;      // prompts in one /v1/completions request

std::string TypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

Json ParseObject(std::string_view body) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw ApiError(400, "the request body is not valid JSON (expected a JSON object)");
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object, got " + TypeName(j));
  return j;
}

// Returns the field, or nullptr when absent or null (OpenAI treats null as "not given").
const Json* Field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> GetNumber(const Json& j, const char* key) {
  const Json* v = Field(j, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) BadRequest(key, std::string(key) + ": expected a number, got " + TypeName(*v));
  const double d = v->get<double>();
  if (!std::isfinite(d)) BadRequest(key, std::string(key) + ": must be a finite number");
  return d;
}

std::optional<float> GetFloatIn(const Json& j, const char* key, double lo, double hi, bool lo_open = false) {
  auto d = GetNumber(j, key);
  if (!d) return std::nullopt;
  if (*d > hi || *d < lo || (lo_open && *d == lo)) {
    BadRequest(key, StrFormat("%s: must be %s %g and <= %g, got %g", key, lo_open ? ">" : ">=", lo, hi, *d));
  }
  return static_cast<float>(*d);
}

std::optional<int64_t> GetInt(const Json& j, const char* key, int64_t lo, int64_t hi) {
  const Json* v = Field(j, key);
  if (!v) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    x = u > uint64_t(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max() : int64_t(u);
  } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e18) {
    x = static_cast<int64_t>(v->get<double>());
  } else {
    BadRequest(key, std::string(key) + ": expected an integer, got " + TypeName(*v));
  }
  if (x < lo || x > hi)
    BadRequest(key, StrFormat("%s: must be between %lld and %lld, got %lld", key, (long long)lo, (long long)hi,
                              (long long)x));
  return x;
}

std::optional<bool> GetBool(const Json& j, const char* key) {
  const Json* v = Field(j, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) BadRequest(key, std::string(key) + ": expected a boolean, got " + TypeName(*v));
  return v->get<bool>();
}

std::optional<std::string> GetString(const Json& j, const char* key) {
  const Json* v = Field(j, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) BadRequest(key, std::string(key) + ": expected a string, got " + TypeName(*v));
  return v->get<std::string>();
}

int32_t TokenId(const Json& v, const std::string& where, int32_t n_vocab) {
  if (!v.is_number_integer() && !v.is_number_unsigned())
    BadRequest(where, where + ": expected a token id (integer), got " + TypeName(v));
  const int64_t id = v.is_number_unsigned() ? int64_t(std::min<uint64_t>(v.get<uint64_t>(), 1ull << 40))
                                            : v.get<int64_t>();
  if (id < 0 || (n_vocab > 0 && id >= n_vocab))
    BadRequest(where, StrFormat("%s: token id %lld is out of range [0, %d)", where.c_str(), (long long)id, n_vocab));
  return int32_t(id);
}

void ParseCommon(const Json& j, GenerationParams& p, int32_t n_vocab, bool chat) {
  p.model = GetString(j, "model").value_or("");
  p.temperature = GetFloatIn(j, "temperature", 0, 2);
  p.top_p = GetFloatIn(j, "top_p", 0, 1, /*lo_open=*/true);
  p.min_p = GetFloatIn(j, "min_p", 0, 1);
  p.presence_penalty = GetFloatIn(j, "presence_penalty", -2, 2);
  p.frequency_penalty = GetFloatIn(j, "frequency_penalty", -2, 2);
  p.repetition_penalty = GetFloatIn(j, "repetition_penalty", 0, 10, /*lo_open=*/true);
  if (auto k = GetInt(j, "top_k", -1, std::numeric_limits<int32_t>::max())) p.top_k = int32_t(*k);
  if (auto s = GetInt(j, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
    p.seed = static_cast<uint64_t>(*s);
  if (auto m = GetInt(j, "max_tokens", 1, std::numeric_limits<int32_t>::max())) p.max_tokens = int32_t(*m);
  if (auto m = GetInt(j, "max_completion_tokens", 1, std::numeric_limits<int32_t>::max()))
    p.max_tokens = int32_t(*m);
  if (auto n = GetInt(j, "n", 1, kMaxN)) p.n = int32_t(*n);
  p.stream = GetBool(j, "stream").value_or(false);
  p.ignore_eos = GetBool(j, "ignore_eos").value_or(false);
  if (const Json* so = Field(j, "stream_options")) {
    if (!so->is_object()) BadRequest("stream_options", "stream_options: expected an object, got " + TypeName(*so));
    if (!p.stream) BadRequest("stream_options", "stream_options: only allowed when stream is true");
    const Json* iu = Field(*so, "include_usage");
    if (iu && !iu->is_boolean())
      BadRequest("stream_options", "stream_options.include_usage: expected a boolean, got " + TypeName(*iu));
    p.include_usage = iu && iu->get<bool>();
  }

  if (const Json* stop = Field(j, "stop")) {
    if (stop->is_string()) {
      p.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > kMaxStop) BadRequest("stop", StrFormat("stop: at most %zu stop strings", kMaxStop));
      for (const Json& s : *stop) {
        if (!s.is_string()) BadRequest("stop", "stop: expected strings, got " + TypeName(s));
        p.stop.push_back(s.get<std::string>());
      }
    } else {
      BadRequest("stop", "stop: expected a string or an array of strings, got " + TypeName(*stop));
    }
    std::erase_if(p.stop, [](const std::string& s) { return s.empty(); });
  }

  if (const Json* lb = Field(j, "logit_bias")) {
    if (!lb->is_object()) BadRequest("logit_bias", "logit_bias: expected an object mapping token ids to biases");
    for (const auto& [key, value] : lb->items()) {
      char* end = nullptr;
      const long long id = std::strtoll(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0')
        BadRequest("logit_bias", "logit_bias: key '" + key + "' is not a token id");
      if (id < 0 || (n_vocab > 0 && id >= n_vocab))
        BadRequest("logit_bias", StrFormat("logit_bias: token id %lld is out of range [0, %d)", id, n_vocab));
      if (!value.is_number()) BadRequest("logit_bias", "logit_bias: bias for token " + key + " is not a number");
      const double b = value.get<double>();
      if (!(b >= -100 && b <= 100))
        BadRequest("logit_bias", StrFormat("logit_bias: bias %g for token %s is outside [-100, 100]", b, key.c_str()));
      p.logit_bias[int32_t(id)] = static_cast<float>(b);
    }
  }

  if (chat) {
    p.logprobs = GetBool(j, "logprobs").value_or(false);
    if (auto t = GetInt(j, "top_logprobs", 0, kMaxTopLogprobs)) {
      if (!p.logprobs && *t > 0) BadRequest("top_logprobs", "top_logprobs: requires logprobs to be true");
      p.top_logprobs = int32_t(*t);
    }
  } else if (auto lp = GetInt(j, "logprobs", 0, kMaxTopLogprobs)) {  // legacy: an integer
    p.logprobs = true;
    p.top_logprobs = int32_t(*lp);
  }

  if (const Json* rf = Field(j, "response_format")) {
    // Never silently ignore a format the client relies on (see DEEPSEEK.md, complaint 1).
    const Json* type = rf->is_object() ? Field(*rf, "type") : nullptr;
    if (!type || !type->is_string())
      BadRequest("response_format", "response_format: expected an object with a string 'type'");
    if (type->get<std::string>() != "text")
      BadRequest("response_format", "response_format: type '" + type->get<std::string>() +
                                        "' is not supported by this server (only 'text'); structured output is not "
                                        "implemented yet");
  }
}

// "content": a string, null, or an array of {type: "text", text} parts (joined with no separator, as OpenAI).
Json MessageContent(const Json& m, size_t i) {
  const std::string where = StrFormat("messages[%zu].content", i);
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) return nullptr;
  if (it->is_string()) return *it;
  if (!it->is_array()) BadRequest(where, where + ": expected a string or an array of content parts, got " + TypeName(*it));
  std::string text;
  for (size_t k = 0; k < it->size(); ++k) {
    const Json& part = (*it)[k];
    const std::string pw = StrFormat("%s[%zu]", where.c_str(), k);
    if (!part.is_object()) BadRequest(where, pw + ": expected a content part object, got " + TypeName(part));
    const Json* type = Field(part, "type");
    if (!type || !type->is_string()) BadRequest(where, pw + ".type: expected a string");
    if (type->get<std::string>() != "text")
      BadRequest(where, pw + ".type: '" + type->get<std::string>() + "' parts are not supported (only 'text')");
    const Json* t = Field(part, "text");
    if (!t || !t->is_string()) BadRequest(where, pw + ".text: expected a string");
    text += t->get<std::string>();
  }
  return text;
}

Json ParseMessages(const Json& j) {
  const Json* msgs = Field(j, "messages");
  if (!msgs) BadRequest("messages", "messages: required");
  if (!msgs->is_array()) BadRequest("messages", "messages: expected an array, got " + TypeName(*msgs));
  if (msgs->empty()) BadRequest("messages", "messages: must contain at least one message");
  Json out = Json::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const Json& m = (*msgs)[i];
    const std::string where = StrFormat("messages[%zu]", i);
    if (!m.is_object()) BadRequest("messages", where + ": expected an object, got " + TypeName(m));
    const Json* role = Field(m, "role");
    if (!role || !role->is_string()) BadRequest("messages", where + ".role: required (a string)");
    std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool")
      BadRequest("messages", where + ".role: '" + r + "' is not one of system, developer, user, assistant, tool");
    if (r == "developer") r = "system";  // OpenAI's newer name for system instructions; templates know "system"
    Json msg = {{"role", r}, {"content", MessageContent(m, i)}};
    if (r == "assistant") {
      if (const Json* tc = Field(m, "tool_calls")) {
        if (!tc->is_array()) BadRequest("messages", where + ".tool_calls: expected an array");
        msg["tool_calls"] = *tc;
      }
      if (msg["content"].is_null() && !msg.contains("tool_calls"))
        BadRequest("messages", where + ".content: required unless tool_calls is given");
    } else if (msg["content"].is_null()) {
      BadRequest("messages", where + ".content: required for role '" + r + "'");
    }
    if (const Json* name = Field(m, "name")) {
      if (!name->is_string()) BadRequest("messages", where + ".name: expected a string");
      msg["name"] = *name;
    }
    if (r == "tool") {
      if (const Json* id = Field(m, "tool_call_id")) {
        if (!id->is_string()) BadRequest("messages", where + ".tool_call_id: expected a string");
        msg["tool_call_id"] = *id;
      }
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace

ApiError::ApiError(int status_, std::string message, std::string param_, std::string type_, std::string code_)
    : std::runtime_error(std::move(message)),
      status(status_),
      param(std::move(param_)),
      type(type_.empty() ? (status_ >= 500 ? "server_error" : "invalid_request_error") : std::move(type_)),
      code(std::move(code_)) {}

void BadRequest(const std::string& param, const std::string& message) { throw ApiError(400, message, param); }

SamplingParams GenerationParams::Resolve(const SamplingParams& defaults, int32_t index) const {
  SamplingParams s = defaults;
  if (temperature) s.temperature = *temperature;
  if (top_p) s.top_p = *top_p;
  if (min_p) s.min_p = *min_p;
  if (top_k) s.top_k = *top_k;
  if (presence_penalty) s.presence_penalty = *presence_penalty;
  if (frequency_penalty) s.frequency_penalty = *frequency_penalty;
  if (repetition_penalty) s.repeat_penalty = *repetition_penalty;
  // OpenAI's penalties count the tokens generated so far (the engine only Accepts generated tokens).
  s.penalty_last_n = -1;
  s.logit_bias = logit_bias;
  if (seed) s.seed = *seed + static_cast<uint64_t>(index);
  else s.seed = 0xFFFFFFFFFFFFFFFFull;  // random
  return s;
}

ChatRequest ParseChatRequest(std::string_view body, int32_t n_vocab) {
  const Json j = ParseObject(body);
  ChatRequest r;
  r.messages = ParseMessages(j);
  ParseCommon(j, r, n_vocab, /*chat=*/true);
  if (const Json* tools = Field(j, "tools")) {
    if (!tools->is_array()) BadRequest("tools", "tools: expected an array, got " + TypeName(*tools));
    for (const Json& t : *tools)
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object() ||
          !t["function"].contains("name") || !t["function"]["name"].is_string())
        BadRequest("tools", "tools: each tool must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
    r.tools = *tools;
  }
  if (const Json* tc = Field(j, "tool_choice")) {
    if (!tc->is_string() && !tc->is_object())
      BadRequest("tool_choice", "tool_choice: expected a string or an object, got " + TypeName(*tc));
    r.tool_choice = *tc;
  }
  if (const Json* kw = Field(j, "chat_template_kwargs")) {
    if (!kw->is_object()) BadRequest("chat_template_kwargs", "chat_template_kwargs: expected an object");
    r.template_kwargs = *kw;
  }
  if (auto rf = GetString(j, "reasoning_format")) {
    if (*rf == "none") r.separate_reasoning = false;
    else if (*rf == "deepseek" || *rf == "auto" || *rf == "deepseek-legacy" || *rf == "parsed") r.separate_reasoning = true;
    else BadRequest("reasoning_format", "reasoning_format: '" + *rf + "' is not one of none, auto, deepseek");
  }
  if (auto sr = GetBool(j, "separate_reasoning")) r.separate_reasoning = *sr;
  return r;
}

CompletionRequest ParseCompletionRequest(std::string_view body, int32_t n_vocab) {
  const Json j = ParseObject(body);
  CompletionRequest r;
  const Json* prompt = Field(j, "prompt");
  if (!prompt) BadRequest("prompt", "prompt: required");
  auto token_list = [&](const Json& arr, const std::string& where) {
    std::vector<int32_t> ids;
    for (const Json& t : arr) ids.push_back(TokenId(t, where, n_vocab));
    if (ids.empty()) BadRequest("prompt", where + ": empty token list");
    return ids;
  };
  if (prompt->is_string()) {
    r.prompts.emplace_back(prompt->get<std::string>());
  } else if (prompt->is_array() && !prompt->empty()) {
    const Json& first = (*prompt)[0];
    if (first.is_number()) {
      r.prompts.emplace_back(token_list(*prompt, "prompt"));
    } else {
      if (prompt->size() > kMaxPrompts) BadRequest("prompt", StrFormat("prompt: at most %zu prompts", kMaxPrompts));
      for (size_t i = 0; i < prompt->size(); ++i) {
        const Json& p = (*prompt)[i];
        if (p.is_string()) r.prompts.emplace_back(p.get<std::string>());
        else if (p.is_array()) r.prompts.emplace_back(token_list(p, StrFormat("prompt[%zu]", i)));
        else BadRequest("prompt", StrFormat("prompt[%zu]: expected a string or a token list, got %s", i,
                                            TypeName(p).c_str()));
      }
    }
  } else {
    BadRequest("prompt", "prompt: expected a string, an array of strings or an array of token ids, got " +
                             (prompt->is_array() ? std::string("an empty array") : TypeName(*prompt)));
  }
  ParseCommon(j, r, n_vocab, /*chat=*/false);
  r.echo = GetBool(j, "echo").value_or(false);
  r.add_special = GetBool(j, "add_special").value_or(true);
  if (auto suffix = GetString(j, "suffix"); suffix && !suffix->empty())
    BadRequest("suffix", "suffix: insertion (fill-in-the-middle) is not supported");
  if (auto best_of = GetInt(j, "best_of", 1, kMaxN); best_of && *best_of != r.n)
    BadRequest("best_of", "best_of: only best_of == n is supported");
  return r;
}

TokenizeRequest ParseTokenizeRequest(std::string_view body) {
  const Json j = ParseObject(body);
  TokenizeRequest r;
  auto content = GetString(j, "content");
  if (!content) content = GetString(j, "prompt");
  if (!content) BadRequest("content", "content: required (a string)");
  r.content = *content;
  r.add_special = GetBool(j, "add_special").value_or(false);
  r.with_pieces = GetBool(j, "with_pieces").value_or(false);
  return r;
}

DetokenizeRequest ParseDetokenizeRequest(std::string_view body, int32_t n_vocab) {
  const Json j = ParseObject(body);
  const Json* tokens = Field(j, "tokens");
  if (!tokens || !tokens->is_array()) BadRequest("tokens", "tokens: required (an array of token ids)");
  DetokenizeRequest r;
  for (const Json& t : *tokens) r.tokens.push_back(TokenId(t, "tokens", n_vocab));
  return r;
}

}  // namespace seek::server
