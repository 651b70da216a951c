// SentencePiece-style BPE tokenizers: Llama-2 vocabularies from GGUF (tokenizer.ggml.model == "llama") and the
// llama2.c `tokenizer.bin` format. Both merge the adjacent pair with the highest score first and fall back to
// <0xXX> byte tokens for pieces not in the vocabulary.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace seek {

class GgufFile;

// Reads tokenizer.ggml.{tokens,scores,token_type,bos_token_id,eos_token_id,unknown_token_id,eot_token_id,
// add_bos_token,add_eos_token,add_space_prefix}. Throws seek::Error on a malformed vocabulary.
std::unique_ptr<Tokenizer> MakeSpmTokenizerFromGguf(const GgufFile& gguf);

// run.c format: int32 max_token_length, then per token: float score, int32 len, `len` bytes. BOS = 1, EOS = 2.
// Throws seek::Error when the file is missing or truncated.
std::unique_ptr<Tokenizer> MakeLlama2cTokenizer(const std::string& tokenizer_bin_path, int32_t vocab_size);

}  // namespace seek
