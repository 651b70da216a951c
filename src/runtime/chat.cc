#include "runtime/chat.h"

#include "core/error.h"

namespace seek {
namespace {

ChatTemplate ParseTemplate(const std::string& source) {
  if (source.empty()) Fail("this model has no chat template (pass --chat-template FILE, or use `seek run`)");
  return ChatTemplate(source);
}

std::string TokenTextOrEmpty(const Tokenizer& tok, int32_t id) {
  return id >= 0 && id < tok.n_vocab() ? tok.TokenText(id) : std::string();
}

}  // namespace

nlohmann::ordered_json ChatTemplateContext(const Tokenizer& tok, const nlohmann::ordered_json& messages,
                                           bool add_generation_prompt) {
  nlohmann::ordered_json context;
  context["messages"] = messages;
  context["add_generation_prompt"] = add_generation_prompt;
  context["bos_token"] = TokenTextOrEmpty(tok, tok.bos_id());
  context["eos_token"] = TokenTextOrEmpty(tok, tok.eos_id());
  return context;
}

ChatSession::ChatSession(const Model& model, Context& ctx, const std::string& template_source,
                         const SamplingParams& sampling, const std::string& system_prompt)
    : model_(model),
      ctx_(ctx),
      template_(ParseTemplate(template_source)),
      sampler_(sampling, model.config().n_vocab),
      system_prompt_(system_prompt) {
  Reset();
}

void ChatSession::Reset() {
  messages_ = nlohmann::ordered_json::array();
  if (!system_prompt_.empty()) messages_.push_back({{"role", "system"}, {"content", system_prompt_}});
}

std::vector<int32_t> ChatSession::PromptIds() const {
  const Tokenizer& tok = model_.tokenizer();
  std::string text = template_.Render(ChatTemplateContext(tok, messages_, /*add_generation_prompt=*/true));
  return tok.Encode(text, /*add_special=*/false);
}

GenerateResult ChatSession::Reply(const std::string& user_text, const GenerateOptions& options,
                                  const TextCallback& on_text) {
  messages_.push_back({{"role", "user"}, {"content", user_text}});
  std::vector<int32_t> prompt;
  try {
    prompt = PromptIds();
  } catch (...) {
    messages_.erase(messages_.size() - 1);
    throw;
  }
  GenerateResult result = Generate(ctx_, model_.tokenizer(), sampler_, history_, prompt, options, on_text);
  messages_.push_back({{"role", "assistant"}, {"content", result.text}});
  return result;
}

}  // namespace seek
