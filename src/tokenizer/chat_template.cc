#include "tokenizer/chat_template.h"

#include "tokenizer/jinja/program.h"

namespace seek {

ChatTemplate::ChatTemplate(const std::string& source) : program_(std::make_unique<jinja::Program>(source)) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::Render(const nlohmann::ordered_json& context) const { return program_->Render(context); }

}  // namespace seek
