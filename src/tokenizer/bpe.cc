#include "tokenizer/bpe.h"

#include <algorithm>
#include <mutex>
#include <queue>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace seek {
namespace {

// A byte trie over added-token contents for leftmost-longest matching (what HF does with aho-corasick
// MatchKind::LeftmostLongest). Per position the walk stops at the first missing child, so scanning is
// O(text * depth of the deepest shared prefix), in practice linear.
class AddedTrie {
 public:
  AddedTrie() : nodes_(1) {}
  void Insert(const std::string& s, int32_t index) {
    if (s.empty()) return;
    int32_t n = 0;
    for (unsigned char c : s) {
      auto& ch = nodes_[n].children;
      auto it = std::lower_bound(ch.begin(), ch.end(), c,
                                 [](const std::pair<uint8_t, int32_t>& a, uint8_t b) { return a.first < b; });
      if (it != ch.end() && it->first == c) {
        n = it->second;
      } else {
        const int32_t next = static_cast<int32_t>(nodes_.size());
        ch.insert(it, {c, next});
        nodes_.emplace_back();
        n = next;
      }
    }
    if (nodes_[n].value < 0) nodes_[n].value = index;  // first definition of a content wins
    first_byte_[static_cast<unsigned char>(s[0])] = true;
  }
  bool empty() const { return nodes_.size() == 1; }
  // Longest match starting at text[i]: returns its length (0 if none) and the token index in *index.
  size_t LongestAt(std::string_view text, size_t i, int32_t* index) const {
    if (!first_byte_[static_cast<unsigned char>(text[i])]) return 0;
    size_t best = 0;
    int32_t n = 0;
    for (size_t k = i; k < text.size(); ++k) {
      const auto& ch = nodes_[n].children;
      const auto c = static_cast<uint8_t>(text[k]);
      auto it = std::lower_bound(ch.begin(), ch.end(), c,
                                 [](const std::pair<uint8_t, int32_t>& a, uint8_t b) { return a.first < b; });
      if (it == ch.end() || it->first != c) break;
      n = it->second;
      if (nodes_[n].value >= 0) {
        best = k + 1 - i;
        *index = nodes_[n].value;
      }
    }
    return best;
  }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    int32_t value = -1;
  };
  std::vector<Node> nodes_;
  bool first_byte_[256] = {};
};

// Open-addressing hash table (linear probing) from a (left id, right id) pair to its merge: the BPE inner loop
// does one lookup per candidate pair, and node-based std::unordered_map costs a cache miss per lookup.
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) definition of a pair, as HF does.
  void Insert(uint64_t key, Merge m) {
    for (size_t i = Hash(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{key, m};
        return;
      }
    }
  }
  const Merge* Find(uint64_t key) const {
    for (size_t i = Hash(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].m;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key;
    Merge m;
  };
  size_t Hash(uint64_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeConfig c) : pre_(std::move(c.pre)), nfc_(c.nfc), ignore_merges_(c.ignore_merges) {
    tokens_ = std::move(c.tokens);
    token_to_id_.reserve(tokens_.size() * 2);
    for (size_t i = 0; i < tokens_.size(); ++i) token_to_id_.emplace(tokens_[i], static_cast<int32_t>(i));
    for (int b = 0; b < 256; ++b) {
      std::string s;
      unicode::AppendUtf8(unicode::ByteToUnicode(static_cast<uint8_t>(b)), &s);
      auto it = token_to_id_.find(s);
      byte_token_[b] = it == token_to_id_.end() ? -1 : it->second;
    }
    merges_.Reserve(c.merges.size());
    for (size_t r = 0; r < c.merges.size(); ++r) {
      const auto& [a, b] = c.merges[r];
      auto ia = token_to_id_.find(a), ib = token_to_id_.find(b), im = token_to_id_.find(a + b);
      if (ia == token_to_id_.end() || ib == token_to_id_.end() || im == token_to_id_.end()) {
        Fail("%s: merge %zu (\"%s\" \"%s\") uses a token missing from the vocabulary", c.source.c_str(), r,
             a.c_str(), b.c_str());
      }
      merges_.Insert(Key(ia->second, ib->second), MergeTable::Merge{static_cast<int32_t>(r), im->second});
    }
    special_.assign(tokens_.size(), false);
    added_ = std::move(c.added);
    for (size_t k = 0; k < added_.size(); ++k) {
      const auto& t = added_[k];
      if (t.id < 0 || t.id >= static_cast<int32_t>(tokens_.size())) {
        Fail("%s: added token \"%s\" has id %d outside the vocabulary", c.source.c_str(), t.content.c_str(), t.id);
      }
      special_[t.id] = t.special;
      (t.normalized ? normalized_trie_ : raw_trie_).Insert(t.content, static_cast<int32_t>(k));
    }
    token_bytes_.resize(tokens_.size());
    for (size_t i = 0; i < tokens_.size(); ++i) token_bytes_[i] = ByteLevelDecode(tokens_[i]);
    bos_id_ = c.bos_id;
    eos_id_ = c.eos_id;
    add_bos_ = c.add_bos && bos_id_ >= 0;
    add_eos_ = c.add_eos && eos_id_ >= 0;
    ComputeEog();
  }

  std::vector<int32_t> Encode(std::string_view text, bool add_special) const override {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    if (add_special && add_bos_) out.push_back(bos_id_);
    // Phase 1: added tokens that match the raw text.
    SplitAdded(raw_trie_, text, [&](std::string_view seg) {
      if (nfc_ && !seg.empty()) {
        const std::string norm = unicode::Nfc(seg);
        SplitAdded(normalized_trie_, norm, [&](std::string_view s2) { EncodeText(s2, &out); }, &out);
      } else {
        SplitAdded(normalized_trie_, seg, [&](std::string_view s2) { EncodeText(s2, &out); }, &out);
      }
    }, &out);
    if (add_special && add_eos_) out.push_back(eos_id_);
    return out;
  }

  std::string Decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::string out;
    for (int32_t id : ids) {
      if (id < 0 || id >= n_vocab()) continue;
      if (skip_special && special_[id]) continue;
      out += token_bytes_[id];
    }
    return out;
  }

  std::string TokenBytes(int32_t id) const override {
    return id >= 0 && id < n_vocab() ? token_bytes_[id] : std::string();
  }
  const std::string& TokenText(int32_t id) const override {
    static const std::string kEmpty;
    return id >= 0 && id < n_vocab() ? tokens_[id] : kEmpty;
  }
  std::optional<int32_t> TokenId(std::string_view text) const override {
    auto it = token_to_id_.find(std::string(text));
    if (it == token_to_id_.end()) return std::nullopt;
    return it->second;
  }
  int32_t n_vocab() const override { return static_cast<int32_t>(tokens_.size()); }
  bool IsSpecial(int32_t id) const override { return id >= 0 && id < n_vocab() && special_[id]; }

 private:
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  // HF ByteLevel decoder, per token: if every char of the token is in the byte map, its bytes; otherwise the
  // token's own UTF-8 text (how added tokens such as "<｜User｜>" decode).
  static std::string ByteLevelDecode(const std::string& text) {
    std::vector<char32_t> cps;
    std::vector<uint32_t> offs;
    unicode::DecodeUtf8(text, &cps, &offs);
    std::string out;
    for (char32_t c : cps) {
      const int b = unicode::UnicodeToByte(c);
      if (b < 0) return text;
      out.push_back(static_cast<char>(b));
    }
    return out;
  }

  void ComputeEog() {
    if (eos_id_ >= 0) eog_ids_.push_back(eos_id_);
    for (const char* name : {"<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>",
                             "<｜end▁of▁sentence｜>", "<end_of_turn>", "<|end|>"}) {
      auto it = token_to_id_.find(name);
      if (it != token_to_id_.end() && std::find(eog_ids_.begin(), eog_ids_.end(), it->second) == eog_ids_.end()) {
        eog_ids_.push_back(it->second);
      }
    }
  }

  // Splits `text` on the added tokens of `trie` (leftmost-longest, non-overlapping, with lstrip / rstrip /
  // single_word as HF applies them); calls on_text for the text between matches and appends matched ids.
  template <typename OnText>
  void SplitAdded(const AddedTrie& trie, std::string_view text, OnText on_text, std::vector<int32_t>* out) const {
    if (trie.empty()) {
      on_text(text);
      return;
    }
    size_t start = 0, i = 0;
    while (i < text.size()) {
      int32_t index = -1;
      const size_t len = trie.LongestAt(text, i, &index);
      if (len == 0) {
        ++i;
        continue;
      }
      const AddedToken& t = added_[index];
      size_t b = i, e = i + len;
      if (t.single_word && !SingleWordOk(text, b, e)) {
        i = e;  // aho-corasick matches do not overlap: the rejected match's bytes stay text
        continue;
      }
      if (t.lstrip) b = StripLeft(text, start, b);
      if (t.rstrip) e = StripRight(text, e);
      on_text(text.substr(start, b - start));
      out->push_back(t.id);
      start = i = e;
    }
    on_text(text.substr(start));
  }

  static bool IsWordChar(std::string_view s, size_t b, size_t e) {
    std::vector<char32_t> cps;
    std::vector<uint32_t> offs;
    unicode::DecodeUtf8(s.substr(b, e - b), &cps, &offs);
    if (cps.empty()) return false;
    const uint8_t c = unicode::ClassOf(cps[0]);
    return (c & (unicode::kClassL | unicode::kClassN)) || cps[0] == '_';
  }
  static size_t PrevCharStart(std::string_view s, size_t i) {
    size_t k = i - 1;
    while (k > 0 && (static_cast<uint8_t>(s[k]) & 0xC0) == 0x80 && i - k < 4) --k;
    return k;
  }
  static size_t CharLen(std::string_view s, size_t i) {
    size_t k = i + 1;
    while (k < s.size() && (static_cast<uint8_t>(s[k]) & 0xC0) == 0x80 && k - i < 4) ++k;
    return k - i;
  }
  // single_word: the match must not touch a word character on either side.
  static bool SingleWordOk(std::string_view s, size_t b, size_t e) {
    if (b > 0) {
      const size_t p = PrevCharStart(s, b);
      if (IsWordChar(s, p, b)) return false;
    }
    if (e < s.size() && IsWordChar(s, e, e + CharLen(s, e))) return false;
    return true;
  }
  static bool WhiteAt(std::string_view s, size_t b, size_t e) {
    std::vector<char32_t> cps;
    std::vector<uint32_t> offs;
    unicode::DecodeUtf8(s.substr(b, e - b), &cps, &offs);
    return cps.size() == 1 && (unicode::ClassOf(cps[0]) & unicode::kClassWhite);
  }
  static size_t StripLeft(std::string_view s, size_t floor, size_t b) {
    while (b > floor) {
      const size_t p = PrevCharStart(s, b);
      if (!WhiteAt(s, p, b)) break;
      b = p;
    }
    return b;
  }
  static size_t StripRight(std::string_view s, size_t e) {
    while (e < s.size()) {
      const size_t n = e + CharLen(s, e);
      if (!WhiteAt(s, e, n)) break;
      e = n;
    }
    return e;
  }

  void EncodeText(std::string_view text, std::vector<int32_t>* out) const {
    if (text.empty()) return;
    thread_local std::vector<std::pair<uint32_t, uint32_t>> pieces;
    pieces.clear();
    pre_.Split(text, &pieces);
    std::unique_lock<std::mutex> lock(cache_mutex_, std::defer_lock);
    for (const auto& [b, e] : pieces) {
      const std::string_view word = text.substr(b, e - b);
      if (word.size() > kCacheMaxWord) {
        EncodeWord(word, out);
        continue;
      }
      thread_local std::string key;
      key.assign(word);
      lock.lock();
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        out->insert(out->end(), it->second.begin(), it->second.end());
        lock.unlock();
        continue;
      }
      lock.unlock();
      const size_t start = out->size();
      EncodeWord(word, out);
      lock.lock();
      if (cache_.size() >= kCacheMaxEntries) cache_.clear();
      cache_.emplace(key, std::vector<int32_t>(out->begin() + static_cast<std::ptrdiff_t>(start), out->end()));
      lock.unlock();
    }
  }

  void EncodeWord(std::string_view word, std::vector<int32_t>* out) const {
    if (ignore_merges_) {
      std::string mapped;
      for (unsigned char c : word) unicode::AppendUtf8(unicode::ByteToUnicode(c), &mapped);
      auto it = token_to_id_.find(mapped);
      if (it != token_to_id_.end()) {
        out->push_back(it->second);
        return;
      }
    }
    // pair_rank: rank of the merge of this symbol with its right neighbour (-1 when none), kept current, so a
    // heap entry (rank << 32 | pos) is live exactly when syms[pos].pair_rank still equals its rank. Ranks are
    // unique per merge, so this is HF's check that the pair at pos still merges to the same token. Entries
    // are ordered by (rank, pos) as HF's BPE::merge_word orders them.
    struct Sym {
      int32_t id, prev, next, pair_rank;
    };
    thread_local std::vector<Sym> syms;
    syms.clear();
    for (unsigned char c : word) {
      const int32_t id = byte_token_[c];
      if (id < 0) continue;  // HF drops characters missing from the vocabulary when there is no unk token
      const auto n = static_cast<int32_t>(syms.size());
      syms.push_back({id, n - 1, n + 1, -1});
    }
    if (syms.empty()) return;
    syms.back().next = -1;
    if (syms.size() == 1) {
      out->push_back(syms[0].id);
      return;
    }
    thread_local std::vector<uint64_t> heap;
    heap.clear();
    const auto cmp = std::greater<uint64_t>();
    auto set_pair = [&](int32_t left) {
      if (left < 0) return;
      Sym& l = syms[left];
      l.pair_rank = -1;
      if (l.next < 0) return;
      const MergeTable::Merge* m = merges_.Find(Key(l.id, syms[l.next].id));
      if (!m) return;
      l.pair_rank = m->rank;
      heap.push_back((static_cast<uint64_t>(m->rank) << 32) | static_cast<uint32_t>(left));
      std::push_heap(heap.begin(), heap.end(), cmp);
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) {
      const MergeTable::Merge* m = merges_.Find(Key(syms[i].id, syms[i + 1].id));
      if (!m) continue;
      syms[i].pair_rank = m->rank;
      heap.push_back((static_cast<uint64_t>(m->rank) << 32) | static_cast<uint32_t>(i));
    }
    std::make_heap(heap.begin(), heap.end(), cmp);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), cmp);
      const uint64_t top = heap.back();
      heap.pop_back();
      const auto pos = static_cast<int32_t>(top & 0xFFFFFFFFu);
      const auto rank = static_cast<int32_t>(top >> 32);
      Sym& left = syms[pos];
      if (left.id < 0 || left.pair_rank != rank) continue;  // stale entry
      Sym& right = syms[left.next];
      left.id = merges_.Find(Key(left.id, right.id))->new_id;
      right.id = -1;
      right.pair_rank = -1;
      left.next = right.next;
      if (left.next >= 0) syms[left.next].prev = pos;
      set_pair(left.prev);
      set_pair(pos);
    }
    for (int32_t i = 0; i >= 0; i = syms[i].next) out->push_back(syms[i].id);
  }

  PreTokenizer pre_;
  bool nfc_ = false, ignore_merges_ = false;
  std::vector<std::string> tokens_;
  std::vector<std::string> token_bytes_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  MergeTable merges_;
  // Results for short words: natural text repeats words, so most pieces skip BPE. Guarded by cache_mutex_
  // because Encode is const and may run on several threads.
  static constexpr size_t kCacheMaxWord = 48, kCacheMaxEntries = 1 << 16;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
  int32_t byte_token_[256];
  std::vector<AddedToken> added_;
  AddedTrie raw_trie_, normalized_trie_;
  std::vector<bool> special_;
};

}  // namespace

std::unique_ptr<Tokenizer> MakeBpeTokenizer(BpeConfig config) {
  return std::make_unique<BpeTokenizer>(std::move(config));
}

}  // namespace seek
