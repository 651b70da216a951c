// jinja2's builtin filters and tests (jinja2/filters.py, jinja2/tests.py, behaviour as of 3.1) plus transformers'
// `tojson` override (json.dumps with ensure_ascii=False and key order kept). Filters that return generators in
// Python (map, select, reject, selectattr, rejectattr, unique, items, batch, reverse of a list) return
// Kind::kGenerator so that `| tojson` and `| length` fail the way they do in Python.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/pystr.h"

namespace seek::jinja {
namespace {

const char* const kFilters[] = {
    "trim", "tojson", "length", "count", "join", "first", "last", "list", "lower", "upper", "title",
    "capitalize", "replace", "default", "d", "safe", "string", "int", "float", "abs", "round", "map",
    "select", "reject", "selectattr", "rejectattr", "items", "dictsort", "sort", "unique", "reverse",
    "indent", "wordcount", "batch", "min", "max", "sum", "truncate", "center", "striptags", "escape", "e",
    "forceescape", "attr", "format", "tuple"};
const char* const kTests[] = {
    "defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "sequence", "iterable",
    "boolean", "true", "false", "even", "odd", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt",
    "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "callable", "lower",
    "upper", "escaped", "filter", "test"};

const Value* Arg(const Args& a, size_t i, const char* name) { return a.Get(i, name); }

bool ArgBool(const Args& a, size_t i, const char* name, bool def) {
  const Value* v = a.Get(i, name);
  return v ? Truthy(*v) : def;
}

int64_t ArgInt(const Args& a, size_t i, const char* name, int64_t def) {
  const Value* v = a.Get(i, name);
  if (!v) return def;
  if (v->kind == Kind::kInt) return v->i;
  if (v->kind == Kind::kBool) return v->b;
  if (v->kind == Kind::kFloat) return int64_t(v->f);
  Throw("TypeError: expected an integer argument, got " + TypeName(*v));
}

// environment.getitem for a dotted attribute path ("a.b", "0"), as make_attrgetter does.
Value AttrPath(const Value& item, const std::string& path) {
  Value cur = item;
  size_t b = 0;
  while (true) {
    size_t dot = path.find('.', b);
    std::string part = path.substr(b, dot == std::string::npos ? std::string::npos : dot - b);
    if (cur.IsUndefined()) return cur;
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = GetItem(cur, digits ? Value::Int(std::stoll(part)) : Value::Str(part));
    if (dot == std::string::npos) return cur;
    b = dot + 1;
  }
}

// Key used by sort/dictsort/unique/min/max: lowercased strings unless case_sensitive.
Value SortKey(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.kind == Kind::kString) return Value::Str(pystr::ToLower(v.s));
  return v;
}

Value Generator(List items) { return Value::MakeList(std::move(items), Kind::kGenerator); }

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::vector<std::u32string> SplitLines(const std::u32string& u) {
  std::vector<std::u32string> lines;
  std::u32string cur;
  for (size_t k = 0; k < u.size(); ++k) {
    char32_t c = u[k];
    bool brk = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e) || c == 0x85 ||
               c == 0x2028 || c == 0x2029;
    if (!brk) {
      cur.push_back(c);
      continue;
    }
    if (c == '\r' && k + 1 < u.size() && u[k + 1] == '\n') ++k;
    lines.push_back(std::move(cur));
    cur.clear();
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}

// jinja2's title filter: capitalise each piece after runs of [-\s({\[<].
std::string JinjaTitle(const std::string& s) {
  std::u32string u = pystr::Decode(s);
  bool start = true;
  for (auto& c : u) {
    bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || pystr::IsSpace(c);
    if (sep) {
      start = true;
      continue;
    }
    c = start ? pystr::Upper(c) : pystr::Lower(c);
    start = false;
  }
  return pystr::Encode(u);
}

bool IsWordChar(char32_t c) {
  if (c < 0x80) return std::isalnum(int(c)) || c == '_';
  return !pystr::IsSpace(c) && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f) &&
         !(c >= 0xff00 && c <= 0xff0f) && !(c >= 0xa0 && c <= 0xbf) && c != 0xd7 && c != 0xf7;
}

double PyRound(double x, int64_t digits) {
  if (!std::isfinite(x)) return x;
  if (digits == 0) return std::nearbyint(x);
  if (digits > 300 || digits < -300) return digits > 0 ? x : 0.0;
  if (digits > 0) {
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", int(digits), x);
    return std::strtod(buf, nullptr);
  }
  double p = std::pow(10.0, double(-digits));
  return std::nearbyint(x / p) * p;
}

Value Length(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return Value::Int(0);
    case Kind::kString: return Value::Int(pystr::Length(v.s));
    case Kind::kList:
    case Kind::kTuple: return Value::Int(int64_t(v.list->size()));
    case Kind::kDict:
    case Kind::kNamespace: return Value::Int(int64_t(v.dict->size()));
    default: Throw("TypeError: object of type '" + TypeName(v) + "' has no len()");
  }
}

}  // namespace

bool IsKnownFilter(const std::string& name) {
  for (const char* f : kFilters)
    if (name == f) return true;
  return false;
}

bool IsKnownTest(const std::string& name) {
  for (const char* t : kTests)
    if (name == t) return true;
  return false;
}

bool ApplyTest(Interpreter& in, const std::string& name, const Value& v, Args& a) {
  const Value* x = Arg(a, 0, "other");
  auto need = [&]() -> const Value& {
    if (!x) Throw("TypeError: test '" + name + "' needs an argument");
    return *x;
  };
  if (name == "defined") return !v.IsUndefined();
  if (name == "undefined") return v.IsUndefined();
  if (name == "none") return v.IsNone();
  if (name == "string") return v.kind == Kind::kString;
  if (name == "number") return v.IsNumber();
  if (name == "integer") return v.kind == Kind::kInt;
  if (name == "float") return v.kind == Kind::kFloat;
  if (name == "mapping") return v.kind == Kind::kDict;
  if (name == "sequence")
    return v.kind == Kind::kString || v.kind == Kind::kList || v.kind == Kind::kTuple || v.kind == Kind::kDict;
  if (name == "iterable")
    return v.kind == Kind::kString || v.IsSeq() || v.kind == Kind::kDict || v.IsUndefined();
  if (name == "boolean") return v.kind == Kind::kBool;
  if (name == "true") return v.kind == Kind::kBool && v.b;
  if (name == "false") return v.kind == Kind::kBool && !v.b;
  if (name == "callable") return v.kind == Kind::kCallable;
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    if (v.kind != Kind::kString) Throw("AttributeError: test '" + name + "' needs a string");
    Args none;
    return Truthy(GetAttr(v, name == "lower" ? "islower" : "isupper").fn->fn(in, none));
  }
  if (name == "filter") return x && x->kind == Kind::kString && IsKnownFilter(x->s);
  if (name == "test") return x && x->kind == Kind::kString && IsKnownTest(x->s);
  if (name == "even" || name == "odd") {
    if (v.kind != Kind::kInt && v.kind != Kind::kBool) {
      if (v.kind == Kind::kFloat) {
        double m = std::fmod(v.f, 2.0);
        if (m < 0) m += 2;
        return name == "even" ? m == 0 : m == 1;
      }
      Throw("TypeError: unsupported operand type(s) for %: '" + TypeName(v) + "' and 'int'");
    }
    int64_t n = v.kind == Kind::kBool ? v.b : v.i;
    bool even = ((n % 2) + 2) % 2 == 0;
    return name == "even" ? even : !even;
  }
  if (name == "divisibleby") {
    Value r = Arithmetic("%", v, need(), in);
    return Equal(r, Value::Int(0));
  }
  if (name == "eq" || name == "equalto" || name == "==") return Equal(v, need());
  if (name == "ne" || name == "!=") return !Equal(v, need());
  if (name == "lt" || name == "lessthan" || name == "<") return Compare(v, need()) < 0;
  if (name == "le" || name == "<=") return Compare(v, need()) <= 0;
  if (name == "gt" || name == "greaterthan" || name == ">") return Compare(v, need()) > 0;
  if (name == "ge" || name == ">=") return Compare(v, need()) >= 0;
  if (name == "in") return Contains(need(), v);
  if (name == "sameas") {
    const Value& o = need();
    if (v.kind != o.kind) return false;
    if (v.list || v.dict || v.fn) return v.list == o.list && v.dict == o.dict && v.fn == o.fn;
    return Equal(v, o);
  }
  Throw("No test named '" + name + "'.");
}

namespace {

// select/reject/selectattr/rejectattr: args after the leading ones name a test and its arguments.
Value SelectOrReject(Interpreter& in, const Value& v, Args& a, bool select, bool by_attr) {
  size_t k = 0;
  std::string attr;
  if (by_attr) {
    if (a.pos.empty() || a.pos[0].kind != Kind::kString) Throw("TypeError: selectattr needs an attribute name");
    attr = a.pos[0].s;
    k = 1;
  }
  std::string test;
  Args targs;
  if (k < a.pos.size()) {
    if (a.pos[k].kind != Kind::kString) Throw("TypeError: test name must be a string");
    test = a.pos[k].s;
    if (!IsKnownTest(test)) Throw("TemplateRuntimeError: No test named '" + test + "'.");
    targs.pos.assign(a.pos.begin() + k + 1, a.pos.end());
    targs.kw = a.kw;
  }
  List out;
  for (const Value& item : Iterate(v)) {
    Value subject = by_attr ? AttrPath(item, attr) : item;
    bool r = test.empty() ? Truthy(subject) : ApplyTest(in, test, subject, targs);
    if (r == select) out.push_back(item);
  }
  return Generator(std::move(out));
}

}  // namespace

Value ApplyFilter(Interpreter& in, const std::string& name, const Value& v, Args& a) {
  if (name == "default" || name == "d") {
    const Value* def = Arg(a, 0, "default_value");
    bool boolean = ArgBool(a, 1, "boolean", false);
    if (v.IsUndefined() || (boolean && !Truthy(v))) return def ? *def : Value::Str("");
    return v;
  }
  if (name == "tojson") {
    if (ArgBool(a, 0, "ensure_ascii", false)) Throw("tojson(ensure_ascii=True) is not supported");
    JsonOptions opt;
    const Value* indent = Arg(a, 1, "indent");
    if (indent && !indent->IsNone()) {
      opt.has_indent = true;
      if (indent->kind == Kind::kString) opt.indent = indent->s;
      else opt.indent = std::string(size_t(std::clamp<int64_t>(ArgInt(a, 1, "indent", 0), 0, 64)), ' ');
      opt.item_sep = ",";
    }
    const Value* seps = Arg(a, 2, "separators");
    if (seps && !seps->IsNone()) {
      if (!seps->IsSeq() || seps->list->size() != 2 || (*seps->list)[0].kind != Kind::kString ||
          (*seps->list)[1].kind != Kind::kString)
        Throw("TypeError: separators must be a pair of strings");
      opt.item_sep = (*seps->list)[0].s;
      opt.key_sep = (*seps->list)[1].s;
    }
    opt.sort_keys = ArgBool(a, 3, "sort_keys", false);
    std::string s = ToJson(v, opt);
    in.CheckSize(s.size());
    return Value::Str(std::move(s));
  }
  if (name == "length" || name == "count") return Length(v);
  if (name == "string" || name == "safe") return Value::Str(ToStr(v));
  if (name == "trim") {
    std::optional<std::string> chars;
    if (const Value* c = Arg(a, 0, "chars"); c && !c->IsNone()) chars = ToStr(*c);
    return Value::Str(pystr::Strip(ToStr(v), chars, true, true));
  }
  if (name == "lower") return Value::Str(pystr::ToLower(ToStr(v)));
  if (name == "upper") return Value::Str(pystr::ToUpper(ToStr(v)));
  if (name == "title") return Value::Str(JinjaTitle(ToStr(v)));
  if (name == "capitalize") return Value::Str(pystr::Capitalize(ToStr(v)));
  if (name == "escape" || name == "e" || name == "forceescape") return Value::Str(HtmlEscape(ToStr(v)));
  if (name == "replace") {
    const Value* from = Arg(a, 0, "old");
    const Value* to = Arg(a, 1, "new");
    if (!from || !to) Throw("TypeError: replace() needs old and new");
    const Value* count = Arg(a, 2, "count");
    std::string r = pystr::Replace(ToStr(v), ToStr(*from), ToStr(*to),
                                   count && !count->IsNone() ? ArgInt(a, 2, "count", -1) : -1);
    in.CheckSize(r.size());
    return Value::Str(std::move(r));
  }
  if (name == "join") {
    const Value* sep = Arg(a, 0, "d");
    const Value* attr = Arg(a, 1, "attribute");
    std::string out, s = sep ? ToStr(*sep) : "";
    bool first = true;
    for (const Value& item : Iterate(v)) {
      if (!first) out += s;
      first = false;
      out += ToStr(attr && !attr->IsNone() ? AttrPath(item, ToStr(*attr)) : item);
      in.CheckSize(out.size());
    }
    return Value::Str(std::move(out));
  }
  if (name == "first" || name == "last") {
    List items = Iterate(v);
    if (items.empty()) return Value::Undefined(std::string("No ") + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list" || name == "tuple") return Value::MakeList(Iterate(v), name == "list" ? Kind::kList : Kind::kTuple);
  if (name == "int") {
    const Value* def = Arg(a, 0, "default");
    Value d = def ? *def : Value::Int(0);
    if (v.kind == Kind::kInt) return v;
    if (v.kind == Kind::kBool) return Value::Int(v.b);
    if (v.kind == Kind::kFloat) return std::isfinite(v.f) ? Value::Int(int64_t(v.f)) : d;
    if (v.kind == Kind::kString) {
      std::string s = pystr::Strip(v.s, std::nullopt, true, true);
      std::string clean;
      for (char c : s)
        if (c != '_') clean.push_back(c);
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(clean.c_str(), &end, 10);
      if (!clean.empty() && *end == 0 && errno == 0) return Value::Int(n);
      double f = std::strtod(clean.c_str(), &end);
      if (!clean.empty() && *end == 0 && std::isfinite(f)) return Value::Int(int64_t(f));
    }
    return d;
  }
  if (name == "float") {
    const Value* def = Arg(a, 0, "default");
    if (v.IsNumber()) return Value::Float(v.AsDouble());
    if (v.kind == Kind::kString) {
      std::string s = pystr::Strip(v.s, std::nullopt, true, true);
      char* end = nullptr;
      double f = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == 0) return Value::Float(f);
    }
    return def ? *def : Value::Float(0);
  }
  if (name == "abs") {
    if (v.kind == Kind::kInt) {
      if (v.i == INT64_MIN) Throw("OverflowError: integer overflow");
      return Value::Int(v.i < 0 ? -v.i : v.i);
    }
    if (v.kind == Kind::kBool) return Value::Int(v.b);
    if (v.kind == Kind::kFloat) return Value::Float(std::fabs(v.f));
    Throw("TypeError: bad operand type for abs(): '" + TypeName(v) + "'");
  }
  if (name == "round") {
    int64_t precision = ArgInt(a, 0, "precision", 0);
    const Value* m = Arg(a, 1, "method");
    std::string method = m ? ToStr(*m) : "common";
    if (!v.IsNumber()) Throw("TypeError: type " + TypeName(v) + " doesn't define __round__ method");
    if (method == "common") {
      if (v.kind != Kind::kFloat) return Value::Int(v.kind == Kind::kBool ? v.b : v.i);
      return Value::Float(PyRound(v.f, precision));
    }
    if (method != "floor" && method != "ceil") Throw("TypeError: method must be common, ceil or floor");
    double p = std::pow(10.0, double(precision));
    double x = v.AsDouble() * p;
    return Value::Float((method == "floor" ? std::floor(x) : std::ceil(x)) / p);
  }
  if (name == "map") {
    List out;
    if (const Value* attr = Arg(a, 99, "attribute")) {
      const Value* def = Arg(a, 99, "default");
      for (const Value& item : Iterate(v)) {
        Value r = AttrPath(item, ToStr(*attr));
        out.push_back(r.IsUndefined() && def ? *def : r);
      }
      return Generator(std::move(out));
    }
    if (a.pos.empty() || a.pos[0].kind != Kind::kString) Throw("TypeError: map() needs a filter name or attribute=");
    std::string filter = a.pos[0].s;
    if (!IsKnownFilter(filter)) Throw("TemplateRuntimeError: No filter named '" + filter + "'.");
    Args fargs;
    fargs.pos.assign(a.pos.begin() + 1, a.pos.end());
    fargs.kw = a.kw;
    for (const Value& item : Iterate(v)) out.push_back(ApplyFilter(in, filter, item, fargs));
    return Generator(std::move(out));
  }
  if (name == "select" || name == "reject") return SelectOrReject(in, v, a, name == "select", false);
  if (name == "selectattr" || name == "rejectattr") return SelectOrReject(in, v, a, name == "selectattr", true);
  if (name == "items") {
    if (v.IsUndefined()) return Generator({});
    if (v.kind != Kind::kDict) Throw("TypeError: Can only get item pairs from a mapping.");
    List out;
    for (const auto& [k, x] : *v.dict) out.push_back(Value::MakeList({k, x}, Kind::kTuple));
    return Generator(std::move(out));
  }
  if (name == "dictsort") {
    if (v.kind != Kind::kDict) Throw("TypeError: dictsort needs a mapping");
    bool cs = ArgBool(a, 0, "case_sensitive", false);
    const Value* by = Arg(a, 1, "by");
    bool by_value = by && ToStr(*by) == "value";
    bool reverse = ArgBool(a, 2, "reverse", false);
    List out;
    for (const auto& [k, x] : *v.dict) out.push_back(Value::MakeList({k, x}, Kind::kTuple));
    std::stable_sort(out.begin(), out.end(), [&](const Value& p, const Value& q) {
      int c = Compare(SortKey((*p.list)[by_value], cs), SortKey((*q.list)[by_value], cs));
      return reverse ? c > 0 : c < 0;
    });
    return Value::MakeList(std::move(out));
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max") {
    bool is_sort = name == "sort";
    bool reverse = is_sort && ArgBool(a, 0, "reverse", false);
    bool cs = ArgBool(a, is_sort ? 1 : 0, "case_sensitive", false);
    const Value* attr = Arg(a, is_sort ? 2 : 1, "attribute");
    auto key = [&](const Value& x) {
      return SortKey(attr && !attr->IsNone() ? AttrPath(x, ToStr(*attr)) : x, cs);
    };
    List items = Iterate(v);
    if (name == "unique") {
      List out, seen;
      for (const Value& x : items) {
        Value k = key(x);
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return Equal(s, k); })) {
          seen.push_back(k);
          out.push_back(x);
        }
      }
      return Generator(std::move(out));
    }
    if (name == "min" || name == "max") {
      if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
      size_t best = 0;
      for (size_t k = 1; k < items.size(); ++k) {
        int c = Compare(key(items[k]), key(items[best]));
        if (name == "min" ? c < 0 : c > 0) best = k;
      }
      return items[best];
    }
    std::stable_sort(items.begin(), items.end(), [&](const Value& p, const Value& q) {
      int c = Compare(key(p), key(q));
      return reverse ? c > 0 : c < 0;
    });
    return Value::MakeList(std::move(items));
  }
  if (name == "reverse") {
    if (v.kind == Kind::kString) {
      std::u32string u = pystr::Decode(v.s);
      std::reverse(u.begin(), u.end());
      return Value::Str(pystr::Encode(u));
    }
    List items = Iterate(v);
    std::reverse(items.begin(), items.end());
    return Generator(std::move(items));
  }
  if (name == "sum") {
    const Value* attr = Arg(a, 0, "attribute");
    const Value* start = Arg(a, 1, "start");
    Value total = start ? *start : Value::Int(0);
    for (const Value& x : Iterate(v))
      total = Arithmetic("+", total, attr && !attr->IsNone() ? AttrPath(x, ToStr(*attr)) : x, in);
    return total;
  }
  if (name == "batch") {
    int64_t n = ArgInt(a, 0, "linecount", 1);
    if (n <= 0) Throw("ValueError: batch size must be positive");
    const Value* fill = Arg(a, 1, "fill_with");
    List out, cur;
    for (const Value& x : Iterate(v)) {
      cur.push_back(x);
      if (int64_t(cur.size()) == n) {
        out.push_back(Value::MakeList(std::move(cur)));
        cur.clear();
      }
    }
    if (!cur.empty()) {
      if (fill && !fill->IsNone())
        while (int64_t(cur.size()) < n) cur.push_back(*fill);
      out.push_back(Value::MakeList(std::move(cur)));
    }
    return Generator(std::move(out));
  }
  if (name == "indent") {
    const Value* w = Arg(a, 0, "width");
    std::string unit = w && w->kind == Kind::kString ? w->s : std::string(size_t(std::clamp<int64_t>(ArgInt(a, 0, "width", 4), 0, 1024)), ' ');
    bool first = ArgBool(a, 1, "first", false), blank = ArgBool(a, 2, "blank", false);
    std::vector<std::u32string> lines = SplitLines(pystr::Decode(ToStr(v) + "\n"));
    std::string rv;
    for (size_t k = 0; k < lines.size(); ++k) {
      std::string line = pystr::Encode(lines[k]);
      if (k > 0) rv += "\n" + ((blank || !line.empty()) ? unit : "");
      rv += line;
      in.CheckSize(rv.size());
    }
    if (first) rv = unit + rv;
    return Value::Str(std::move(rv));
  }
  if (name == "wordcount") {
    int64_t n = 0;
    bool in_word = false;
    for (char32_t c : pystr::Decode(ToStr(v))) {
      bool w = IsWordChar(c);
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value::Int(n);
  }
  if (name == "truncate") {
    std::u32string u = pystr::Decode(ToStr(v));
    int64_t length = ArgInt(a, 0, "length", 255);
    bool killwords = ArgBool(a, 1, "killwords", false);
    const Value* e = Arg(a, 2, "end");
    std::u32string end = pystr::Decode(e ? ToStr(*e) : "...");
    int64_t leeway = ArgInt(a, 3, "leeway", 5);
    if (int64_t(u.size()) <= length + leeway) return v.kind == Kind::kString ? v : Value::Str(ToStr(v));
    int64_t cut = std::max<int64_t>(0, length - int64_t(end.size()));
    std::u32string head = u.substr(0, size_t(std::min<int64_t>(cut, int64_t(u.size()))));
    if (!killwords) {
      size_t sp = head.rfind(U' ');
      if (sp != std::u32string::npos) head = head.substr(0, sp);
    }
    return Value::Str(pystr::Encode(head + end));
  }
  if (name == "center") {
    std::string s = ToStr(v);
    int64_t width = ArgInt(a, 0, "width", 80), n = pystr::Length(s);
    if (width <= n) return Value::Str(s);
    in.CheckSize(size_t(width));
    int64_t marg = width - n, left = marg / 2 + (marg & width & 1);
    return Value::Str(std::string(size_t(left), ' ') + s + std::string(size_t(marg - left), ' '));
  }
  if (name == "striptags") {
    std::string s = ToStr(v), out;
    for (size_t k = 0; k < s.size();) {
      if (s.compare(k, 4, "<!--") == 0) {
        size_t e = s.find("-->", k + 4);
        if (e == std::string::npos) { out += s.substr(k); break; }
        k = e + 3;
      } else if (s[k] == '<' && s.find('>', k) != std::string::npos) {
        k = s.find('>', k) + 1;
      } else {
        out.push_back(s[k++]);
      }
    }
    std::string joined;
    for (const auto& w : pystr::Split(out, std::nullopt, -1)) joined += (joined.empty() ? "" : " ") + w;
    for (auto [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"},
                            {"&#34;", "\""}, {"&amp;", "&"}})
      joined = pystr::Replace(joined, from, to, -1);
    return Value::Str(joined);
  }
  if (name == "attr") {
    const Value* n = Arg(a, 0, "name");
    if (!n) Throw("TypeError: attr() needs a name");
    if (v.IsUndefined()) Throw("UndefinedError: '" + v.s + "' is undefined");
    if (v.kind == Kind::kDict) {  // attribute only (methods), never an item
      Value m = GetAttr(v, ToStr(*n));
      if (m.kind == Kind::kCallable) return m;
      return Value::Undefined("'dict object' has no attribute '" + ToStr(*n) + "'");
    }
    return GetAttr(v, ToStr(*n));
  }
  if (name == "format") {
    Value args = Value::MakeList(a.pos, Kind::kTuple);
    return Value::Str(PercentFormat(ToStr(v), args));
  }
  Throw("No filter named '" + name + "'.");
}

}  // namespace seek::jinja
