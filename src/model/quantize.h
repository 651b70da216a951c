// Model quantization: GGUF file or HF folder in -> GGUF out with every weight matrix converted to a target
// type or a llama.cpp-style mix (seek quantize).
//
// Per-tensor rules (ChooseTensorType; the mixes follow llama.cpp's llama_tensor_get_type, rewritten):
//  - Tensors with one dimension (norms, biases, rope_freqs) and the MoE router (ffn_gate_inp) stay F32: they
//    are tiny and precision-critical.
//  - F32 / F16 / BF16 schemes: every other tensor gets that type.
//  - Quantized schemes: every other tensor gets the scheme's base type, except
//      output.weight (or token_embd.weight when the embeddings are tied, because it is then also the output
//      projection): Q6_K, unless the base is Q8_0 or Q6_K (kept);
//      Q4_K_M / Q5_K_M: attn_v and ffn_down use Q6_K in "more bits" layers: the first and last eighth of
//      the layers and every third layer in between (i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2);
//      Q4_K_S: attn_v of the first 4 layers and ffn_down of the first eighth of the layers use Q5_K.
//  - Pure schemes (QuantScheme::pure, seek quantize --pure): every tensor but the F32 ones above gets the base
//    type; only the fallbacks below apply (llama.cpp's --pure skips its fallbacks too and then fails on such
//    rows; seek keeps them).
//  - Fallbacks: a row length (ne[0]) that is not a multiple of 256 cannot hold K-quant super-blocks:
//    Q2_K/Q3_K/Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (llama.cpp uses IQ4_NL for Q2_K/Q3_K, which seek
//    lacks); one that is not a multiple of 32 falls back to F16. Each fallback is logged.
// A tensor whose chosen type equals its stored type is copied byte for byte. Quantized input tensors
// (anything but F32/F16/BF16) are refused unless allow_requantize, in which case they are dequantized first
// (quality suffers: errors compound).
//
// Metadata: every key of a GGUF input is copied (architecture, tokenizer, chat template, ...); an HF folder's
// config and tokenizer are converted as tools/hf_to_gguf.py does (model/hf_to_gguf.h). Then
// general.file_type is set to llama.cpp's LLAMA_FTYPE value of the scheme and general.quantization_version to
// 2 (the K-quant block layout revision).
//
// Performance: the input stays mmap'd; each tensor is converted in slices of rows (at most ~64 MB of output
// per slice) split across the thread pool and streamed to the output file, so memory use is one slice, not
// the model.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/dtype.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace seek {

struct QuantScheme {
  std::string name;  // "Q4_K_M"
  DType base;        // Q4_K for Q4_K_M
  enum class Mix { kNone, kS, kM } mix = Mix::kNone;
  uint32_t file_type = 0;  // llama.cpp's LLAMA_FTYPE_* value, written to general.file_type
  // Every 2-D tensor gets `base`: no output / mix rules (the row-length fallbacks still apply), as
  // llama-quantize --pure. For comparing quantizers tensor for tensor; the mixes give better files.
  bool pure = false;
};

// Parses a scheme name (case-insensitive): F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K,
// Q5_K, Q6_K, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M. nullopt for anything else.
std::optional<QuantScheme> ParseQuantScheme(std::string_view name);
// "F32, F16, ..." for error messages and help.
std::string QuantSchemeNames();

// Where a tensor sits in the model, for the mix rules.
struct TensorPlace {
  int layer = -1;            // N of "blk.N.", -1 for global tensors
  int n_layer = 0;           // block_count
  bool tied_output = false;  // the model has no output.weight (token_embd doubles as the output projection)
};

// The type `t` gets under `scheme` (see the file comment). *reason receives a log line when a fallback
// was applied ("" otherwise).
DType ChooseTensorType(const QuantScheme& scheme, const TensorView& t, const TensorPlace& place,
                       std::string* reason = nullptr);

struct QuantizeOptions {
  int n_threads = 0;  // 0: all hardware threads
  bool allow_requantize = false;
  // One line per tensor ("[ 3/30] blk.0.attn_q.weight f16 -> q4_K ...") and fallback notes; may be empty.
  std::function<void(const std::string&)> log;
};

struct QuantizeStats {
  int n_tensors = 0;
  int n_quantized = 0;                   // tensors whose type changed
  uint64_t bytes_in = 0, bytes_out = 0;  // tensor data only
  double seconds = 0;
};

// Quantizes the GGUF file or Hugging Face folder (model/hf_to_gguf.h) at in_path into out_path. Throws
// seek::Error with a clear message for an unreadable or non-GGUF input, a quantized input without
// allow_requantize, or an unwritable output (nothing is left at out_path on failure).
QuantizeStats QuantizeModel(const std::string& in_path, const std::string& out_path,
                            const QuantScheme& scheme, const QuantizeOptions& options);

}  // namespace seek
