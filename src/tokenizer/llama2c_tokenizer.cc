// The llama2.c tokenizer (karpathy/llama2.c run.c: `Tokenizer`, `encode`, `decode`), reproduced id for id.
//
// tokenizer.bin: int32 max_token_length, then vocab_size times { float32 score, int32 len, len bytes }. The
// export script has already turned "▁" into ' ', BOS into "\n<s>\n" and EOS into "\n</s>\n"; ids 3..258 are the
// byte tokens <0x00>..<0xFF>.
//
// Encode (run.c `encode`): optional BOS (id 1); a dummy-prefix token for " " when the text is not empty; then
// the text as UTF-8 code points looked up one by one (a lead byte plus at most 3 continuation bytes; a lone or
// overlong run of continuation bytes is cut after 4 bytes, as run.c does), falling back to byte ids (byte + 3)
// when a code point is not in the vocabulary; then, repeatedly, the adjacent pair whose concatenated texts
// form the vocabulary entry with the highest score (strictly above -1e10, leftmost on ties) is merged. run.c
// rescans all pairs after every merge (O(n^2)); here a max-heap of candidate pairs with lazy invalidation gives
// the same merges in O(n log n), and a hash map replaces run.c's sorted vocabulary + bsearch.
// Like run.c the merge loop sees the BOS token's text and byte tokens' "<0xXX>" text. Unlike run.c (C strings),
// a NUL byte in the text does not end it: it is encoded as byte token <0x00>.
//
// Decode (run.c `decode`): a token's text with "<0xXX>" turned into the raw byte; the leading ' ' of a token
// that follows BOS is dropped. The first token of a sequence is treated as following BOS, so
// Decode(Encode(s, any)) == s.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/spm.h"

namespace seek {
namespace {

constexpr int32_t kUnkId = 0, kBosId = 1, kEosId = 2, kByteOffset = 3;
constexpr float kMinMergeScore = -1e10f;  // run.c's initial best_score

class Llama2cTokenizer final : public Tokenizer {
 public:
  Llama2cTokenizer(std::vector<std::string> tokens, std::vector<float> scores);

  std::vector<int32_t> Encode(std::string_view text, bool add_special) const override;
  std::string Decode(std::span<const int32_t> ids, bool skip_special) const override;
  std::string TokenBytes(int32_t id) const override { return InRange(id) ? token_bytes_[id] : std::string(); }
  const std::string& TokenText(int32_t id) const override { return InRange(id) ? tokens_[id] : empty_; }
  std::optional<int32_t> TokenId(std::string_view text) const override {
    const int32_t id = Lookup(text);
    return id < 0 ? std::nullopt : std::optional<int32_t>(id);
  }
  int32_t n_vocab() const override { return static_cast<int32_t>(tokens_.size()); }
  bool IsSpecial(int32_t id) const override { return id == kUnkId || id == kBosId || id == kEosId; }

 private:
  bool InRange(int32_t id) const { return id >= 0 && id < static_cast<int32_t>(tokens_.size()); }
  int32_t Lookup(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? -1 : it->second;
  }
  void MergePairs(std::vector<int32_t>* ids) const;
  // Merges ids[begin, end) as run.c would if they were the whole sequence; merged-away ids become -1.
  void MergeRange(std::vector<int32_t>* ids, int32_t begin, int32_t end) const;

  std::vector<std::string> tokens_;
  std::vector<float> scores_;
  std::vector<std::string> token_bytes_;
  std::unordered_map<std::string_view, int32_t> ids_;  // first id wins for a repeated text
  std::vector<bool> joinable_ = std::vector<bool>(256 * 256);  // byte pair (a, b) occurs inside some token
  static inline const std::string empty_;
};

// run.c decodes a piece with sscanf(piece, "<0x%02hhX>", &byte): "<0x" then one or two hex digits.
int ParseRunCByte(std::string_view text) {
  if (text.size() < 4 || text.substr(0, 3) != "<0x") return -1;
  int value = 0, digits = 0;
  for (size_t i = 3; i < text.size() && digits < 2; ++i, ++digits) {
    const char c = text[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) break;
    value = value * 16 + d;
  }
  return digits == 0 ? -1 : value;
}

Llama2cTokenizer::Llama2cTokenizer(std::vector<std::string> tokens, std::vector<float> scores)
    : tokens_(std::move(tokens)), scores_(std::move(scores)) {
  bos_id_ = kBosId;
  eos_id_ = kEosId;
  add_bos_ = true;  // run.c prepends BOS to the prompt and adds no EOS when generating
  add_eos_ = false;
  eog_ids_ = {kEosId};
  token_bytes_.resize(tokens_.size());
  ids_.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    ids_.emplace(tokens_[id], static_cast<int32_t>(id));
    const std::string& t = tokens_[id];
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      joinable_[static_cast<uint8_t>(t[i]) * 256 + static_cast<uint8_t>(t[i + 1])] = true;
    }
    const int b = ParseRunCByte(tokens_[id]);
    token_bytes_[id] = b >= 0 ? std::string(1, static_cast<char>(b)) : tokens_[id];
  }
}

std::vector<int32_t> Llama2cTokenizer::Encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 2);
  if (add_special) ids.push_back(kBosId);
  if (!text.empty()) {
    const int32_t space = Lookup(" ");
    ids.push_back(space >= 0 ? space : ' ' + kByteOffset);  // run.c would store -1 here; we fall back to bytes
  }
  auto is_cont = [](char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; };
  size_t start = 0, len = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_cont(text[i])) len = 0;
    if (len == 0) start = i;
    ++len;
    if (i + 1 < text.size() && is_cont(text[i + 1]) && len < 4) continue;
    const std::string_view cp = text.substr(start, len);
    const int32_t id = Lookup(cp);
    if (id >= 0) {
      ids.push_back(id);
    } else {
      for (char c : cp) ids.push_back(static_cast<uint8_t>(c) + kByteOffset);
    }
    len = 0;
  }
  MergePairs(&ids);
  return ids;
}

// Two neighbours whose texts meet in a byte pair a|b that no vocabulary entry contains can never be merged
// (nor can anything built from them), so the sequence is cut there and each run merged alone: same result,
// far smaller heaps. The merge order inside a run is unchanged, and runs never interact.
void Llama2cTokenizer::MergePairs(std::vector<int32_t>* ids) const {
  const auto n = static_cast<int32_t>(ids->size());
  int32_t begin = 0;
  for (int32_t i = 1; i < n; ++i) {
    const std::string& a = tokens_[(*ids)[i - 1]];
    const std::string& b = tokens_[(*ids)[i]];
    if (!a.empty() && !b.empty() &&
        !joinable_[static_cast<uint8_t>(a.back()) * 256 + static_cast<uint8_t>(b.front())]) {
      MergeRange(ids, begin, i);
      begin = i;
    }
  }
  MergeRange(ids, begin, n);
  std::erase(*ids, -1);
}

void Llama2cTokenizer::MergeRange(std::vector<int32_t>* ids, int32_t begin, int32_t end) const {
  if (end - begin < 2) return;
  const int32_t n = end - begin;  // local indices 0..n-1 stand for ids[begin + i]
  std::vector<int32_t> next(n), prev(n);
  for (int32_t i = 0; i < n; ++i) next[i] = i + 1 < n ? i + 1 : -1, prev[i] = i - 1;
  int32_t* tok = ids->data() + begin;  // tok[i]: the token of the symbol that starts at i; -1 once merged away

  struct Pair {
    float score;
    int32_t left, right;
    int32_t left_tok, right_tok;  // the pair is stale unless both symbols still hold these tokens
    int32_t merged;
  };
  auto worse = [](const Pair& a, const Pair& b) {  // heap order: highest score, then leftmost (run.c's scan)
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::vector<Pair> heap;
  heap.reserve(n);
  std::string scratch;
  bool heapify = false;
  auto try_add = [&](int32_t left) {
    if (left < 0 || next[left] < 0) return;
    const int32_t right = next[left];
    scratch.assign(tokens_[tok[left]]);
    scratch.append(tokens_[tok[right]]);
    const int32_t merged = Lookup(scratch);
    if (merged < 0 || !(scores_[merged] > kMinMergeScore)) return;
    heap.push_back({scores_[merged], left, right, tok[left], tok[right], merged});
    if (heapify) std::push_heap(heap.begin(), heap.end(), worse);
  };
  for (int32_t i = 0; i + 1 < n; ++i) try_add(i);
  std::make_heap(heap.begin(), heap.end(), worse);  // initial pairs heapified once, O(n)
  heapify = true;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    const Pair p = heap.back();
    heap.pop_back();
    if (tok[p.left] != p.left_tok || tok[p.right] != p.right_tok || next[p.left] != p.right) continue;
    tok[p.left] = p.merged;
    tok[p.right] = -1;
    next[p.left] = next[p.right];
    if (next[p.left] >= 0) prev[next[p.left]] = p.left;
    try_add(prev[p.left]);
    try_add(p.left);
  }
}

std::string Llama2cTokenizer::Decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  int32_t prev = kBosId;
  for (int32_t id : ids) {
    if (!InRange(id)) continue;
    const bool after_bos = prev == kBosId;
    prev = id;
    if (skip_special && IsSpecial(id)) continue;
    std::string_view piece = token_bytes_[id];
    // run.c: "following BOS token, sentencepiece decoder strips any leading whitespace"
    if (after_bos && !piece.empty() && piece[0] == ' ' && ParseRunCByte(tokens_[id]) < 0) piece.remove_prefix(1);
    out.append(piece);
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> MakeLlama2cTokenizer(const std::string& tokenizer_bin_path, int32_t vocab_size) {
  std::ifstream in(tokenizer_bin_path, std::ios::binary);
  if (!in) Fail("%s: cannot open llama2.c tokenizer", tokenizer_bin_path.c_str());
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (vocab_size <= kEosId) Fail("%s: vocab_size %d is too small", tokenizer_bin_path.c_str(), vocab_size);
  size_t pos = 0;
  auto read = [&](void* dst, size_t n, const char* what, int32_t id) {
    if (data.size() - pos < n) {
      Fail("%s: offset %zu: truncated reading %s of token %d", tokenizer_bin_path.c_str(), pos, what, id);
    }
    std::memcpy(dst, data.data() + pos, n);
    pos += n;
  };
  int32_t max_token_length = 0;
  read(&max_token_length, 4, "max_token_length", -1);
  std::vector<std::string> tokens(vocab_size);
  std::vector<float> scores(vocab_size);
  for (int32_t id = 0; id < vocab_size; ++id) {
    int32_t len = 0;
    read(&scores[id], 4, "score", id);
    read(&len, 4, "length", id);
    if (len < 0 || static_cast<size_t>(len) > data.size() - pos) {
      Fail("%s: offset %zu: token %d has bad length %d", tokenizer_bin_path.c_str(), pos - 4, id, len);
    }
    tokens[id].assign(data.data() + pos, len);
    pos += len;
  }
  return std::make_unique<Llama2cTokenizer>(std::move(tokens), std::move(scores));
}

}  // namespace seek
