// StreamDecoder: every Push returns valid UTF-8 (for valid input) and Push outputs + Flush() == Decode(ids).
#include <gtest/gtest.h>

#include <random>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/spm.h"
#include "tokenizer/tokenizer.h"

namespace seek {
namespace {

using Ids = std::vector<int32_t>;

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    const size_t len = b0 < 0x80 ? 1 : (b0 >= 0xC2 && b0 <= 0xDF) ? 2 : (b0 >= 0xE0 && b0 <= 0xEF) ? 3
                       : (b0 >= 0xF0 && b0 <= 0xF4) ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    if (len >= 3) {
      const auto b1 = static_cast<uint8_t>(s[i + 1]);
      if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F) || (b0 == 0xF0 && b1 < 0x90) ||
          (b0 == 0xF4 && b1 > 0x8F)) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

// A byte-level fake: token i < 256 is the single byte i, tokens 256.. are whole strings. Decode concatenates.
class ByteTokenizer : public Tokenizer {
 public:
  explicit ByteTokenizer(std::vector<std::string> words) {
    for (int b = 0; b < 256; ++b) texts_.push_back(std::string(1, static_cast<char>(b)));
    texts_.insert(texts_.end(), words.begin(), words.end());
  }
  std::vector<int32_t> Encode(std::string_view text, bool) const override {
    return Ids(reinterpret_cast<const uint8_t*>(text.data()), reinterpret_cast<const uint8_t*>(text.data()) + text.size());
  }
  std::string Decode(std::span<const int32_t> ids, bool) const override {
    std::string out;
    for (int32_t id : ids) out += TokenBytes(id);
    return out;
  }
  std::string TokenBytes(int32_t id) const override { return texts_.at(id); }
  const std::string& TokenText(int32_t id) const override { return texts_.at(id); }
  std::optional<int32_t> TokenId(std::string_view) const override { return std::nullopt; }
  int32_t n_vocab() const override { return static_cast<int32_t>(texts_.size()); }
  bool IsSpecial(int32_t) const override { return false; }

 private:
  std::vector<std::string> texts_;
};

// Streams `ids`, checks each piece is valid UTF-8 (when `valid` says the whole text is) and returns the total.
std::string Stream(const Tokenizer& tok, const Ids& ids, bool valid) {
  StreamDecoder sd(tok);
  std::string all;
  for (int32_t id : ids) {
    const std::string piece = sd.Push(id);
    if (valid) {
      EXPECT_TRUE(IsValidUtf8(piece)) << "piece of " << piece.size() << " bytes";
    }
    all += piece;
  }
  all += sd.Flush();
  return all;
}

const char* const kTexts[] = {
    "plain ascii", "caf\xC3\xA9", "\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97", "\xF0\x9F\xA6\x99 llama \xF0\x9F\x9A\x80",
    "\xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F", "mixed \xD0\x9F\xD1\x80\xD0\xB8 \xE2\x9C\x85 end",
};

TEST(StreamDecoderTest, ByteSplitCharactersAreHeldBackUntilComplete) {
  ByteTokenizer tok({"\xF0\x9F", "\xA6\x99", "x\xE4", "\xB8\xAD"});
  for (const char* text : kTexts) {
    const Ids ids = tok.Encode(text, false);  // one token per byte: every multi-byte character is split
    EXPECT_EQ(Stream(tok, ids, true), text);
  }
  StreamDecoder sd(tok);
  EXPECT_EQ(sd.Push(256), "");  // F0 9F
  EXPECT_EQ(sd.Push(257), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(sd.Push(258), "x");  // E4 held
  EXPECT_EQ(sd.Push(259), "\xE4\xB8\xAD");
  EXPECT_EQ(sd.Flush(), "");
}

TEST(StreamDecoderTest, RandomSplitsProperty) {
  ByteTokenizer tok({});
  std::mt19937 rng(42);
  for (const char* text : kTexts) {
    for (int trial = 0; trial < 20; ++trial) {
      // Random multi-byte tokens: cut the text at random points into "words" and map each to its own id.
      std::vector<std::string> words;
      const std::string s = text;
      for (size_t i = 0; i < s.size();) {
        const size_t n = 1 + rng() % 5;
        words.push_back(s.substr(i, n));
        i += n;
      }
      ByteTokenizer wt(words);
      Ids ids;
      for (size_t w = 0; w < words.size(); ++w) ids.push_back(256 + static_cast<int32_t>(w));
      EXPECT_EQ(Stream(wt, ids, true), wt.Decode(ids, false));
    }
  }
}

TEST(StreamDecoderTest, InvalidBytesAreNotHeldForever) {
  ByteTokenizer tok({});
  StreamDecoder sd(tok);
  EXPECT_EQ(sd.Push(0x80), "\x80");          // stray continuation byte: out at once
  EXPECT_EQ(sd.Push(0xFF), "\xFF");          // never valid
  EXPECT_EQ(sd.Push(0xC0), "\xC0");          // overlong lead
  EXPECT_EQ(sd.Push(0xE0), "");              // could start a character...
  EXPECT_EQ(sd.Push(0x80), "\xE0\x80");      // ...but E0 80 is overlong: released
  EXPECT_EQ(sd.Push(0xE4), "");
  EXPECT_EQ(sd.Push('a'), "\xE4" "a");       // lead then ASCII: released together
  EXPECT_EQ(sd.Push(0xF0), "");
  EXPECT_EQ(sd.Flush(), "\xF0");             // Flush hands over whatever is left
  EXPECT_EQ(sd.Flush(), "");
  // Random bytes: output always equals Decode.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    Ids ids;
    for (int i = 0; i < 20; ++i) ids.push_back(rng() % 256);
    EXPECT_EQ(Stream(tok, ids, false), tok.Decode(ids, false));
  }
}

TEST(StreamDecoderTest, SpmVocabularyMatchesDecode) {
  SEEK_REQUIRE_SHARED();
  const std::string path = test::SharedDir() + "/vocab-gguf/ggml-vocab-llama-spm.gguf";
  if (!test::FileExists(path)) GTEST_SKIP();
  auto gguf = GgufFile::Open(path);
  auto tok = MakeSpmTokenizerFromGguf(*gguf);
  for (const char* text : kTexts) {
    const Ids ids = tok->Encode(text, false);  // emoji and CJK come out as <0xXX> byte tokens
    EXPECT_EQ(Stream(*tok, ids, true), tok->Decode(ids));
    EXPECT_EQ(Stream(*tok, ids, true), text);
    Ids with_bos = tok->Encode(text, true);
    EXPECT_EQ(Stream(*tok, with_bos, true), tok->Decode(with_bos));
  }
  const Ids lead_space = {29871, 15043, 29871, 243, 162, 169, 156};  // ▁ ▁Hello ▁ <F0> <9F> <A6> <99>
  EXPECT_EQ(Stream(*tok, lead_space, true), tok->Decode(lead_space));
  EXPECT_EQ(Stream(*tok, {15043, 3186}, true), "Hello world");
  // Random id sequences from the whole vocabulary (valid or not): concatenation equals Decode.
  std::mt19937 rng(1);
  for (int trial = 0; trial < 300; ++trial) {
    Ids ids;
    for (int i = 0; i < 12; ++i) ids.push_back(rng() % 2 ? 3 + rng() % 256 : rng() % 32000);
    EXPECT_EQ(Stream(*tok, ids, false), tok->Decode(ids));
  }
}

TEST(StreamDecoderTest, Llama2cMatchesDecode) {
  SEEK_REQUIRE_SHARED();
  const std::string path = test::SharedDir() + "/models/stories260K/tok512.bin";
  if (!test::FileExists(path)) GTEST_SKIP();
  auto tok = MakeLlama2cTokenizer(path, 512);
  for (const char* text : kTexts) {
    const Ids ids = tok->Encode(text, false);
    EXPECT_EQ(Stream(*tok, ids, true), text);
  }
  std::mt19937 rng(3);
  for (int trial = 0; trial < 300; ++trial) {
    Ids ids;
    for (int i = 0; i < 12; ++i) ids.push_back(3 + rng() % 509);  // no BOS/EOS/unk (see stream_decoder.cc TODO)
    EXPECT_EQ(Stream(*tok, ids, false), tok->Decode(ids));
  }
}

}  // namespace
}  // namespace seek
