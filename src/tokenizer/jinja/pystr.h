// Python str semantics over UTF-8 std::string: code point length/indexing/slicing, isspace, strip/split,
// lower/upper/title/capitalize. Invalid UTF-8 bytes decode to lone surrogates U+DC80..U+DCFF and encode back to
// the same byte (Python's "surrogateescape"), so nothing is lost. Case mapping covers ASCII, Latin-1, Latin
// Extended-A, Greek and Cyrillic (the scripts chat templates meet); other code points are left unchanged.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seek::jinja::pystr {

std::u32string Decode(std::string_view s);
std::string Encode(std::u32string_view s);
void AppendUtf8(std::string& out, char32_t cp);
bool IsAscii(std::string_view s);
int64_t Length(std::string_view s);

bool IsSpace(char32_t c);
bool IsPrintable(char32_t c);
char32_t Lower(char32_t c);
char32_t Upper(char32_t c);
bool IsCased(char32_t c);

// str.strip/lstrip/rstrip; chars == nullopt strips whitespace.
std::string Strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split / str.rsplit; sep == nullopt splits on runs of whitespace. maxsplit < 0: no limit.
std::vector<std::string> Split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> RSplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
std::string Title(std::string_view s);
std::string Capitalize(std::string_view s);
// str.replace(old, new, count); count < 0: all.
std::string Replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);
// str.find / str.count in code points.
int64_t Find(std::string_view s, std::string_view sub);
int64_t Count(std::string_view s, std::string_view sub);

// Python slice index normalisation for a sequence of length n: fills the selected indices.
std::vector<int64_t> SliceIndices(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  std::optional<int64_t> step);

}  // namespace seek::jinja::pystr
