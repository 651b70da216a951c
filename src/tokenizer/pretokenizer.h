// Pre-tokenizers of byte-level BPE vocabularies: hand-written scanners, one per regex of the real models, that
// reproduce HF `tokenizers` Split(pattern, behavior="Isolated") exactly (leftmost-first alternation, greedy
// quantifiers with backtracking, `(?!\S)` and `$` evaluated against the piece being split, as Oniguruma does).
// No regex engine is involved, so splitting is linear in the text and never backtracks catastrophically.
//
// A pre-tokenizer is a chain of splits: each split re-splits every piece of the previous one; matches and the
// gaps between them both become pieces (HF "Isolated"). Families (GGUF tokenizer.ggml.pre names):
//   gpt2                 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3 (llama-bpe)   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//                        \s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2, deepseek-r1-qwen  as llama3 with \p{N} (single digits)
//   deepseek-v3          \p{N}{1,3}  then  [一-龥぀-ゟ゠-ヿ]+  then  [!-/:-@[-`{-~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
//                        ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   deepseek-llm         [\r\n], \s?[cased Latin/Greek/Cyrillic/...]+, \s?[!-/:-~！-／：-～‘-‟　-。]+, \s+$,
//                        [一-龥ࠀ-一가-퟿]+, \p{N}+
//   deepseek-coder       [\r\n], \s?\p{L}+, \s?\p{P}+, [一-龥ࠀ-一가-퟿]+, \p{N}
//   smollm               Digits(individual_digits=true) then gpt2
// Sources: HF tokenizer.json files of these models; llama.cpp src/llama-vocab.cpp (regex lists per pre type).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace seek {

enum class SplitRule : uint8_t {
  kGpt2, kLlama3, kQwen2,
  kDigit1, kDigits3, kDigitsRun,
  kDsV3Cjk, kDsV3Main,
  kNewline, kDsLlmLatin, kDsLlmPunct, kTrailingSpace, kDsCjk,
  kDsCoderLetters, kDsCoderPunct,
};

class PreTokenizer {
 public:
  PreTokenizer() = default;  // no splitting: the whole text is one piece
  explicit PreTokenizer(std::vector<SplitRule> rules, std::string name)
      : rules_(std::move(rules)), name_(std::move(name)) {}

  // From a GGUF tokenizer.ggml.pre value; throws seek::Error naming unknown values.
  static PreTokenizer FromGgufPre(std::string_view pre);
  // From the "pre_tokenizer" object of tokenizer.json. Recognises Sequence, Split (Isolated, with one of the
  // known regexes), ByteLevel (use_regex → gpt2 split; add_prefix_space must be false) and Digits. Anything else
  // throws seek::Error quoting the unknown part: a silently different split would be silently wrong tokens.
  static PreTokenizer FromHfJson(const nlohmann::json& pre_tokenizer);

  // Splits `text` into pieces, appended to `pieces` as byte ranges [begin, end) in order, covering all of text.
  void Split(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* pieces) const;

  const std::string& name() const { return name_; }
  const std::vector<SplitRule>& rules() const { return rules_; }

 private:
  std::vector<SplitRule> rules_;
  std::string name_ = "none";
};

}  // namespace seek
