// OpenAI request bodies -> validated C++ requests. The only place request JSON is read.
//
// Validation follows OpenAI's documented ranges (temperature [0, 2], top_p (0, 1], presence/frequency penalty
// [-2, 2], logit_bias values [-100, 100], top_logprobs [0, 20], n >= 1); a wrong type or value throws ApiError
// (HTTP 400) whose message names the field and says why. Unknown fields are ignored, as OpenAI's API does.
// llama.cpp / vLLM extensions accepted: top_k, min_p, repetition_penalty, ignore_eos, reasoning_format
// ("none" turns the <think> split off; "deepseek" / "auto" keep it), separate_reasoning (bool),
// chat_template_kwargs (extra template variables), add_special (completions).
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/sampler.h"

namespace seek::server {

using Json = nlohmann::ordered_json;

// An error returned to the client as {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
  ApiError(int status_, std::string message, std::string param_ = "", std::string type_ = "",
           std::string code_ = "");
  int status;
  std::string param, type, code;
};

// Throws ApiError 400 naming `param`.
[[noreturn]] void BadRequest(const std::string& param, const std::string& message);

// Fields shared by chat and completions.
struct GenerationParams {
  // Sampling overrides; unset fields take the model's defaults (generation_config.json, then seek's).
  std::optional<float> temperature, top_p, min_p, presence_penalty, frequency_penalty, repetition_penalty;
  std::optional<int32_t> top_k;
  std::optional<uint64_t> seed;
  std::unordered_map<int32_t, float> logit_bias;

  std::optional<int32_t> max_tokens;  // max_tokens / max_completion_tokens
  std::vector<std::string> stop;
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  int32_t top_logprobs = 0;
  bool ignore_eos = false;
  std::string model;

  // The sampling parameters for choice `index` (a given seed becomes seed + index, so n > 1 choices
  // differ but stay reproducible).
  SamplingParams Resolve(const SamplingParams& defaults, int32_t index) const;
};

struct ChatRequest : GenerationParams {
  Json messages = Json::array();  // normalised: role + string content (+ tool_calls, name, tool_call_id)
  Json tools;                     // null when absent
  Json tool_choice;
  Json template_kwargs = Json::object();
  bool separate_reasoning = true;
};

struct CompletionRequest : GenerationParams {
  // One entry per prompt: text, or token ids.
  std::vector<std::variant<std::string, std::vector<int32_t>>> prompts;
  bool echo = false;
  bool add_special = true;  // add BOS as the model's tokenizer does
};

struct TokenizeRequest {
  std::string content;
  bool add_special = false;
  bool with_pieces = false;
};

struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};

// Parse and validate. n_vocab bounds logit_bias keys and token ids (0: not checked).
ChatRequest ParseChatRequest(std::string_view body, int32_t n_vocab);
CompletionRequest ParseCompletionRequest(std::string_view body, int32_t n_vocab);
TokenizeRequest ParseTokenizeRequest(std::string_view body);
DetokenizeRequest ParseDetokenizeRequest(std::string_view body, int32_t n_vocab);

}  // namespace seek::server
