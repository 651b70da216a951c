#include "tokenizer/jinja/interpreter.h"

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/pystr.h"

namespace seek::jinja {

Value* Scope::Lookup(const std::string& name) {
  for (Scope* s = this; s; s = s->parent.get())
    for (auto& [k, v] : s->vars)
      if (k == name) return &v;
  return nullptr;
}

void Scope::Set(const std::string& name, Value v) {
  for (auto& [k, old] : vars)
    if (k == name) {
      old = std::move(v);
      return;
    }
  vars.emplace_back(name, std::move(v));
}

Interpreter::Interpreter(const nlohmann::ordered_json& context) {
  auto builtins = std::make_shared<Scope>();
  for (auto& [k, v] : MakeGlobals()) builtins->vars.emplace_back(k.s, std::move(v));
  globals_ = std::make_shared<Scope>();
  globals_->parent = builtins;
  if (context.is_object())
    for (const auto& [k, v] : context.items()) globals_->Set(k, Value::FromJson(v));
}

Interpreter::DepthGuard::DepthGuard(Interpreter* in, int line) : in_(in) {
  if (line) in->line_ = line;
  if (++in->eval_depth_ > kMaxEvalDepth) Throw("RecursionError: template evaluation nested too deeply");
}
Interpreter::DepthGuard::~DepthGuard() { --in_->eval_depth_; }

std::string Interpreter::Render(const StmtList& body) {
  std::string out;
  try {
    auto top = std::make_shared<Scope>();
    top->parent = globals_;
    ExecBody(body, top, out);
  } catch (const TemplateError& e) {
    Fail("chat template line %d: %s", line_, e.what());
  }
  return out;
}

void Interpreter::CheckSize(size_t bytes) const {
  if (bytes > kMaxOutputBytes)
    Throw("MemoryError: result exceeds " + std::to_string(kMaxOutputBytes) + " bytes");
}

void Interpreter::CountIterations(int64_t n) {
  iterations_ += n;
  if (iterations_ > kMaxIterations) Throw("loop iteration limit exceeded");
}

void Interpreter::Append(std::string& out, const std::string& text) const {
  CheckSize(out.size() + text.size());
  out += text;
}

Interpreter::Flow Interpreter::ExecBody(const StmtList& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = Exec(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::Exec(const Stmt& s, const ScopePtr& scope, std::string& out) {
  DepthGuard guard(this, s.line);
  switch (s.kind) {
    case Stmt::kText: Append(out, s.text); break;
    case Stmt::kOutput: Append(out, ToStr(Eval(*s.expr, scope))); break;
    case Stmt::kIf:
      for (const auto& [cond, body] : s.branches) {
        if (Truthy(Eval(*cond, scope))) return ExecBody(body, scope, out);
      }
      return ExecBody(s.else_body, scope, out);
    case Stmt::kFor: ExecFor(s, scope, out); break;
    case Stmt::kSet: ExecSet(s, scope, out); break;
    case Stmt::kMacro: scope->Set(s.text, MakeMacro(s, scope, s.text)); break;
    case Stmt::kCallBlock: {
      Value caller = MakeMacro(s, scope, "caller");
      const Expr& call = *s.expr;
      Value fn = Eval(*call.a, scope);
      Args args;
      EvalArgs(call.args, scope, args);
      args.kw.emplace_back("caller", caller);
      line_ = s.line;
      Append(out, ToStr(CallValue(fn, args)));
      break;
    }
    case Stmt::kFilterBlock: {
      std::string inner;
      auto child = std::make_shared<Scope>();
      child->parent = scope;
      ExecBody(s.body, child, inner);
      Append(out, ToStr(EvalFilterChain(*s.cond, Value::Str(std::move(inner)), scope)));
      break;
    }
    case Stmt::kWith: {
      auto child = std::make_shared<Scope>();
      child->parent = scope;
      for (const auto& [name, e] : s.assigns) child->Set(name, Eval(*e, scope));
      return ExecBody(s.body, child, out);
    }
    case Stmt::kScope: return ExecBody(s.body, scope, out);
    case Stmt::kBreak: return Flow::kBreak;
    case Stmt::kContinue: return Flow::kContinue;
  }
  return Flow::kNormal;
}

namespace {

void Unpack(const ScopePtr& scope, const std::vector<std::string>& targets, const Value& v) {
  if (targets.size() == 1) {
    scope->Set(targets[0], v);
    return;
  }
  List items = Iterate(v);
  if (items.size() != targets.size())
    Throw(items.size() > targets.size()
              ? "ValueError: too many values to unpack (expected " + std::to_string(targets.size()) + ")"
              : "ValueError: not enough values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                    std::to_string(items.size()) + ")");
  for (size_t k = 0; k < targets.size(); ++k) scope->Set(targets[k], items[k]);
}

}  // namespace

void Interpreter::ExecFor(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value iterable = Eval(*s.expr, scope);
  if (iterable.kind == Kind::kNone) Throw("TypeError: 'NoneType' object is not iterable");
  List items = Iterate(iterable);
  auto loop_scope = std::make_shared<Scope>();
  loop_scope->parent = scope;
  if (s.cond) {  // `for x in y if cond`: filtered before loop.* is computed, as jinja2 does
    List kept;
    for (const Value& item : items) {
      CountIterations(1);
      Unpack(loop_scope, s.targets, item);
      if (Truthy(Eval(*s.cond, loop_scope))) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    ExecBody(s.else_body, scope, out);
    return;
  }
  const int64_t n = int64_t(items.size());
  // One loop object per loop, updated in place each iteration (jinja2's LoopContext is one object too).
  Value loop = Value::MakeDict({}, Kind::kNamespace);
  auto cycle_index = std::make_shared<int64_t>(0);
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
                          "depth0", "previtem", "nextitem", "cycle"})
    loop.dict->emplace_back(Value::Str(key), Value());
  Dict& d = *loop.dict;
  d[6].second = Value::Int(n);
  d[7].second = Value::Int(1);
  d[8].second = Value::Int(0);
  d[11].second = Value::Function("cycle", [cycle_index](Interpreter&, Args& a) {
    if (a.pos.empty()) Throw("TypeError: no items for cycling given");
    return a.pos[size_t(*cycle_index) % a.pos.size()];
  });
  loop_scope->Set("loop", loop);
  bool completed_any = false;
  for (int64_t k = 0; k < n; ++k) {
    CountIterations(1);
    Unpack(loop_scope, s.targets, items[k]);
    *cycle_index = k;
    d[0].second = Value::Int(k + 1);
    d[1].second = Value::Int(k);
    d[2].second = Value::Int(n - k);
    d[3].second = Value::Int(n - k - 1);
    d[4].second = Value::Bool(k == 0);
    d[5].second = Value::Bool(k == n - 1);
    d[9].second = k > 0 ? items[k - 1] : Value::Undefined("loop.previtem");
    d[10].second = k + 1 < n ? items[k + 1] : Value::Undefined("loop.nextitem");
    Flow flow = ExecBody(s.body, loop_scope, out);
    if (flow == Flow::kBreak) break;
    if (flow == Flow::kNormal) completed_any = true;
  }
  // jinja2 clears its "run the else block" flag at the end of the loop body, so an `else` still runs when
  // every iteration ended in break/continue (jinja2/compiler.py visit_For).
  if (!completed_any) ExecBody(s.else_body, scope, out);
}

void Interpreter::ExecSet(const Stmt& s, const ScopePtr& scope, std::string& out) {
  (void)out;
  Value v;
  if (s.expr) {
    v = Eval(*s.expr, scope);
  } else {
    std::string inner;
    auto child = std::make_shared<Scope>();
    child->parent = scope;
    ExecBody(s.body, child, inner);
    v = Value::Str(std::move(inner));
    if (s.cond) v = EvalFilterChain(*s.cond, v, scope);
  }
  if (!s.attr.empty()) {
    Value* ns = scope->Lookup(s.targets[0]);
    if (!ns || ns->kind != Kind::kNamespace) Throw("TemplateRuntimeError: cannot assign attribute on non-namespace object");
    for (auto& [k, old] : *ns->dict)
      if (k.kind == Kind::kString && k.s == s.attr) {
        old = std::move(v);
        return;
      }
    ns->dict->emplace_back(Value::Str(s.attr), std::move(v));
    return;
  }
  Unpack(scope, s.targets, v);
}

Value Interpreter::MakeMacro(const Stmt& s, const ScopePtr& scope, const std::string& name) {
  const Stmt* def = &s;
  std::weak_ptr<Scope> weak = scope;  // the defining scope owns the macro: avoid a reference cycle
  ScopePtr strong = name == "caller" ? scope : nullptr;
  return Value::Function(name, [def, weak, strong, name](Interpreter& in, Args& args) {
    ScopePtr closure = strong ? strong : weak.lock();
    if (!closure) Throw("macro '" + name + "' outlived its scope");
    if (++in.call_depth_ > kMaxCallDepth) {
      --in.call_depth_;
      Throw("RecursionError: maximum macro recursion depth exceeded");
    }
    struct Release {
      Interpreter* in;
      ~Release() { --in->call_depth_; }
    } release{&in};
    auto local = std::make_shared<Scope>();
    local->parent = closure;
    if (args.pos.size() > def->params.size())
      Throw("TypeError: macro '" + name + "' takes not more than " + std::to_string(def->params.size()) +
            " argument(s)");
    std::vector<bool> bound(def->params.size(), false);
    for (size_t k = 0; k < args.pos.size(); ++k) {
      local->Set(def->params[k].name, args.pos[k]);
      bound[k] = true;
    }
    for (auto& [key, v] : args.kw) {
      bool found = false;
      for (size_t k = 0; k < def->params.size(); ++k)
        if (def->params[k].name == key) {
          if (bound[k]) Throw("TypeError: macro '" + name + "' got multiple values for argument '" + key + "'");
          local->Set(key, v);
          bound[k] = found = true;
        }
      if (!found) {
        if (key == "caller") {
          local->Set("caller", v);
          continue;
        }
        Throw("TypeError: macro '" + name + "' takes no keyword argument '" + key + "'");
      }
    }
    for (size_t k = 0; k < def->params.size(); ++k) {
      if (bound[k]) continue;
      const auto& p = def->params[k];
      local->Set(p.name, p.default_value ? in.Eval(*p.default_value, local) : Value::Undefined(p.name));
    }
    std::string out;
    in.ExecBody(def->body, local, out);
    return Value::Str(std::move(out));
  });
}

void Interpreter::EvalArgs(const CallArgs& call, const ScopePtr& scope, Args& args) {
  for (const auto& e : call.pos) args.pos.push_back(Eval(*e, scope));
  for (const auto& [k, e] : call.kw) args.kw.emplace_back(k, Eval(*e, scope));
}

Value Interpreter::CallValue(const Value& fn, Args& args) {
  if (fn.kind == Kind::kCallable) return fn.fn->fn(*this, args);
  if (fn.IsUndefined()) Throw("UndefinedError: '" + fn.s + "' is undefined");
  Throw("TypeError: '" + TypeName(fn) + "' object is not callable");
}

Value Interpreter::EvalFilterChain(const Expr& e, Value base, const ScopePtr& scope) {
  // The chain is nested with the first filter deepest in `a`; walk it iteratively (chains can be long).
  std::vector<const Expr*> chain;
  const Expr* node = &e;
  for (; node && node->kind == Expr::kFilter; node = node->a.get()) chain.push_back(node);
  if (node) base = Eval(*node, scope);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    Args args;
    EvalArgs((*it)->args, scope, args);
    line_ = (*it)->line;
    base = ApplyFilter(*this, (*it)->name, base, args);
  }
  return base;
}

Value Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  DepthGuard guard(this, e.line);
  switch (e.kind) {
    case Expr::kLiteral: return e.value;
    case Expr::kName: {
      Value* v = scope->Lookup(e.name);
      return v ? *v : Value::Undefined(e.name);
    }
    case Expr::kList:
    case Expr::kTuple: {
      List items;
      for (const auto& i : e.items) items.push_back(Eval(*i, scope));
      return Value::MakeList(std::move(items), e.kind == Expr::kList ? Kind::kList : Kind::kTuple);
    }
    case Expr::kDict: {
      Value d = Value::MakeDict();
      for (size_t k = 0; k + 1 < e.items.size(); k += 2) {
        Value key = Eval(*e.items[k], scope), v = Eval(*e.items[k + 1], scope);
        bool replaced = false;
        for (auto& [dk, dv] : *d.dict)
          if (Equal(dk, key)) {
            dv = v;
            replaced = true;
          }
        if (!replaced) d.dict->emplace_back(std::move(key), std::move(v));
      }
      return d;
    }
    case Expr::kGetAttr: {
      Value obj = Eval(*e.a, scope);
      line_ = e.line;
      if (obj.IsUndefined()) Throw("UndefinedError: '" + obj.s + "' is undefined");
      return GetAttr(obj, e.name);
    }
    case Expr::kGetItem: {
      Value obj = Eval(*e.a, scope);
      Value key = Eval(*e.b, scope);
      line_ = e.line;
      if (obj.IsUndefined()) Throw("UndefinedError: '" + obj.s + "' is undefined");
      return GetItem(obj, key);
    }
    case Expr::kSlice: {
      Value obj = Eval(*e.a, scope);
      std::optional<int64_t> parts[3];
      for (int k = 0; k < 3; ++k) {
        if (!e.items[k]) continue;
        Value p = Eval(*e.items[k], scope);
        if (p.kind == Kind::kNone) continue;
        if (p.kind != Kind::kInt && p.kind != Kind::kBool)
          Throw("TypeError: slice indices must be integers or None");
        parts[k] = p.kind == Kind::kBool ? p.b : p.i;
      }
      line_ = e.line;
      if (obj.IsUndefined()) Throw("UndefinedError: '" + obj.s + "' is undefined");
      if (obj.kind == Kind::kString) {
        std::u32string u = pystr::Decode(obj.s);
        std::u32string r;
        for (int64_t k : pystr::SliceIndices(int64_t(u.size()), parts[0], parts[1], parts[2])) r.push_back(u[k]);
        return Value::Str(pystr::Encode(r));
      }
      if (obj.kind == Kind::kList || obj.kind == Kind::kTuple) {
        List r;
        for (int64_t k : pystr::SliceIndices(int64_t(obj.list->size()), parts[0], parts[1], parts[2]))
          r.push_back((*obj.list)[k]);
        return Value::MakeList(std::move(r), obj.kind);
      }
      return Value::Undefined("'" + TypeName(obj) + " object' is not subscriptable");
    }
    case Expr::kUnary: {
      Value v = Eval(*e.a, scope);
      if (e.op == "not") return Value::Bool(!Truthy(v));
      if (v.kind == Kind::kInt || v.kind == Kind::kBool) {
        int64_t x = v.kind == Kind::kBool ? v.b : v.i;
        if (e.op == "-" && x == INT64_MIN) Throw("OverflowError: integer overflow");
        return Value::Int(e.op == "-" ? -x : x);
      }
      if (v.kind == Kind::kFloat) return Value::Float(e.op == "-" ? -v.f : v.f);
      if (v.IsUndefined()) Throw("UndefinedError: '" + v.s + "' is undefined");
      Throw("TypeError: bad operand type for unary " + e.op + ": '" + TypeName(v) + "'");
    }
    case Expr::kBinary: return EvalBinary(e, scope);
    case Expr::kCompare: return EvalCompare(e, scope);
    case Expr::kCond: {
      if (Truthy(Eval(*e.items[0], scope))) return Eval(*e.items[1], scope);
      if (e.items[2]) return Eval(*e.items[2], scope);
      return Value::Undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    }
    case Expr::kCall: {
      Value fn = Eval(*e.a, scope);
      Args args;
      EvalArgs(e.args, scope, args);
      line_ = e.line;
      return CallValue(fn, args);
    }
    case Expr::kFilter: return EvalFilterChain(e, Value(), scope);
    case Expr::kTest: {
      Value v = Eval(*e.a, scope);
      Args args;
      EvalArgs(e.args, scope, args);
      line_ = e.line;
      bool r = ApplyTest(*this, e.name, v, args);
      return Value::Bool(e.op == "not" ? !r : r);
    }
  }
  return Value();
}

Value Interpreter::EvalBinary(const Expr& e, const ScopePtr& scope) {
  if (e.op == "and") {
    Value a = Eval(*e.a, scope);
    return Truthy(a) ? Eval(*e.b, scope) : a;
  }
  if (e.op == "or") {
    Value a = Eval(*e.a, scope);
    return Truthy(a) ? a : Eval(*e.b, scope);
  }
  Value a = Eval(*e.a, scope);
  Value b = Eval(*e.b, scope);
  line_ = e.line;
  return Arithmetic(e.op, a, b, *this);
}

Value Interpreter::EvalCompare(const Expr& e, const ScopePtr& scope) {
  Value left = Eval(*e.items[0], scope);
  for (size_t k = 0; k < e.ops.size(); ++k) {
    Value right = Eval(*e.items[k + 1], scope);
    line_ = e.line;
    const std::string& op = e.ops[k];
    bool r;
    if (op == "==") r = Equal(left, right);
    else if (op == "!=") r = !Equal(left, right);
    else if (op == "in") r = Contains(right, left);
    else if (op == "not in") r = !Contains(right, left);
    else {
      int c = Compare(left, right);
      r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!r) return Value::Bool(false);
    left = std::move(right);
  }
  return Value::Bool(true);
}

}  // namespace seek::jinja
