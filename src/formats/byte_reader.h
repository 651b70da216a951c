// A bounds-checked little-endian cursor over an in-memory file image. Every read checks the bytes remaining
// first and throws seek::Error "NAME: offset N: ..." on a short read, so parsers built on it cannot read past
// the end, and can compare any count against remaining() before allocating.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.h"

namespace seek::formats {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& name() const { return name_; }

  // Throws "NAME: offset AT: <what>".
  [[noreturn]] void FailAt(size_t at, const std::string& what) const {
    Fail("%s: offset %zu: %s", name_.c_str(), at, what.c_str());
  }

  void Need(size_t n, const char* what) const {
    if (n > remaining())
      FailAt(pos_, StrFormat("%s needs %zu bytes but only %zu remain (file size %zu)", what, n, remaining(),
                             size_));
  }

  template <typename T>
  T Read(const char* what) {
    Need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));  // host is little-endian (x86-64, aarch64)
    pos_ += sizeof(T);
    return v;
  }

  // A view of the next n bytes (valid while the image lives).
  std::string_view Bytes(size_t n, const char* what) {
    Need(n, what);
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

  void Skip(size_t n, const char* what) {
    Need(n, what);
    pos_ += n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

// a * b, or false on overflow.
inline bool MulOverflow(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}
inline bool AddOverflow(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_add_overflow(a, b, out);
}

}  // namespace seek::formats
