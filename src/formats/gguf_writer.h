// GGUF v3 writer (spec: ggml/docs/gguf.md; the reader is formats/gguf.h).
//
// Usage: set metadata (any order; a key set twice keeps its first position and the last value), add every
// tensor's info (name, type, shape), then stream each tensor's bytes in the order the tensors were added, in
// as many pieces as convenient, and Finish(). Nothing but the current write buffer is held in memory, so
// multi-GB models are written tensor by tensor. The header (metadata + tensor infos) is written on the first
// data write or at Finish().
//
// Alignment: general.alignment if set (must be a power of two; written as u32), else 32. Tensor offsets are
// relative to the data section, each rounded up to the alignment, and the bytes between tensors (and before
// the data section) are zero.
//
// The file is written to "PATH.part" and renamed to PATH by Finish(), so a crash or an error never leaves a
// truncated file under the final name. Every I/O failure throws seek::Error naming the path.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "formats/gguf.h"

namespace seek {

class GgufWriter {
 public:
  // Creates PATH.part; throws seek::Error ("PATH: cannot create the output file: REASON") if it cannot.
  explicit GgufWriter(std::string path);
  ~GgufWriter();  // an unfinished writer removes PATH.part
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // --- metadata (before the first tensor data) ---
  // Any value the reader produced (scalars, strings, arrays of scalars or strings). Nested arrays are
  // rejected with seek::Error because the reader keeps only their length.
  void Set(std::string_view key, const GgufValue& value);
  void SetU8(std::string_view key, uint8_t v);
  void SetI8(std::string_view key, int8_t v);
  void SetU16(std::string_view key, uint16_t v);
  void SetI16(std::string_view key, int16_t v);
  void SetU32(std::string_view key, uint32_t v);
  void SetI32(std::string_view key, int32_t v);
  void SetU64(std::string_view key, uint64_t v);
  void SetI64(std::string_view key, int64_t v);
  void SetF32(std::string_view key, float v);
  void SetF64(std::string_view key, double v);
  void SetBool(std::string_view key, bool v);
  void SetString(std::string_view key, std::string_view v);
  void SetStringArray(std::string_view key, const std::vector<std::string>& v);
  // Integer array stored with element type `elem` (any integer type or bool); values must fit (SEEK_CHECK).
  void SetIntArray(std::string_view key, GgufType elem, const std::vector<int64_t>& v);
  // Float array stored as f32 or f64.
  void SetFloatArray(std::string_view key, GgufType elem, const std::vector<double>& v);
  bool Has(std::string_view key) const;

  // --- tensors ---
  // Declares a tensor; ne in GGML order (ne[0] contiguous), n_dims 1..4. Throws seek::Error for a duplicate
  // name or a row length that is not a multiple of the type's block size.
  void AddTensor(std::string_view name, DType type, int n_dims, const int64_t* ne);
  // Bytes of the tensor added as number `index`.
  size_t TensorBytes(size_t index) const { return tensors_[index].nbytes; }
  size_t n_tensors() const { return tensors_.size(); }

  // Appends bytes to the current tensor (the first not yet complete, in AddTensor order). A piece may not run
  // past the current tensor's end (SEEK_CHECK); the padding after a tensor is written when it completes.
  void WriteTensorData(const void* data, size_t n);

  // Writes the header if still pending, checks that every tensor is complete (seek::Error otherwise),
  // flushes, closes and renames PATH.part to PATH.
  void Finish();

 private:
  struct Kv {
    std::string key;
    GgufValue value;
  };
  struct Info {
    std::string name;
    DType type;
    int n_dims;
    int64_t ne[kMaxDims];
    size_t nbytes;
    uint64_t offset;  // relative to the data section
  };

  void WriteHeader();
  void Write(const void* p, size_t n);
  void WriteZeros(size_t n);
  void WriteString(std::string_view s);
  void WriteValue(const GgufValue& v);
  Kv& Slot(std::string_view key);
  size_t alignment() const;

  std::string path_, part_path_;
  std::FILE* file_ = nullptr;
  std::vector<Kv> kvs_;
  std::vector<Info> tensors_;
  bool header_written_ = false;
  bool finished_ = false;
  size_t current_ = 0;  // index of the tensor being written
  size_t written_in_current_ = 0;
  uint64_t data_size_ = 0;  // end of the last tensor (unpadded) relative to the data section
};

}  // namespace seek
