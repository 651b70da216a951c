// Jinja lexer with jinja2's whitespace rules for the transformers environment (trim_blocks=True,
// lstrip_blocks=True, keep_trailing_newline=False). Reproduces jinja2.lexer semantics (jinja2 3.1):
//  - newlines (\r\n, \r, \n) are normalised to \n and one trailing newline of the source is dropped;
//  - `{%-`/`{{-`/`{#-` strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all whitespace after it;
//  - trim_blocks: the first \n after `%}` or `#}` is removed (not after `}}`, not after `+%}`);
//  - lstrip_blocks: spaces/tabs between the start of a line and `{%`/`{#` are removed (not for `{{`, not `{%+`);
//  - `{% raw %}...{% endraw %}` is text (no trim after `raw %}`, trim after `endraw %}`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace seek::jinja {

struct Token {
  enum Type { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };
  Type type = kEof;
  std::string text;  // text data, name, operator, or the unescaped string literal
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

// Tokenises `source`; throws seek::Error "chat template line N: ..." on lexical errors.
std::vector<Token> Lex(const std::string& source);

}  // namespace seek::jinja
