// Binary operators with Python semantics: int arithmetic is exact (overflow of int64 raises instead of
// growing into a bigint), / is true division, // and % floor toward -inf, ** on ints stays int for exponents
// >= 0, `~` concatenates str() of both sides, + concatenates str/list/tuple, * repeats str/list.
#include <cmath>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"

namespace seek::jinja {
namespace {

bool IsIntLike(const Value& v) { return v.kind == Kind::kInt || v.kind == Kind::kBool; }
int64_t AsInt(const Value& v) { return v.kind == Kind::kBool ? v.b : v.i; }

[[noreturn]] void Unsupported(const std::string& op, const Value& a, const Value& b) {
  if (a.IsUndefined()) Throw("UndefinedError: '" + a.s + "' is undefined");
  if (b.IsUndefined()) Throw("UndefinedError: '" + b.s + "' is undefined");
  if (op == "+" && a.kind == Kind::kString)
    Throw("TypeError: can only concatenate str (not \"" + TypeName(b) + "\") to str");
  if (op == "+" && a.kind == Kind::kList)
    Throw("TypeError: can only concatenate list (not \"" + TypeName(b) + "\") to list");
  Throw("TypeError: unsupported operand type(s) for " + op + ": '" + TypeName(a) + "' and '" + TypeName(b) + "'");
}

[[noreturn]] void Overflow() { Throw("OverflowError: integer result does not fit in 64 bits"); }

Value Repeat(const Value& seq, int64_t n, const Interpreter& in) {
  if (n <= 0) return seq.kind == Kind::kString ? Value::Str("") : Value::MakeList({}, seq.kind);
  if (seq.kind == Kind::kString) {
    in.CheckSize(seq.s.size() * size_t(std::min<int64_t>(n, int64_t(kMaxOutputBytes) + 1)));
    std::string out;
    out.reserve(seq.s.size() * n);
    for (int64_t k = 0; k < n; ++k) out += seq.s;
    return Value::Str(std::move(out));
  }
  in.CheckSize(seq.list->size() * 16 * size_t(std::min<int64_t>(n, int64_t(kMaxOutputBytes) + 1)));
  List out;
  for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::MakeList(std::move(out), seq.kind);
}

}  // namespace

Value Arithmetic(const std::string& op, const Value& a, const Value& b, const Interpreter& in) {
  if (op == "~") {
    std::string s = ToStr(a) + ToStr(b);
    in.CheckSize(s.size());
    return Value::Str(std::move(s));
  }
  const bool ints = IsIntLike(a) && IsIntLike(b);
  const bool nums = a.IsNumber() && b.IsNumber();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(AsInt(a), AsInt(b), &r)) Overflow();
      return Value::Int(r);
    }
    if (nums) return Value::Float(a.AsDouble() + b.AsDouble());
    if (a.kind == Kind::kString && b.kind == Kind::kString) {
      in.CheckSize(a.s.size() + b.s.size());
      return Value::Str(a.s + b.s);
    }
    if ((a.kind == Kind::kList || a.kind == Kind::kTuple) && a.kind == b.kind) {
      List r = *a.list;
      r.insert(r.end(), b.list->begin(), b.list->end());
      return Value::MakeList(std::move(r), a.kind);
    }
    Unsupported(op, a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(AsInt(a), AsInt(b), &r)) Overflow();
      return Value::Int(r);
    }
    if (nums) return Value::Float(a.AsDouble() - b.AsDouble());
    Unsupported(op, a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(AsInt(a), AsInt(b), &r)) Overflow();
      return Value::Int(r);
    }
    if (nums) return Value::Float(a.AsDouble() * b.AsDouble());
    if ((a.kind == Kind::kString || a.kind == Kind::kList || a.kind == Kind::kTuple) && IsIntLike(b))
      return Repeat(a, AsInt(b), in);
    if ((b.kind == Kind::kString || b.kind == Kind::kList || b.kind == Kind::kTuple) && IsIntLike(a))
      return Repeat(b, AsInt(a), in);
    Unsupported(op, a, b);
  }
  if (op == "/") {
    if (!nums) Unsupported(op, a, b);
    if (b.AsDouble() == 0) Throw("ZeroDivisionError: division by zero");
    return Value::Float(a.AsDouble() / b.AsDouble());
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.kind == Kind::kString) return Value::Str(PercentFormat(a.s, b));
    if (!nums) Unsupported(op, a, b);
    if (ints) {
      int64_t x = AsInt(a), y = AsInt(b);
      if (y == 0) Throw(op == "//" ? "ZeroDivisionError: integer division or modulo by zero"
                                   : "ZeroDivisionError: integer modulo by zero");
      if (x == INT64_MIN && y == -1) Overflow();
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      return Value::Int(op == "//" ? q : r);
    }
    double x = a.AsDouble(), y = b.AsDouble();
    if (y == 0) Throw(op == "//" ? "ZeroDivisionError: float floor division by zero"
                                 : "ZeroDivisionError: float modulo");
    double mod = std::fmod(x, y);
    if (mod != 0 && ((mod < 0) != (y < 0))) mod += y;
    if (op == "%") return Value::Float(mod == 0 ? std::copysign(0.0, y) : mod);
    double div = (x - mod) / y;
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
    return Value::Float(floordiv);
  }
  if (op == "**") {
    if (ints && AsInt(b) >= 0) {
      int64_t base = AsInt(a), e = AsInt(b), r = 1;
      for (int64_t k = 0; k < e; ++k) {
        if (__builtin_mul_overflow(r, base, &r)) Overflow();
        if (r == 0 || r == 1) break;
        if (r == -1) {
          r = ((e - k - 1) % 2 == 0) ? -1 : 1;
          break;
        }
      }
      return Value::Int(r);
    }
    if (nums) {
      if (a.AsDouble() == 0 && b.AsDouble() < 0)
        Throw("ZeroDivisionError: 0.0 cannot be raised to a negative power");
      return Value::Float(std::pow(a.AsDouble(), b.AsDouble()));
    }
    Unsupported(op, a, b);
  }
  Throw("unknown operator " + op);
}

}  // namespace seek::jinja
