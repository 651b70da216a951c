// safetensors parser. The JSON header is bounded (kMaxHeaderBytes and the file size) and its nesting depth
// is checked before nlohmann::json sees it, so hostile headers cannot exhaust the stack or memory. Tensor
// byte ranges must lie inside the data area, match shape x dtype exactly, and not overlap.
#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "formats/byte_reader.h"

namespace seek {
namespace {

struct StDType {
  const char* name;
  DType type;
};
// "U8" / "BOOL" / "F8_E5M2" have no seek DType and are rejected by name.
constexpr StDType kDTypes[] = {
    {"F64", DType::kF64},   {"F32", DType::kF32},         {"F16", DType::kF16},
    {"BF16", DType::kBF16}, {"F8_E4M3", DType::kF8_E4M3}, {"I64", DType::kI64},
    {"I32", DType::kI32},   {"I16", DType::kI16},         {"I8", DType::kI8},
};

constexpr int kMaxJsonDepth = 16;  // the format needs 3 levels

// Nesting depth of JSON text, ignoring brackets inside strings.
int JsonDepth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_str) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

std::unique_ptr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->map_ = std::make_unique<MappedFile>(path);
  f->path_ = path;
  f->Parse(f->map_->data(), f->map_->size());
  return f;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::FromMemory(const uint8_t* data, size_t size,
                                                             const std::string& name) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = name;
  f->Parse(data, size);
  return f;
}

const TensorView* SafetensorsFile::FindTensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::Parse(const uint8_t* data, size_t size) {
  size_ = size;
  const char* p = path_.c_str();
  formats::ByteReader r(data, size, path_);
  const uint64_t n = r.Read<uint64_t>("safetensors header length");
  if (n > kMaxHeaderBytes || n > r.remaining())
    r.FailAt(0, StrFormat("safetensors header length %llu is invalid (file size %zu, limit %llu)",
                          static_cast<unsigned long long>(n), size,
                          static_cast<unsigned long long>(kMaxHeaderBytes)));
  const std::string_view text = r.Bytes(static_cast<size_t>(n), "safetensors header");
  const size_t data_start = r.pos();
  const size_t data_size = r.remaining();
  if (JsonDepth(text) > kMaxJsonDepth) r.FailAt(8, "safetensors header JSON is nested too deeply");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    Fail("%s: offset 8: safetensors header is not valid JSON: %s", p, e.what());
  }
  if (!header.is_object()) Fail("%s: offset 8: safetensors header is not a JSON object", p);

  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  tensors_.reserve(header.size());
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const char* tn = name.c_str();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) Fail("%s: safetensors __metadata__ is not an object", p);
      metadata_ = e;
      continue;
    }
    if (!e.is_object()) Fail("%s: safetensors tensor '%s': entry is not an object", p, tn);
    auto dt = e.find("dtype");
    auto sh = e.find("shape");
    auto off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) Fail("%s: safetensors tensor '%s': missing string 'dtype'", p, tn);
    if (sh == e.end() || !sh->is_array()) Fail("%s: safetensors tensor '%s': missing array 'shape'", p, tn);
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      Fail("%s: safetensors tensor '%s': 'data_offsets' must be [begin, end] (unsigned integers)", p, tn);

    TensorView t;
    t.name = name;
    const std::string& dts = dt->get_ref<const std::string&>();
    const StDType* found = nullptr;
    for (const StDType& d : kDTypes)
      if (dts == d.name) found = &d;
    if (!found) Fail("%s: safetensors tensor '%s': unsupported dtype '%s'", p, tn, dts.c_str());
    t.type = found->type;
    if (sh->size() > static_cast<size_t>(kMaxDims))
      Fail("%s: safetensors tensor '%s': %zu dimensions (at most %d supported)", p, tn, sh->size(), kMaxDims);
    t.n_dims = static_cast<int>(sh->size());
    uint64_t n_el = 1;
    for (int d = 0; d < t.n_dims; ++d) {
      const nlohmann::json& v = (*sh)[t.n_dims - 1 - d];  // reverse: GGML ne[0] is the last HF dim
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
        Fail("%s: safetensors tensor '%s': shape entries must be non-negative integers", p, tn);
      const uint64_t ne = v.get<uint64_t>();
      if (ne > static_cast<uint64_t>(INT64_MAX) || formats::MulOverflow(n_el, ne, &n_el) ||
          n_el > static_cast<uint64_t>(INT64_MAX))
        Fail("%s: safetensors tensor '%s': shape is too large", p, tn);
      t.ne[d] = static_cast<int64_t>(ne);
    }
    uint64_t nbytes = 0;
    if (formats::MulOverflow(n_el, Traits(t.type).type_size, &nbytes))
      Fail("%s: safetensors tensor '%s': shape is too large", p, tn);
    const uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    if (begin > end || end > data_size)
      Fail(
          "%s: safetensors tensor '%s': data_offsets [%llu, %llu] outside the data area of %zu bytes (offset "
          "%zu)",
          p, tn, static_cast<unsigned long long>(begin), static_cast<unsigned long long>(end), data_size,
          data_start);
    if (end - begin != nbytes)
      Fail("%s: safetensors tensor '%s': data_offsets span %llu bytes but shape %s x %s needs %llu", p, tn,
           static_cast<unsigned long long>(end - begin), sh->dump().c_str(), found->name,
           static_cast<unsigned long long>(nbytes));
    t.nbytes = static_cast<size_t>(nbytes);
    t.data = data + data_start + begin;
    ranges.push_back({begin, end, tensors_.size()});
    index_.emplace(name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t k = 1; k < ranges.size(); ++k)
    if (ranges[k].begin < ranges[k - 1].end)
      Fail("%s: safetensors tensor '%s' data overlaps tensor '%s'", p, tensors_[ranges[k].index].name.c_str(),
           tensors_[ranges[k - 1].index].name.c_str());
}

}  // namespace seek
