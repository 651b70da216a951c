// Runtime values of the Jinja interpreter, modelled on the Python objects jinja2 works with: Undefined, None,
// bool, int, float, str, list, tuple, dict (insertion-ordered), namespace, callables (macros, builtins, bound
// methods) and "generators" (what map/select/... return in Python: iterable once, not JSON serialisable,
// printed as <generator object>). Lists and dicts are shared by reference like Python objects; the immutable
// sandbox never mutates them after construction except namespace attributes.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace seek::jinja {

class Interpreter;
struct Value;

// A template error without its line; the interpreter adds "chat template line N: " when it reaches Render.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Throw(const std::string& msg);

enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kTuple, kGenerator, kDict, kNamespace,
                  kCallable };

using List = std::vector<Value>;
using Dict = std::vector<std::pair<Value, Value>>;  // insertion order, like a Python 3.7+ dict

// Arguments of a call: positional, then keyword arguments in source order.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  // Python-style binding: the argument named `name` at position `index`, or null when absent.
  const Value* Get(size_t index, const char* name) const;
};

using NativeFn = std::function<Value(Interpreter&, Args&)>;

struct Callable {
  std::string name;
  NativeFn fn;
};

struct Value {
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                   // kString; for kUndefined: a hint naming what was missing
  std::shared_ptr<List> list;      // kList, kTuple, kGenerator
  std::shared_ptr<Dict> dict;      // kDict, kNamespace
  std::shared_ptr<Callable> fn;    // kCallable

  Value() = default;
  static Value Undefined(std::string hint = "") { Value v; v.s = std::move(hint); return v; }
  static Value None() { Value v; v.kind = Kind::kNone; return v; }
  static Value Bool(bool x) { Value v; v.kind = Kind::kBool; v.b = x; return v; }
  static Value Int(int64_t x) { Value v; v.kind = Kind::kInt; v.i = x; return v; }
  static Value Float(double x) { Value v; v.kind = Kind::kFloat; v.f = x; return v; }
  static Value Str(std::string x) { Value v; v.kind = Kind::kString; v.s = std::move(x); return v; }
  static Value MakeList(List items, Kind kind = Kind::kList);
  static Value MakeDict(Dict items = {}, Kind kind = Kind::kDict);
  static Value Function(std::string name, NativeFn fn);
  static Value FromJson(const nlohmann::ordered_json& j);

  bool IsUndefined() const { return kind == Kind::kUndefined; }
  bool IsNone() const { return kind == Kind::kNone; }
  bool IsString() const { return kind == Kind::kString; }
  bool IsNumber() const { return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool; }
  bool IsSeq() const { return kind == Kind::kList || kind == Kind::kTuple || kind == Kind::kGenerator; }
  bool IsMapping() const { return kind == Kind::kDict; }
  double AsDouble() const { return kind == Kind::kFloat ? f : kind == Kind::kBool ? (b ? 1 : 0) : double(i); }

  // Dict lookup by key equality; null when absent.
  const Value* Find(const Value& key) const;
  const Value* Find(const std::string& key) const;
};

// Python truthiness (Undefined is false).
bool Truthy(const Value& v);
// Python ==.
bool Equal(const Value& a, const Value& b);
// Python <, throws seek::Error (via Fail) on incomparable types. Returns -1/0/1.
int Compare(const Value& a, const Value& b);
// Python type name for messages ("str", "int", "NoneType", ...).
std::string TypeName(const Value& v);

// str(v) as jinja2 prints it (Undefined prints as "").
std::string ToStr(const Value& v);
// repr(v) (strings quoted the way Python does it).
std::string Repr(const Value& v);
// repr(float): shortest round-trip digits, exponent form outside [1e-4, 1e16).
std::string FloatRepr(double d);
// json.dumps(v, ensure_ascii=False, indent=indent, separators=...). indent: nullptr = none. Throws on values that
// are not JSON serialisable.
struct JsonOptions {
  bool has_indent = false;
  std::string indent;  // the indent unit
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
};
std::string ToJson(const Value& v, const JsonOptions& opt);

// The elements of an iterable as Python iteration yields them: list/tuple items, string code points, dict keys.
// Undefined iterates as empty. Throws for non-iterables.
List Iterate(const Value& v);

}  // namespace seek::jinja
