// GGUF v2/v3 parser. Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
// Hostile-input policy: every count read from the file is checked against the bytes that remain before
// anything is allocated for it (each element needs at least one byte on disk), sizes are computed with
// overflow checks, nested arrays are limited in depth, and every tensor's data range must lie inside the
// file without overlapping another tensor. Any violation throws seek::Error naming the file and offset.
#include "formats/gguf.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "formats/byte_reader.h"

namespace seek {
namespace {

using formats::ByteReader;

constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayNesting = 4;  // real files never nest; deeper nesting is rejected to bound recursion

const char* TypeName(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
      return "u8";
    case GgufType::kInt8:
      return "i8";
    case GgufType::kUint16:
      return "u16";
    case GgufType::kInt16:
      return "i16";
    case GgufType::kUint32:
      return "u32";
    case GgufType::kInt32:
      return "i32";
    case GgufType::kFloat32:
      return "f32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "u64";
    case GgufType::kInt64:
      return "i64";
    case GgufType::kFloat64:
      return "f64";
  }
  return "?";
}

// On-disk size of one scalar element; 0 for string / array (variable).
size_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

bool IsInt(GgufType t) {
  return t == GgufType::kUint8 || t == GgufType::kInt8 || t == GgufType::kUint16 || t == GgufType::kInt16 ||
         t == GgufType::kUint32 || t == GgufType::kInt32 || t == GgufType::kUint64 || t == GgufType::kInt64 ||
         t == GgufType::kBool;
}
bool IsUnsigned(GgufType t) {
  return t == GgufType::kUint8 || t == GgufType::kUint16 || t == GgufType::kUint32 || t == GgufType::kUint64;
}
bool IsFloat(GgufType t) {
  return t == GgufType::kFloat32 || t == GgufType::kFloat64;
}

GgufType ReadType(ByteReader& r, const char* what) {
  const size_t at = r.pos();
  const uint32_t t = r.Read<uint32_t>(what);
  if (t > static_cast<uint32_t>(GgufType::kFloat64))
    r.FailAt(at, StrFormat("%s: unknown value type %u", what, t));
  return static_cast<GgufType>(t);
}

std::string_view ReadString(ByteReader& r, const char* what) {
  const uint64_t len = r.Read<uint64_t>(what);
  if (len > r.remaining())
    r.FailAt(r.pos() - 8, StrFormat("%s: string length %llu exceeds the %zu bytes remaining", what,
                                    static_cast<unsigned long long>(len), r.remaining()));
  return r.Bytes(static_cast<size_t>(len), what);
}

// Reads one scalar of type t into (i, u, f). Strings/arrays are not scalars.
void ReadScalar(ByteReader& r, GgufType t, int64_t* i, uint64_t* u, double* f) {
  switch (t) {
    case GgufType::kUint8:
      *u = r.Read<uint8_t>("u8");
      break;
    case GgufType::kInt8:
      *i = r.Read<int8_t>("i8");
      break;
    case GgufType::kUint16:
      *u = r.Read<uint16_t>("u16");
      break;
    case GgufType::kInt16:
      *i = r.Read<int16_t>("i16");
      break;
    case GgufType::kUint32:
      *u = r.Read<uint32_t>("u32");
      break;
    case GgufType::kInt32:
      *i = r.Read<int32_t>("i32");
      break;
    case GgufType::kUint64:
      *u = r.Read<uint64_t>("u64");
      break;
    case GgufType::kInt64:
      *i = r.Read<int64_t>("i64");
      break;
    case GgufType::kFloat32:
      *f = r.Read<float>("f32");
      break;
    case GgufType::kFloat64:
      *f = r.Read<double>("f64");
      break;
    case GgufType::kBool:
      *i = r.Read<uint8_t>("bool") != 0;
      break;
    default:
      SEEK_CHECK(false);
  }
  if (IsUnsigned(t)) *i = *u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(*u);
}

// Skips an array body (used for nested arrays, whose contents seek never needs).
void SkipArray(ByteReader& r, GgufType elem, uint64_t count, int depth) {
  if (depth > kMaxArrayNesting) r.FailAt(r.pos(), "arrays nested too deeply");
  const size_t scalar = ScalarSize(elem);
  if (scalar) {
    if (count > r.remaining() / scalar)
      r.FailAt(r.pos(), StrFormat("array of %llu %s exceeds the %zu bytes remaining",
                                  static_cast<unsigned long long>(count), TypeName(elem), r.remaining()));
    r.Skip(static_cast<size_t>(count * scalar), "array");
    return;
  }
  for (uint64_t k = 0; k < count; ++k) {
    if (elem == GgufType::kString) {
      ReadString(r, "array string");
    } else {
      const GgufType sub = ReadType(r, "nested array type");
      const uint64_t n = r.Read<uint64_t>("nested array count");
      SkipArray(r, sub, n, depth + 1);
    }
  }
}

void ReadArray(ByteReader& r, GgufValue* v) {
  v->elem_type = ReadType(r, "array element type");
  const size_t count_at = r.pos();
  const uint64_t count = r.Read<uint64_t>("array count");
  v->array_len = count;
  // Minimum on-disk bytes per element: scalar size, 8 for a string length, 12 for a nested array header.
  const size_t min_elem = ScalarSize(v->elem_type)            ? ScalarSize(v->elem_type)
                          : v->elem_type == GgufType::kString ? 8
                                                              : 12;
  if (count > r.remaining() / min_elem)
    r.FailAt(count_at,
             StrFormat("array count %llu of %s exceeds the %zu bytes remaining",
                       static_cast<unsigned long long>(count), TypeName(v->elem_type), r.remaining()));
  const size_t n = static_cast<size_t>(count);
  if (v->elem_type == GgufType::kString) {
    v->strs.reserve(n);
    for (size_t k = 0; k < n; ++k) v->strs.emplace_back(ReadString(r, "array string"));
  } else if (v->elem_type == GgufType::kArray) {
    for (size_t k = 0; k < n; ++k) {
      const GgufType sub = ReadType(r, "nested array type");
      const uint64_t sub_n = r.Read<uint64_t>("nested array count");
      SkipArray(r, sub, sub_n, 2);
    }
  } else if (IsFloat(v->elem_type)) {
    v->floats.resize(n);
    for (size_t k = 0; k < n; ++k) {
      int64_t i = 0;
      uint64_t u = 0;
      ReadScalar(r, v->elem_type, &i, &u, &v->floats[k]);
    }
  } else {
    v->ints.resize(n);
    for (size_t k = 0; k < n; ++k) {
      uint64_t u = 0;
      double f = 0;
      ReadScalar(r, v->elem_type, &v->ints[k], &u, &f);
    }
  }
}

uint64_t AlignUp(uint64_t x, uint64_t a, const ByteReader& r) {
  uint64_t y;
  if (formats::AddOverflow(x, a - 1, &y)) r.FailAt(x, "alignment overflow");
  return y & ~(a - 1);
}

}  // namespace

std::unique_ptr<GgufFile> GgufFile::Open(const std::string& path) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->map_ = std::make_unique<MappedFile>(path);
  g->path_ = path;
  g->Parse(g->map_->data(), g->map_->size());
  return g;
}

std::unique_ptr<GgufFile> GgufFile::FromMemory(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->path_ = name;
  g->Parse(data, size);
  return g;
}

void GgufFile::Parse(const uint8_t* data, size_t size) {
  size_ = size;
  ByteReader r(data, size, path_);
  if (size < 4 || std::memcmp(data, "GGUF", 4) != 0) r.FailAt(0, "not a GGUF file (bad magic)");
  r.Skip(4, "magic");
  version_ = r.Read<uint32_t>("version");
  if (version_ == 1)
    r.FailAt(4, "unsupported GGUF version 1 (re-convert the model with a current llama.cpp)");
  if (version_ != 2 && version_ != 3)
    r.FailAt(4, StrFormat("unsupported GGUF version %u%s", version_,
                          (version_ & 0xffff) == 0 ? " (big-endian file?)" : ""));
  const uint64_t n_tensors = r.Read<uint64_t>("tensor count");
  const uint64_t n_kv = r.Read<uint64_t>("metadata count");
  // Each key/value needs >= 13 bytes (key length, type, 1-byte value); each tensor info >= 32 bytes
  // (name length, n_dims, one dim, type, offset).
  if (n_kv > r.remaining() / 13)
    r.FailAt(16, StrFormat("metadata count %llu is impossible for a file of %zu bytes",
                           static_cast<unsigned long long>(n_kv), size));
  if (n_tensors > r.remaining() / 32)
    r.FailAt(8, StrFormat("tensor count %llu is impossible for a file of %zu bytes",
                          static_cast<unsigned long long>(n_tensors), size));

  keys_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    const size_t key_at = r.pos();
    std::string key(ReadString(r, "metadata key"));
    GgufValue v;
    v.type = ReadType(r, "metadata value type");
    if (v.type == GgufType::kString) {
      v.str = std::string(ReadString(r, "string value"));
    } else if (v.type == GgufType::kArray) {
      ReadArray(r, &v);
    } else {
      ReadScalar(r, v.type, &v.i, &v.u, &v.f);
    }
    if (kv_.count(key)) r.FailAt(key_at, StrFormat("duplicate metadata key '%s'", key.c_str()));
    keys_.push_back(key);
    kv_.emplace(std::move(key), std::move(v));
  }

  // general.alignment: must be a non-zero power of two (spec); default 32.
  alignment_ = kDefaultAlignment;
  if (const GgufValue* a = Find("general.alignment")) {
    if (!IsInt(a->type) || a->type == GgufType::kBool)
      Fail("%s: general.alignment has type %s, expected an integer", path_.c_str(), TypeName(a->type));
    const uint64_t al = IsUnsigned(a->type) ? a->u : (a->i > 0 ? static_cast<uint64_t>(a->i) : 0);
    if (al == 0 || (al & (al - 1)) != 0 || al > (uint64_t{1} << 30))
      Fail("%s: general.alignment %llu is not a non-zero power of two (<= 2^30)", path_.c_str(),
           static_cast<unsigned long long>(al));
    alignment_ = static_cast<size_t>(al);
  }

  struct Raw {
    size_t info_at;
    uint64_t offset;
  };
  std::vector<Raw> raw;
  raw.reserve(static_cast<size_t>(n_tensors));
  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    const size_t info_at = r.pos();
    TensorView t;
    t.name = std::string(ReadString(r, "tensor name"));
    const char* tn = t.name.c_str();
    const uint32_t n_dims = r.Read<uint32_t>("tensor n_dims");
    if (n_dims < 1 || n_dims > static_cast<uint32_t>(kMaxDims))
      r.FailAt(info_at, StrFormat("tensor '%s' has %u dimensions (1..%d supported)", tn, n_dims, kMaxDims));
    t.n_dims = static_cast<int>(n_dims);
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = r.Read<uint64_t>("tensor dimension");
      if (ne == 0 || ne > static_cast<uint64_t>(INT64_MAX) || formats::MulOverflow(n_el, ne, &n_el) ||
          n_el > static_cast<uint64_t>(INT64_MAX))
        r.FailAt(info_at, StrFormat("tensor '%s' dimension %u = %llu is zero or too large", tn, d,
                                    static_cast<unsigned long long>(ne)));
      t.ne[d] = static_cast<int64_t>(ne);
    }
    const uint32_t type_id = r.Read<uint32_t>("tensor type");
    const auto traits = FindDTypeTraits(type_id);
    if (!traits)
      r.FailAt(info_at, StrFormat("tensor '%s' has unknown or unsupported type id %u", tn, type_id));
    t.type = static_cast<DType>(type_id);
    const auto row = RowBytes(t.type, t.ne[0]);
    if (!row)
      r.FailAt(info_at, StrFormat("tensor '%s' (%s): ne[0] = %lld is not a multiple of the block size %lld",
                                  tn, traits->name, static_cast<long long>(t.ne[0]),
                                  static_cast<long long>(traits->block_size)));
    uint64_t nbytes = 0;
    if (formats::MulOverflow(*row, static_cast<uint64_t>(t.rows()), &nbytes))
      r.FailAt(info_at, StrFormat("tensor '%s' is too large", tn));
    t.nbytes = static_cast<size_t>(nbytes);
    const uint64_t offset = r.Read<uint64_t>("tensor offset");
    if (offset % alignment_ != 0)
      r.FailAt(info_at, StrFormat("tensor '%s' offset %llu is not a multiple of the alignment %zu", tn,
                                  static_cast<unsigned long long>(offset), alignment_));
    if (tensor_index_.count(t.name)) r.FailAt(info_at, StrFormat("duplicate tensor name '%s'", tn));
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
    raw.push_back({info_at, offset});
  }

  // Tensor data starts at the next multiple of the alignment after the infos (when there are tensors).
  const uint64_t data_start = AlignUp(r.pos(), alignment_, r);
  if (!tensors_.empty() && data_start > size)
    r.FailAt(r.pos(), StrFormat("tensor data section starts at %llu, past end of file (size %zu)",
                                static_cast<unsigned long long>(data_start), size));
  for (size_t k = 0; k < tensors_.size(); ++k) {
    TensorView& t = tensors_[k];
    uint64_t begin = 0, end = 0;
    if (formats::AddOverflow(data_start, raw[k].offset, &begin) ||
        formats::AddOverflow(begin, t.nbytes, &end) || end > size)
      r.FailAt(raw[k].info_at,
               StrFormat("tensor '%s' data [%llu, +%zu) extends past end of file (size %zu)", t.name.c_str(),
                         static_cast<unsigned long long>(data_start + raw[k].offset), t.nbytes, size));
    t.data = data + begin;
  }
  // No two tensors may share bytes.
  std::vector<size_t> order(tensors_.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return raw[a].offset < raw[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorView& prev = tensors_[order[k - 1]];
    const TensorView& cur = tensors_[order[k]];
    if (raw[order[k - 1]].offset + prev.nbytes > raw[order[k]].offset)
      r.FailAt(raw[order[k]].info_at,
               StrFormat("tensor '%s' data overlaps tensor '%s'", cur.name.c_str(), prev.name.c_str()));
  }
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const TensorView* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
[[noreturn]] void WrongType(const std::string& path, std::string_view key, const GgufValue& v,
                            const char* want) {
  Fail("%s: metadata '%.*s' has type %s%s%s, expected %s", path.c_str(), static_cast<int>(key.size()),
       key.data(), TypeName(v.type), v.type == GgufType::kArray ? " of " : "",
       v.type == GgufType::kArray ? TypeName(v.elem_type) : "", want);
}
}  // namespace

std::optional<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::nullopt;
  if (!IsInt(v->type)) WrongType(path_, key, *v, "an integer");
  if (IsUnsigned(v->type) && v->u > static_cast<uint64_t>(INT64_MAX))
    Fail("%s: metadata '%.*s' = %llu is out of range", path_.c_str(), static_cast<int>(key.size()),
         key.data(), static_cast<unsigned long long>(v->u));
  return v->i;
}

std::optional<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::nullopt;
  if (IsFloat(v->type)) return v->f;
  if (IsInt(v->type) && v->type != GgufType::kBool) return IsUnsigned(v->type) ? double(v->u) : double(v->i);
  WrongType(path_, key, *v, "a number");
}

std::optional<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::nullopt;
  if (!IsInt(v->type)) WrongType(path_, key, *v, "a bool");
  return v->i != 0;
}

std::optional<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::kString) WrongType(path_, key, *v, "a string");
  return v->str;
}

const std::vector<std::string>* GgufFile::GetStringArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return nullptr;
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString)
    WrongType(path_, key, *v, "array of string");
  return &v->strs;
}

std::optional<std::vector<int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::kArray || !IsInt(v->elem_type)) WrongType(path_, key, *v, "array of integer");
  return v->ints;
}

std::optional<std::vector<double>> GgufFile::GetFloatArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::kArray) WrongType(path_, key, *v, "array of number");
  if (IsFloat(v->elem_type)) return v->floats;
  if (IsInt(v->elem_type) && v->elem_type != GgufType::kBool)
    return std::vector<double>(v->ints.begin(), v->ints.end());
  WrongType(path_, key, *v, "array of number");
}

}  // namespace seek
