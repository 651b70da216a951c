#include "tokenizer/jinja/program.h"

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"

namespace seek::jinja {

Program::Program(const std::string& source) : body_(Parse(Lex(source))) {}

std::string Program::Render(const nlohmann::ordered_json& context) const {
  Interpreter interpreter(context);
  return interpreter.Render(body_);
}

}  // namespace seek::jinja
