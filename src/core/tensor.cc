#include "core/tensor.h"

#include "core/error.h"

namespace seek {

size_t TensorView::row_bytes() const {
  auto b = RowBytes(type, ne[0]);
  SEEK_CHECK(b.has_value());
  return *b;
}

std::string TensorView::ShapeString() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(ne[i]);
  }
  return s + "]";
}

}  // namespace seek
