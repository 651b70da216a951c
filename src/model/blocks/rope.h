// Rotary position embeddings (Su et al. 2021, arXiv:2104.09864) with the scaling variants of HF
// transformers' modeling_rope_utils.py: linear, llama3, yarn, plus GGUF's rope_freqs divisors.
//
// RopeInvFreq gives the per-pair angular frequency inv_freq[i] (i < n_rot/2) after scaling; the angle of pair
// i at position p is p * inv_freq[i]. RopeTable precomputes cos/sin for every position of a context, already
// multiplied by the attention factor (YaRN's mscale; 1 otherwise).
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace seek {

// [n_rot / 2] scaled inverse frequencies. freq_factors (may be null) are GGUF rope_freqs.weight divisors.
std::vector<float> RopeInvFreq(const RopeConfig& rope, const float* freq_factors);
// Factor applied to cos and sin (YaRN's attention temperature; 1 for the other scalings).
float RopeAttnFactor(const RopeConfig& rope);

class RopeTable {
 public:
  RopeTable() = default;
  RopeTable(const RopeConfig& rope, const float* freq_factors, int32_t n_pos);

  int32_t n_pos() const { return n_pos_; }
  int32_t n_rot() const { return n_rot_; }
  const float* cos(int32_t pos) const { return cos_.data() + int64_t(pos) * (n_rot_ / 2); }  // [n_rot / 2]
  const float* sin(int32_t pos) const { return sin_.data() + int64_t(pos) * (n_rot_ / 2); }  // [n_rot / 2]

 private:
  int32_t n_pos_ = 0, n_rot_ = 0;
  std::vector<float> cos_, sin_;  // [n_pos][n_rot / 2]
};

// Rotates n_heads heads of head_dim floats each (x: [n_heads * head_dim]) for position pos.
void ApplyRope(float* x, int32_t n_heads, int32_t head_dim, const RopeTable& table, int32_t pos,
               RopeLayout layout);

}  // namespace seek
