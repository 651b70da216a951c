// DeepSeek2 weights: the tensor list (GGUF names as llama.cpp writes them; HF names map to them through
// formats/tensor_names.cc) and the load-time completion of the MLA up-projection.
//
// The MLA up-projection W_UKV (HF kv_b_proj) exists in two GGUF layouts (docs/DESIGN.md "DeepSeek2"):
//   before llama.cpp#12801: attn_kv_b [L, H*(N+V)], per head N rows of W_UK, then V rows of W_UV;
//   after it:               attn_k_b [N, L, H] (W_UK transposed per head) + attn_v_b [L, V, H] (W_UV).
// The naive prefill needs attn_kv_b (decompress K and V), the absorbed decode needs attn_k_b (q_nope ->
// latent) and W_UV. Whichever is missing is derived here, as ik_llama.cpp does on load (its PR 259), into
// owned memory of the source's element type for f32/f16/bf16, and f32 for block-quantized sources (their
// blocks run along the other axis, so re-quantizing would change the values; an f16 copy moved logits by 3e-4
// of their range). Cost of an f32 W_UK^T: V2-Lite 113 MB, V3 2 GB (only for old files without attn_k_b).
#include <cstring>

#include "core/error.h"
#include "kernels/quant/quant.h"
#include "model/weights.h"

namespace seek {

namespace {

struct Visitor {
  const std::function<void(TensorSlot&)>& fn;
  void operator()(std::string name, std::initializer_list<int64_t> ne, bool required, bool small_f32,
                  TensorView* view) const {
    TensorSlot slot;
    slot.name = std::move(name);
    slot.n_dims = int(ne.size());
    int i = 0;
    for (int64_t n : ne) slot.ne[i++] = n;
    slot.required = required;
    slot.small_f32 = small_f32;
    slot.view = view;
    fn(slot);
  }
  void Experts(const std::string& blk, const char* stacked, const char* single,
               std::initializer_list<int64_t> ne, TensorView* stack_view,
               std::vector<TensorView>* experts) const {
    TensorSlot slot;
    slot.name = blk + stacked + ".weight";
    slot.n_dims = 3;
    int i = 0;
    for (int64_t n : ne) slot.ne[i++] = n;
    slot.view = stack_view;
    slot.experts = experts;
    slot.expert_name = blk + single + ".";
    fn(slot);
  }
};

// The element type of a matrix derived from `src`.
DType DerivedType(DType src) {
  return src == DType::kF32 || src == DType::kF16 || src == DType::kBF16 ? src : DType::kF32;
}

// A new owned 3-D tensor view of type t and shape ne, rows filled by fill(row index, float* row).
TensorView MakeOwned(Model::Weights& w, const std::string& name, DType t, int64_t ne0, int64_t ne1,
                     int64_t ne2, const std::function<void(int64_t, float*)>& fill) {
  TensorView v;
  v.name = name;
  v.type = t;
  v.n_dims = ne2 > 1 ? 3 : 2;
  v.ne[0] = ne0, v.ne[1] = ne1, v.ne[2] = ne2;
  const size_t row_bytes = *RowBytes(t, ne0);
  v.nbytes = row_bytes * size_t(ne1 * ne2);
  auto data = std::make_unique<uint8_t[]>(v.nbytes);
  std::vector<float> row(static_cast<size_t>(ne0));
  for (int64_t r = 0; r < ne1 * ne2; ++r) {
    fill(r, row.data());
    QuantizeRow(t, row.data(), data.get() + size_t(r) * row_bytes, ne0);
  }
  v.data = data.get();
  w.owned_bytes.push_back(std::move(data));
  return v;
}

// All rows of a 2-D or 3-D view dequantized: [rows][ne0].
std::vector<float> DequantizeAll(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.nelements()));
  for (int64_t r = 0; r < t.rows(); ++r) DequantizeRow(t.type, t.row(r), out.data() + r * t.ne[0], t.ne[0]);
  return out;
}

}  // namespace

void ForEachDeepSeek2Tensor(const ModelConfig& c, Model::Weights& w,
                            const std::function<void(TensorSlot&)>& fn) {
  const Visitor visit{fn};
  constexpr bool kRequired = true, kOptional = false, kSmall = true, kMatrix = false;
  const int64_t n_embd = c.n_embd, n_vocab = c.n_vocab, H = c.n_head;
  const MlaConfig& a = c.mla;
  const int64_t L = a.kv_lora_rank, N = a.qk_nope_head_dim, R = a.qk_rope_head_dim, V = a.v_head_dim;
  const int64_t n_exp = c.moe.n_expert, n_ff_exp = c.moe.n_ff_exp;
  const int64_t n_ff_sh = int64_t(c.moe.n_expert_shared) * n_ff_exp;

  visit("token_embd.weight", {n_embd, n_vocab}, kRequired, kMatrix, &w.token_embd);
  const int32_t n_total = c.n_layer + c.n_nextn_layer;
  w.layers.resize(size_t(n_total));
  for (int32_t il = 0; il < n_total; ++il) {
    LayerWeights& l = w.layers[size_t(il)];
    const bool nextn = il >= c.n_layer;
    // The MTP layers are optional as a whole: bound when the file has them (the main model never needs them).
    const bool req = nextn ? kOptional : kRequired;
    const std::string p = "blk." + std::to_string(il) + ".";
    visit(p + "attn_norm.weight", {n_embd}, req, kSmall, &l.attn_norm);
    if (a.q_lora_rank > 0) {
      visit(p + "attn_q_a.weight", {n_embd, a.q_lora_rank}, req, kMatrix, &l.wq_a);
      visit(p + "attn_q_a_norm.weight", {a.q_lora_rank}, req, kSmall, &l.q_a_norm);
      visit(p + "attn_q_b.weight", {a.q_lora_rank, H * (N + R)}, req, kMatrix, &l.wq_b);
    } else {
      visit(p + "attn_q.weight", {n_embd, H * (N + R)}, req, kMatrix, &l.wq);
    }
    visit(p + "attn_kv_a_mqa.weight", {n_embd, L + R}, req, kMatrix, &l.wkv_a_mqa);
    visit(p + "attn_kv_a_norm.weight", {L}, req, kSmall, &l.kv_a_norm);
    // One of the two layouts is required; FinishDeepSeek2Weights checks and completes.
    visit(p + "attn_kv_b.weight", {L, H * (N + V)}, kOptional, kMatrix, &l.wkv_b);
    visit(p + "attn_k_b.weight", {N, L, H}, kOptional, kMatrix, &l.wk_b);
    visit(p + "attn_v_b.weight", {L, V, H}, kOptional, kMatrix, &l.wv_b);
    visit(p + "attn_output.weight", {H * V, n_embd}, req, kMatrix, &l.wo);
    visit(p + "ffn_norm.weight", {n_embd}, req, kSmall, &l.ffn_norm);
    if (!c.layer(il).moe) {
      visit(p + "ffn_gate.weight", {n_embd, c.n_ff}, req, kMatrix, &l.ffn_gate);
      visit(p + "ffn_up.weight", {n_embd, c.n_ff}, req, kMatrix, &l.ffn_up);
      visit(p + "ffn_down.weight", {c.n_ff, n_embd}, req, kMatrix, &l.ffn_down);
    } else {
      visit(p + "ffn_gate_inp.weight", {n_embd, n_exp}, req, kMatrix, &l.ffn_gate_inp);
      visit(p + "exp_probs_b.bias", {n_exp}, c.moe.topk_method == MoeTopk::kNoauxTc ? req : kOptional, kSmall,
            &l.exp_probs_b);
      if (!nextn || l.ffn_gate_inp.data) {
        visit.Experts(p, "ffn_gate_exps", "ffn_gate", {n_embd, n_ff_exp, n_exp}, &l.ffn_gate,
                      &l.ffn_gate_exp);
        visit.Experts(p, "ffn_up_exps", "ffn_up", {n_embd, n_ff_exp, n_exp}, &l.ffn_up, &l.ffn_up_exp);
        visit.Experts(p, "ffn_down_exps", "ffn_down", {n_ff_exp, n_embd, n_exp}, &l.ffn_down,
                      &l.ffn_down_exp);
      }
      if (n_ff_sh > 0) {
        visit(p + "ffn_gate_shexp.weight", {n_embd, n_ff_sh}, req, kMatrix, &l.ffn_gate_shexp);
        visit(p + "ffn_up_shexp.weight", {n_embd, n_ff_sh}, req, kMatrix, &l.ffn_up_shexp);
        visit(p + "ffn_down_shexp.weight", {n_ff_sh, n_embd}, req, kMatrix, &l.ffn_down_shexp);
      }
    }
    if (nextn) {
      visit(p + "nextn.enorm.weight", {n_embd}, kOptional, kSmall, &l.nextn_enorm);
      visit(p + "nextn.hnorm.weight", {n_embd}, kOptional, kSmall, &l.nextn_hnorm);
      visit(p + "nextn.eh_proj.weight", {2 * n_embd, n_embd}, kOptional, kMatrix, &l.nextn_eh_proj);
      visit(p + "nextn.shared_head_norm.weight", {n_embd}, kOptional, kSmall, &l.nextn_shared_head_norm);
      visit(p + "nextn.shared_head_head.weight", {n_embd, n_vocab}, kOptional, kMatrix,
            &l.nextn_shared_head_head);
      visit(p + "nextn.embed_tokens.weight", {n_embd, n_vocab}, kOptional, kMatrix, &l.nextn_embed_tokens);
    }
  }
  visit("output_norm.weight", {n_embd}, kRequired, kSmall, &w.output_norm);
  visit("output.weight", {n_embd, n_vocab}, c.tied_embeddings ? kOptional : kRequired, kMatrix, &w.output);
}

void FinishDeepSeek2Weights(const ModelConfig& c, Model::Weights& w, const std::string& file) {
  const int64_t H = c.n_head, L = c.mla.kv_lora_rank, N = c.mla.qk_nope_head_dim, V = c.mla.v_head_dim;
  for (int32_t il = 0; il < c.n_layer + c.n_nextn_layer; ++il) {
    LayerWeights& l = w.layers[size_t(il)];
    if (il >= c.n_layer && !l.wkv_a_mqa.data) continue;  // no MTP layer in this file
    const std::string p = "blk." + std::to_string(il) + ".";
    const bool has_kv_b = l.wkv_b.data != nullptr, has_split = l.wk_b.data && l.wv_b.data;
    if (!has_kv_b && !has_split) {
      Fail("%s: missing tensor %sattn_kv_b.weight (or %sattn_k_b.weight + %sattn_v_b.weight)", file.c_str(),
           p.c_str(), p.c_str(), p.c_str());
    }
    if (!has_split) {
      // W_UK^T per head: k_b[h][j][i] = kv_b[h*(N+V) + i][j]; W_UV per head: v_b[h][i][j] =
      // kv_b[h*(N+V)+N+i][j].
      const std::vector<float> kv_b = DequantizeAll(l.wkv_b);  // [H*(N+V)][L]
      const DType t = DerivedType(l.wkv_b.type);
      l.wk_b = MakeOwned(w, p + "attn_k_b.weight", t, N, L, H, [&](int64_t r, float* row) {
        const int64_t h = r / L, j = r % L;
        for (int64_t i = 0; i < N; ++i) row[i] = kv_b[size_t((h * (N + V) + i) * L + j)];
      });
      l.wv_b = MakeOwned(w, p + "attn_v_b.weight", t, L, V, H, [&](int64_t r, float* row) {
        const int64_t h = r / V, i = r % V;
        std::memcpy(row, kv_b.data() + (h * (N + V) + N + i) * L, size_t(L) * sizeof(float));
      });
    }
    if (!has_kv_b) {
      const std::vector<float> k_b = DequantizeAll(l.wk_b);  // [H][L][N]
      const std::vector<float> v_b = DequantizeAll(l.wv_b);  // [H][V][L]
      const DType t = DerivedType(l.wk_b.type);
      l.wkv_b = MakeOwned(w, p + "attn_kv_b.weight", t, L, H * (N + V), 1, [&](int64_t r, float* row) {
        const int64_t h = r / (N + V), i = r % (N + V);
        if (i < N) {
          for (int64_t j = 0; j < L; ++j) row[j] = k_b[size_t((h * L + j) * N + i)];
        } else {
          std::memcpy(row, v_b.data() + (h * V + (i - N)) * L, size_t(L) * sizeof(float));
        }
      });
    }
  }
}

}  // namespace seek
