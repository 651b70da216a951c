// seek quantize: see quantize.h for the per-tensor rules and the streaming design.
#include "model/quantize.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/model_source.h"
#include "kernels/quant/quant.h"
#include "model/hf_to_gguf.h"

namespace seek {
namespace {

constexpr size_t kSliceBytes = 64 << 20;  // output bytes converted per parallel step, then written

struct SchemeRow {
  const char* name;
  DType base;
  QuantScheme::Mix mix;
  uint32_t file_type;  // llama.cpp LLAMA_FTYPE_*
};

// The pure K types take the file_type of their nearest llama.cpp mix (llama.cpp has no pure Q4_K ftype).
constexpr SchemeRow kSchemes[] = {
    {"F32", DType::kF32, QuantScheme::Mix::kNone, 0},    {"F16", DType::kF16, QuantScheme::Mix::kNone, 1},
    {"BF16", DType::kBF16, QuantScheme::Mix::kNone, 32}, {"Q8_0", DType::kQ8_0, QuantScheme::Mix::kNone, 7},
    {"Q4_0", DType::kQ4_0, QuantScheme::Mix::kNone, 2},  {"Q4_1", DType::kQ4_1, QuantScheme::Mix::kNone, 3},
    {"Q5_0", DType::kQ5_0, QuantScheme::Mix::kNone, 8},  {"Q5_1", DType::kQ5_1, QuantScheme::Mix::kNone, 9},
    {"Q2_K", DType::kQ2_K, QuantScheme::Mix::kNone, 10}, {"Q3_K", DType::kQ3_K, QuantScheme::Mix::kNone, 11},
    {"Q4_K", DType::kQ4_K, QuantScheme::Mix::kNone, 14}, {"Q5_K", DType::kQ5_K, QuantScheme::Mix::kNone, 16},
    {"Q6_K", DType::kQ6_K, QuantScheme::Mix::kNone, 18}, {"Q4_K_S", DType::kQ4_K, QuantScheme::Mix::kS, 14},
    {"Q4_K_M", DType::kQ4_K, QuantScheme::Mix::kM, 15},  {"Q5_K_S", DType::kQ5_K, QuantScheme::Mix::kS, 16},
    {"Q5_K_M", DType::kQ5_K, QuantScheme::Mix::kM, 17},
};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsKQuant(DType t) {
  return t == DType::kQ2_K || t == DType::kQ3_K || t == DType::kQ4_K || t == DType::kQ5_K ||
         t == DType::kQ6_K;
}

bool IsFloatType(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer in between.
bool UseMoreBits(int i, int n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// -1 for names that are not "blk.N.*".
int LayerOf(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int layer = 0;
  size_t i = 4;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i)
    layer = layer * 10 + (name[i] - '0');
  return layer;
}

std::string MB(uint64_t bytes) {
  return StrFormat("%.2f MB", static_cast<double>(bytes) / 1e6);
}

}  // namespace

std::optional<QuantScheme> ParseQuantScheme(std::string_view name) {
  for (const SchemeRow& r : kSchemes)
    if (IEquals(name, r.name)) return QuantScheme{r.name, r.base, r.mix, r.file_type};
  return std::nullopt;
}

std::string QuantSchemeNames() {
  std::string s;
  for (const SchemeRow& r : kSchemes) s += (s.empty() ? "" : ", ") + std::string(r.name);
  return s;
}

DType ChooseTensorType(const QuantScheme& scheme, const TensorView& t, const TensorPlace& place,
                       std::string* reason) {
  if (reason) reason->clear();
  const std::string_view name = t.name;
  if (t.n_dims <= 1 || name.find("ffn_gate_inp") != std::string_view::npos) return DType::kF32;
  if (IsFloatType(scheme.base)) return scheme.base;

  DType type = scheme.base;
  const bool is_output = name == "output.weight" || (place.tied_output && name == "token_embd.weight");
  const bool is_attn_v = EndsWith(name, "attn_v.weight");
  const bool is_ffn_down = name.find("ffn_down") != std::string_view::npos;
  if (scheme.pure) {
    // no output / mix rules
  } else if (is_output) {
    if (type != DType::kQ8_0 && type != DType::kQ6_K) type = DType::kQ6_K;
  } else if (scheme.mix == QuantScheme::Mix::kM && (is_attn_v || is_ffn_down) && place.layer >= 0 &&
             UseMoreBits(place.layer, place.n_layer)) {
    type = DType::kQ6_K;
  } else if (scheme.mix == QuantScheme::Mix::kS && scheme.base == DType::kQ4_K && place.layer >= 0 &&
             ((is_attn_v && place.layer < 4) || (is_ffn_down && place.layer < place.n_layer / 8))) {
    type = DType::kQ5_K;
  }

  const int64_t n = t.ne[0];
  if (IsKQuant(type) && n % 256 != 0) {
    const DType chosen = type;
    type = type == DType::kQ6_K ? DType::kQ8_0 : type == DType::kQ5_K ? DType::kQ5_1 : DType::kQ5_0;
    if (reason)
      *reason = StrFormat("%s: row length %lld is not a multiple of 256, using %s instead of %s",
                          t.name.c_str(), static_cast<long long>(n), DTypeName(type), DTypeName(chosen));
  }
  if (n % Traits(type).block_size != 0) {
    if (reason)
      *reason = StrFormat("%s: row length %lld is not a multiple of %lld, using f16 instead of %s",
                          t.name.c_str(), static_cast<long long>(n),
                          static_cast<long long>(Traits(type).block_size), DTypeName(type));
    type = DType::kF16;
  }
  return type;
}

QuantizeStats QuantizeModel(const std::string& in_path, const std::string& out_path,
                            const QuantScheme& scheme, const QuantizeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec) && std::filesystem::equivalent(in_path, out_path, ec))
    Fail("%s: the output must not be the input file", out_path.c_str());
  if (std::filesystem::is_directory(out_path, ec))
    Fail("%s: the output is a directory; give a file name", out_path.c_str());
  auto src = ModelSource::Open(in_path);
  if (src->format() != ModelFormat::kGguf && src->format() != ModelFormat::kHfFolder)
    Fail("%s: seek quantize reads GGUF files and Hugging Face folders, not llama2.c checkpoints",
         in_path.c_str());
  const std::vector<PlannedTensor> tensors = PlanTensors(*src);

  // Plan every tensor first, so that refusals happen before anything is written.
  TensorPlace place;
  place.tied_output = true;
  for (const PlannedTensor& t : tensors) {
    place.n_layer = std::max(place.n_layer, LayerOf(t.view.name) + 1);
    if (t.view.name == "output.weight") place.tied_output = false;
  }
  std::vector<DType> types;
  std::vector<std::string> notes;
  for (const PlannedTensor& pt : tensors) {
    const TensorView& t = pt.view;
    TensorPlace p = place;
    p.layer = LayerOf(t.name);
    std::string reason;
    const DType type = ChooseTensorType(scheme, t, p, &reason);
    if (type != t.type && !IsFloatType(t.type)) {
      if (!CanDequantize(t.type))
        Fail("%s: tensor '%s' has type %s, which seek cannot convert", in_path.c_str(), t.name.c_str(),
             DTypeName(t.type));
      if (!options.allow_requantize)
        Fail(
            "%s: tensor '%s' is already quantized (%s); requantizing compounds the errors. Start from an "
            "F32/F16/BF16 model, or pass --allow-requantize to do it anyway",
            in_path.c_str(), t.name.c_str(), DTypeName(t.type));
    }
    if (type != t.type && !CanQuantize(type))
      Fail("seek cannot quantize to %s (tensor '%s')", DTypeName(type), t.name.c_str());
    types.push_back(type);
    if (!reason.empty()) notes.push_back(reason);
  }

  GgufWriter out(out_path);
  if (const GgufFile* in = src->gguf()) {
    for (const std::string& key : in->keys()) out.Set(key, *in->Find(key));
  } else {
    WriteHfMetadata(*src, out, log);
  }
  out.SetU32("general.quantization_version", 2);
  out.SetU32("general.file_type", scheme.file_type);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& t = tensors[i].view;
    out.AddTensor(t.name, types[i], t.n_dims, t.ne);
  }
  for (const std::string& note : notes) log("note: " + note);

  ThreadPool pool(options.n_threads > 0 ? options.n_threads : ThreadPool::HardwareThreads());
  QuantizeStats stats;
  std::vector<uint8_t> slice;
  std::vector<std::vector<float>> scratch(static_cast<size_t>(pool.size()));
  const size_t n_total = tensors.size();
  for (size_t i = 0; i < n_total; ++i) {
    const PlannedTensor& pt = tensors[i];
    const TensorView& t = pt.view;
    const DType type = types[i];
    const size_t out_bytes = out.TensorBytes(i);
    stats.n_tensors++;
    stats.bytes_in += t.nbytes;
    stats.bytes_out += out_bytes;
    log(StrFormat("[%3zu/%3zu] %-32s %-16s %5s -> %-5s %10s -> %s", i + 1, n_total, t.name.c_str(),
                  t.ShapeString().c_str(), DTypeName(t.type), DTypeName(type), MB(t.nbytes).c_str(),
                  MB(out_bytes).c_str()));
    if (type == t.type && pt.permute_heads == 0) {
      out.WriteTensorData(t.data, t.nbytes);
      continue;
    }
    if (type != t.type) stats.n_quantized++;
    const int64_t n = t.ne[0], rows = t.rows();
    if (t.n_dims == 1 && pt.permute_heads > 0) {  // a permuted bias: reorder its elements
      std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
      DequantizeRow(t.type, t.data, x.data(), n);
      for (int64_t e = 0; e < n; ++e) y[static_cast<size_t>(e)] = x[static_cast<size_t>(pt.SourceRow(e))];
      slice.resize(RowBytes(type, n).value());
      QuantizeRow(type, y.data(), slice.data(), n);
      out.WriteTensorData(slice.data(), slice.size());
      continue;
    }
    const size_t out_row = RowBytes(type, n).value();
    const int64_t rows_per_slice =
        std::max<int64_t>(1, static_cast<int64_t>(kSliceBytes / std::max<size_t>(out_row, 1)));
    slice.resize(static_cast<size_t>(std::min(rows, rows_per_slice)) * out_row);
    for (auto& s : scratch) s.resize(static_cast<size_t>(n));
    for (int64_t r0 = 0; r0 < rows; r0 += rows_per_slice) {
      const int64_t nr = std::min(rows_per_slice, rows - r0);
      pool.ParallelFor(nr, [&](int64_t begin, int64_t end, int tid) {
        float* row = scratch[static_cast<size_t>(tid)].data();  // [n]
        for (int64_t r = begin; r < end; ++r) {
          DequantizeRow(t.type, t.row(pt.SourceRow(r0 + r)), row, n);
          QuantizeRow(type, row, slice.data() + static_cast<size_t>(r) * out_row, n);
        }
      });
      out.WriteTensorData(slice.data(), static_cast<size_t>(nr) * out_row);
    }
  }
  out.Finish();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace seek
