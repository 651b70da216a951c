// Test-side writers for small GGUF and safetensors images, so tests can build valid files and then break
// them precisely. Layout as in the GGUF spec (ggml/docs/gguf.md); written independently of gguf-py.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace seek::test {

class ByteWriter {
 public:
  template <typename T>
  void Put(T v) {
    const size_t at = buf_.size();
    buf_.resize(at + sizeof(T));
    std::memcpy(buf_.data() + at, &v, sizeof(T));
  }
  void PutStr(const std::string& s) {
    Put<uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  void PutBytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  void PadTo(size_t alignment) {
    while (buf_.size() % alignment) buf_.push_back(0);
  }
  std::vector<uint8_t>& bytes() { return buf_; }
  size_t size() const { return buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
};

class GgufBuilder {
 public:
  // Raw key/value: `body` holds type id + value bytes exactly as on disk.
  void AddRawKv(const std::string& key, const std::vector<uint8_t>& body) { kvs_.push_back({key, body}); }

  template <typename T>
  void AddScalar(const std::string& key, uint32_t type, T v) {
    ByteWriter w;
    w.Put<uint32_t>(type);
    w.Put<T>(v);
    AddRawKv(key, w.bytes());
  }
  void AddU8(const std::string& k, uint8_t v) { AddScalar(k, 0, v); }
  void AddI8(const std::string& k, int8_t v) { AddScalar(k, 1, v); }
  void AddU16(const std::string& k, uint16_t v) { AddScalar(k, 2, v); }
  void AddI16(const std::string& k, int16_t v) { AddScalar(k, 3, v); }
  void AddU32(const std::string& k, uint32_t v) { AddScalar(k, 4, v); }
  void AddI32(const std::string& k, int32_t v) { AddScalar(k, 5, v); }
  void AddF32(const std::string& k, float v) { AddScalar(k, 6, v); }
  void AddBool(const std::string& k, bool v) { AddScalar(k, 7, static_cast<uint8_t>(v)); }
  void AddU64(const std::string& k, uint64_t v) { AddScalar(k, 10, v); }
  void AddI64(const std::string& k, int64_t v) { AddScalar(k, 11, v); }
  void AddF64(const std::string& k, double v) { AddScalar(k, 12, v); }
  void AddString(const std::string& k, const std::string& v) {
    ByteWriter w;
    w.Put<uint32_t>(8);
    w.PutStr(v);
    AddRawKv(k, w.bytes());
  }
  void AddStringArray(const std::string& k, const std::vector<std::string>& v) {
    ByteWriter w;
    w.Put<uint32_t>(9);
    w.Put<uint32_t>(8);
    w.Put<uint64_t>(v.size());
    for (const auto& s : v) w.PutStr(s);
    AddRawKv(k, w.bytes());
  }
  template <typename T>
  void AddArray(const std::string& k, uint32_t elem_type, const std::vector<T>& v) {
    ByteWriter w;
    w.Put<uint32_t>(9);
    w.Put<uint32_t>(elem_type);
    w.Put<uint64_t>(v.size());
    for (const T& x : v) w.Put<T>(x);
    AddRawKv(k, w.bytes());
  }

  // A tensor with data (bytes padded to the alignment in the data section). ne in GGML order.
  void AddTensor(const std::string& name, uint32_t type, std::vector<uint64_t> ne,
                 std::vector<uint8_t> data) {
    tensors_.push_back({name, type, std::move(ne), std::move(data), UINT64_MAX});
  }
  // Overrides the stored offset of the last tensor (for overlap / range tests).
  void SetLastOffset(uint64_t off) { tensors_.back().offset = off; }

  uint32_t version = 3;
  size_t alignment = 32;  // used for layout; add general.alignment yourself to change it
  uint64_t n_tensors_override = UINT64_MAX;
  uint64_t n_kv_override = UINT64_MAX;

  std::vector<uint8_t> Build() const {
    ByteWriter w;
    w.PutBytes("GGUF", 4);
    w.Put<uint32_t>(version);
    w.Put<uint64_t>(n_tensors_override != UINT64_MAX ? n_tensors_override : tensors_.size());
    w.Put<uint64_t>(n_kv_override != UINT64_MAX ? n_kv_override : kvs_.size());
    for (const auto& kv : kvs_) {
      w.PutStr(kv.key);
      w.PutBytes(kv.body.data(), kv.body.size());
    }
    uint64_t off = 0;
    std::vector<uint64_t> offsets;
    for (const auto& t : tensors_) {
      w.PutStr(t.name);
      w.Put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) w.Put<uint64_t>(d);
      w.Put<uint32_t>(t.type);
      const uint64_t o = t.offset != UINT64_MAX ? t.offset : off;
      w.Put<uint64_t>(o);
      offsets.push_back(o);
      off += (t.data.size() + alignment - 1) / alignment * alignment;
    }
    if (!tensors_.empty()) w.PadTo(alignment);
    const size_t data_start = w.size();
    for (size_t i = 0; i < tensors_.size(); ++i) {
      auto& b = w.bytes();
      if (b.size() < data_start + offsets[i] + tensors_[i].data.size())
        b.resize(data_start + offsets[i] + tensors_[i].data.size(), 0);
      std::memcpy(b.data() + data_start + offsets[i], tensors_[i].data.data(), tensors_[i].data.size());
    }
    return w.bytes();
  }

 private:
  struct Kv {
    std::string key;
    std::vector<uint8_t> body;
  };
  struct Tensor {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> ne;
    std::vector<uint8_t> data;
    uint64_t offset;
  };
  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
};

// A safetensors image: header JSON text as given (so tests can break it), then `data`.
inline std::vector<uint8_t> BuildSafetensors(const std::string& header_json, const std::vector<uint8_t>& data,
                                             uint64_t header_len_override = UINT64_MAX) {
  ByteWriter w;
  w.Put<uint64_t>(header_len_override != UINT64_MAX ? header_len_override : header_json.size());
  w.PutBytes(header_json.data(), header_json.size());
  w.PutBytes(data.data(), data.size());
  return w.bytes();
}

inline void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}
inline void WriteFile(const std::string& path, const std::string& text) {
  WriteFile(path, std::vector<uint8_t>(text.begin(), text.end()));
}

}  // namespace seek::test
