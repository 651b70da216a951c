#include "tokenizer/pretokenizer.h"

#include <algorithm>
#include <array>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace seek {
namespace {

using unicode::ClassOf;

// Cased letters (Lu, Ll, Lt) of the deepseek-llm "\s?[A-Za-zµÀ-Ö...]+" split, as code point ranges in the order
// the pattern writes them (the pattern text is rebuilt from this table to recognise it in tokenizer.json).
constexpr std::array<std::pair<char32_t, char32_t>, 84> kDsLlmLatin = {{
    {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA}, {0x1BC, 0x1BF},
    {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x376}, {0x377, 0x377}, {0x37B, 0x37D},
    {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5},
    {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A},
    {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
    {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4},
    {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102},
    {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124},
    {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139},
    {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2183}, {0x2184, 0x2184},
    {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF2}, {0x2CF3, 0x2CF3},
    {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E},
    {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
    {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10C80, 0x10CB2},
}};
constexpr std::array<std::pair<char32_t, char32_t>, 3> kDsLlmLatinTail = {{
    {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
}};

bool InDsLlmLatin(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  for (const auto& [lo, hi] : kDsLlmLatin) {
    if (c >= lo && c <= hi) return true;
  }
  for (const auto& [lo, hi] : kDsLlmLatinTail) {
    if (c >= lo && c <= hi) return true;
  }
  return false;
}

// The code points and their classes of the text being split; a piece is [b, e) in code point indices.
struct Text {
  std::vector<char32_t> cp;
  std::vector<uint32_t> off;
  std::vector<uint8_t> cls;
};

class Scanner {
 public:
  Scanner(const Text& t, size_t e) : cp_(t.cp.data()), cls_(t.cls.data()), e_(e) {}

  // End of the match of `rule` starting at i, or i when there is none.
  size_t Match(SplitRule rule, size_t i) const {
    switch (rule) {
      case SplitRule::kGpt2: return Gpt2(i);
      case SplitRule::kLlama3: return Llama3(i, 3);
      case SplitRule::kQwen2: return Llama3(i, 1);
      case SplitRule::kDigit1: return N(i) ? i + 1 : i;
      case SplitRule::kDigits3: return N(i) ? std::min(RunN(i), i + 3) : i;
      case SplitRule::kDigitsRun: return RunN(i);
      case SplitRule::kDsV3Cjk: return Run(i, [](char32_t c) {
          return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF); });
      case SplitRule::kDsV3Main: return DsV3Main(i);
      case SplitRule::kNewline: return Crlf(i) ? i + 1 : i;
      case SplitRule::kDsLlmLatin: return OptWsThenRun(i, [](char32_t c) { return InDsLlmLatin(c); });
      case SplitRule::kDsLlmPunct: return OptWsThenRun(i, [](char32_t c) {
          return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
                 (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) || (c >= 0x3000 && c <= 0x3002); });
      case SplitRule::kTrailingSpace: {  // \s+$ (pieces hold no \n here: [\r\n] split them off before)
        size_t j = RunWs(i);
        return j == e_ ? j : i;
      }
      case SplitRule::kDsCjk: return Run(i, [](char32_t c) {
          return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x800 && c <= 0x4E00) || (c >= 0xAC00 && c <= 0xD7FF); });
      case SplitRule::kDsCoderLetters: return OptWsThenRunCls(i, unicode::kClassL);
      case SplitRule::kDsCoderPunct: return OptWsThenRunCls(i, unicode::kClassP);
    }
    return i;
  }

 private:
  bool Has(size_t i, uint8_t c) const { return i < e_ && (cls_[i] & c); }
  bool L(size_t i) const { return Has(i, unicode::kClassL); }
  bool N(size_t i) const { return Has(i, unicode::kClassN); }
  bool Ws(size_t i) const { return Has(i, unicode::kClassWhite); }
  bool Crlf(size_t i) const { return i < e_ && (cp_[i] == '\r' || cp_[i] == '\n'); }
  // [^\s\p{L}\p{N}]
  bool Other(size_t i) const {
    return i < e_ && !(cls_[i] & (unicode::kClassWhite | unicode::kClassL | unicode::kClassN));
  }
  size_t RunCls(size_t i, uint8_t c) const {
    while (Has(i, c)) ++i;
    return i;
  }
  size_t RunN(size_t i) const { return RunCls(i, unicode::kClassN); }
  size_t RunWs(size_t i) const { return RunCls(i, unicode::kClassWhite); }
  template <typename Pred>
  size_t Run(size_t i, Pred pred) const {
    while (i < e_ && pred(cp_[i])) ++i;
    return i;
  }
  // \s?[set]+
  template <typename Pred>
  size_t OptWsThenRun(size_t i, Pred pred) const {
    if (Ws(i) && i + 1 < e_ && pred(cp_[i + 1])) return Run(i + 1, pred);
    return Run(i, pred);
  }
  size_t OptWsThenRunCls(size_t i, uint8_t c) const {
    if (Ws(i) && Has(i + 1, c)) return RunCls(i + 1, c);
    return RunCls(i, c);
  }

  // 's|'t|'re|'ve|'m|'ll|'d, case-insensitively when `fold` ((?i:...) in Oniguruma also folds U+017F LATIN
  // SMALL LETTER LONG S to s and U+212A KELVIN SIGN to k; neither letter occurs in these words except ſ).
  size_t Contraction(size_t i, bool fold) const {
    if (i + 1 >= e_ || cp_[i] != '\'') return i;
    auto lower = [&](char32_t c) -> char32_t {
      if (!fold) return c;
      if (c >= 'A' && c <= 'Z') return c + 32;
      if (c == 0x17F) return 's';
      return c;
    };
    const char32_t a = lower(cp_[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < e_) {
      const char32_t b = lower(cp_[i + 2]);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    return i;
  }

  // \s*[\r\n]+|\s+(?!\S)|\s+  (with_newlines) or \s+(?!\S)|\s+
  size_t WsTail(size_t i, bool with_newlines) const {
    if (!Ws(i)) return i;
    const size_t j = RunWs(i);
    if (with_newlines) {
      // \s* gives back characters until [\r\n]+ can start: the match ends just after the run's last CR/LF.
      for (size_t k = j; k > i; --k) {
        if (Crlf(k - 1)) return k;
      }
    }
    if (j == e_) return j;       // \s+ then end of piece: (?!\S) holds
    if (j - i >= 2) return j - 1;  // leave one space for the next word
    return j;                      // \s+
  }

  size_t Gpt2(size_t i) const {
    if (size_t j = Contraction(i, false); j > i) return j;
    const size_t k = (cp_[i] == ' ' && i + 1 < e_) ? i + 1 : i;  // " ?"
    if (L(k)) return RunCls(k, unicode::kClassL);
    if (N(k)) return RunN(k);
    if (Other(k)) {
      size_t j = k;
      while (Other(j)) ++j;
      return j;
    }
    return WsTail(i, false);
  }

  size_t Llama3(size_t i, size_t max_digits) const {
    if (size_t j = Contraction(i, true); j > i) return j;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!Crlf(i) && !L(i) && !N(i) && L(i + 1)) return RunCls(i + 1, unicode::kClassL);
    if (L(i)) return RunCls(i, unicode::kClassL);
    if (N(i)) return std::min(RunN(i), i + max_digits);
    // " ?[^\s\p{L}\p{N}]+[\r\n]*"
    const size_t k = (cp_[i] == ' ' && Other(i + 1)) ? i + 1 : i;
    if (Other(k)) {
      size_t j = k;
      while (Other(j)) ++j;
      while (Crlf(j)) ++j;
      return j;
    }
    return WsTail(i, true);
  }

  size_t DsV3Main(size_t i) const {
    auto ascii_punct = [](char32_t c) {
      return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
             (c >= 0x7B && c <= 0x7E);
    };
    auto ascii_alpha = [](char32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    if (ascii_punct(cp_[i]) && i + 1 < e_ && ascii_alpha(cp_[i + 1])) return Run(i + 1, ascii_alpha);
    // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
    const uint8_t lm = unicode::kClassL | unicode::kClassM;
    const uint8_t lps = unicode::kClassL | unicode::kClassP | unicode::kClassS;
    if (!Crlf(i) && !(cls_[i] & lps) && Has(i + 1, lm)) return RunCls(i + 1, lm);
    if (Has(i, lm)) return RunCls(i, lm);
    // " ?[\p{P}\p{S}]+[\r\n]*"
    const uint8_t ps = unicode::kClassP | unicode::kClassS;
    const size_t k = (cp_[i] == ' ' && Has(i + 1, ps)) ? i + 1 : i;
    if (Has(k, ps)) {
      size_t j = RunCls(k, ps);
      while (Crlf(j)) ++j;
      return j;
    }
    return WsTail(i, true);
  }

  const char32_t* cp_;
  const uint8_t* cls_;
  size_t e_;
};

std::string RangesPattern(const std::vector<std::pair<char32_t, char32_t>>& ranges) {
  std::string s;
  for (const auto& [lo, hi] : ranges) {
    unicode::AppendUtf8(lo, &s);
    if (hi != lo) {
      s.push_back('-');
      unicode::AppendUtf8(hi, &s);
    }
  }
  return s;
}

std::string DsLlmLatinPattern() {
  std::vector<std::pair<char32_t, char32_t>> r(kDsLlmLatin.begin(), kDsLlmLatin.end());
  r.insert(r.end(), kDsLlmLatinTail.begin(), kDsLlmLatinTail.end());
  return "\\s?[" + RangesPattern(r) + "]+";
}

// Regex texts as written in tokenizer.json files, mapped to their scanners.
bool RuleForPattern(const std::string& p, SplitRule* rule) {
  static const std::vector<std::pair<std::string, SplitRule>> kKnown = {
      {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", SplitRule::kGpt2},
      {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
       "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", SplitRule::kLlama3},
      {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
       "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", SplitRule::kQwen2},
      {"\\p{N}{1,3}", SplitRule::kDigits3},
      {"\\p{N}", SplitRule::kDigit1},
      {"\\p{N}+", SplitRule::kDigitsRun},
      {"[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+", SplitRule::kDsV3Cjk},
      {"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
       " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+", SplitRule::kDsV3Main},
      {"[\r\n]", SplitRule::kNewline},
      {"[\\r\\n]", SplitRule::kNewline},
      {DsLlmLatinPattern(), SplitRule::kDsLlmLatin},
      {"\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", SplitRule::kDsLlmPunct},
      {"\\s+$", SplitRule::kTrailingSpace},
      {"[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+", SplitRule::kDsCjk},
      {"\\s?\\p{L}+", SplitRule::kDsCoderLetters},
      {"\\s?\\p{P}+", SplitRule::kDsCoderPunct},
  };
  for (const auto& [text, r] : kKnown) {
    if (text == p) {
      *rule = r;
      return true;
    }
  }
  return false;
}

void AddFromJson(const nlohmann::json& j, std::vector<SplitRule>* rules) {
  if (j.is_null()) return;
  const std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : j.at("pretokenizers")) AddFromJson(p, rules);
  } else if (type == "ByteLevel") {
    if (j.value("add_prefix_space", false)) {
      Fail("tokenizer.json: ByteLevel pre-tokenizer with add_prefix_space=true is not supported");
    }
    if (j.value("use_regex", true)) rules->push_back(SplitRule::kGpt2);
  } else if (type == "Digits") {
    rules->push_back(j.value("individual_digits", false) ? SplitRule::kDigit1 : SplitRule::kDigitsRun);
  } else if (type == "Split") {
    const auto& pat = j.at("pattern");
    if (!pat.contains("Regex")) Fail("tokenizer.json: Split with a non-regex pattern %s is not supported",
                                     pat.dump().c_str());
    const std::string regex = pat.at("Regex").get<std::string>();
    SplitRule rule;
    if (!RuleForPattern(regex, &rule)) {
      Fail("tokenizer.json: unknown pre-tokenizer regex \"%s\" (seek implements known patterns only, see "
           "src/tokenizer/pretokenizer.h)", regex.c_str());
    }
    if (j.value("behavior", "") != "Isolated" || j.value("invert", false)) {
      Fail("tokenizer.json: Split behavior %s invert=%d is not supported (only Isolated)",
           j.value("behavior", "").c_str(), j.value("invert", false) ? 1 : 0);
    }
    rules->push_back(rule);
  } else {
    Fail("tokenizer.json: pre-tokenizer type \"%s\" is not supported", type.c_str());
  }
}

}  // namespace

PreTokenizer PreTokenizer::FromGgufPre(std::string_view pre) {
  using R = SplitRule;
  const std::string p(pre);
  if (p == "gpt-2" || p == "gpt2" || p == "default" || p == "mpt" || p == "olmo" || p == "jais") {
    return PreTokenizer({R::kGpt2}, p);
  }
  if (p == "llama-bpe" || p == "llama3" || p == "llama-v3" || p == "dbrx" || p == "smaug-bpe") {
    return PreTokenizer({R::kLlama3}, p);
  }
  if (p == "qwen2" || p == "deepseek-r1-qwen" || p == "stablelm2") return PreTokenizer({R::kQwen2}, p);
  if (p == "deepseek-v3" || p == "deepseek3-llm") return PreTokenizer({R::kDigits3, R::kDsV3Cjk, R::kDsV3Main}, p);
  if (p == "deepseek-llm") {
    return PreTokenizer({R::kNewline, R::kDsLlmLatin, R::kDsLlmPunct, R::kTrailingSpace, R::kDsCjk, R::kDigitsRun},
                        p);
  }
  if (p == "deepseek-coder") {
    return PreTokenizer({R::kNewline, R::kDsCoderLetters, R::kDsCoderPunct, R::kDsCjk, R::kDigit1}, p);
  }
  if (p == "smollm" || p == "starcoder" || p == "refact" || p == "codeshell") {
    return PreTokenizer({R::kDigit1, R::kGpt2}, p);
  }
  Fail("GGUF tokenizer.ggml.pre \"%s\" is not a pre-tokenizer seek knows", p.c_str());
}

PreTokenizer PreTokenizer::FromHfJson(const nlohmann::json& pre_tokenizer) {
  std::vector<SplitRule> rules;
  AddFromJson(pre_tokenizer, &rules);
  return PreTokenizer(std::move(rules), "tokenizer.json");
}

void PreTokenizer::Split(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* pieces) const {
  if (text.empty()) return;
  if (rules_.empty()) {
    pieces->emplace_back(0, static_cast<uint32_t>(text.size()));
    return;
  }
  thread_local Text t;
  unicode::DecodeUtf8(text, &t.cp, &t.off);
  t.cls.resize(t.cp.size());
  for (size_t i = 0; i < t.cp.size(); ++i) t.cls[i] = unicode::ClassOf(t.cp[i]);

  // Pieces in code point indices; each rule re-splits every piece of the previous one.
  thread_local std::vector<std::pair<size_t, size_t>> cur, next;
  cur.assign(1, {0, t.cp.size()});
  for (SplitRule rule : rules_) {
    next.clear();
    for (const auto& [b, e] : cur) {
      Scanner sc(t, e);
      size_t gap = b, i = b;
      while (i < e) {
        const size_t j = sc.Match(rule, i);
        if (j > i) {
          if (gap < i) next.emplace_back(gap, i);
          next.emplace_back(i, j);
          i = gap = j;
        } else {
          ++i;
        }
      }
      if (gap < e) next.emplace_back(gap, e);
    }
    cur.swap(next);
  }
  for (const auto& [b, e] : cur) pieces->emplace_back(t.off[b], t.off[e]);
}

}  // namespace seek
