// SentencePiece-style BPE over a GGUF "llama" vocabulary (Llama-2, Mistral, TinyLlama, ...).
//
// Encode, as HF `tokenizers` does for LlamaTokenizerFast (normalizer Prepend("▁") + Replace(" ", "▁"), BPE with
// byte_fallback) and llama.cpp's llm_tokenizer_spm:
//  1. Special tokens (types control, user-defined, unknown: HF's added tokens) written in the text are cut out
//     first, leftmost then longest match.
//  2. Each remaining text segment gets "▁" prepended (when add_space_prefix) and every ' ' becomes "▁". As in HF,
//     the prefix goes on every segment, also those that follow a special token ("a</s> b" -> ▁a </s> ▁ ▁b).
//  3. The segment is split into UTF-8 characters (an invalid byte is a symbol of its own), then the adjacent
//     pair whose concatenation is a vocabulary piece with the highest score is merged, repeatedly; ties go to
//     the leftmost pair. A max-heap of candidate pairs with lazy invalidation makes this O(n log n) rather than
//     the O(n^2) rescan of the SentencePiece paper's description.
//  4. A final symbol that is not a piece becomes its <0xXX> byte tokens (unk when the vocabulary has none).
// Decode: "▁" -> ' ', <0xXX> -> the raw byte, other tokens -> their text; then, when add_space_prefix, one
// leading ' ' of the whole string is dropped (HF decoder Strip(" ", 1, 0)). Byte tokens that spell invalid
// UTF-8 are returned raw (HF would print U+FFFD for each byte); StreamDecoder does the same.
#include "tokenizer/spm.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "core/error.h"
#include "formats/gguf.h"

namespace seek {
namespace {

// GGUF tokenizer.ggml.token_type values (llama.cpp LLAMA_TOKEN_TYPE_*).
enum class SpmTokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space

// Byte length of the UTF-8 character that starts at text[i]; 1 for a byte that does not start a complete,
// well-formed sequence (such bytes become symbols of their own and end up as byte tokens).
size_t Utf8CharLen(std::string_view text, size_t i) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  size_t len = b0 < 0x80 ? 1 : (b0 >= 0xC2 && b0 <= 0xDF) ? 2 : (b0 >= 0xE0 && b0 <= 0xEF) ? 3
               : (b0 >= 0xF0 && b0 <= 0xF4) ? 4 : 0;
  if (len <= 1 || i + len > text.size()) return 1;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<uint8_t>(text[i + k]) & 0xC0) != 0x80) return 1;
  }
  const auto b1 = static_cast<uint8_t>(text[i + 1]);
  if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 > 0x9F) || (b0 == 0xF0 && b1 < 0x90) ||
      (b0 == 0xF4 && b1 > 0x8F)) {
    return 1;  // overlong, surrogate or above U+10FFFF
  }
  return len;
}

// "<0xAB>" -> 0xAB; -1 when `text` is not a byte token spelling.
int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(text[3]), lo = hex(text[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

class SpmTokenizer final : public Tokenizer {
 public:
  SpmTokenizer(std::vector<std::string> tokens, std::vector<float> scores, std::vector<SpmTokenType> types,
               bool add_space_prefix, int32_t unk_id);

  std::vector<int32_t> Encode(std::string_view text, bool add_special) const override;
  std::string Decode(std::span<const int32_t> ids, bool skip_special) const override;
  std::string TokenBytes(int32_t id) const override { return InRange(id) ? token_bytes_[id] : std::string(); }
  const std::string& TokenText(int32_t id) const override { return InRange(id) ? tokens_[id] : empty_; }
  std::optional<int32_t> TokenId(std::string_view text) const override;
  int32_t n_vocab() const override { return static_cast<int32_t>(tokens_.size()); }
  bool IsSpecial(int32_t id) const override {
    return InRange(id) && (types_[id] == SpmTokenType::kControl || types_[id] == SpmTokenType::kUnknown);
  }

  void SetSpecialIds(int32_t bos, int32_t eos, bool add_bos, bool add_eos, std::vector<int32_t> eog) {
    bos_id_ = bos, eos_id_ = eos, add_bos_ = add_bos, add_eos_ = add_eos, eog_ids_ = std::move(eog);
  }

 private:
  bool InRange(int32_t id) const { return id >= 0 && id < static_cast<int32_t>(tokens_.size()); }
  // Longest special token that starts at text[pos], or -1.
  int32_t MatchSpecial(std::string_view text, size_t pos) const;
  // BPE over one already escaped segment ("▁Hello▁world"): cuts it at hard boundaries, then MergeChunk.
  void EncodeSegment(std::string_view text, std::vector<int32_t>* out) const;
  void MergeChunk(std::string_view text, std::vector<int32_t>* out) const;
  bool CanJoin(char a, char b) const { return joinable_[static_cast<uint8_t>(a) * 256 + static_cast<uint8_t>(b)]; }

  std::vector<std::string> tokens_;
  std::vector<float> scores_;
  std::vector<SpmTokenType> types_;
  std::vector<std::string> token_bytes_;                      // what each token decodes to
  std::unordered_map<std::string_view, int32_t> pieces_;      // merge targets: normal, user-defined, unused
  std::unordered_map<std::string_view, int32_t> all_texts_;   // every token text (first id wins)
  std::array<int32_t, 256> byte_ids_;                         // <0xXX> token per byte, -1 when absent
  std::vector<bool> joinable_ = std::vector<bool>(256 * 256);  // byte pair (a, b) occurs inside some piece
  std::array<std::vector<int32_t>, 256> specials_;            // by first byte, longest first
  bool add_space_prefix_ = true;
  int32_t unk_id_ = -1;
  static inline const std::string empty_;
};

SpmTokenizer::SpmTokenizer(std::vector<std::string> tokens, std::vector<float> scores,
                           std::vector<SpmTokenType> types, bool add_space_prefix, int32_t unk_id)
    : tokens_(std::move(tokens)), scores_(std::move(scores)), types_(std::move(types)),
      add_space_prefix_(add_space_prefix), unk_id_(unk_id) {
  byte_ids_.fill(-1);
  token_bytes_.resize(tokens_.size());
  pieces_.reserve(tokens_.size());
  all_texts_.reserve(tokens_.size());
  for (int32_t id = 0; id < static_cast<int32_t>(tokens_.size()); ++id) {
    const std::string& text = tokens_[id];
    all_texts_.emplace(text, id);
    switch (types_[id]) {
      case SpmTokenType::kByte: {
        const int b = ParseByteToken(text);
        if (b >= 0) {
          if (byte_ids_[b] < 0) byte_ids_[b] = id;
          token_bytes_[id] = std::string(1, static_cast<char>(b));
        } else {
          token_bytes_[id] = text;
        }
        break;
      }
      case SpmTokenType::kControl:
      case SpmTokenType::kUnknown:
        token_bytes_[id] = text;
        if (!text.empty()) specials_[static_cast<uint8_t>(text[0])].push_back(id);
        break;
      case SpmTokenType::kUserDefined:
        token_bytes_[id] = ReplaceAll(text, kSpaceMark, " ");
        if (!text.empty()) specials_[static_cast<uint8_t>(text[0])].push_back(id);
        pieces_.emplace(text, id);
        break;
      default:  // normal, unused, undefined
        token_bytes_[id] = ReplaceAll(text, kSpaceMark, " ");
        pieces_.emplace(text, id);
        break;
    }
  }
  for (const auto& [piece, id] : pieces_) {
    for (size_t i = 0; i + 1 < piece.size(); ++i) {
      joinable_[static_cast<uint8_t>(piece[i]) * 256 + static_cast<uint8_t>(piece[i + 1])] = true;
    }
  }
  for (auto& bucket : specials_) {
    std::stable_sort(bucket.begin(), bucket.end(),
                     [&](int32_t a, int32_t b) { return tokens_[a].size() > tokens_[b].size(); });
  }
}

std::optional<int32_t> SpmTokenizer::TokenId(std::string_view text) const {
  auto it = all_texts_.find(text);
  if (it == all_texts_.end()) return std::nullopt;
  return it->second;
}

int32_t SpmTokenizer::MatchSpecial(std::string_view text, size_t pos) const {
  for (int32_t id : specials_[static_cast<uint8_t>(text[pos])]) {
    if (text.compare(pos, tokens_[id].size(), tokens_[id]) == 0) return id;
  }
  return -1;
}

std::vector<int32_t> SpmTokenizer::Encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_ && bos_id_ >= 0) out.push_back(bos_id_);
  auto flush_text = [&](std::string_view segment) {
    if (segment.empty()) return;
    std::string escaped = add_space_prefix_ ? std::string(kSpaceMark) : std::string();
    escaped += ReplaceAll(segment, " ", kSpaceMark);
    EncodeSegment(escaped, &out);
  };
  size_t segment_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const int32_t special = MatchSpecial(text, pos);
    if (special < 0) {
      ++pos;
      continue;
    }
    flush_text(text.substr(segment_start, pos - segment_start));
    out.push_back(special);
    pos += tokens_[special].size();
    segment_start = pos;
  }
  flush_text(text.substr(segment_start));
  if (add_special && add_eos_ && eos_id_ >= 0) out.push_back(eos_id_);
  return out;
}

// A boundary between bytes a|b that no vocabulary piece contains can never be merged across, so the text can
// be cut there and each chunk merged alone with the same result: merges in one chunk never create, remove or
// reorder candidate pairs of another. Usually this cuts at every word ("s|▁"), which keeps the heaps small
// and in cache; a text with no such boundary (one 10 MB word) is still merged correctly in one piece.
void SpmTokenizer::EncodeSegment(std::string_view text, std::vector<int32_t>* out) const {
  size_t chunk = 0;
  for (size_t i = 0; i < text.size(); i += Utf8CharLen(text, i)) {
    if (i > chunk && !CanJoin(text[i - 1], text[i])) {
      MergeChunk(text.substr(chunk, i - chunk), out);
      chunk = i;
    }
  }
  MergeChunk(text.substr(chunk), out);
}

void SpmTokenizer::MergeChunk(std::string_view text, std::vector<int32_t>* out) const {
  // Symbols are contiguous byte ranges of `text` in a doubly linked list; a merged-away symbol has len 0.
  struct Symbol {
    int32_t prev, next;
    uint32_t start, len;
  };
  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8CharLen(text, i);
    const auto n = static_cast<int32_t>(syms.size());
    syms.push_back({n - 1, n + 1, static_cast<uint32_t>(i), static_cast<uint32_t>(len)});
    i += len;
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  // A candidate merge of `left` with its right neighbour. `len` is the pair's byte length when queued: if
  // either side has changed since, the lengths no longer add up and the entry is stale.
  struct Pair {
    float score;
    int32_t left;
    uint32_t len;
  };
  auto worse = [](const Pair& a, const Pair& b) {  // heap order: highest score, then leftmost
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::vector<Pair> heap;
  heap.reserve(syms.size());
  bool heapify = false;  // the initial pairs are collected first and heapified once (O(n))
  auto try_add = [&](int32_t left) {
    if (left < 0 || syms[left].next < 0) return;
    const Symbol& a = syms[left];
    const uint32_t len = a.len + syms[a.next].len;
    auto it = pieces_.find(text.substr(a.start, len));
    if (it == pieces_.end()) return;
    heap.push_back({scores_[it->second], left, len});
    if (heapify) std::push_heap(heap.begin(), heap.end(), worse);
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) try_add(i);
  std::make_heap(heap.begin(), heap.end(), worse);
  heapify = true;

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    const Pair pair = heap.back();
    heap.pop_back();
    Symbol& a = syms[pair.left];
    if (a.len == 0 || a.next < 0) continue;
    Symbol& b = syms[a.next];
    if (a.len + b.len != pair.len) continue;  // stale
    a.len += b.len;
    b.len = 0;
    a.next = b.next;
    if (a.next >= 0) syms[a.next].prev = pair.left;
    try_add(a.prev);
    try_add(pair.left);
  }

  for (int32_t i = 0; i >= 0; i = syms[i].next) {
    const std::string_view piece = text.substr(syms[i].start, syms[i].len);
    auto it = pieces_.find(piece);
    if (it != pieces_.end()) {
      out->push_back(it->second);
      continue;
    }
    for (char c : piece) {  // byte fallback
      const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
      if (id >= 0) {
        out->push_back(id);
      } else if (unk_id_ >= 0) {
        out->push_back(unk_id_);
      }
    }
  }
}

std::string SpmTokenizer::Decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (!InRange(id) || (skip_special && IsSpecial(id))) continue;
    out += token_bytes_[id];
  }
  if (add_space_prefix_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

int32_t ValidId(std::optional<int64_t> id, int32_t fallback, size_t n_vocab) {
  const int64_t v = id.value_or(fallback);
  return v >= 0 && v < static_cast<int64_t>(n_vocab) ? static_cast<int32_t>(v) : -1;
}

}  // namespace

std::unique_ptr<Tokenizer> MakeSpmTokenizerFromGguf(const GgufFile& gguf) {
  const std::vector<std::string>* tokens = gguf.GetStringArray("tokenizer.ggml.tokens");
  if (tokens == nullptr || tokens->empty()) {
    Fail("%s: tokenizer.ggml.tokens is missing or empty", gguf.path().c_str());
  }
  const size_t n = tokens->size();
  std::vector<float> scores(n, 0.0f);
  if (auto s = gguf.GetFloatArray("tokenizer.ggml.scores")) {
    if (s->size() != n) Fail("%s: tokenizer.ggml.scores has %zu entries, want %zu", gguf.path().c_str(), s->size(), n);
    for (size_t i = 0; i < n; ++i) scores[i] = static_cast<float>((*s)[i]);
  }
  std::vector<SpmTokenType> types(n, SpmTokenType::kNormal);
  if (auto t = gguf.GetIntArray("tokenizer.ggml.token_type")) {
    if (t->size() != n) {
      Fail("%s: tokenizer.ggml.token_type has %zu entries, want %zu", gguf.path().c_str(), t->size(), n);
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = (*t)[i];
      types[i] = v >= 0 && v <= 6 ? static_cast<SpmTokenType>(v) : SpmTokenType::kNormal;
    }
  }
  // Defaults as llama.cpp uses for SPM vocabularies: <unk>=0, <s>=1, </s>=2, BOS added, EOS not.
  const int32_t bos = ValidId(gguf.GetInt("tokenizer.ggml.bos_token_id"), 1, n);
  const int32_t eos = ValidId(gguf.GetInt("tokenizer.ggml.eos_token_id"), 2, n);
  const int32_t unk = ValidId(gguf.GetInt("tokenizer.ggml.unknown_token_id"), 0, n);
  const bool add_bos = gguf.GetBool("tokenizer.ggml.add_bos_token").value_or(true);
  const bool add_eos = gguf.GetBool("tokenizer.ggml.add_eos_token").value_or(false);
  const bool add_space_prefix = gguf.GetBool("tokenizer.ggml.add_space_prefix").value_or(true);

  std::vector<int32_t> eog;
  auto add_eog = [&](int32_t id) {
    if (id >= 0 && std::find(eog.begin(), eog.end(), id) == eog.end()) eog.push_back(id);
  };
  add_eog(eos);
  add_eog(ValidId(gguf.GetInt("tokenizer.ggml.eot_token_id"), -1, n));
  add_eog(ValidId(gguf.GetInt("tokenizer.ggml.eom_token_id"), -1, n));
  // End-of-turn markers of chat fine-tunes that reuse a Llama-2 vocabulary (as llama.cpp's vocab loader).
  static constexpr std::string_view kEogTexts[] = {"</s>", "<|eot_id|>", "<|im_end|>", "<|end|>",
                                                   "<end_of_turn>", "<|endoftext|>", "<EOT>"};
  for (size_t id = 0; id < n; ++id) {
    if (types[id] != SpmTokenType::kControl && types[id] != SpmTokenType::kUserDefined) continue;
    for (std::string_view t : kEogTexts) {
      if ((*tokens)[id] == t) add_eog(static_cast<int32_t>(id));
    }
  }

  auto tok = std::make_unique<SpmTokenizer>(*tokens, std::move(scores), std::move(types), add_space_prefix, unk);
  tok->SetSpecialIds(bos, eos, add_bos, add_eos, std::move(eog));
  return tok;
}

}  // namespace seek
