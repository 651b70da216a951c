// A non-owning view of a tensor's bytes (usually inside an mmap'd model file).
// Shapes use GGML order: ne[0] is the contiguous (innermost) dimension. A weight matrix that Hugging Face
// stores as [out, in] (row-major) has ne = {in, out}: each of its ne[1] rows holds ne[0] elements.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace seek {

constexpr int kMaxDims = 4;

// How a weight matrix's bytes are arranged. kRows: GGML order, ne[1] rows of ne[0] elements one after another
// (row(i) is valid). Other values are kernel-specific interleaved layouts made after loading by
// kernels/matmul/repack.h; only MatMul and DequantizeWeightRow (kernels/matmul/repack.h) read them.
enum class WeightLayout : uint8_t {
  kRows = 0,
  kInterleaved8 = 1,  // 8 rows interleaved per block (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q6_K): matmul/repack.h
};

struct TensorView {
  std::string name;
  DType type = DType::kF32;
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // unused dims are 1
  const void* data = nullptr;
  size_t nbytes = 0;
  WeightLayout layout = WeightLayout::kRows;  // row() / row_bytes() describe the kRows layout only

  int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
  size_t row_bytes() const;  // bytes of one row of ne[0] elements
  const uint8_t* row(int64_t i) const { return static_cast<const uint8_t*>(data) + i * row_bytes(); }
  std::string ShapeString() const;  // "[896, 151936]"
};

}  // namespace seek
