// A multi-turn chat over one Context: renders the model's chat template over the whole conversation each turn,
// tokenizes it as transformers' apply_chat_template does (no extra BOS/EOS: the template writes them), and
// reuses the KV cache for the common prefix, so each turn only evaluates the new tokens.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/generate.h"
#include "tokenizer/chat_template.h"

namespace seek {

// The global variables a chat template sees: messages, add_generation_prompt, bos_token, eos_token.
nlohmann::ordered_json ChatTemplateContext(const Tokenizer& tok, const nlohmann::ordered_json& messages,
                                           bool add_generation_prompt);

class ChatSession {
 public:
  // template_source: the Jinja chat template (throws seek::Error when it is empty or does not parse).
  ChatSession(const Model& model, Context& ctx, const std::string& template_source,
              const SamplingParams& sampling, const std::string& system_prompt = "");

  // Appends the user's message, generates the assistant's reply (streamed through on_text) and appends it.
  GenerateResult Reply(const std::string& user_text, const GenerateOptions& options,
                       const TextCallback& on_text = nullptr);
  // Forgets the conversation (keeps the system prompt).
  void Reset();

  // The prompt ids for the conversation so far plus the generation prompt.
  std::vector<int32_t> PromptIds() const;
  const nlohmann::ordered_json& messages() const { return messages_; }

 private:
  const Model& model_;
  Context& ctx_;
  ChatTemplate template_;
  Sampler sampler_;
  std::string system_prompt_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
  std::vector<int32_t> history_;  // ids currently in ctx_
};

}  // namespace seek
