#include "tokenizer/jinja/lexer.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "tokenizer/jinja/pystr.h"

namespace seek::jinja {
namespace {

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  std::vector<Token> Run() {
    while (pos_ < src_.size()) LexRoot();
    Push(Token::kEof, "");
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void Error(const std::string& msg) { Fail("chat template line %d: %s", line_, msg.c_str()); }

  void Push(Token::Type type, std::string text) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = line_;
    tokens_.push_back(std::move(t));
  }

  void Advance(size_t to) {
    for (size_t k = pos_; k < to; ++k)
      if (src_[k] == '\n') ++line_;
    pos_ = to;
  }

  // Python's \s over UTF-8 at `at`; returns the byte length of the whitespace char, or 0.
  size_t SpaceLen(size_t at) const {
    unsigned char c = src_[at];
    if (c < 0x80) return pystr::IsSpace(c) ? 1 : 0;
    std::u32string u = pystr::Decode(std::string_view(src_).substr(at, 4));
    if (u.empty() || !pystr::IsSpace(u[0])) return 0;
    std::string enc;
    pystr::AppendUtf8(enc, u[0]);
    return enc.size();
  }
  size_t SkipSpace(size_t at) const {
    while (at < src_.size()) {
      size_t n = SpaceLen(at);
      if (!n) break;
      at += n;
    }
    return at;
  }

  // Applies `-` / lstrip_blocks to text that precedes a tag, then emits it.
  void EmitText(std::string text, char sign, bool is_variable, bool line_starting) {
    if (sign == '-') {
      text = RStripAll(text);
    } else if (sign != '+' && !is_variable) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting) {
        std::string tail = text.substr(l_pos);
        if (!tail.empty() && pystr::Strip(tail, std::nullopt, true, true).empty() &&
            tail.find('\n') == std::string::npos)
          text.resize(l_pos);
      }
    }
    if (!text.empty()) {
      int line = line_;
      Push(Token::kText, std::move(text));
      tokens_.back().line = line;
    }
  }

  static std::string RStripAll(const std::string& s) { return pystr::Strip(s, std::nullopt, false, true); }

  // After a block/comment end marker: `-` skips all whitespace, `+` nothing, plain trims one \n.
  void AfterBlockEnd(char sign) {
    if (sign == '-')
      Advance(SkipSpace(pos_));
    else if (sign != '+' && pos_ < src_.size() && src_[pos_] == '\n')
      Advance(pos_ + 1);
  }

  bool MatchRawBegin(size_t at, size_t* end) const {
    size_t p = at + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = SkipSpace(p);
    if (src_.compare(p, 3, "raw") != 0) return false;
    p = SkipSpace(p + 3);
    if (src_.compare(p, 3, "-%}") == 0) {
      *end = SkipSpace(p + 3);
      return true;
    }
    if (src_.compare(p, 2, "%}") == 0) {
      *end = p + 2;
      return true;
    }
    return false;
  }

  void LexRoot() {
    bool line_starting = pos_ == 0 || src_[pos_ - 1] == '\n';
    size_t at = pos_;
    while (true) {
      at = src_.find('{', at);
      if (at == std::string::npos || at + 1 >= src_.size()) {
        std::string text = src_.substr(pos_);
        int line = line_;
        Advance(src_.size());
        if (!text.empty()) {
          Push(Token::kText, std::move(text));
          tokens_.back().line = line;
        }
        return;
      }
      char c = src_[at + 1];
      if (c == '{' || c == '%' || c == '#') break;
      ++at;
    }
    char kind = src_[at + 1];
    char sign = at + 2 < src_.size() && (src_[at + 2] == '-' || src_[at + 2] == '+') ? src_[at + 2] : 0;
    std::string text = src_.substr(pos_, at - pos_);
    size_t raw_end = 0;
    if (kind == '%' && MatchRawBegin(at, &raw_end)) {
      EmitText(std::move(text), sign, false, line_starting);
      Advance(raw_end);
      LexRaw();
      return;
    }
    int text_line = line_;
    EmitText(std::move(text), sign, kind == '{', line_starting);
    (void)text_line;
    Advance(at + 2 + (sign ? 1 : 0));
    if (kind == '#') {
      LexComment();
    } else {
      Push(kind == '{' ? Token::kVarBegin : Token::kBlockBegin, "");
      LexTag(kind == '{');
    }
  }

  void LexRaw() {
    bool line_starting = pos_ == 0 || src_[pos_ - 1] == '\n';
    size_t at = pos_;
    while (true) {
      at = src_.find("{%", at);
      if (at == std::string::npos) Error("Missing end of raw directive");
      size_t p = at + 2;
      char sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      p = SkipSpace(p);
      if (src_.compare(p, 6, "endraw") == 0) {
        p = SkipSpace(p + 6);
        char end_sign = 0;
        if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) end_sign = src_[p++];
        if (src_.compare(p, 2, "%}") == 0) {
          EmitText(src_.substr(pos_, at - pos_), sign, false, line_starting);
          Advance(p + 2);
          AfterBlockEnd(end_sign);
          return;
        }
      }
      at += 2;
    }
  }

  void LexComment() {
    size_t at = src_.find("#}", pos_);
    if (at == std::string::npos) Error("Missing end of comment tag");
    char sign = at > pos_ && (src_[at - 1] == '-' || src_[at - 1] == '+') ? src_[at - 1] : 0;
    Advance(at + 2);
    AfterBlockEnd(sign);
  }

  void LexTag(bool variable) {
    std::vector<char> balance;
    while (true) {
      if (pos_ >= src_.size()) Error(variable ? "unexpected end of template, expected '}}'"
                                              : "unexpected end of template, expected '%}'");
      if (balance.empty()) {
        if (variable) {
          if (src_.compare(pos_, 3, "-}}") == 0) {
            Advance(pos_ + 3);
            Push(Token::kVarEnd, "");
            Advance(SkipSpace(pos_));
            return;
          }
          if (src_.compare(pos_, 2, "}}") == 0) {
            Advance(pos_ + 2);
            Push(Token::kVarEnd, "");
            return;
          }
        } else {
          char sign = src_[pos_] == '-' || src_[pos_] == '+' ? src_[pos_] : 0;
          if (src_.compare(pos_ + (sign ? 1 : 0), 2, "%}") == 0) {
            Advance(pos_ + 2 + (sign ? 1 : 0));
            Push(Token::kBlockEnd, "");
            AfterBlockEnd(sign);
            return;
          }
        }
      }
      if (size_t n = SpaceLen(pos_)) {
        Advance(pos_ + n);
        continue;
      }
      unsigned char c = src_[pos_];
      if (std::isdigit(c)) {
        LexNumber();
      } else if (std::isalpha(c) || c == '_') {
        size_t e = pos_;
        while (e < src_.size() && (std::isalnum((unsigned char)src_[e]) || src_[e] == '_')) ++e;
        Push(Token::kName, src_.substr(pos_, e - pos_));
        Advance(e);
      } else if (c == '\'' || c == '"') {
        LexString();
      } else {
        static const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]",
                                     "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"};
        const char* op = nullptr;
        for (const char* o : kOps)
          if (src_.compare(pos_, std::strlen(o), o) == 0) {
            op = o;
            break;
          }
        if (!op) Error(std::string("unexpected char '") + char(c) + "'");
        std::string o = op;
        if (o == "(" || o == "[" || o == "{") {
          balance.push_back(o == "(" ? ')' : o == "[" ? ']' : '}');
        } else if (o == ")" || o == "]" || o == "}") {
          if (balance.empty()) Error("unexpected '" + o + "'");
          if (balance.back() != o[0]) Error("unexpected '" + o + "', expected '" + balance.back() + "'");
          balance.pop_back();
        }
        Push(Token::kOp, o);
        Advance(pos_ + o.size());
      }
    }
  }

  // Integers (decimal with _, 0x/0o/0b) and floats (digits with . fraction and/or exponent), as jinja2.
  void LexNumber() {
    size_t p = pos_;
    auto digits = [&](size_t q, auto pred) {
      size_t s = q;
      while (q < src_.size() && (pred((unsigned char)src_[q]) || (src_[q] == '_' && q > s))) ++q;
      return q;
    };
    auto isdig = [](unsigned char ch) { return std::isdigit(ch) != 0; };
    if (src_[p] == '0' && p + 1 < src_.size() && std::strchr("xXoObB", src_[p + 1])) {
      char b = std::tolower(src_[p + 1]);
      int base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      auto ok = [&](unsigned char ch) {
        return base == 16 ? std::isxdigit(ch) != 0 : base == 8 ? (ch >= '0' && ch <= '7') : (ch == '0' || ch == '1');
      };
      size_t e = p + 2;
      while (e < src_.size() && (ok(src_[e]) || src_[e] == '_')) ++e;
      std::string clean;
      for (size_t k = p + 2; k < e; ++k)
        if (src_[k] != '_') clean.push_back(src_[k]);
      if (clean.empty()) Error("invalid number literal");
      Token t;
      t.type = Token::kInt;
      t.int_value = int64_t(std::strtoull(clean.c_str(), nullptr, base));
      t.line = line_;
      tokens_.push_back(t);
      Advance(e);
      return;
    }
    size_t e = digits(p, isdig);
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && std::isdigit((unsigned char)src_[e + 1])) {
      e = digits(e + 1, isdig);
      is_float = true;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t q = e + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && std::isdigit((unsigned char)src_[q])) {
        e = digits(q, isdig);
        is_float = true;
      }
    }
    std::string clean;
    for (size_t k = p; k < e; ++k)
      if (src_[k] != '_') clean.push_back(src_[k]);
    Token t;
    t.line = line_;
    if (is_float) {
      t.type = Token::kFloat;
      t.float_value = std::strtod(clean.c_str(), nullptr);
    } else {
      t.type = Token::kInt;
      errno = 0;
      t.int_value = std::strtoll(clean.c_str(), nullptr, 10);
      if (errno == ERANGE) Error("integer literal too large");
    }
    tokens_.push_back(t);
    Advance(e);
  }

  // Python unicode-escape decoding of a quoted literal, as jinja2 does for string tokens.
  void LexString() {
    char q = src_[pos_];
    size_t p = pos_ + 1;
    std::string out;
    while (true) {
      if (p >= src_.size()) Error("unexpected end of string");
      char c = src_[p];
      if (c == q) break;
      if (c != '\\') {
        out.push_back(c);
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) Error("unexpected end of string");
      char e = src_[p + 1];
      p += 2;
      auto hex = [&](int n) {
        if (p + n > src_.size()) Error("truncated \\x escape");
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          char h = src_[p + k];
          if (!std::isxdigit((unsigned char)h)) Error("truncated escape in string literal");
          v = v * 16 + (std::isdigit((unsigned char)h) ? h - '0' : std::tolower(h) - 'a' + 10);
        }
        p += n;
        if (v > 0x10ffff) Error("illegal Unicode character");
        pystr::AppendUtf8(out, v);
      };
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case '\n': break;
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = e - '0';
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k) v = v * 8 + (src_[p++] - '0');
            pystr::AppendUtf8(out, v);
          } else {
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
    Push(Token::kString, std::move(out));
    Advance(p + 1);
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

std::string NormalizeNewlines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '\r') {
      out.push_back('\n');
      if (k + 1 < s.size() && s[k + 1] == '\n') ++k;
    } else {
      out.push_back(s[k]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> Lex(const std::string& source) { return Lexer(NormalizeNewlines(source)).Run(); }

}  // namespace seek::jinja
