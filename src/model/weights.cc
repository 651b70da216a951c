#include "model/weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/log.h"
#include "kernels/dispatch.h"
#include "kernels/matmul/repack.h"
#include "kernels/quant/quant.h"
#include "formats/model_source.h"

namespace seek {

namespace {

std::string ShapeOf(int n_dims, const int64_t* ne) {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

void Visit(const std::function<void(TensorSlot&)>& fn, std::string name, std::initializer_list<int64_t> ne,
           bool required, bool small_f32, TensorView* view) {
  TensorSlot slot;
  slot.name = std::move(name);
  slot.n_dims = static_cast<int>(ne.size());
  int i = 0;
  for (int64_t n : ne) slot.ne[i++] = n;
  slot.required = required;
  slot.small_f32 = small_f32;
  slot.view = view;
  fn(slot);
}

}  // namespace

void ForEachTensor(const ModelConfig& c, Model::Weights& w, const std::function<void(TensorSlot&)>& fn) {
  if (c.arch == ModelArch::kDeepSeek2) return ForEachDeepSeek2Tensor(c, w, fn);
  const int64_t n_embd = c.n_embd, n_vocab = c.n_vocab, q_dim = c.q_dim(), kv_dim = c.kv_dim();
  constexpr bool kRequired = true, kOptional = false, kSmall = true, kMatrix = false;
  Visit(fn, "token_embd.weight", {n_embd, n_vocab}, kRequired, kMatrix, &w.token_embd);
  if (c.rope.has_freq_factors) {
    Visit(fn, "rope_freqs.weight", {c.rope.n_rot / 2}, kOptional, kSmall, &w.rope_freqs);
  }
  w.layers.resize(size_t(c.n_layer));
  for (int32_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[size_t(il)];
    const int64_t n_ff = c.layer(il).n_ff;
    const std::string p = "blk." + std::to_string(il) + ".";
    Visit(fn, p + "attn_norm.weight", {n_embd}, kRequired, kSmall, &l.attn_norm);
    Visit(fn, p + "attn_q.weight", {n_embd, q_dim}, kRequired, kMatrix, &l.wq);
    Visit(fn, p + "attn_k.weight", {n_embd, kv_dim}, kRequired, kMatrix, &l.wk);
    Visit(fn, p + "attn_v.weight", {n_embd, kv_dim}, kRequired, kMatrix, &l.wv);
    if (c.attn_qkv_bias) {
      Visit(fn, p + "attn_q.bias", {q_dim}, kRequired, kSmall, &l.bq);
      Visit(fn, p + "attn_k.bias", {kv_dim}, kRequired, kSmall, &l.bk);
      Visit(fn, p + "attn_v.bias", {kv_dim}, kRequired, kSmall, &l.bv);
    }
    Visit(fn, p + "attn_output.weight", {q_dim, n_embd}, kRequired, kMatrix, &l.wo);
    Visit(fn, p + "ffn_norm.weight", {n_embd}, kRequired, kSmall, &l.ffn_norm);
    Visit(fn, p + "ffn_gate.weight", {n_embd, n_ff}, kRequired, kMatrix, &l.ffn_gate);
    Visit(fn, p + "ffn_up.weight", {n_embd, n_ff}, kRequired, kMatrix, &l.ffn_up);
    Visit(fn, p + "ffn_down.weight", {n_ff, n_embd}, kRequired, kMatrix, &l.ffn_down);
  }
  Visit(fn, "output_norm.weight", {n_embd}, kRequired, kSmall, &w.output_norm);
  Visit(fn, "output.weight", {n_embd, n_vocab}, c.tied_embeddings ? kOptional : kRequired, kMatrix,
        &w.output);
}

namespace {

// quantization_config.weight_block_size of an FP8 HF folder ([128, 128] when absent).
std::pair<int64_t, int64_t> Fp8BlockSize(const ModelSource& source) {
  const nlohmann::json& cfg = source.hf_config();
  if (cfg.is_object() && cfg.contains("quantization_config") && cfg["quantization_config"].is_object()) {
    const auto& q = cfg["quantization_config"];
    if (q.contains("weight_block_size")) {
      const auto& b = q["weight_block_size"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() ||
          b[0].get<int64_t>() <= 0 || b[1].get<int64_t>() <= 0) {
        Fail("%s: config.json: quantization_config.weight_block_size must be two positive integers",
             source.path().c_str());
      }
      return {b[0].get<int64_t>(), b[1].get<int64_t>()};
    }
  }
  return {128, 128};
}

// view (F8_E4M3, 2-D [in, out]) -> an owned bf16 copy: w[o][i] = e4m3[o][i] * scale_inv[o / b0][i / b1].
void DequantizeFp8(const ModelSource& source, TensorView& view, Model::Weights& w, std::unordered_set<std::string>& used) {
  const char* file = source.path().c_str();
  const std::string scale_name = view.name + ".scale_inv";
  const TensorView* s = source.FindTensor(scale_name);
  if (!s) {
    Fail("%s: tensor %s is float8_e4m3 but has no block scales (%s / HF weight_scale_inv); refusing to load "
         "unscaled FP8 values", file, view.name.c_str(), scale_name.c_str());
  }
  if (view.ne[2] != 1 || view.ne[3] != 1) Fail("%s: FP8 tensor %s must be 2-D", file, view.name.c_str());
  const auto [b0, b1] = Fp8BlockSize(source);
  const int64_t n_in = view.ne[0], n_out = view.ne[1];
  const int64_t s_in = (n_in + b1 - 1) / b1, s_out = (n_out + b0 - 1) / b0;
  if (s->ne[0] != s_in || s->ne[1] != s_out || s->ne[2] != 1 || !CanDequantize(s->type) ||
      RowBytes(s->type, s->ne[0]).value_or(SIZE_MAX) * size_t(s_out) > s->nbytes) {
    Fail("%s: tensor %s has shape %s, expected [%lld, %lld] (HF [ceil(out/%lld), ceil(in/%lld)])", file,
         scale_name.c_str(), s->ShapeString().c_str(), (long long)s_in, (long long)s_out, (long long)b0,
         (long long)b1);
  }
  used.insert(scale_name);
  std::vector<float> scales(static_cast<size_t>(s_in * s_out));
  for (int64_t r = 0; r < s_out; ++r) DequantizeRow(s->type, s->row(r), scales.data() + r * s_in, s_in);
  auto data = std::make_unique<uint8_t[]>(size_t(n_in * n_out) * 2);
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t o = 0; o < n_out; ++o) {
    DequantizeRow(DType::kF8_E4M3, view.row(o), row.data(), n_in);
    const float* sc = scales.data() + (o / b0) * s_in;
    for (int64_t i = 0; i < n_in; ++i) row[size_t(i)] *= sc[i / b1];
    QuantizeRow(DType::kBF16, row.data(), data.get() + o * n_in * 2, n_in);
  }
  view.type = DType::kBF16;
  view.data = data.get();
  view.nbytes = size_t(n_in * n_out) * 2;
  w.owned_bytes.push_back(std::move(data));
}

}  // namespace

TensorView Slice2D(const TensorView& t, int64_t i2) {
  SEEK_CHECK(i2 >= 0 && i2 < t.ne[2] && t.ne[3] == 1);
  TensorView v = t;
  v.n_dims = 2;
  v.ne[2] = 1;
  // A repacked 3-D tensor holds its slices one after another, each in the repacked layout (RepackWeights).
  const size_t bytes =
      t.layout == WeightLayout::kRows ? t.row_bytes() * size_t(t.ne[1]) : t.nbytes / size_t(t.ne[2]);
  v.data = static_cast<const uint8_t*>(t.data) + size_t(i2) * bytes;
  v.nbytes = bytes;
  v.name = t.name + "[" + std::to_string(i2) + "]";
  return v;
}

std::unique_ptr<Model::Weights> BindWeights(const ModelConfig& config, const ModelSource& source) {
  auto w = std::make_unique<Model::Weights>();
  const char* file = source.path().c_str();
  std::unordered_set<std::string> used;
  // Checks t against the expected shape and type, binds it to *view (FP8 dequantized, small tensors to fp32).
  auto bind = [&](const TensorView* t, const std::string& name, int n_dims, const int64_t* ne, bool small_f32,
                  TensorView* view) {
    used.insert(name);
    bool same = true;
    for (int i = 0; i < kMaxDims; ++i) same = same && t->ne[i] == ne[i];
    if (!same) {
      Fail("%s: tensor %s has shape %s, expected %s", file, name.c_str(), t->ShapeString().c_str(),
           ShapeOf(n_dims, ne).c_str());
    }
    if (!CanDequantize(t->type)) {
      Fail("%s: tensor %s has type %s, which seek cannot compute with", file, name.c_str(), DTypeName(t->type));
    }
    auto bytes = RowBytes(t->type, t->ne[0]);
    if (!bytes || *bytes * size_t(t->rows()) > t->nbytes) {
      Fail("%s: tensor %s: %zu bytes are too few for shape %s of type %s", file, name.c_str(), t->nbytes,
           t->ShapeString().c_str(), DTypeName(t->type));
    }
    *view = *t;
    w->n_params += t->nelements();
    if (view->type == DType::kF8_E4M3) DequantizeFp8(source, *view, *w, used);
    if (small_f32 && view->type != DType::kF32) {
      const int64_t n = view->nelements();
      auto data = std::make_unique<float[]>(size_t(n));
      for (int64_t r = 0; r < view->rows(); ++r)
        DequantizeRow(view->type, view->row(r), data.get() + r * view->ne[0], view->ne[0]);
      view->type = DType::kF32;
      view->data = data.get();
      view->nbytes = size_t(n) * sizeof(float);
      w->owned.push_back(std::move(data));
    }
  };
  ForEachTensor(config, *w, [&](TensorSlot& slot) {
    const TensorView* t = source.FindTensor(slot.name);
    if (slot.experts) {  // routed experts: stacked, or one tensor per expert
      const int64_t n_expert = slot.ne[2];
      slot.experts->assign(size_t(n_expert), TensorView{});
      if (t) {
        bind(t, slot.name, slot.n_dims, slot.ne, false, slot.view);
        for (int64_t e = 0; e < n_expert; ++e) (*slot.experts)[size_t(e)] = Slice2D(*slot.view, e);
        return;
      }
      const int64_t ne2[kMaxDims] = {slot.ne[0], slot.ne[1], 1, 1};
      for (int64_t e = 0; e < n_expert; ++e) {
        const std::string name = slot.expert_name + std::to_string(e) + ".weight";
        const TensorView* te = source.FindTensor(name);
        if (!te) Fail("%s: missing tensor %s (nor stacked %s)", file, name.c_str(), slot.name.c_str());
        bind(te, name, 2, ne2, false, &(*slot.experts)[size_t(e)]);
      }
      return;
    }
    if (!t) {
      if (slot.required) Fail("%s: missing tensor %s", file, slot.name.c_str());
      return;
    }
    bind(t, slot.name, slot.n_dims, slot.ne, slot.small_f32, slot.view);
  });
  if (!w->output.data) {
    w->output = w->token_embd;  // tied embeddings
  }
  if (config.arch == ModelArch::kDeepSeek2) FinishDeepSeek2Weights(config, *w, source.path());
  RepackWeights(*w, config, source);
  for (const TensorView& t : source.tensors()) {
    if (!used.count(t.name)) SEEK_LOG_DEBUG("%s: tensor %s is not used", file, t.name.c_str());
  }
  return w;
}

namespace {

// Routed experts are repacked too (the interleaved kernels stream them about as fast as the dense weights),
// but a repacked expert is resident for good, while an mmap'd one costs memory only once a token routes to it
// and can be evicted again. So by default they are repacked only when all of them fit comfortably in RAM
// (<= 60% of physical memory, as for V2-Lite at 4-bit on a 24 GB box); a V3-size model streamed from disk keeps
// them mmap'd. SEEK_REPACK_EXPERTS=0/1 forces the choice.
bool RepackExperts(const std::vector<TensorView*>& experts) {
  if (const char* env = std::getenv("SEEK_REPACK_EXPERTS")) return std::strcmp(env, "0") != 0;
  double bytes = 0;
  for (const TensorView* e : experts) bytes += double(e->nbytes);
  const double ram = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
  const bool fits = ram > 0 && bytes <= 0.6 * ram;
  if (!fits) {
    SEEK_LOG_INFO("routed experts (%.1f GiB) stay mmap'd in row layout: more than 60%% of RAM (%.1f GiB); "
                  "SEEK_REPACK_EXPERTS=1 repacks them anyway", bytes / 1073741824.0, ram / 1073741824.0);
  }
  return fits;
}

// Memory for repacked weights: 2 MiB-aligned chunks of at least kChunk bytes, marked for transparent huge
// pages before the first write, handed out 64-byte aligned in repack order. A decode step streams every weight
// once, and with 4 KiB pages each page costs a TLB miss and restarts the hardware prefetcher (the Q4_0 GEMV
// kernel streamed ~12% faster from huge pages on the 2-core Zen 3 test machine). Packing tensors into shared
// chunks gives small tensors (a V2-Lite expert matrix is 1.6 MB) huge pages too. Not zeroed: RepackWeight
// writes every byte it is given; a chunk's untouched tail is never resident.
class RepackArena {
 public:
  explicit RepackArena(std::vector<std::unique_ptr<uint8_t[]>>& owner) : owner_(owner) {}
  uint8_t* Alloc(size_t bytes) {
    bytes = (bytes + 63) & ~size_t(63);
    if (bytes > left_) {
      const size_t size = std::max(kChunk, (bytes + kHuge - 1) & ~(kHuge - 1));
      owner_.emplace_back(new uint8_t[size + kHuge]);
      next_ = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(owner_.back().get()) + kHuge - 1) &
                                         ~uintptr_t(kHuge - 1));
      ::madvise(next_, size, MADV_HUGEPAGE);  // advice only: errors are harmless
      left_ = size;
    }
    uint8_t* p = next_;
    next_ += bytes;
    left_ -= bytes;
    return p;
  }

 private:
  static constexpr size_t kHuge = size_t(2) << 20, kChunk = size_t(64) << 20;
  std::vector<std::unique_ptr<uint8_t[]>>& owner_;
  uint8_t* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace

void RepackWeights(Model::Weights& w, const ModelConfig& config, const ModelSource& source) {
  const char* env = std::getenv("SEEK_REPACK");
  if (env && std::strcmp(env, "0") == 0) return;
  const KernelTable& kernels = ActiveKernels();
  std::vector<TensorView*> todo;
  std::vector<TensorView*> experts;  // routed experts' 2-D views (DeepSeek2)
  ForEachTensor(config, w, [&](TensorSlot& slot) {
    if (slot.experts) {
      for (TensorView& e : *slot.experts) {
        if (e.data && e.layout == WeightLayout::kRows &&
            PreferredLayout(kernels, e.type, e.ne[0], e.ne[1]) != WeightLayout::kRows) {
          experts.push_back(&e);
        }
      }
      return;
    }
    TensorView* v = slot.view;
    if (slot.small_f32 || !v || !v->data) return;
    if (slot.n_dims == 3 && v->ne[3] == 1) {  // per-head matrices (DeepSeek2 attn_k_b / attn_v_b)
      if (v->layout == WeightLayout::kRows && PreferredLayout(kernels, v->type, v->ne[0], v->ne[1]) != WeightLayout::kRows)
        todo.push_back(v);
      return;
    }
    if (slot.n_dims != 2) return;
    // token_embd is read by row lookups only, unless the output is tied to it: then it is repacked once and
    // both use the copy (EmbeddingRow reads any layout through DequantizeWeightRow).
    const bool tied = w.output.data == w.token_embd.data;
    if (!tied && v == &w.token_embd) return;
    if (slot.name.find("embed_tokens") != std::string::npos) return;  // DeepSeek MTP embedding
    if (v->layout != WeightLayout::kRows || v->ne[2] != 1 || v->ne[3] != 1) return;
    if (PreferredLayout(kernels, v->type, v->ne[0], v->ne[1]) == WeightLayout::kRows) return;
    todo.push_back(v);
  });
  if (!experts.empty() && RepackExperts(experts)) todo.insert(todo.end(), experts.begin(), experts.end());
  if (todo.empty()) return;
  ThreadPool pool(ThreadPool::HardwareThreads());
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  std::unordered_map<const void*, TensorView> done;  // source data -> repacked view (shared views)
  RepackArena arena(w.owned_bytes);
  for (TensorView* v : todo) {
    if (auto it = done.find(v->data); it != done.end()) {
      v->data = it->second.data, v->nbytes = it->second.nbytes, v->layout = it->second.layout;
      continue;
    }
    // Slice by slice into one buffer, the slices one after another (Slice2D); a 2-D tensor is one slice.
    const int64_t n_slices = v->ne[2];
    const MatMulWeight src = AsMatMulWeight(Slice2D(*v, 0));
    const WeightLayout layout = PreferredLayout(kernels, v->type, src.n_in, src.n_out);
    const size_t slice_bytes = RepackedBytes(layout, v->type, src.n_in, src.n_out);
    const size_t bytes = slice_bytes * size_t(n_slices);
    uint8_t* dst = arena.Alloc(bytes);
    for (int64_t i = 0; i < n_slices; ++i)
      RepackWeight(AsMatMulWeight(Slice2D(*v, i)), layout, dst + size_t(i) * slice_bytes, &pool);
    const void* old = v->data;
    // Release the file pages of the source (a MAP_SHARED read-only mapping: a later read would simply fault
    // them back in from the file). Heap copies (FP8, derived MLA) are left alone.
    // An expert view "blk.N.ffn_up_exps.weight[E]" lies inside its stacked tensor.
    const std::string file_name = v->name.substr(0, v->name.find('['));
    const TensorView* in_file = source.FindTensor(file_name);
    const auto* file_begin = in_file ? static_cast<const uint8_t*>(in_file->data) : nullptr;
    if (file_begin && old >= file_begin && static_cast<const uint8_t*>(old) + v->nbytes <= file_begin + in_file->nbytes) {
      const auto begin = (reinterpret_cast<uintptr_t>(old) + page - 1) & ~uintptr_t(page - 1);
      const auto end = (reinterpret_cast<uintptr_t>(old) + v->nbytes) & ~uintptr_t(page - 1);
      if (end > begin) {
        ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
        w.repacked_released += end - begin;
      }
    }
    v->data = dst;
    v->nbytes = bytes;
    v->layout = layout;
    w.n_repacked++;
    w.repacked_bytes += bytes;
    done[old] = *v;
  }
  SEEK_LOG_DEBUG("repacked %d tensors (%.1f MiB) for the %s kernels", w.n_repacked, w.repacked_bytes / 1048576.0,
                 kernels.name);
}

void EmbeddingRow(const TensorView& token_embd, int32_t token, float* out) {
  SEEK_CHECK(token >= 0 && token < token_embd.ne[1]);
  DequantizeWeightRow(token_embd, token, out);  // any layout (a tied token_embd may be repacked)
}

const float* F32Data(const TensorView& v) {
  SEEK_CHECK(v.type == DType::kF32 && v.data != nullptr);
  return static_cast<const float*>(v.data);
}

}  // namespace seek
