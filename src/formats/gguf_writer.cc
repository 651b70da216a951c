// GGUF v3 writer; see gguf_writer.h for the contract. Little-endian host assumed (as everywhere in seek).
#include "formats/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace seek {
namespace {

constexpr uint32_t kVersion = 3;
constexpr size_t kDefaultAlignment = 32;
constexpr size_t kWriteBuffer = 4 << 20;  // stdio buffer: large sequential writes

bool IsIntType(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kBool:
      return true;
    default:
      return false;
  }
}

bool IsUnsignedType(GgufType t) {
  return t == GgufType::kUint8 || t == GgufType::kUint16 || t == GgufType::kUint32 || t == GgufType::kUint64;
}

GgufValue Scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

}  // namespace

GgufWriter::GgufWriter(std::string path) : path_(std::move(path)), part_path_(path_ + ".part") {
  file_ = std::fopen(part_path_.c_str(), "wb");
  if (!file_) Fail("%s: cannot create the output file: %s", path_.c_str(), std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, kWriteBuffer);
}

GgufWriter::~GgufWriter() {
  if (file_) std::fclose(file_);
  if (!finished_) std::remove(part_path_.c_str());
}

GgufWriter::Kv& GgufWriter::Slot(std::string_view key) {
  SEEK_CHECK(!header_written_);
  for (Kv& kv : kvs_)
    if (kv.key == key) return kv;
  kvs_.push_back(Kv{std::string(key), GgufValue{}});
  return kvs_.back();
}

bool GgufWriter::Has(std::string_view key) const {
  for (const Kv& kv : kvs_)
    if (kv.key == key) return true;
  return false;
}

void GgufWriter::Set(std::string_view key, const GgufValue& value) {
  if (value.type == GgufType::kArray && value.elem_type == GgufType::kArray)
    Fail("%s: metadata key '%.*s' is a nested array, which seek cannot copy", path_.c_str(),
         static_cast<int>(key.size()), key.data());
  if (key == "general.alignment") {
    const uint64_t a = IsUnsignedType(value.type) ? value.u : static_cast<uint64_t>(value.i);
    if (!IsIntType(value.type) || a == 0 || (a & (a - 1)) != 0 || a > (1u << 30))
      Fail("%s: general.alignment must be a power of two", path_.c_str());
    GgufValue v = Scalar(GgufType::kUint32);  // the spec's type for this key
    v.u = a;
    Slot(key).value = v;
    return;
  }
  Slot(key).value = value;
}

void GgufWriter::SetU8(std::string_view key, uint8_t x) {
  GgufValue v = Scalar(GgufType::kUint8);
  v.u = x;
  Set(key, v);
}
void GgufWriter::SetI8(std::string_view key, int8_t x) {
  GgufValue v = Scalar(GgufType::kInt8);
  v.i = x;
  Set(key, v);
}
void GgufWriter::SetU16(std::string_view key, uint16_t x) {
  GgufValue v = Scalar(GgufType::kUint16);
  v.u = x;
  Set(key, v);
}
void GgufWriter::SetI16(std::string_view key, int16_t x) {
  GgufValue v = Scalar(GgufType::kInt16);
  v.i = x;
  Set(key, v);
}
void GgufWriter::SetU32(std::string_view key, uint32_t x) {
  GgufValue v = Scalar(GgufType::kUint32);
  v.u = x;
  Set(key, v);
}
void GgufWriter::SetI32(std::string_view key, int32_t x) {
  GgufValue v = Scalar(GgufType::kInt32);
  v.i = x;
  Set(key, v);
}
void GgufWriter::SetU64(std::string_view key, uint64_t x) {
  GgufValue v = Scalar(GgufType::kUint64);
  v.u = x;
  Set(key, v);
}
void GgufWriter::SetI64(std::string_view key, int64_t x) {
  GgufValue v = Scalar(GgufType::kInt64);
  v.i = x;
  Set(key, v);
}
void GgufWriter::SetF32(std::string_view key, float x) {
  GgufValue v = Scalar(GgufType::kFloat32);
  v.f = x;
  Set(key, v);
}
void GgufWriter::SetF64(std::string_view key, double x) {
  GgufValue v = Scalar(GgufType::kFloat64);
  v.f = x;
  Set(key, v);
}
void GgufWriter::SetBool(std::string_view key, bool x) {
  GgufValue v = Scalar(GgufType::kBool);
  v.i = x;
  Set(key, v);
}

void GgufWriter::SetString(std::string_view key, std::string_view x) {
  GgufValue v = Scalar(GgufType::kString);
  v.str = std::string(x);
  Set(key, v);
}

void GgufWriter::SetStringArray(std::string_view key, const std::vector<std::string>& x) {
  GgufValue v = Scalar(GgufType::kArray);
  v.elem_type = GgufType::kString;
  v.strs = x;
  v.array_len = x.size();
  Set(key, v);
}

void GgufWriter::SetIntArray(std::string_view key, GgufType elem, const std::vector<int64_t>& x) {
  SEEK_CHECK(IsIntType(elem));
  GgufValue v = Scalar(GgufType::kArray);
  v.elem_type = elem;
  v.ints = x;
  v.array_len = x.size();
  Set(key, v);
}

void GgufWriter::SetFloatArray(std::string_view key, GgufType elem, const std::vector<double>& x) {
  SEEK_CHECK(elem == GgufType::kFloat32 || elem == GgufType::kFloat64);
  GgufValue v = Scalar(GgufType::kArray);
  v.elem_type = elem;
  v.floats = x;
  v.array_len = x.size();
  Set(key, v);
}

size_t GgufWriter::alignment() const {
  for (const Kv& kv : kvs_)
    if (kv.key == "general.alignment") return static_cast<size_t>(kv.value.u);
  return kDefaultAlignment;
}

void GgufWriter::AddTensor(std::string_view name, DType type, int n_dims, const int64_t* ne) {
  SEEK_CHECK(!header_written_);
  SEEK_CHECK(n_dims >= 1 && n_dims <= kMaxDims);
  for (const Info& t : tensors_)
    if (t.name == name)
      Fail("%s: tensor '%.*s' added twice", path_.c_str(), static_cast<int>(name.size()), name.data());
  Info info{std::string(name), type, n_dims, {1, 1, 1, 1}, 0, 0};
  int64_t rows = 1;
  for (int d = 0; d < n_dims; ++d) {
    if (ne[d] <= 0)  // the reader (and gguf-py's users) reject empty dimensions
      Fail("%s: tensor '%s': dimension %d is %lld", path_.c_str(), info.name.c_str(), d,
           static_cast<long long>(ne[d]));
    info.ne[d] = ne[d];
    if (d > 0) rows *= ne[d];
  }
  const auto row = RowBytes(type, ne[0]);
  if (!row)
    Fail("%s: tensor '%s': row length %lld is not a multiple of %s's block size", path_.c_str(),
         info.name.c_str(), static_cast<long long>(ne[0]), DTypeName(type));
  info.nbytes = *row * static_cast<size_t>(rows);
  // Offsets are assigned in order, each aligned; the alignment is only final once the header is written, so
  // offsets are recomputed there.
  tensors_.push_back(info);
}

void GgufWriter::Write(const void* p, size_t n) {
  if (n == 0) return;
  if (std::fwrite(p, 1, n, file_) != n) Fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
}

void GgufWriter::WriteZeros(size_t n) {
  static const uint8_t zeros[256] = {};
  while (n > 0) {
    const size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
    Write(zeros, k);
    n -= k;
  }
}

void GgufWriter::WriteString(std::string_view s) {
  const uint64_t len = s.size();
  Write(&len, 8);
  Write(s.data(), s.size());
}

void GgufWriter::WriteValue(const GgufValue& v) {
  // Writes the payload of a scalar or an array (the type tag is written by the caller).
  auto put_int = [&](GgufType t, int64_t i, uint64_t u) {
    const bool uns = IsUnsignedType(t);
    switch (t) {
      case GgufType::kUint8: {
        uint8_t x = static_cast<uint8_t>(uns ? u : i);
        Write(&x, 1);
        break;
      }
      case GgufType::kInt8: {
        int8_t x = static_cast<int8_t>(i);
        Write(&x, 1);
        break;
      }
      case GgufType::kBool: {
        uint8_t x = i != 0;
        Write(&x, 1);
        break;
      }
      case GgufType::kUint16: {
        uint16_t x = static_cast<uint16_t>(uns ? u : i);
        Write(&x, 2);
        break;
      }
      case GgufType::kInt16: {
        int16_t x = static_cast<int16_t>(i);
        Write(&x, 2);
        break;
      }
      case GgufType::kUint32: {
        uint32_t x = static_cast<uint32_t>(uns ? u : i);
        Write(&x, 4);
        break;
      }
      case GgufType::kInt32: {
        int32_t x = static_cast<int32_t>(i);
        Write(&x, 4);
        break;
      }
      case GgufType::kUint64: {
        uint64_t x = uns ? u : static_cast<uint64_t>(i);
        Write(&x, 8);
        break;
      }
      case GgufType::kInt64: {
        int64_t x = i;
        Write(&x, 8);
        break;
      }
      default:
        SEEK_CHECK(false);
    }
  };
  auto put_float = [&](GgufType t, double f) {
    if (t == GgufType::kFloat32) {
      const float x = static_cast<float>(f);
      Write(&x, 4);
    } else {
      Write(&f, 8);
    }
  };
  if (v.type == GgufType::kString) return WriteString(v.str);
  if (v.type == GgufType::kFloat32 || v.type == GgufType::kFloat64) return put_float(v.type, v.f);
  if (IsIntType(v.type)) return put_int(v.type, v.i, v.u);
  SEEK_CHECK(v.type == GgufType::kArray);
  const uint32_t et = static_cast<uint32_t>(v.elem_type);
  Write(&et, 4);
  if (v.elem_type == GgufType::kString) {
    const uint64_t n = v.strs.size();
    Write(&n, 8);
    for (const std::string& s : v.strs) WriteString(s);
  } else if (v.elem_type == GgufType::kFloat32 || v.elem_type == GgufType::kFloat64) {
    const uint64_t n = v.floats.size();
    Write(&n, 8);
    for (double f : v.floats) put_float(v.elem_type, f);
  } else {
    SEEK_CHECK(IsIntType(v.elem_type));
    const uint64_t n = v.ints.size();
    Write(&n, 8);
    // The reader widens every integer into int64 (u64 values above INT64_MAX are clamped there).
    for (int64_t i : v.ints) put_int(v.elem_type, i, static_cast<uint64_t>(i));
  }
}

void GgufWriter::WriteHeader() {
  SEEK_CHECK(!header_written_);
  header_written_ = true;
  const size_t align = alignment();
  uint64_t offset = 0;
  for (Info& t : tensors_) {
    offset = (offset + align - 1) / align * align;
    t.offset = offset;
    offset += t.nbytes;
  }
  data_size_ = offset;

  Write("GGUF", 4);
  Write(&kVersion, 4);
  const uint64_t n_tensors = tensors_.size(), n_kv = kvs_.size();
  Write(&n_tensors, 8);
  Write(&n_kv, 8);
  for (const Kv& kv : kvs_) {
    WriteString(kv.key);
    const uint32_t type = static_cast<uint32_t>(kv.value.type);
    Write(&type, 4);
    WriteValue(kv.value);
  }
  for (const Info& t : tensors_) {
    WriteString(t.name);
    const uint32_t n_dims = static_cast<uint32_t>(t.n_dims);
    Write(&n_dims, 4);
    for (int d = 0; d < t.n_dims; ++d) {
      const uint64_t ne = static_cast<uint64_t>(t.ne[d]);
      Write(&ne, 8);
    }
    const uint32_t type = static_cast<uint32_t>(t.type);
    Write(&type, 4);
    Write(&t.offset, 8);
  }
  const long pos = std::ftell(file_);
  if (pos < 0) Fail("%s: cannot tell the file position: %s", path_.c_str(), std::strerror(errno));
  const size_t at = static_cast<size_t>(pos);
  WriteZeros((at + align - 1) / align * align - at);
  current_ = 0;
  written_in_current_ = 0;
  // Zero-byte tensors are complete as soon as they start.
  while (current_ < tensors_.size() && tensors_[current_].nbytes == 0) ++current_;
}

void GgufWriter::WriteTensorData(const void* data, size_t n) {
  if (!header_written_) WriteHeader();
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    SEEK_CHECK(current_ < tensors_.size());
    const Info& t = tensors_[current_];
    const size_t k = std::min(n, t.nbytes - written_in_current_);
    SEEK_CHECK(k == n);  // a piece may not run into the next tensor
    Write(p, k);
    written_in_current_ += k;
    p += k;
    n -= k;
    if (written_in_current_ == t.nbytes) {
      // Pad up to the next tensor's offset (no padding after the last one).
      ++current_;
      written_in_current_ = 0;
      while (current_ < tensors_.size() && tensors_[current_].nbytes == 0) ++current_;
      if (current_ < tensors_.size()) WriteZeros(tensors_[current_].offset - (t.offset + t.nbytes));
    }
  }
}

void GgufWriter::Finish() {
  SEEK_CHECK(!finished_);
  if (!header_written_) WriteHeader();
  if (current_ < tensors_.size())
    Fail("%s: tensor '%s' has %zu of its %zu bytes written", path_.c_str(), tensors_[current_].name.c_str(),
         written_in_current_, tensors_[current_].nbytes);
  const bool flush_failed = std::fflush(file_) != 0;
  const bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (flush_failed || close_failed) Fail("%s: write failed: %s", path_.c_str(), std::strerror(errno));
  if (std::rename(part_path_.c_str(), path_.c_str()) != 0)
    Fail("%s: cannot rename %s into place: %s", path_.c_str(), part_path_.c_str(), std::strerror(errno));
  finished_ = true;
}

}  // namespace seek
