// Syntax tree of a parsed template. Expressions and statements carry their source line for error messages.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace seek::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtList = std::vector<std::unique_ptr<Stmt>>;

struct CallArgs {
  std::vector<ExprPtr> pos;
  std::vector<std::pair<std::string, ExprPtr>> kw;
};

struct Expr {
  enum Kind {
    kLiteral,    // value
    kName,       // name
    kList,       // items
    kTuple,      // items
    kDict,       // items as key, value pairs (even/odd)
    kGetAttr,    // a.name
    kGetItem,    // a[b]
    kSlice,      // a[items[0]:items[1]:items[2]] (null children for omitted parts)
    kUnary,      // op a   ("-", "+", "not")
    kBinary,     // a op b (arithmetic, "~", "and", "or", "in", "not in")
    kCompare,    // a op1 b op2 c ... : items = operands, ops = operators
    kCond,       // items[1] if items[0] else items[2] (items[2] may be null)
    kCall,       // a(args)
    kFilter,     // a | name(args); a may be null inside {% filter %}
    kTest,       // a is [not] name(args); op == "not" when negated
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;
  std::string op;
  ExprPtr a, b;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;
  CallArgs args;
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

struct Stmt {
  enum Kind {
    kText,       // text
    kOutput,     // {{ expr }}
    kIf,         // branches: (cond, body)... ; else_body
    kFor,        // targets in iter [if cond] body [else else_body]
    kSet,        // target = expr, or {% set target %}body{% endset %} (expr null) with optional filter
    kMacro,      // name(params) body
    kCallBlock,  // {% call(params) expr %}body{% endcall %}
    kFilterBlock,// {% filter f %}body{% endfilter %}
    kBreak,
    kContinue,
    kWith,       // {% with a = 1 %}body{% endwith %}
    kScope,      // body only ({% generation %}: transformers' assistant-mask extension renders its body)
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;                               // output / set value / for iterable / call expr / filter
  ExprPtr cond;                               // for filter
  std::vector<std::string> targets;           // for/set names (set ns.attr: targets = {ns}, attr = attr)
  std::string attr;
  std::vector<std::pair<ExprPtr, StmtList>> branches;
  StmtList body, else_body;
  std::vector<MacroParam> params;
  std::vector<std::pair<std::string, ExprPtr>> assigns;  // with
};

}  // namespace seek::jinja
