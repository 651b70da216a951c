#include "model/weights.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"
#include "core/log.h"
#include "kernels/quant/quant.h"

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

std::unique_ptr<Model::Weights> BindWeights(const ModelConfig& config, const ModelSource& source) {
  auto w = std::make_unique<Model::Weights>();
  const char* file = source.path().c_str();
  std::unordered_set<std::string> used;
  ForEachTensor(config, *w, [&](TensorSlot& slot) {
    const TensorView* t = source.FindTensor(slot.name);
    if (!t) {
      if (slot.required) Fail("%s: missing tensor %s", file, slot.name.c_str());
      return;
    }
    used.insert(slot.name);
    bool same = true;
    for (int i = 0; i < kMaxDims; ++i) same = same && t->ne[i] == slot.ne[i];
    if (!same) {
      Fail("%s: tensor %s has shape %s, expected %s", file, slot.name.c_str(), t->ShapeString().c_str(),
           ShapeOf(slot.n_dims, slot.ne).c_str());
    }
    if (!CanDequantize(t->type)) {
      Fail("%s: tensor %s has type %s, which seek cannot compute with", file, slot.name.c_str(),
           DTypeName(t->type));
    }
    auto bytes = RowBytes(t->type, t->ne[0]);
    if (!bytes || *bytes * size_t(t->rows()) > t->nbytes) {
      Fail("%s: tensor %s: %zu bytes are too few for shape %s of type %s", file, slot.name.c_str(), t->nbytes,
           t->ShapeString().c_str(), DTypeName(t->type));
    }
    *slot.view = *t;
    w->n_params += t->nelements();
    if (slot.small_f32 && t->type != DType::kF32) {
      const int64_t n = t->nelements();
      auto data = std::make_unique<float[]>(size_t(n));
      for (int64_t r = 0; r < t->rows(); ++r)
        DequantizeRow(t->type, t->row(r), data.get() + r * t->ne[0], t->ne[0]);
      slot.view->type = DType::kF32;
      slot.view->data = data.get();
      slot.view->nbytes = size_t(n) * sizeof(float);
      w->owned.push_back(std::move(data));
    }
  });
  if (!w->output.data) {
    w->output = w->token_embd;  // tied embeddings
  }
  for (const TensorView& t : source.tensors()) {
    if (!used.count(t.name)) SEEK_LOG_DEBUG("%s: tensor %s is not used", file, t.name.c_str());
  }
  return w;
}

void EmbeddingRow(const TensorView& token_embd, int32_t token, float* out) {
  SEEK_CHECK(token >= 0 && token < token_embd.ne[1]);
  DequantizeRow(token_embd.type, token_embd.row(token), out, token_embd.ne[0]);
}

const float* F32Data(const TensorView& v) {
  SEEK_CHECK(v.type == DType::kF32 && v.data != nullptr);
  return static_cast<const float*>(v.data);
}

}  // namespace seek
