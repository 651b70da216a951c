#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja/pystr.h"

namespace seek::jinja {

void Throw(const std::string& msg) { throw TemplateError(msg); }

const Value* Args::Get(size_t index, const char* name) const {
  if (index < pos.size()) return &pos[index];
  for (const auto& [k, v] : kw)
    if (k == name) return &v;
  return nullptr;
}

Value Value::MakeList(List items, Kind kind) {
  Value v;
  v.kind = kind;
  v.list = std::make_shared<List>(std::move(items));
  return v;
}

Value Value::MakeDict(Dict items, Kind kind) {
  Value v;
  v.kind = kind;
  v.dict = std::make_shared<Dict>(std::move(items));
  return v;
}

Value Value::Function(std::string name, NativeFn fn) {
  Value v;
  v.kind = Kind::kCallable;
  v.fn = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

Value Value::FromJson(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return None();
    case nlohmann::json::value_t::boolean: return Bool(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return Int(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      // TODO: Python ints are unbounded; values above int64 become floats here.
      return u <= uint64_t(INT64_MAX) ? Int(int64_t(u)) : Float(double(u));
    }
    case nlohmann::json::value_t::number_float: return Float(j.get<double>());
    case nlohmann::json::value_t::string: return Str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(FromJson(e));
      return MakeList(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict items;
      items.reserve(j.size());
      for (const auto& [k, e] : j.items()) items.emplace_back(Str(k), FromJson(e));
      return MakeDict(std::move(items));
    }
    default: return None();
  }
}

const Value* Value::Find(const Value& key) const {
  if (!dict) return nullptr;
  for (const auto& [k, v] : *dict)
    if (Equal(k, key)) return &v;
  return nullptr;
}

const Value* Value::Find(const std::string& key) const {
  if (!dict) return nullptr;
  for (const auto& [k, v] : *dict)
    if (k.kind == Kind::kString && k.s == key) return &v;
  return nullptr;
}

bool Truthy(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return v.b;
    case Kind::kInt: return v.i != 0;
    case Kind::kFloat: return v.f != 0;
    case Kind::kString: return !v.s.empty();
    case Kind::kList:
    case Kind::kTuple: return !v.list->empty();
    case Kind::kDict: return !v.dict->empty();
    default: return true;
  }
}

bool Equal(const Value& a, const Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat)
      return (a.kind == Kind::kBool ? a.b : a.i) == (b.kind == Kind::kBool ? b.b : b.i);
    return a.AsDouble() == b.AsDouble();
  }
  if (a.kind != b.kind) return false;  // e.g. [1] != (1,) in Python
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return a.s == b.s;
    case Kind::kList:
    case Kind::kTuple: {
      if (a.list->size() != b.list->size()) return false;
      for (size_t k = 0; k < a.list->size(); ++k)
        if (!Equal((*a.list)[k], (*b.list)[k])) return false;
      return true;
    }
    case Kind::kDict: {
      if (a.dict->size() != b.dict->size()) return false;
      for (const auto& [k, v] : *a.dict) {
        const Value* o = b.Find(k);
        if (!o || !Equal(v, *o)) return false;
      }
      return true;
    }
    case Kind::kNamespace: return a.dict == b.dict;
    case Kind::kGenerator: return a.list == b.list;
    case Kind::kCallable: return a.fn == b.fn;
    default: return false;
  }
}

int Compare(const Value& a, const Value& b) {
  if (a.IsNumber() && b.IsNumber()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      int64_t x = a.kind == Kind::kBool ? a.b : a.i, y = b.kind == Kind::kBool ? b.b : b.i;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = a.AsDouble(), y = b.AsDouble();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind == Kind::kString && b.kind == Kind::kString) {
    // UTF-8 byte order equals code point order.
    int c = a.s.compare(b.s);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.kind == b.kind && (a.kind == Kind::kList || a.kind == Kind::kTuple)) {
    size_t n = std::min(a.list->size(), b.list->size());
    for (size_t k = 0; k < n; ++k) {
      if (Equal((*a.list)[k], (*b.list)[k])) continue;
      return Compare((*a.list)[k], (*b.list)[k]);
    }
    return a.list->size() < b.list->size() ? -1 : a.list->size() > b.list->size() ? 1 : 0;
  }
  if (a.IsUndefined() || b.IsUndefined()) Throw("UndefinedError: '" + (a.IsUndefined() ? a.s : b.s) +
                                                "' is undefined");
  Throw("TypeError: '<' not supported between instances of '" + TypeName(a) + "' and '" + TypeName(b) + "'");
}

std::string TypeName(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kGenerator: return "generator";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kCallable: return "function";
  }
  return "object";
}

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci: [-]D[.DDD]e[+-]XX
  bool neg = sci[0] == '-';
  size_t epos = sci.find('e');
  std::string mant = sci.substr(neg ? 1 : 0, epos - (neg ? 1 : 0));
  int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits.push_back(c);
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    int point = exp + 1;  // digits before the decimal point
    if (point <= 0) {
      out += "0." + std::string(-point, '0') + digits;
    } else if (point >= int(digits.size())) {
      out += digits + std::string(point - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, point) + "." + digits.substr(point);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char e[16];
  std::snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + e;
}

namespace {

std::string StrRepr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (char32_t c : pystr::Decode(s)) {
    if (c == char32_t(q) || c == '\\') {
      out.push_back('\\');
      out.push_back(char(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (!pystr::IsPrintable(c)) {
      char buf[16];
      if (c < 0x100)
        std::snprintf(buf, sizeof(buf), "\\x%02x", unsigned(c));
      else if (c < 0x10000)
        std::snprintf(buf, sizeof(buf), "\\u%04x", unsigned(c));
      else
        std::snprintf(buf, sizeof(buf), "\\U%08x", unsigned(c));
      out += buf;
    } else {
      pystr::AppendUtf8(out, c);
    }
  }
  out.push_back(q);
  return out;
}

void JsonString(std::string& out, const std::string& s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(char(c));
        }
    }
  }
  out.push_back('"');
}

std::string JsonFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return FloatRepr(d);
}

void JsonDump(std::string& out, const Value& v, const JsonOptions& opt, int depth) {
  if (depth > 200) Throw("RecursionError: maximum recursion depth exceeded in tojson");
  auto newline = [&](int d) {
    out.push_back('\n');
    for (int k = 0; k < d; ++k) out += opt.indent;
  };
  switch (v.kind) {
    case Kind::kNone: out += "null"; return;
    case Kind::kBool: out += v.b ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(v.i); return;
    case Kind::kFloat: out += JsonFloat(v.f); return;
    case Kind::kString: JsonString(out, v.s); return;
    case Kind::kList:
    case Kind::kTuple: {
      if (v.list->empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const Value& e : *v.list) {
        if (!first) out += opt.item_sep;
        first = false;
        if (opt.has_indent) newline(depth + 1);
        JsonDump(out, e, opt, depth + 1);
      }
      if (opt.has_indent) newline(depth);
      out.push_back(']');
      return;
    }
    case Kind::kDict: {
      if (v.dict->empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<Value, Value>*> items;
      for (const auto& kv : *v.dict) items.push_back(&kv);
      if (opt.sort_keys)
        std::stable_sort(items.begin(), items.end(),
                         [](auto* a, auto* b) { return Compare(a->first, b->first) < 0; });
      out.push_back('{');
      bool first = true;
      for (const auto* kv : items) {
        if (!first) out += opt.item_sep;
        first = false;
        if (opt.has_indent) newline(depth + 1);
        const Value& k = kv->first;
        switch (k.kind) {
          case Kind::kString: JsonString(out, k.s); break;
          case Kind::kInt: JsonString(out, std::to_string(k.i)); break;
          case Kind::kFloat: JsonString(out, JsonFloat(k.f)); break;
          case Kind::kBool: JsonString(out, k.b ? "true" : "false"); break;
          case Kind::kNone: JsonString(out, "null"); break;
          default: Throw("TypeError: keys must be str, int, float, bool or None, not " + TypeName(k));
        }
        out += opt.key_sep;
        JsonDump(out, kv->second, opt, depth + 1);
      }
      if (opt.has_indent) newline(depth);
      out.push_back('}');
      return;
    }
    default: Throw("TypeError: Object of type " + TypeName(v) + " is not JSON serializable");
  }
}

}  // namespace

std::string ToJson(const Value& v, const JsonOptions& opt) {
  std::string out;
  JsonDump(out, v, opt, 0);
  return out;
}

std::string ToStr(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return "";
    case Kind::kString: return v.s;
    default: return Repr(v);
  }
}

std::string Repr(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "None";
    case Kind::kBool: return v.b ? "True" : "False";
    case Kind::kInt: return std::to_string(v.i);
    case Kind::kFloat: return FloatRepr(v.f);
    case Kind::kString: return StrRepr(v.s);
    case Kind::kList:
    case Kind::kTuple: {
      bool tuple = v.kind == Kind::kTuple;
      std::string out = tuple ? "(" : "[";
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) out += ", ";
        out += Repr((*v.list)[k]);
      }
      if (tuple && v.list->size() == 1) out += ",";
      out += tuple ? ")" : "]";
      return out;
    }
    case Kind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, e] : *v.dict) {
        if (!first) out += ", ";
        first = false;
        out += Repr(k) + ": " + Repr(e);
      }
      return out + "}";
    }
    case Kind::kNamespace: {
      std::string out = "<Namespace {";
      bool first = true;
      for (const auto& [k, e] : *v.dict) {
        if (!first) out += ", ";
        first = false;
        out += Repr(k) + ": " + Repr(e);
      }
      return out + "}>";
    }
    case Kind::kGenerator: return "<generator object>";
    case Kind::kCallable: return "<function " + v.fn->name + ">";
  }
  return "";
}

List Iterate(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return {};
    case Kind::kList:
    case Kind::kTuple:
    case Kind::kGenerator: return *v.list;
    case Kind::kDict: {
      List keys;
      for (const auto& kv : *v.dict) keys.push_back(kv.first);
      return keys;
    }
    case Kind::kString: {
      List chars;
      for (char32_t c : pystr::Decode(v.s)) {
        std::string s;
        pystr::AppendUtf8(s, c);
        chars.push_back(Value::Str(std::move(s)));
      }
      return chars;
    }
    default: Throw("TypeError: '" + TypeName(v) + "' object is not iterable");
  }
}

}  // namespace seek::jinja
