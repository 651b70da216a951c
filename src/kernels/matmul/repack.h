// Repacked weight layouts for register-blocked micro-kernels, made once after loading (model/weights.cc calls
// RepackWeight for every 2-D matmul weight the active kernel table wants repacked; SEEK_REPACK=0 disables it).
//
// WeightLayout::kInterleaved8 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0; Q4_K, Q6_K below): rows are taken 8 at a time
// ("groups"); a group stores, for each 32-value block b of its rows, one interleaved block holding the 8 rows'
// block b:
//
//   group g = rows 8g .. 8g+7:  [n_in / 32] x BlockQ4_0x8 / BlockQ4_1x8 / BlockQ5_0x8 / BlockQ5_1x8 /
//                               BlockQ8_0x8   (contiguous)
//   groups one after another; the last group is padded with zero rows (scale 0) when n_out % 8 != 0.
//
// Inside a block, "step" s (0..7) means the 4 values 4s .. 4s+3 of the 32. A step's 32 bytes hold 4 values of
// each of the 8 rows (byte 4r + i = row r, value 4s + i), so one broadcast of the activation's 4 bytes of
// step s and one vpmaddubsw give the partial dot products of all 8 rows at once: the int32 lanes of the
// result ARE the 8 rows, no horizontal adds, and the scales of the 8 rows are one fp16 vector.
//   Q8_0x8:  qs[32 s + 4 r + i] = row r's qs[4 s + i]                      (8 steps of 32 bytes)
//   Q4_x8:   qs[32 k + 4 r + i] = row r's qs[4 k + i], k = 0..3           (4 vectors of 32 bytes)
//            so the low nibbles of vector k are step k (values 4k..4k+3) and its high nibbles step k + 4
//            (values 16 + 4k ..), GGML's nibble order: unpacking is one AND and one shift + AND per 2 steps.
// Approach follows llama.cpp's CPU "repack" of Q4_0 into interleaved blocks (ggml-cpu/repack.cpp,
// block_q4_0x8 and its AVX2 gemv); the layout details and the code here are our own.
//
// Per token and block, with a = the ActQ8x32 activation block and isum_r = sum_j q_r[j] * a.qs[j] (exact):
//   Q4_0: acc_r = fma(d_r, fma(isum_r, a.d, -8 a.s), acc_r)   (q unsigned 0..15; 2 FMAs for the 8 rows)
//   Q4_1: acc_r = fma(isum_r, d_r * a.d, acc_r); acc_r = fma(m_r, a.s, acc_r)
//   Q8_0: acc_r = fma(isum_r, d_r * a.d, acc_r)
// in this order for every block, one accumulator per row and token: the scalar twins here and the AVX2
// kernels (interleaved_avx2.cc) agree bit for bit, and y[t] does not depend on n_tokens or threads.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/matmul/matmul.h"
#include "kernels/matmul/row_kernels.h"

namespace seek {

constexpr int kInterleave = 8;  // rows per group of WeightLayout::kInterleaved8

struct BlockQ4_0x8 {
  uint16_t d[8];     // fp16 scale of each row
  uint8_t qs[128];   // see the header comment
};
static_assert(sizeof(BlockQ4_0x8) == 144);

struct BlockQ4_1x8 {
  uint16_t d[8];
  uint16_t m[8];     // fp16 min of each row
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_1x8) == 160);

struct BlockQ8_0x8 {
  uint16_t d[8];
  int8_t qs[256];
};
static_assert(sizeof(BlockQ8_0x8) == 272);

// Q5_0 / Q5_1 (kInterleaved8): the low 4 bits of every value exactly as Q4_x8's qs (vector k: low nibbles =
// step k, high nibbles = step k + 4), plus a 32-byte plane qh of the 8 rows' bit 4, arranged so that the bits
// of vector k's two steps sit in the same bytes as their nibbles:
//   bit j (j = 0..3) of qh[4 r + i]     = bit 4 of row r's value 4 j + i        (step j)
//   bit 4 + j of qh[4 r + i]            = bit 4 of row r's value 16 + 4 j + i   (step j + 4)
// so for vector k the high bits of step k are (qh << (4 - k)) & 0x10 and those of step k + 4 are
// (qh >> k) & 0x10 per byte, with 16-bit shifts by 0..4: bit 4 of each byte comes from bit k or 4 + k of the
// same byte, nothing crosses a byte into bit 4. Values q = 0..31 (unsigned, as in the row blocks):
//   Q5_0: acc_r = fma(isum_r, d_r * a.d, acc_r); acc_r = fma(-16 d_r, a.s, acc_r)   (w = d (q - 16))
//   Q5_1: acc_r = fma(isum_r, d_r * a.d, acc_r); acc_r = fma(m_r, a.s, acc_r)       (w = d q + m)
struct BlockQ5_0x8 {
  uint16_t d[8];
  uint8_t qh[32];    // bit 4 of the values, see above
  uint8_t qs[128];   // low 4 bits, as BlockQ4_0x8
};
static_assert(sizeof(BlockQ5_0x8) == 176);

struct BlockQ5_1x8 {
  uint16_t d[8];
  uint16_t m[8];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_1x8) == 192);

// Q4_K (256-value super-blocks; kInterleaved8 too): the 8 rows' super-block b in 1152 bytes, as many as the 8
// row blocks (8 x 144). qs[256 p + 32 k + 4 r + i] = row r's qs[32 p + 4 k + i]: low nibbles = step k of
// sub-block 2p, high nibbles = step k of 2p + 1. The 64 6-bit scales sc_jr (sub-block j of 32 values, row r)
// and 64 mins m_jr keep their 6 bits (96 bytes), each scale with bits 0-1 of one min in a byte and the mins'
// bits 2-5 in a nibble plane, placed so that the kernel's few ops give exactly the vectors it multiplies:
//   scale sc_jr:          bits 0-5 of scm[8 j + r]
//   min m_(2u+e)r:        bits 0-1 in bits 6-7 of scm[s], bits 2-5 in the low (s < 32) or high (s >= 32) nibble
//                         of mh[s % 32], at s = 32 (u / 2) + 8 (u % 2) + 16 (L / 8) + L % 8, L = 2 r + e
//                         (u = 0..3, e = 0..1: s runs over 0..63 once)
// Scales: scm & 63, then one vpunpcklbw + vpmovzxbw to int16 pairs (lanes 2r, 2r+1 = sc_jr). Mins: vpunpck{l,h}bw
// of scm's first half with mh's low nibbles (u = 0, 1) and of its second half with mh's high nibbles (u = 2, 3)
// puts each scm byte and its min's nibble in one int16 lane (scm | nibble << 8), and lane >> 6 is the min: lane
// L = 2 r + e of vector u holds m_(2u+e)r, the pair meeting the activation's sums (s_2u, s_2u+1) in one vpmaddwd.
// (Measured against a nibble plane of scales and mins + a 2-bit plane, rebuilt to bytes per block: that cost
// ~3% at 4 tokens, this ~1%; the unpacked-byte layout it replaces was 1184 bytes.)
// Per token (BlockQ8_K a, s_j = a.bsums[2j] + a.bsums[2j+1]), with all sums exact integers:
//   isum_r = sum_j sc_jr * sum_l q_jr[l] a.qs[32 j + l],  msum_r = sum_j m_jr * s_j
//   acc_r = fma(isum_r, d_r * a.d, acc_r); acc_r = fma(-msum_r, dmin_r * a.d, acc_r)
struct BlockQ4_Kx8 {
  uint16_t d[8];
  uint16_t dmin[8];
  uint8_t scm[64];   // scales and bits 0-1 of the mins, see above
  uint8_t mh[32];    // bits 2-5 of the mins
  uint8_t qs[1024];
};
static_assert(sizeof(BlockQ4_Kx8) == 1152);

// Q6_K (kInterleaved8): value v = 128 h + 32 g + l of a super-block (h = 0..1, g = 0..3, l = 4 k + i) is, as in
// GGML, (ql nibble) | (2 qh bits) << 4 with ql[64 h + 32 (g % 2) + l] (low nibble for g < 2) and qh[32 h + l]
// bits 2g..2g+1, scale scales[8 h + 2 g + l / 16]. Interleaved:
//   ql[512 h + 256 (g % 2) + 32 k + 4 r + i] = row r's ql[64 h + 32 (g % 2) + 4 k + i]
//   qh[256 h + 32 k + 4 r + i] = row r's qh[32 h + 4 k + i];  sc[8 j + r] = row r's scales[j]
// Per token: isum_r = sum_j sc_jr * sum_l q_jr[l] a.qs[16 j + l] (q = 0..63), osum_r = sum_j sc_jr a.bsums[j],
//   acc_r = fma(isum_r - 32 osum_r, d_r * a.d, acc_r)   (exact integers until the one fma)
struct BlockQ6_Kx8 {
  uint16_t d[8];
  int8_t sc[128];
  uint8_t ql[1024];
  uint8_t qh[512];
};
static_assert(sizeof(BlockQ6_Kx8) == 1680);

// True when `layout` is defined for type t (kRows: always).
bool CanRepack(WeightLayout layout, DType t);
// Bytes of an n_in x n_out matrix of type t in `layout` (CanRepack must hold).
size_t RepackedBytes(WeightLayout layout, DType t, int64_t n_in, int64_t n_out);
// Writes src (kRows layout) in `layout` to dst (RepackedBytes of it), splitting groups over the pool (may be
// null). The result's MatMulWeight is src with data = dst and layout set.
void RepackWeight(const MatMulWeight& src, WeightLayout layout, void* dst, ThreadPool* pool);

// Row `row` (< n_out) of w, in any layout, dequantized to fp32 (out: n_in floats). For oracles and tests.
void DequantizeWeightRow(const MatMulWeight& w, int64_t row, float* out);
void DequantizeWeightRow(const TensorView& w, int64_t row, float* out);

// A group kernel: out[t * 8 + r] = dot(row r of the group, token t) for t < NT, over n_blocks blocks (of 32,
// or 256 for Q4_K). act points at token 0's activation row, token t's at act + t * act_stride.
using GroupKernelFn = void (*)(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks,
                               float* out);
// One token against n_groups consecutive groups (group_bytes apart): out[8 g + r] = dot(row r of group g).
using GroupRunFn = void (*)(const uint8_t* groups, size_t group_bytes, int64_t n_groups, const uint8_t* act,
                            int64_t n_blocks, float* out);
struct GroupKernelSet {
  ActKind act;             // kQ8x32 (32-value blocks) or kQ8K (Q4_K)
  ActQuantFn quantize;     // activations to `act`
  GroupKernelFn dot[4];    // dot[NT - 1] handles NT tokens
  // Optional decode loop: dot[0] over a run of full groups with the loop inside the kernel file, so the
  // per-group call, the driver's token loop and the kernel's constant set-up are paid once per run (they
  // were ~1% of a decode step in MatMulInterleaved8Groups). Null: the driver calls dot[0] per group.
  GroupRunFn run1 = nullptr;
};

// The scalar twins (any CPU); null for types without an interleaved layout.
const GroupKernelSet* FindGroupKernelsRef(DType t);

// Groups [begin, end) (rows 8 begin .. 8 end - 1, clipped to n_out) of a kInterleaved8 weight for all n_tokens
// tokens, on the calling thread, from activations already in k.act form (act_stride bytes per token): the
// unit of work of MatMulInterleaved8 and MatMulMany.
void MatMulInterleaved8Groups(const GroupKernelSet& k, const MatMulWeight& w, const uint8_t* act,
                              size_t act_stride, float* y, int64_t n_tokens, int64_t begin, int64_t end);

// MatMul over a kInterleaved8 weight with the given kernels: quantizes the activations once, splits groups
// over threads (2 groups = 16 rows per grain: a 64-byte line of y), tiles tokens as MatMulTiled does.
void MatMulInterleaved8(const GroupKernelSet& k, const MatMulWeight& w, const float* x, float* y,
                        int64_t n_tokens, ThreadPool* pool);

}  // namespace seek
