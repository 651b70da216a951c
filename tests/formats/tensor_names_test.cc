#include "formats/tensor_names.h"

#include <gtest/gtest.h>

namespace seek {
namespace {

TEST(TensorNames, LlamaQwen2) {
  EXPECT_EQ(HfToGgufName("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(HfToGgufName("model.norm.weight"), "output_norm.weight");
  EXPECT_EQ(HfToGgufName("lm_head.weight"), "output.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.input_layernorm.weight"), "blk.0.attn_norm.weight");
  EXPECT_EQ(HfToGgufName("model.layers.12.self_attn.q_proj.weight"), "blk.12.attn_q.weight");
  EXPECT_EQ(HfToGgufName("model.layers.12.self_attn.k_proj.bias"), "blk.12.attn_k.bias");
  EXPECT_EQ(HfToGgufName("model.layers.3.self_attn.v_proj.bias"), "blk.3.attn_v.bias");
  EXPECT_EQ(HfToGgufName("model.layers.3.self_attn.o_proj.weight"), "blk.3.attn_output.weight");
  EXPECT_EQ(HfToGgufName("model.layers.3.post_attention_layernorm.weight"), "blk.3.ffn_norm.weight");
  EXPECT_EQ(HfToGgufName("model.layers.3.mlp.gate_proj.weight"), "blk.3.ffn_gate.weight");
  EXPECT_EQ(HfToGgufName("model.layers.3.mlp.up_proj.weight"), "blk.3.ffn_up.weight");
  EXPECT_EQ(HfToGgufName("model.layers.3.mlp.down_proj.weight"), "blk.3.ffn_down.weight");
}

TEST(TensorNames, DeepSeek) {
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.q_a_proj.weight"), "blk.0.attn_q_a.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.q_a_proj.weight_scale_inv"),
            "blk.0.attn_q_a.weight.scale_inv");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.q_a_layernorm.weight"), "blk.0.attn_q_a_norm.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.q_b_proj.weight"), "blk.0.attn_q_b.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.kv_a_proj_with_mqa.weight"), "blk.0.attn_kv_a_mqa.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.kv_a_layernorm.weight"), "blk.0.attn_kv_a_norm.weight");
  EXPECT_EQ(HfToGgufName("model.layers.0.self_attn.kv_b_proj.weight"), "blk.0.attn_kv_b.weight");
  EXPECT_EQ(HfToGgufName("model.layers.5.mlp.gate.weight"), "blk.5.ffn_gate_inp.weight");
  EXPECT_EQ(HfToGgufName("model.layers.5.mlp.gate.e_score_correction_bias"), "blk.5.exp_probs_b.bias");
  EXPECT_EQ(HfToGgufName("model.layers.5.mlp.experts.17.gate_proj.weight"), "blk.5.ffn_gate.17.weight");
  EXPECT_EQ(HfToGgufName("model.layers.5.mlp.experts.17.down_proj.weight_scale_inv"),
            "blk.5.ffn_down.17.weight.scale_inv");
  EXPECT_EQ(HfToGgufName("model.layers.5.mlp.shared_experts.up_proj.weight"), "blk.5.ffn_up_shexp.weight");
}

TEST(TensorNames, UnknownNamesAreKept) {
  for (const char* n : {"model.layers.61.fnorm.weight", "model.layers.x.input_layernorm.weight", "foo",
                        "model.layers.", "model.layers.1", "model.layers.1.mlp.experts.x.gate_proj.weight",
                        "model.layers.1.mlp.gate_proj.scales", "weight", ""})
    EXPECT_EQ(HfToGgufName(n), n);
}

}  // namespace
}  // namespace seek
