// Chat templates: a Jinja2 interpreter covering what real chat templates use, rendering byte-identically to
// Python jinja2 as `transformers` applies it (ImmutableSandboxedEnvironment, trim_blocks=True,
// lstrip_blocks=True, `tojson`, `raise_exception`, `strftime_now`).
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace seek {

namespace jinja {
class Program;
}

class ChatTemplate {
 public:
  // Parses the template; throws seek::Error naming the template line on a syntax error or unknown construct.
  explicit ChatTemplate(const std::string& source);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;

  // Renders with `context` as the global variables: messages, tools, add_generation_prompt, bos_token,
  // eos_token and any extra ones (enable_thinking, ...). Key order of objects is kept (tojson output).
  // Throws seek::Error on runtime errors (raise_exception, bad types, loop/recursion/output limits), with the
  // template line.
  std::string Render(const nlohmann::ordered_json& context) const;

 private:
  std::unique_ptr<jinja::Program> program_;
};

}  // namespace seek
