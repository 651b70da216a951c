// Nfc() cuts the text at stable starters and sends only the stretches around other characters to utf8proc.
// These tests check that the cut never changes the result: on random strings drawn from characters that
// compose, decompose, reorder or are excluded from composition, Nfc() must equal utf8proc's NFC of the whole
// string (utf8proc is the independent reference here; the HF corpus fixtures check the tokenizers end to end).
#include <utf8proc.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tokenizer/unicode.h"

namespace seek::unicode {
namespace {

std::string WholeStringNfc(const std::string& s) {
  utf8proc_uint8_t* res = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                   &res, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  EXPECT_GE(n, 0);
  std::string out(reinterpret_cast<const char*>(res), static_cast<size_t>(n));
  std::free(res);
  return out;
}

std::string Utf8(std::initializer_list<char32_t> cps) {
  std::string s;
  for (char32_t c : cps) AppendUtf8(c, &s);
  return s;
}

TEST(Nfc, KnownCases) {
  EXPECT_EQ(Nfc("plain ascii"), "plain ascii");
  EXPECT_EQ(Nfc(Utf8({'e', 0x301})), Utf8({0xE9}));                  // e + acute -> é
  EXPECT_EQ(Nfc(Utf8({0xEA, 0x301})), Utf8({0x1EBF}));               // ê + acute -> ế (precomposed + mark)
  EXPECT_EQ(Nfc(Utf8({0x1100, 0x1161, 0x11A8})), Utf8({0xAC01}));    // Hangul L V T -> 각
  EXPECT_EQ(Nfc(Utf8({0xAC00, 0x11A8})), Utf8({0xAC01}));            // Hangul LV + T -> 각
  EXPECT_EQ(Nfc(Utf8({0x2126})), Utf8({0x3A9}));                     // singleton Ohm -> Omega
  EXPECT_EQ(Nfc(Utf8({0x958})), Utf8({0x915, 0x93C}));               // composition exclusion stays decomposed
  EXPECT_EQ(Nfc(Utf8({'a', 0x323, 0x302})), Utf8({0x1EAD}));         // marks reordered, then composed
  EXPECT_EQ(Nfc(Utf8({'a', 0x302, 0x323})), Utf8({0x1EAD}));
  EXPECT_EQ(Nfc(Utf8({0x4F60, 0x597D, 0x1F600})), Utf8({0x4F60, 0x597D, 0x1F600}));  // CJK + emoji unchanged
  // Invalid bytes pass through and split the text.
  EXPECT_EQ(Nfc(std::string("e\xff") + Utf8({0x301})), std::string("e\xff") + Utf8({0x301}));
}

TEST(Nfc, RandomStringsMatchWholeStringNormalisation) {
  // Characters chosen to exercise every path: ASCII starters, CJK/emoji, combining marks of several classes,
  // precomposed letters, Hangul jamo and syllables, singletons, exclusions, non-starter decompositions,
  // kana with voicing marks, full-width forms (compatibility-only decompositions).
  const std::vector<char32_t> alphabet = {
      'a', 'e', 'o', 'A', ' ', '1', 0x4F60, 0x1F600, 0x3042, 0x304B, 0x3099, 0x309A, 0x301, 0x302, 0x308,
      0x323, 0x327, 0x338, 0x5B7, 0x93C, 0xE9, 0xEA, 0xC5, 0x212B, 0x2126, 0x958, 0x344, 0xF73, 0x1100,
      0x1161, 0x11A8, 0xAC00, 0xAC01, 0xFF0C, 0xFB2A, 0x1E0A, 0x1E0C, 0x0307, 0x3B1, 0x345, 0x1F80, 0x915};
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 24);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    for (int i = length(rng); i > 0; --i) AppendUtf8(alphabet[pick(rng)], &s);
    ASSERT_EQ(Nfc(s), WholeStringNfc(s)) << "iteration " << iter;
  }
}

}  // namespace
}  // namespace seek::unicode
