// Tree-walking evaluator for parsed templates. Scoping follows jinja2: `for` bodies, macros and `with` get their
// own scope (assignments inside do not leak out), `if` does not; macros see their defining scope live.
// Limits against hostile templates (exceeding one throws seek::Error with the line):
//   kMaxOutputBytes (output and any single string), kMaxIterations (all loop iterations of a render),
//   kMaxCallDepth (macro recursion), kMaxEvalDepth (nested evaluation).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace seek::jinja {

constexpr size_t kMaxOutputBytes = size_t(16) << 20;
constexpr int64_t kMaxIterations = 1 << 20;
constexpr int kMaxCallDepth = 128;
constexpr int kMaxEvalDepth = 1500;

struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;

  Value* Lookup(const std::string& name);
  void Set(const std::string& name, Value v);
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const nlohmann::ordered_json& context);

  // Renders a whole template; errors become seek::Error "chat template line N: ...".
  std::string Render(const StmtList& body);

  Value Eval(const Expr& e, const ScopePtr& scope);
  Value CallValue(const Value& fn, Args& args);
  // Throws when a string/list of `bytes` would exceed the output cap.
  void CheckSize(size_t bytes) const;
  void CountIterations(int64_t n);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  struct DepthGuard {
    DepthGuard(Interpreter* in, int line);
    ~DepthGuard();
    Interpreter* in_;
  };

  Flow ExecBody(const StmtList& body, const ScopePtr& scope, std::string& out);
  Flow Exec(const Stmt& s, const ScopePtr& scope, std::string& out);
  void ExecFor(const Stmt& s, const ScopePtr& scope, std::string& out);
  void ExecSet(const Stmt& s, const ScopePtr& scope, std::string& out);
  Value MakeMacro(const Stmt& s, const ScopePtr& scope, const std::string& name);
  void Append(std::string& out, const std::string& text) const;
  Value EvalBinary(const Expr& e, const ScopePtr& scope);
  Value EvalCompare(const Expr& e, const ScopePtr& scope);
  Value EvalFilterChain(const Expr& e, Value base, const ScopePtr& scope);
  void EvalArgs(const CallArgs& call, const ScopePtr& scope, Args& args);

  ScopePtr globals_;
  int line_ = 0;
  int eval_depth_ = 0;
  int call_depth_ = 0;
  int64_t iterations_ = 0;
};

// Binary arithmetic with Python semantics ("+", "-", "*", "/", "//", "%", "**", "~").
Value Arithmetic(const std::string& op, const Value& a, const Value& b, const Interpreter& in);

}  // namespace seek::jinja
