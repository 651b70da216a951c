#include "tokenizer/jinja/parser.h"

#include <initializer_list>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"

namespace seek::jinja {
namespace {

// Deepest nesting of expressions/blocks accepted (hostile templates must not overflow the C++ stack).
constexpr int kMaxParseDepth = 200;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  StmtList ParseTemplate() {
    std::string end;
    StmtList body = ParseBody({}, &end);
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxParseDepth) p_->Error("template nesting too deep");
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  const Token& Peek(size_t k = 0) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  const Token& Next() { return t_[pos_ < t_.size() - 1 ? pos_++ : pos_]; }
  [[noreturn]] void Error(const std::string& msg) const {
    Fail("chat template line %d: %s", Peek().line, msg.c_str());
  }
  bool IsOp(const char* op, size_t k = 0) const { return Peek(k).type == Token::kOp && Peek(k).text == op; }
  bool IsName(const char* name, size_t k = 0) const {
    return Peek(k).type == Token::kName && Peek(k).text == name;
  }
  bool SkipOp(const char* op) {
    if (!IsOp(op)) return false;
    ++pos_;
    return true;
  }
  bool SkipName(const char* name) {
    if (!IsName(name)) return false;
    ++pos_;
    return true;
  }
  void ExpectOp(const char* op) {
    if (!SkipOp(op)) Error(std::string("expected '") + op + "', got " + Describe(Peek()));
  }
  std::string ExpectName() {
    if (Peek().type != Token::kName) Error("expected a name, got " + Describe(Peek()));
    return Next().text;
  }
  void ExpectBlockEnd() {
    if (Peek().type != Token::kBlockEnd) Error("expected end of statement block, got " + Describe(Peek()));
    ++pos_;
  }
  static std::string Describe(const Token& t) {
    switch (t.type) {
      case Token::kEof: return "end of template";
      case Token::kBlockEnd: return "'end of statement block'";
      case Token::kVarEnd: return "'end of print statement'";
      case Token::kName:
      case Token::kOp: return "'" + t.text + "'";
      case Token::kString: return "string";
      default: return "token";
    }
  }
  ExprPtr NewExpr(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // Parses statements until a block tag whose name is in `ends` (consumed up to the name; *end gets it).
  StmtList ParseBody(std::initializer_list<const char*> ends, std::string* end) {
    DepthGuard guard(this);
    StmtList body;
    while (true) {
      const Token& tok = Peek();
      if (tok.type == Token::kEof) {
        if (ends.size() == 0) return body;
        std::string want;
        for (const char* e : ends) want += std::string(want.empty() ? "" : " or ") + "'" + e + "'";
        Error("Unexpected end of template. Jinja was looking for the following tags: " + want);
      }
      if (tok.type == Token::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::kText;
        s->line = tok.line;
        s->text = tok.text;
        body.push_back(std::move(s));
        ++pos_;
      } else if (tok.type == Token::kVarBegin) {
        ++pos_;
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::kOutput;
        s->line = tok.line;
        s->expr = ParseTuple(true, {});
        if (Peek().type != Token::kVarEnd) Error("expected end of print statement, got " + Describe(Peek()));
        ++pos_;
        body.push_back(std::move(s));
      } else if (tok.type == Token::kBlockBegin) {
        ++pos_;
        if (Peek().type != Token::kName) Error("tag name expected");
        for (const char* e : ends)
          if (Peek().text == e) {
            *end = Next().text;
            return body;
          }
        body.push_back(ParseStatement());
      } else {
        Error("unexpected " + Describe(tok));
      }
    }
  }

  std::unique_ptr<Stmt> ParseStatement() {
    const Token& tok = Next();
    auto s = std::make_unique<Stmt>();
    s->line = tok.line;
    const std::string& name = tok.text;
    std::string end;
    if (name == "if") {
      s->kind = Stmt::kIf;
      while (true) {
        ExprPtr cond = ParseTuple(false, {});
        ExpectBlockEnd();
        StmtList body = ParseBody({"elif", "else", "endif"}, &end);
        s->branches.emplace_back(std::move(cond), std::move(body));
        if (end == "elif") continue;
        if (end == "else") {
          ExpectBlockEnd();
          s->else_body = ParseBody({"endif"}, &end);
        }
        break;
      }
    } else if (name == "for") {
      s->kind = Stmt::kFor;
      s->targets = ParseTargetNames();
      if (!SkipName("in")) Error("expected 'in', got " + Describe(Peek()));
      s->expr = ParseTuple(false, {"recursive"});
      if (SkipName("if")) s->cond = ParseExpression(true);
      if (SkipName("recursive")) Error("recursive for loops are not supported");
      ExpectBlockEnd();
      s->body = ParseBody({"endfor", "else"}, &end);
      if (end == "else") {
        ExpectBlockEnd();
        s->else_body = ParseBody({"endfor"}, &end);
      }
    } else if (name == "set") {
      s->kind = Stmt::kSet;
      if (Peek().type == Token::kName && IsOp(".", 1)) {
        s->targets.push_back(Next().text);
        ++pos_;
        s->attr = ExpectName();
      } else {
        s->targets = ParseTargetNames();
      }
      if (SkipOp("=")) {
        s->expr = ParseTuple(true, {});
      } else {
        if (!s->attr.empty() || s->targets.size() != 1) Error("expected '='");
        if (IsOp("|")) s->cond = ParseFilterChain(nullptr);
        ExpectBlockEnd();
        s->body = ParseBody({"endset"}, &end);
      }
    } else if (name == "macro") {
      s->kind = Stmt::kMacro;
      s->text = ExpectName();
      ParseParams(s.get());
      ExpectBlockEnd();
      s->body = ParseBody({"endmacro"}, &end);
    } else if (name == "call") {
      s->kind = Stmt::kCallBlock;
      if (IsOp("(")) ParseParams(s.get());
      s->expr = ParseExpression(true);
      if (s->expr->kind != Expr::kCall) Error("expected call");
      ExpectBlockEnd();
      s->body = ParseBody({"endcall"}, &end);
    } else if (name == "filter") {
      s->kind = Stmt::kFilterBlock;
      s->cond = ParseFilterChain(nullptr, /*first_has_pipe=*/false);
      ExpectBlockEnd();
      s->body = ParseBody({"endfilter"}, &end);
    } else if (name == "with") {
      s->kind = Stmt::kWith;
      while (Peek().type != Token::kBlockEnd) {
        if (!s->assigns.empty()) ExpectOp(",");
        std::string var = ExpectName();
        ExpectOp("=");
        s->assigns.emplace_back(var, ParseExpression(true));
      }
      ExpectBlockEnd();
      s->body = ParseBody({"endwith"}, &end);
    } else if (name == "generation") {
      s->kind = Stmt::kScope;
      ExpectBlockEnd();
      s->body = ParseBody({"endgeneration"}, &end);
    } else if (name == "break" || name == "continue") {
      s->kind = name == "break" ? Stmt::kBreak : Stmt::kContinue;
    } else {
      Error("Encountered unknown tag '" + name + "'.");
    }
    ExpectBlockEnd();
    return s;
  }

  std::vector<std::string> ParseTargetNames() {
    std::vector<std::string> names;
    bool paren = SkipOp("(");
    do {
      if (paren && IsOp(")")) break;
      names.push_back(ExpectName());
    } while (SkipOp(","));
    if (paren) ExpectOp(")");
    return names;
  }

  void ParseParams(Stmt* s) {
    ExpectOp("(");
    while (!IsOp(")")) {
      if (!s->params.empty()) ExpectOp(",");
      if (IsOp(")")) break;
      MacroParam p;
      p.name = ExpectName();
      if (SkipOp("=")) p.default_value = ParseExpression(true);
      s->params.push_back(std::move(p));
    }
    ExpectOp(")");
  }

  bool IsTupleEnd(std::initializer_list<const char*> extra) const {
    const Token& t = Peek();
    if (t.type == Token::kVarEnd || t.type == Token::kBlockEnd || t.type == Token::kEof) return true;
    if (t.type == Token::kOp && (t.text == ")" || t.text == "]" || t.text == "}")) return true;
    for (const char* e : extra)
      if (t.type == Token::kName && t.text == e) return true;
    return false;
  }

  ExprPtr ParseTuple(bool with_condexpr, std::initializer_list<const char*> extra, bool explicit_parens = false) {
    int line = Peek().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) ExpectOp(",");
      if (IsTupleEnd(extra)) break;
      items.push_back(with_condexpr ? ParseExpression(true) : ParseOr());
      if (IsOp(","))
        is_tuple = true;
      else
        break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) Error("Expected an expression, got " + Describe(Peek()));
    }
    auto e = NewExpr(Expr::kTuple, line);
    e->items = std::move(items);
    return e;
  }

  ExprPtr ParseExpression(bool with_condexpr) {
    DepthGuard guard(this);
    if (!with_condexpr) return ParseOr();
    ExprPtr e = ParseOr();
    while (IsName("if")) {
      int line = Next().line;
      auto c = NewExpr(Expr::kCond, line);
      c->items.push_back(ParseOr());  // condition
      c->items.push_back(std::move(e));
      c->items.push_back(SkipName("else") ? ParseExpression(true) : nullptr);
      e = std::move(c);
    }
    return e;
  }

  // line 0: the line of the left operand.
  ExprPtr Binary(const std::string& op, ExprPtr a, ExprPtr b, int line) {
    auto e = NewExpr(Expr::kBinary, line ? line : a->line);
    e->op = op;
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
  }

  ExprPtr ParseOr() {
    ExprPtr e = ParseAnd();
    while (IsName("or")) {
      int line = Next().line;
      ExprPtr rhs = ParseAnd();
      e = Binary("or", std::move(e), std::move(rhs), line);
    }
    return e;
  }
  ExprPtr ParseAnd() {
    ExprPtr e = ParseNot();
    while (IsName("and")) {
      int line = Next().line;
      ExprPtr rhs = ParseNot();
      e = Binary("and", std::move(e), std::move(rhs), line);
    }
    return e;
  }
  ExprPtr ParseNot() {
    if (IsName("not")) {
      DepthGuard guard(this);
      auto e = NewExpr(Expr::kUnary, Next().line);
      e->op = "not";
      e->a = ParseNot();
      return e;
    }
    return ParseCompare();
  }
  ExprPtr ParseCompare() {
    int line = Peek().line;
    ExprPtr first = ParseMath1();
    std::vector<ExprPtr> items;
    std::vector<std::string> ops;
    while (true) {
      std::string op;
      const Token& t = Peek();
      if (t.type == Token::kOp &&
          (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=")) {
        op = t.text;
        ++pos_;
      } else if (IsName("in")) {
        op = "in";
        ++pos_;
      } else if (IsName("not") && IsName("in", 1)) {
        op = "not in";
        pos_ += 2;
      } else {
        break;
      }
      ops.push_back(op);
      items.push_back(ParseMath1());
    }
    if (ops.empty()) return first;
    auto e = NewExpr(Expr::kCompare, line);
    e->items.push_back(std::move(first));
    for (auto& i : items) e->items.push_back(std::move(i));
    e->ops = std::move(ops);
    return e;
  }
  ExprPtr ParseMath1() {
    ExprPtr e = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      std::string op = Next().text;
      ExprPtr rhs = ParseConcat();
      e = Binary(op, std::move(e), std::move(rhs), 0);
    }
    return e;
  }
  ExprPtr ParseConcat() {
    ExprPtr e = ParseMath2();
    while (IsOp("~")) {
      Next();
      ExprPtr rhs = ParseMath2();
      e = Binary("~", std::move(e), std::move(rhs), 0);
    }
    return e;
  }
  ExprPtr ParseMath2() {
    ExprPtr e = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      std::string op = Next().text;
      ExprPtr rhs = ParsePow();
      e = Binary(op, std::move(e), std::move(rhs), 0);
    }
    return e;
  }
  ExprPtr ParsePow() {
    ExprPtr e = ParseUnary(true);
    while (IsOp("**")) {
      Next();
      ExprPtr rhs = ParseUnary(true);
      e = Binary("**", std::move(e), std::move(rhs), 0);
    }
    return e;
  }
  ExprPtr ParseUnary(bool with_filter) {
    DepthGuard guard(this);
    ExprPtr e;
    if (IsOp("-") || IsOp("+")) {
      const Token& t = Next();
      e = NewExpr(Expr::kUnary, t.line);
      e->op = t.text;
      e->a = ParseUnary(false);
    } else {
      e = ParsePostfix(ParsePrimary());
    }
    if (!with_filter) return e;
    while (true) {
      if (IsOp("|")) {
        e = ParseFilterChain(std::move(e));
      } else if (IsName("is")) {
        e = ParseTest(std::move(e));
      } else if (IsOp("(")) {
        e = ParseCallExpr(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr ParsePrimary() {
    DepthGuard guard(this);
    const Token& t = Peek();
    int line = t.line;
    if (t.type == Token::kName) {
      ++pos_;
      auto lit = [&](Value v) {
        auto e = NewExpr(Expr::kLiteral, line);
        e->value = std::move(v);
        return e;
      };
      if (t.text == "true" || t.text == "True") return lit(Value::Bool(true));
      if (t.text == "false" || t.text == "False") return lit(Value::Bool(false));
      if (t.text == "none" || t.text == "None") return lit(Value::None());
      auto e = NewExpr(Expr::kName, line);
      e->name = t.text;
      return e;
    }
    if (t.type == Token::kString) {
      std::string s;
      while (Peek().type == Token::kString) s += Next().text;
      auto e = NewExpr(Expr::kLiteral, line);
      e->value = Value::Str(std::move(s));
      return e;
    }
    if (t.type == Token::kInt || t.type == Token::kFloat) {
      ++pos_;
      auto e = NewExpr(Expr::kLiteral, line);
      e->value = t.type == Token::kInt ? Value::Int(t.int_value) : Value::Float(t.float_value);
      return e;
    }
    if (SkipOp("(")) {
      ExprPtr e = ParseTuple(true, {}, true);
      ExpectOp(")");
      return e;
    }
    if (SkipOp("[")) {
      auto e = NewExpr(Expr::kList, line);
      while (!IsOp("]")) {
        if (!e->items.empty()) ExpectOp(",");
        if (IsOp("]")) break;
        e->items.push_back(ParseExpression(true));
      }
      ExpectOp("]");
      return e;
    }
    if (SkipOp("{")) {
      auto e = NewExpr(Expr::kDict, line);
      while (!IsOp("}")) {
        if (!e->items.empty()) ExpectOp(",");
        if (IsOp("}")) break;
        e->items.push_back(ParseExpression(true));
        ExpectOp(":");
        e->items.push_back(ParseExpression(true));
      }
      ExpectOp("}");
      return e;
    }
    Error("unexpected " + Describe(t));
  }

  ExprPtr ParsePostfix(ExprPtr e) {
    while (true) {
      if (IsOp(".")) {
        int line = Next().line;
        if (Peek().type == Token::kInt) {
          auto g = NewExpr(Expr::kGetItem, line);
          g->a = std::move(e);
          g->b = NewExpr(Expr::kLiteral, line);
          g->b->value = Value::Int(Next().int_value);
          e = std::move(g);
          continue;
        }
        auto g = NewExpr(Expr::kGetAttr, line);
        g->name = ExpectName();
        g->a = std::move(e);
        e = std::move(g);
      } else if (IsOp("[")) {
        int line = Next().line;
        ExprPtr parts[3];
        bool slice = false;
        if (!IsOp(":")) parts[0] = ParseExpression(true);
        if (SkipOp(":")) {
          slice = true;
          if (!IsOp("]") && !IsOp(":")) parts[1] = ParseExpression(true);
          if (SkipOp(":") && !IsOp("]")) parts[2] = ParseExpression(true);
        }
        ExpectOp("]");
        auto g = NewExpr(slice ? Expr::kSlice : Expr::kGetItem, line);
        g->a = std::move(e);
        if (slice) {
          for (auto& p : parts) g->items.push_back(std::move(p));
        } else {
          g->b = std::move(parts[0]);
        }
        e = std::move(g);
      } else if (IsOp("(")) {
        e = ParseCallExpr(std::move(e));
      } else {
        return e;
      }
    }
  }

  void ParseCallArgs(CallArgs* args) {
    ExpectOp("(");
    bool first = true;
    while (!IsOp(")")) {
      if (!first) ExpectOp(",");
      first = false;
      if (IsOp(")")) break;
      if (IsOp("*") || IsOp("**")) Error("*args / **kwargs calls are not supported");
      if (Peek().type == Token::kName && IsOp("=", 1)) {
        std::string k = Next().text;
        ++pos_;
        args->kw.emplace_back(k, ParseExpression(true));
      } else {
        if (!args->kw.empty()) Error("invalid syntax for function call expression");
        args->pos.push_back(ParseExpression(true));
      }
    }
    ExpectOp(")");
  }

  ExprPtr ParseCallExpr(ExprPtr fn) {
    auto e = NewExpr(Expr::kCall, Peek().line);
    e->a = std::move(fn);
    ParseCallArgs(&e->args);
    return e;
  }

  // `| name(args) | name ...` applied to `base` (null inside {% filter %} / {% set x | f %}).
  ExprPtr ParseFilterChain(ExprPtr base, bool first_has_pipe = true) {
    bool need_pipe = first_has_pipe;
    do {
      if (need_pipe) ExpectOp("|");
      need_pipe = true;
      auto e = NewExpr(Expr::kFilter, Peek().line);
      e->name = ExpectName();
      while (SkipOp(".")) e->name += "." + ExpectName();
      if (!IsKnownFilter(e->name)) Error("No filter named '" + e->name + "'.");
      if (IsOp("(")) ParseCallArgs(&e->args);
      e->a = std::move(base);
      base = std::move(e);
    } while (IsOp("|"));
    return base;
  }

  ExprPtr ParseTest(ExprPtr base) {
    auto e = NewExpr(Expr::kTest, Next().line);
    if (SkipName("not")) e->op = "not";
    e->name = ExpectName();
    while (SkipOp(".")) e->name += "." + ExpectName();
    if (!IsKnownTest(e->name)) Error("No test named '" + e->name + "'.");
    const Token& t = Peek();
    if (IsOp("(")) {
      ParseCallArgs(&e->args);
    } else if ((t.type == Token::kName && t.text != "else" && t.text != "or" && t.text != "and" &&
                t.text != "if" && t.text != "is" && t.text != "in" && t.text != "not") ||
               t.type == Token::kString || t.type == Token::kInt || t.type == Token::kFloat || IsOp("[") ||
               IsOp("{")) {
      // `x is divisibleby 3`: one argument without parentheses (jinja2 parse_test).
      e->args.pos.push_back(ParsePostfix(ParsePrimary()));
    }
    e->a = std::move(base);
    return e;
  }

  const std::vector<Token>& t_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

StmtList Parse(const std::vector<Token>& tokens) { return Parser(tokens).ParseTemplate(); }

}  // namespace seek::jinja
