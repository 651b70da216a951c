// Hugging Face tensor names -> GGUF names (llama.cpp's gguf-py/gguf/tensor_mapping.py vocabulary), so every
// format presents weights to the model code under one set of names.
//   model.embed_tokens.weight                    -> token_embd.weight
//   model.norm.weight                            -> output_norm.weight
//   lm_head.weight                               -> output.weight
//   model.layers.N.input_layernorm.weight        -> blk.N.attn_norm.weight
//   model.layers.N.self_attn.{q,k,v,o}_proj.X    -> blk.N.attn_{q,k,v,output}.X   (X = weight | bias)
//   model.layers.N.post_attention_layernorm.weight -> blk.N.ffn_norm.weight
//   model.layers.N.mlp.{gate,up,down}_proj.weight  -> blk.N.ffn_{gate,up,down}.weight
// DeepSeek-V2/V3 (MLA + MoE):
//   self_attn.q_a_proj -> attn_q_a, q_a_layernorm -> attn_q_a_norm, q_b_proj -> attn_q_b,
//   kv_a_proj_with_mqa -> attn_kv_a_mqa, kv_a_layernorm -> attn_kv_a_norm, kv_b_proj -> attn_kv_b,
//   mlp.gate.weight -> ffn_gate_inp.weight, mlp.gate.e_score_correction_bias -> exp_probs_b.bias,
//   mlp.shared_experts.{gate,up,down}_proj -> ffn_{gate,up,down}_shexp,
//   mlp.experts.E.{gate,up,down}_proj.weight -> blk.N.ffn_{gate,up,down}.E.weight (one tensor per expert:
//     GGUF stacks experts into ffn_*_exps [n_embd, n_ff, n_expert]; safetensors keeps them apart, and the
//     model code gathers them),
//   any FP8 block scale "X.weight_scale_inv" -> "<mapped X>.weight.scale_inv",
//   MTP layer (model.layers.{n_layer}.*): enorm, hnorm, eh_proj, shared_head.{norm,head}, embed_tokens ->
//     blk.{n_layer}.nextn.{enorm, hnorm, eh_proj, shared_head_norm, shared_head_head, embed_tokens}.
// Qwen3-style self_attn.{q,k}_norm -> attn_{q,k}_norm.
// Names not in the table are returned unchanged, so nothing is silently dropped: the model's tensor visitor
// reports them as unexpected if it cares. Nothing is permuted here (RoPE layout is the model code's job).
#pragma once
#include <string>
#include <string_view>

namespace seek {

std::string HfToGgufName(std::string_view hf_name);

}  // namespace seek
