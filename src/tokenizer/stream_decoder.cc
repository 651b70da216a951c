// StreamDecoder: token ids in, text out, never splitting a UTF-8 character.
//
// Each Push appends the token's bytes to `pending_` and returns everything up to the last complete character.
// Only a trailing *incomplete but still valid* sequence is held back (a lead byte C2..F4 followed by fewer
// continuation bytes than it needs, with the second byte in the range Unicode allows for that lead). Bytes that
// can never form a character (a stray continuation byte, C0/C1/F5..FF, a lead byte followed by a non-
// continuation) are passed through raw, exactly as Tokenizer::Decode returns them; so nothing waits longer
// than the three bytes a 4-byte character needs, and Push outputs concatenated with Flush() equal Decode(ids).
//
// The first piece: SentencePiece decoders drop one leading space of the whole text (HF Strip decoder, run.c's
// "strip after BOS"). Rather than knowing each tokenizer's rule, the first token that has any bytes is decoded
// with Decode({id}); when that is its TokenBytes with a prefix removed, the shorter form is used.
// TODO: llama2.c also strips after a BOS in mid-stream; that needs the previous id (a `prev_id_` member).
#include "tokenizer/tokenizer.h"

namespace seek {
namespace {

// Number of bytes at the end of `s` that start a valid UTF-8 character which is not complete yet; 0 if none.
size_t IncompleteTail(const std::string& s) {
  const size_t n = s.size();
  // The last byte that is not a continuation byte, looking back at most 3 bytes.
  size_t i = n;
  for (size_t k = 1; k <= 4 && k <= n; ++k) {
    if ((static_cast<uint8_t>(s[n - k]) & 0xC0) != 0x80) {
      i = n - k;
      break;
    }
  }
  if (i == n) return 0;  // no lead byte close enough: only stray continuation bytes
  const auto b0 = static_cast<uint8_t>(s[i]);
  const size_t need = (b0 >= 0xC2 && b0 <= 0xDF) ? 2 : (b0 >= 0xE0 && b0 <= 0xEF) ? 3
                      : (b0 >= 0xF0 && b0 <= 0xF4) ? 4 : 0;
  const size_t have = n - i;
  if (need == 0 || have >= need) return 0;
  if (have >= 2) {
    const auto b1 = static_cast<uint8_t>(s[i + 1]);
    if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F) || (b0 == 0xF0 && b1 < 0x90) ||
        (b0 == 0xF4 && b1 > 0x8F)) {
      return 0;  // overlong / surrogate / beyond U+10FFFF: can never complete
    }
  }
  return have;
}

}  // namespace

std::string StreamDecoder::Push(int32_t id) {
  std::string bytes = tok_.TokenBytes(id);
  if (first_ && !bytes.empty()) {
    const std::string alone = tok_.Decode(std::span<const int32_t>(&id, 1));
    if (alone.size() < bytes.size() && bytes.ends_with(alone)) bytes = alone;
    first_ = false;
  }
  pending_ += bytes;
  const size_t hold = IncompleteTail(pending_);
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StreamDecoder::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace seek
