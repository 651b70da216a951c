// A parsed template: lex + parse once, render many times (Render is const and thread-compatible: every call
// builds its own interpreter state).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/ast.h"

namespace seek::jinja {

class Program {
 public:
  // Throws seek::Error "chat template line N: ..." on syntax errors, unknown tags, filters or tests.
  explicit Program(const std::string& source);
  std::string Render(const nlohmann::ordered_json& context) const;

 private:
  StmtList body_;
};

}  // namespace seek::jinja
