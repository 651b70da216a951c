// Recursive-descent parser following jinja2's grammar and operator precedence (jinja2/parser.py):
//   condexpr: or ['if' or ['else' condexpr]]      or: and ('or' and)*      and: not ('and' not)*
//   not: 'not' not | compare                      compare: math1 (cmp math1)*   (==, !=, <, <=, >, >=, in, not in)
//   math1: concat (('+'|'-') concat)*             concat: math2 ('~' math2)*
//   math2: pow (('*'|'/'|'//'|'%') pow)*          pow: unary ('**' unary)*   (left-associative, as jinja2)
//   unary: ('-'|'+') unary | primary postfix* filter/test/call*
// Statements: if/elif/else, for (with else, inline if, tuple targets), set (expression, block, namespace
// attribute), macro, call, filter, with, break/continue, generation. Anything else is a syntax error.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace seek::jinja {

// Parses the token stream of a whole template. Throws seek::Error "chat template line N: ...".
StmtList Parse(const std::vector<Token>& tokens);

}  // namespace seek::jinja
