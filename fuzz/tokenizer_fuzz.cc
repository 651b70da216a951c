// libFuzzer entry for the byte-level BPE tokenizer: encodes arbitrary bytes and checks that decoding gives
// the same bytes back (byte-level BPE is lossless, whatever the input, including invalid UTF-8 and NULs).
// Uses a small in-memory vocabulary (all 256 byte tokens, a few merges, one added token with lstrip/rstrip) and
// the qwen2 pre-tokenizer with NFC off, so it needs no files. The first input byte picks the pre-tokenizer.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenizer/bpe.h"
#include "tokenizer/unicode.h"

namespace {

std::unique_ptr<seek::Tokenizer> Make(const char* pre) {
  seek::BpeConfig c;
  c.source = "fuzz";
  for (int b = 0; b < 256; ++b) {
    std::string s;
    seek::unicode::AppendUtf8(seek::unicode::ByteToUnicode(static_cast<uint8_t>(b)), &s);
    c.tokens.push_back(s);
  }
  const char* extra[] = {"ĠĠ", "ĠĠĠĠ", "in", "the", "Ġthe", "th", "<x>"};
  for (const char* t : extra) c.tokens.push_back(t);
  c.merges = {{"Ġ", "Ġ"}, {"ĠĠ", "ĠĠ"}, {"i", "n"}, {"t", "h"}, {"th", "e"}, {"Ġ", "the"}};
  seek::AddedToken x;
  x.id = static_cast<int32_t>(c.tokens.size()) - 1;
  x.content = "<x>";
  x.special = true;
  x.lstrip = x.rstrip = true;
  c.added.push_back(x);
  c.pre = seek::PreTokenizer::FromGgufPre(pre);
  return seek::MakeBpeTokenizer(std::move(c));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* toks = new std::unique_ptr<seek::Tokenizer>[] {
    Make("qwen2"), Make("deepseek-v3"), Make("gpt-2"), Make("deepseek-llm"), Make("deepseek-coder")
  };
  if (size == 0) return 0;
  const auto& tok = toks[data[0] % 5];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto ids = tok->Encode(text, true);
  const std::string back = tok->Decode(ids, false);
  // lstrip/rstrip of the added token swallow whitespace, so only inputs without it must round-trip exactly.
  if (text.find("<x>") == std::string::npos && back != text) std::abort();
  return 0;
}
