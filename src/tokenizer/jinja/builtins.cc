// Globals, attribute/item access, Python methods and arithmetic. Filters and tests are in filters.cc.
#include "tokenizer/jinja/builtins.h"

#include <cmath>
#include <ctime>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/pystr.h"

namespace seek::jinja {
namespace {

[[noreturn]] void Undef(const Value& v) { Throw("UndefinedError: '" + v.s + "' is undefined"); }

const std::string& ArgStr(const Args& a, size_t i, const char* name, const std::string& method) {
  const Value* v = a.Get(i, name);
  if (!v) Throw("TypeError: " + method + "() missing argument '" + name + "'");
  if (v->kind != Kind::kString) Throw("TypeError: " + method + "() argument must be str, not " + TypeName(*v));
  return v->s;
}

std::optional<std::string> OptStr(const Args& a, size_t i, const char* name) {
  const Value* v = a.Get(i, name);
  if (!v || v->kind == Kind::kNone) return std::nullopt;
  if (v->kind != Kind::kString) Throw("TypeError: expected str, not " + TypeName(*v));
  return v->s;
}

int64_t OptInt(const Args& a, size_t i, const char* name, int64_t def) {
  const Value* v = a.Get(i, name);
  if (!v) return def;
  if (v->kind == Kind::kBool) return v->b;
  if (v->kind != Kind::kInt) Throw("TypeError: expected int, not " + TypeName(*v));
  return v->i;
}

Value StrList(const std::vector<std::string>& parts) {
  List l;
  for (const auto& p : parts) l.push_back(Value::Str(p));
  return Value::MakeList(std::move(l));
}

// str.startswith/endswith accept a str or a tuple of str.
bool AffixMatch(const std::string& s, const Value& arg, bool prefix) {
  auto one = [&](const Value& x) {
    if (x.kind != Kind::kString) Throw("TypeError: startswith/endswith argument must be str or tuple of str");
    if (x.s.size() > s.size()) return false;
    return prefix ? s.compare(0, x.s.size(), x.s) == 0 : s.compare(s.size() - x.s.size(), x.s.size(), x.s) == 0;
  };
  if (arg.kind == Kind::kTuple) {
    for (const Value& x : *arg.list)
      if (one(x)) return true;
    return false;
  }
  return one(arg);
}

std::string StrFormatMethod(const std::string& fmt, const Args& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t k = 0; k < fmt.size(); ++k) {
    char c = fmt[k];
    if (c == '{') {
      if (k + 1 < fmt.size() && fmt[k + 1] == '{') {
        out.push_back('{');
        ++k;
        continue;
      }
      size_t close = fmt.find('}', k);
      if (close == std::string::npos) Throw("ValueError: Single '{' encountered in format string");
      std::string field = fmt.substr(k + 1, close - k - 1);
      if (field.find_first_of(":!") != std::string::npos) Throw("str.format specs are not supported");
      const Value* v = nullptr;
      if (field.empty()) {
        v = a.Get(auto_index++, "");
      } else if (std::isdigit((unsigned char)field[0])) {
        v = a.Get(std::stoul(field), "");
      } else {
        for (const auto& [kk, vv] : a.kw)
          if (kk == field) v = &vv;
      }
      if (!v) Throw("IndexError: Replacement index out of range for positional args tuple");
      out += ToStr(*v);
      k = close;
    } else if (c == '}') {
      if (k + 1 < fmt.size() && fmt[k + 1] == '}') ++k;
      out.push_back('}');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Value Method(const Value& obj, const std::string& name,
             std::function<Value(const Value& self, Interpreter& in, Args& a)> fn) {
  return Value::Function(name, [obj, fn = std::move(fn)](Interpreter& in, Args& a) { return fn(obj, in, a); });
}

Value StrMethod(const Value& obj, const std::string& name) {
  static const char* kNames[] = {"strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith",
                                 "replace", "lower", "upper", "title", "capitalize", "find", "count", "join",
                                 "format", "splitlines", "isdigit", "isalpha", "isspace", "islower", "isupper"};
  bool known = false;
  for (const char* n : kNames) known |= name == n;
  if (!known) return Value::Undefined("'str object' has no attribute '" + name + "'");
  return Method(obj, name, [name](const Value& self, Interpreter& in, Args& a) -> Value {
    const std::string& s = self.s;
    if (name == "strip" || name == "lstrip" || name == "rstrip")
      return Value::Str(pystr::Strip(s, OptStr(a, 0, "chars"), name != "rstrip", name != "lstrip"));
    if (name == "split") return StrList(pystr::Split(s, OptStr(a, 0, "sep"), OptInt(a, 1, "maxsplit", -1)));
    if (name == "rsplit") return StrList(pystr::RSplit(s, OptStr(a, 0, "sep"), OptInt(a, 1, "maxsplit", -1)));
    if (name == "startswith" || name == "endswith") {
      const Value* p = a.Get(0, "prefix");
      if (!p) Throw("TypeError: " + name + "() takes at least 1 argument (0 given)");
      return Value::Bool(AffixMatch(s, *p, name == "startswith"));
    }
    if (name == "replace") {
      std::string r = pystr::Replace(s, ArgStr(a, 0, "old", name), ArgStr(a, 1, "new", name),
                                     OptInt(a, 2, "count", -1));
      in.CheckSize(r.size());
      return Value::Str(std::move(r));
    }
    if (name == "lower") return Value::Str(pystr::ToLower(s));
    if (name == "upper") return Value::Str(pystr::ToUpper(s));
    if (name == "title") return Value::Str(pystr::Title(s));
    if (name == "capitalize") return Value::Str(pystr::Capitalize(s));
    if (name == "find") return Value::Int(pystr::Find(s, ArgStr(a, 0, "sub", name)));
    if (name == "count") return Value::Int(pystr::Count(s, ArgStr(a, 0, "sub", name)));
    if (name == "join") {
      const Value* it = a.Get(0, "iterable");
      if (!it) Throw("TypeError: join() takes exactly one argument (0 given)");
      std::string out;
      bool first = true;
      for (const Value& v : Iterate(*it)) {
        if (v.kind != Kind::kString) Throw("TypeError: sequence item: expected str instance, " + TypeName(v) + " found");
        if (!first) out += s;
        first = false;
        out += v.s;
        in.CheckSize(out.size());
      }
      return Value::Str(std::move(out));
    }
    if (name == "format") return Value::Str(StrFormatMethod(s, a));
    if (name == "splitlines") {
      std::vector<std::string> lines;
      size_t b = 0;
      for (size_t k = 0; k < s.size(); ++k)
        if (s[k] == '\n' || s[k] == '\r') {
          lines.push_back(s.substr(b, k - b));
          if (s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
          b = k + 1;
        }
      if (b < s.size()) lines.push_back(s.substr(b));
      return StrList(lines);
    }
    std::u32string u = pystr::Decode(s);
    bool all = !u.empty(), any_cased = false;
    for (char32_t c : u) {
      if (name == "isdigit") all &= c >= '0' && c <= '9';
      if (name == "isalpha") all &= pystr::IsCased(c);
      if (name == "isspace") all &= pystr::IsSpace(c);
      if (name == "islower") { all &= pystr::Upper(c) == c || pystr::Lower(c) == c; any_cased |= pystr::Lower(c) == c && pystr::Upper(c) != c; }
      if (name == "isupper") { all &= pystr::Upper(c) == c || pystr::Lower(c) == c; any_cased |= pystr::Upper(c) == c && pystr::Lower(c) != c; }
    }
    if (name == "islower" || name == "isupper") return Value::Bool(all && any_cased);
    return Value::Bool(all);
  });
}

Value DictMethod(const Value& obj, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return Method(obj, name, [name](const Value& self, Interpreter&, Args&) {
      List out;
      for (const auto& [k, v] : *self.dict) {
        if (name == "items") out.push_back(Value::MakeList({k, v}, Kind::kTuple));
        else out.push_back(name == "keys" ? k : v);
      }
      return Value::MakeList(std::move(out));
    });
  }
  if (name == "get") {
    return Method(obj, name, [](const Value& self, Interpreter&, Args& a) {
      const Value* key = a.Get(0, "key");
      if (!key) Throw("TypeError: get expected at least 1 argument, got 0");
      const Value* v = self.Find(*key);
      if (v) return *v;
      const Value* def = a.Get(1, "default");
      return def ? *def : Value::None();
    });
  }
  if (name == "copy") return Method(obj, name, [](const Value& self, Interpreter&, Args&) {
      return Value::MakeDict(*self.dict);
    });
  static const char* kUnsafe[] = {"update", "pop", "popitem", "setdefault", "clear", "__setitem__"};
  for (const char* n : kUnsafe)
    if (name == n)
      return Value::Function(name, [name](Interpreter&, Args&) -> Value {
        Throw("SecurityError: access to attribute '" + name + "' of 'dict' object is unsafe.");
      });
  return Value::Undefined("'dict object' has no attribute '" + name + "'");
}

Value ListMethod(const Value& obj, const std::string& name) {
  if (name == "index" || name == "count") {
    return Method(obj, name, [name](const Value& self, Interpreter&, Args& a) {
      const Value* x = a.Get(0, "value");
      if (!x) Throw("TypeError: " + name + "() takes exactly one argument (0 given)");
      int64_t count = 0;
      for (size_t k = 0; k < self.list->size(); ++k)
        if (Equal((*self.list)[k], *x)) {
          if (name == "index") return Value::Int(int64_t(k));
          ++count;
        }
      if (name == "index") Throw("ValueError: " + Repr(*x) + " is not in list");
      return Value::Int(count);
    });
  }
  static const char* kUnsafe[] = {"append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear"};
  for (const char* n : kUnsafe)
    if (name == n && obj.kind == Kind::kList)
      return Value::Function(name, [name](Interpreter&, Args&) -> Value {
        Throw("SecurityError: access to attribute '" + name + "' of 'list' object is unsafe.");
      });
  return Value::Undefined("'" + TypeName(obj) + " object' has no attribute '" + name + "'");
}

int64_t ToIndex(const Value& key) { return key.kind == Kind::kBool ? key.b : key.i; }

}  // namespace

Value GetAttr(const Value& obj, const std::string& name) {
  switch (obj.kind) {
    case Kind::kDict: {
      Value m = DictMethod(obj, name);
      if (!m.IsUndefined()) return m;
      const Value* v = obj.Find(name);
      return v ? *v : Value::Undefined("'dict object' has no attribute '" + name + "'");
    }
    case Kind::kNamespace: {
      const Value* v = obj.Find(name);
      return v ? *v : Value::Undefined("'Namespace object' has no attribute '" + name + "'");
    }
    case Kind::kString: return StrMethod(obj, name);
    case Kind::kList:
    case Kind::kTuple: return ListMethod(obj, name);
    case Kind::kUndefined: Undef(obj);
    default: return Value::Undefined("'" + TypeName(obj) + " object' has no attribute '" + name + "'");
  }
}

Value GetItem(const Value& obj, const Value& key) {
  switch (obj.kind) {
    case Kind::kDict:
    case Kind::kNamespace: {
      const Value* v = obj.Find(key);
      if (v) return *v;
      if (key.kind == Kind::kString && obj.kind == Kind::kDict) return GetAttr(obj, key.s);
      return Value::Undefined("'dict object' has no attribute " + Repr(key));
    }
    case Kind::kList:
    case Kind::kTuple:
    case Kind::kString: {
      if (key.kind == Kind::kString) return GetAttr(obj, key.s);
      if (key.kind != Kind::kInt && key.kind != Kind::kBool)
        return Value::Undefined("'" + TypeName(obj) + " object' has no attribute " + Repr(key));
      int64_t idx = ToIndex(key);
      if (obj.kind == Kind::kString) {
        std::u32string u = pystr::Decode(obj.s);
        int64_t n = int64_t(u.size());
        if (idx < 0) idx += n;
        if (idx < 0 || idx >= n) return Value::Undefined("string index out of range");
        std::string out;
        pystr::AppendUtf8(out, u[idx]);
        return Value::Str(std::move(out));
      }
      int64_t n = int64_t(obj.list->size());
      if (idx < 0) idx += n;
      if (idx < 0 || idx >= n) return Value::Undefined("list index out of range");
      return (*obj.list)[idx];
    }
    case Kind::kUndefined: Undef(obj);
    default: return Value::Undefined("'" + TypeName(obj) + " object' is not subscriptable");
  }
}

bool Contains(const Value& c, const Value& key) {
  switch (c.kind) {
    case Kind::kString:
      if (key.kind != Kind::kString)
        Throw("TypeError: 'in <string>' requires string as left operand, not " + TypeName(key));
      return c.s.find(key.s) != std::string::npos;
    case Kind::kList:
    case Kind::kTuple:
    case Kind::kGenerator:
      for (const Value& v : *c.list)
        if (Equal(v, key)) return true;
      return false;
    case Kind::kDict: return c.Find(key) != nullptr;
    case Kind::kUndefined: return false;
    default: Throw("TypeError: argument of type '" + TypeName(c) + "' is not iterable");
  }
}

Dict MakeGlobals() {
  Dict g;
  g.emplace_back(Value::Str("range"), Value::Function("range", [](Interpreter& in, Args& a) {
    int64_t start = 0, stop, step = 1;
    auto num = [](const Value& v) {
      if (v.kind == Kind::kBool) return int64_t(v.b);
      if (v.kind != Kind::kInt) Throw("TypeError: '" + TypeName(v) + "' object cannot be interpreted as an integer");
      return v.i;
    };
    if (a.pos.size() == 1) {
      stop = num(a.pos[0]);
    } else if (a.pos.size() == 2 || a.pos.size() == 3) {
      start = num(a.pos[0]);
      stop = num(a.pos[1]);
      if (a.pos.size() == 3) step = num(a.pos[2]);
    } else {
      Throw("TypeError: range expected 1 to 3 arguments");
    }
    if (step == 0) Throw("ValueError: range() arg 3 must not be zero");
    // Sandboxed range: at most 100000 items (jinja2.sandbox.MAX_RANGE).
    double count = std::ceil((double(stop) - double(start)) / double(step));
    if (count > 100000) Throw("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    in.CountIterations(count > 0 ? int64_t(count) : 0);
    List out;
    for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) out.push_back(Value::Int(k));
    return Value::MakeList(std::move(out));
  }));
  auto make_ns = [](Kind kind) {
    return [kind](Interpreter&, Args& a) {
      Dict d;
      for (const Value& p : a.pos) {
        if (p.kind != Kind::kDict) Throw("TypeError: namespace()/dict() positional argument must be a dict");
        for (const auto& kv : *p.dict) d.push_back(kv);
      }
      for (auto& [k, v] : a.kw) {
        bool replaced = false;
        for (auto& [dk, dv] : d)
          if (dk.kind == Kind::kString && dk.s == k) {
            dv = v;
            replaced = true;
          }
        if (!replaced) d.emplace_back(Value::Str(k), v);
      }
      return Value::MakeDict(std::move(d), kind);
    };
  };
  g.emplace_back(Value::Str("namespace"), Value::Function("namespace", make_ns(Kind::kNamespace)));
  g.emplace_back(Value::Str("dict"), Value::Function("dict", make_ns(Kind::kDict)));
  g.emplace_back(Value::Str("raise_exception"), Value::Function("raise_exception", [](Interpreter&, Args& a) -> Value {
    const Value* m = a.Get(0, "message");
    Throw(m ? ToStr(*m) : std::string());
  }));
  g.emplace_back(Value::Str("strftime_now"), Value::Function("strftime_now", [](Interpreter&, Args& a) {
    const Value* f = a.Get(0, "format");
    if (!f || f->kind != Kind::kString) Throw("TypeError: strftime_now() needs a format string");
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[512];
    size_t n = std::strftime(buf, sizeof(buf), f->s.c_str(), &tm);
    return Value::Str(std::string(buf, n));
  }));
  return g;
}

std::string PercentFormat(const std::string& fmt, const Value& args) {
  List items = args.kind == Kind::kTuple ? *args.list : List{args};
  size_t next = 0;
  std::string out;
  for (size_t k = 0; k < fmt.size(); ++k) {
    if (fmt[k] != '%') {
      out.push_back(fmt[k]);
      continue;
    }
    if (++k >= fmt.size()) Throw("ValueError: incomplete format");
    char c = fmt[k];
    if (c == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= items.size()) Throw("TypeError: not enough arguments for format string");
    const Value& v = items[next++];
    if (c == 's') out += ToStr(v);
    else if (c == 'r') out += Repr(v);
    else if (c == 'd' || c == 'i') {
      if (!v.IsNumber()) Throw("TypeError: %d format: a real number is required, not " + TypeName(v));
      out += std::to_string(v.kind == Kind::kFloat ? int64_t(v.f) : v.kind == Kind::kBool ? v.b : v.i);
    } else if (c == 'f') {
      if (!v.IsNumber()) Throw("TypeError: must be real number, not " + TypeName(v));
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%f", v.AsDouble());
      out += buf;
    } else {
      Throw(std::string("ValueError: unsupported format character '") + c + "'");
    }
  }
  if (next < items.size() && args.kind == Kind::kTuple)
    Throw("TypeError: not all arguments converted during string formatting");
  return out;
}

}  // namespace seek::jinja
