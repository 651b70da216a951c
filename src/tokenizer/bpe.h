// Byte-level BPE tokenizer (GPT-2 family) matching HF `tokenizers`:
//   encode = split on added tokens (leftmost-longest; non-normalized ones on the raw text first, then normalized
//            ones on the normalized text, as HF AddedVocabulary does) → normalise (NFC when the model says so)
//            → pre-tokenize (pretokenizer.h) → map bytes to GPT-2 unicode → BPE merges by rank → ids;
//   decode = token text → bytes (inverse byte map per token, or the raw text of tokens that are not byte-level
//            strings, as HF's ByteLevel decoder does), skipping special tokens when asked.
// BPE merging uses a linked list of symbols and a min-heap of candidate pairs keyed by (rank, position), so a
// word of n bytes costs O(n log n): long words and whitespace runs stay cheap.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace seek {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false;
  bool normalized = false;
};

// Everything a byte-level BPE tokenizer needs, filled from GGUF metadata or tokenizer.json.
struct BpeConfig {
  std::string source;                                     // file name, for messages
  std::vector<std::string> tokens;                        // id -> vocabulary string ("Ġthe")
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::vector<AddedToken> added;
  PreTokenizer pre;
  bool nfc = false;
  bool ignore_merges = false;
  int32_t bos_id = -1, eos_id = -1;
  bool add_bos = false, add_eos = false;
};

std::unique_ptr<Tokenizer> MakeBpeTokenizer(BpeConfig config);

// Parses tokenizer.json (+ tokenizer_config.json, may be null) of a byte-level BPE model into a config.
// Throws seek::Error for models that are not byte-level BPE or use parts seek does not implement.
BpeConfig BpeConfigFromHfJson(const nlohmann::json& tokenizer, const nlohmann::json* tokenizer_config,
                              const std::string& source);

}  // namespace seek
