// The interleaved Q4_K layout (kernels/matmul/repack.h: BlockQ4_Kx8, 1152 bytes, its 6-bit scales and mins
// split over the scm bytes and the mh nibble plane) beyond the shared repacked-layout tests of matmul_test.cc:
// scales and mins at the extreme 6-bit values (0, 15, 16, 31, 32, 47, 48, 63: every nibble and 2-bit pattern
// edge, in every sub-block of both halves of the planes) survive the repack bit for bit (DequantizeWeightRow
// equals the row layout's dequantization), the AVX2 group kernels equal their scalar twins bit for bit for
// each token count 1..4, and the scalar twin stays within budget of the fp32 reference on the row layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/repack.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/matmul.h"
#include "kernels/repack_test_util.h"

namespace seek {
namespace {

constexpr uint8_t kExtremes[8] = {0, 15, 16, 31, 32, 47, 48, 63};

// The row format's 12-byte packing of 8 scales and 8 mins (6 bits each), as GGML's get_scale_min_k4 reads it:
// sub-blocks 0..3 keep their 6 bits in bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7 their low 4 bits
// in bytes 8..11 (scale low nibble, min high nibble) and their top 2 bits in bits 6-7 of bytes 0..3 / 4..7.
void PackK4(const uint8_t* sc, const uint8_t* m, uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = uint8_t((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
    out[j + 4] = uint8_t((m[j] & 63) | (m[j + 4] >> 4) << 6);
    out[j + 8] = uint8_t((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
  }
}

// Q4_K rows with random quants and fp16 d / dmin, scale j of block b of row o = kExtremes[(o + 3 j + b) % 8]
// and min = kExtremes[(3 o + j + 5 b + 1) % 8]: with n_in = 2048 (8 blocks) every scale and min of every
// interleaved position (row r of the group, sub-block j) takes all 8 values. Also returns the scales / mins: [n_out][n_blocks][8] each.
std::vector<uint8_t> ExtremeQ4K(int64_t n_in, int64_t n_out, std::vector<uint8_t>* scales,
                                std::vector<uint8_t>* mins) {
  const int64_t n_blocks = n_in / 256;
  std::vector<BlockQ4_K> blocks(size_t(n_blocks * n_out));
  scales->assign(blocks.size() * 8, 0);
  mins->assign(blocks.size() * 8, 0);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> scale(0.0005f, 0.002f);
  for (int64_t o = 0; o < n_out; ++o) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      BlockQ4_K& blk = blocks[size_t(o * n_blocks + b)];
      blk.d = F32ToFP16(scale(rng));
      blk.dmin = F32ToFP16(scale(rng));
      for (uint8_t& q : blk.qs) q = uint8_t(rng());
      uint8_t* sc = scales->data() + (o * n_blocks + b) * 8;
      uint8_t* m = mins->data() + (o * n_blocks + b) * 8;
      for (int j = 0; j < 8; ++j) {
        sc[j] = kExtremes[(o + 3 * j + b) % 8];
        m[j] = kExtremes[(3 * o + j + 5 * b + 1) % 8];
      }
      PackK4(sc, m, blk.scales);
    }
  }
  std::vector<uint8_t> bytes(blocks.size() * sizeof(BlockQ4_K));
  std::memcpy(bytes.data(), blocks.data(), bytes.size());
  return bytes;
}

using Packed = repack_test::RepackedForTest;

Packed Repack(int64_t n_in, int64_t n_out, std::vector<uint8_t> rows) {
  return repack_test::RepackForTest(DType::kQ4_K, n_in, n_out, std::move(rows));
}

using repack_test::RandomActs;

// Per output: 6 sigma of the Q8_K activation rounding error (256-value blocks) + fp32 rounding.
double Budget(const float* wrow, const float* x, int64_t n_in) { return repack_test::ActRoundingBudget(wrow, x, n_in, 256); }

// The row layout's dequantization is the GGML formula on the scales / mins we chose (so PackK4 is right and
// the test's scales really are the extremes), and the repacked rows dequantize to exactly the same floats.
TEST(RepackedQ4K, ExtremeScalesAndMinsRoundTrip) {
  const int64_t n_in = 2048, n_out = 21, n_blocks = n_in / 256;  // 3 groups, the last padded
  std::vector<uint8_t> sc, m;
  const Packed p = Repack(n_in, n_out, ExtremeQ4K(n_in, n_out, &sc, &m));
  EXPECT_EQ(p.packed.size(), size_t(3 * n_blocks) * 1152);
  std::vector<float> a(static_cast<size_t>(n_in)), b(static_cast<size_t>(n_in));
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(p.rows.data());
  for (int64_t o = 0; o < n_out; ++o) {
    DequantizeWeightRow(p.plain, o, a.data());
    for (int64_t bi = 0; bi < n_blocks; ++bi) {
      const BlockQ4_K& blk = blocks[o * n_blocks + bi];
      const float d = FP16ToF32(blk.d), dmin = FP16ToF32(blk.dmin);
      for (int v = 0; v < 256; ++v) {
        const int j = v / 32, l = v % 32;
        const int q = (blk.qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15;
        const size_t k = size_t((o * n_blocks + bi) * 8 + j);
        const float want = d * float(sc[k]) * float(q) - dmin * float(m[k]);
        ASSERT_NEAR(a[size_t(256 * bi + v)], want, 1e-6f * (1.0f + std::fabs(want))) << "row " << o << " v " << v;
      }
    }
    DequantizeWeightRow(p.inter, o, b.data());
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << "row " << o;
  }
}

// On the same weights: the scalar twin within budget of the fp32 reference on the row layout, and the AVX2
// group kernel for NT tokens (n_tokens = NT calls exactly dot[NT - 1]) equal to the twin bit for bit, 1 and 2
// threads.
TEST(RepackedQ4K, ExtremeScalesAndMinsMatmul) {
  const int64_t n_in = 2048, n_out = 21;
  std::vector<uint8_t> sc, m;
  const Packed p = Repack(n_in, n_out, ExtremeQ4K(n_in, n_out, &sc, &m));
  std::vector<float> wrow(static_cast<size_t>(n_in));
  for (int64_t nt = 1; nt <= 4; ++nt) {
    const std::vector<float> x = RandomActs(n_in * nt, uint32_t(nt * 31 + 3));
    std::vector<float> want(size_t(n_out * nt)), ref(want.size(), NAN);
    MatMulRef(p.plain, x.data(), want.data(), nt, nullptr);
    MatMulInterleaved8(*FindGroupKernelsRef(DType::kQ4_K), p.inter, x.data(), ref.data(), nt, nullptr);
    for (int64_t o = 0; o < n_out; ++o) {
      DequantizeWeightRow(p.plain, o, wrow.data());
      for (int64_t t = 0; t < nt; ++t) {
        const size_t i = size_t(t * n_out + o);
        EXPECT_NEAR(ref[i], want[i], Budget(wrow.data(), x.data() + t * n_in, n_in)) << "NT " << nt << " out " << i;
      }
    }
#if defined(__x86_64__)
    if (!GetCpuFeatures().HasAvx2Set()) continue;
    ASSERT_NE(avx2::FindGroupKernels(DType::kQ4_K), nullptr);
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      std::vector<float> got(ref.size(), -1.0f);
      MatMulInterleaved8(*avx2::FindGroupKernels(DType::kQ4_K), p.inter, x.data(), got.data(), nt, &pool);
      EXPECT_EQ(0, std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)))
          << "NT " << nt << " threads " << threads;
    }
#endif
  }
}

}  // namespace
}  // namespace seek
