// Interleaved weight layouts (repack.h): the repack itself, the way back (DequantizeWeightRow), the scalar
// twins of the group kernels and the ISA-independent driver.
#include "kernels/matmul/repack.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/matmul/act_quant.h"
#include "kernels/matmul/tiled.h"
#include "kernels/quant/quant.h"

namespace seek {

namespace {

// Row r's quant bytes into / out of an interleaved block: its 4-byte step k goes to bytes 32 k + 4 r .. + 3
// (repack.h), for n_vec vectors of 32 bytes (4 for the nibble planes, 8 for Q8_0).
void PutSteps(const void* src, int r, int n_vec, uint8_t* il) {
  for (int k = 0; k < n_vec; ++k) std::memcpy(il + 32 * k + 4 * r, static_cast<const uint8_t*>(src) + 4 * k, 4);
}
void GetSteps(const uint8_t* il, int r, int n_vec, void* dst) {
  for (int k = 0; k < n_vec; ++k) std::memcpy(static_cast<uint8_t*>(dst) + 4 * k, il + 32 * k + 4 * r, 4);
}

// Per type: the source block, the interleaved block, and moving one row's block in and out.
struct Q4_0Layout {
  using Src = BlockQ4_0;
  using Dst = BlockQ4_0x8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    PutSteps(s.qs, r, 4, d.qs);
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    GetSteps(d.qs, r, 4, s.qs);
  }
};

struct Q4_1Layout {
  using Src = BlockQ4_1;
  using Dst = BlockQ4_1x8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    d.m[r] = s.m;
    PutSteps(s.qs, r, 4, d.qs);
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    s.m = d.m[r];
    GetSteps(d.qs, r, 4, s.qs);
  }
};

// Q5's bit 4 of every value: the row block's qh (bit v of the little-endian uint32 = value v) to and from the
// interleaved plane (repack.h: bit j of plane[4 r + i] = value 4 j + i, bit 4 + j = value 16 + 4 j + i).
void PutQ5High(const uint8_t* src_qh, int r, uint8_t* plane) {
  uint32_t bits;
  std::memcpy(&bits, src_qh, 4);
  for (int i = 0; i < 4; ++i) {
    uint8_t byte = 0;
    for (int j = 0; j < 4; ++j) {
      byte |= uint8_t(((bits >> (4 * j + i)) & 1) << j);
      byte |= uint8_t(((bits >> (16 + 4 * j + i)) & 1) << (4 + j));
    }
    plane[4 * r + i] = byte;
  }
}
void GetQ5High(const uint8_t* plane, int r, uint8_t* src_qh) {
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) {
    const uint32_t byte = plane[4 * r + i];
    for (int j = 0; j < 4; ++j) {
      bits |= ((byte >> j) & 1) << (4 * j + i);
      bits |= ((byte >> (4 + j)) & 1) << (16 + 4 * j + i);
    }
  }
  std::memcpy(src_qh, &bits, 4);
}

struct Q5_0Layout {
  using Src = BlockQ5_0;
  using Dst = BlockQ5_0x8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    PutQ5High(s.qh, r, d.qh);
    PutSteps(s.qs, r, 4, d.qs);
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    GetQ5High(d.qh, r, s.qh);
    GetSteps(d.qs, r, 4, s.qs);
  }
};

struct Q5_1Layout {
  using Src = BlockQ5_1;
  using Dst = BlockQ5_1x8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    d.m[r] = s.m;
    PutQ5High(s.qh, r, d.qh);
    PutSteps(s.qs, r, 4, d.qs);
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    s.m = d.m[r];
    GetQ5High(d.qh, r, s.qh);
    GetSteps(d.qs, r, 4, s.qs);
  }
};

struct Q8_0Layout {
  using Src = BlockQ8_0;
  using Dst = BlockQ8_0x8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    PutSteps(s.qs, r, 8, reinterpret_cast<uint8_t*>(d.qs));
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    GetSteps(reinterpret_cast<const uint8_t*>(d.qs), r, 8, s.qs);
  }
};

// GGML's 12-byte packing of 8 6-bit scales and 8 6-bit mins (get_scale_min_k4), both ways.
void UnpackScalesK4(const uint8_t* q, uint8_t* sc, uint8_t* m) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = q[j] & 63;
    m[j] = q[j + 4] & 63;
    sc[j + 4] = uint8_t((q[j + 8] & 0x0F) | ((q[j] >> 6) << 4));
    m[j + 4] = uint8_t((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
  }
}
void PackScalesK4(const uint8_t* sc, const uint8_t* m, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = uint8_t(sc[j] | ((sc[j + 4] >> 4) << 6));
    q[j + 4] = uint8_t(m[j] | ((m[j + 4] >> 4) << 6));
    q[j + 8] = uint8_t((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
  }
}

// Scale j of row r, and min j of row r, of a Q4_Kx8 block, in and out of its scm / mh planes (repack.h): the
// scale in bits 0-5 of scm[8 j + r]; the min in bits 6-7 of scm[s] and the low (s < 32) or high nibble of
// mh[s % 32], s = Q4_KxMinSlot(j, r).
int Q4_KxMinSlot(int j, int r) {
  const int u = j / 2, lane = 2 * r + j % 2;  // int16 lane of the kernel's min vector u
  return 32 * (u / 2) + 8 * (u % 2) + 16 * (lane / 8) + lane % 8;
}
uint8_t Q4_KxScale(const BlockQ4_Kx8& b, int j, int r) { return uint8_t(b.scm[8 * j + r] & 63); }
uint8_t Q4_KxMin(const BlockQ4_Kx8& b, int j, int r) {
  const int s = Q4_KxMinSlot(j, r);
  return uint8_t((b.scm[s] >> 6) | ((b.mh[s % 32] >> (4 * (s / 32))) & 15) << 2);
}
void SetQ4_KxScale(BlockQ4_Kx8& b, int j, int r, uint8_t v) {
  b.scm[8 * j + r] = uint8_t((b.scm[8 * j + r] & 0xC0) | (v & 63));
}
void SetQ4_KxMin(BlockQ4_Kx8& b, int j, int r, uint8_t v) {
  const int s = Q4_KxMinSlot(j, r), sh = 4 * (s / 32);
  b.scm[s] = uint8_t((b.scm[s] & 63) | (v & 3) << 6);
  b.mh[s % 32] = uint8_t((b.mh[s % 32] & ~(15 << sh)) | ((v >> 2) & 15) << sh);
}

struct Q4_KLayout {
  using Src = BlockQ4_K;
  using Dst = BlockQ4_Kx8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    d.dmin[r] = s.dmin;
    uint8_t sc[8], m[8];
    UnpackScalesK4(s.scales, sc, m);
    for (int j = 0; j < 8; ++j) {
      SetQ4_KxScale(d, j, r, sc[j]);
      SetQ4_KxMin(d, j, r, m[j]);
    }
    for (int p = 0; p < 4; ++p) PutSteps(s.qs + 32 * p, r, 8, d.qs + 256 * p);
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    s.dmin = d.dmin[r];
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) {
      sc[j] = Q4_KxScale(d, j, r);
      m[j] = Q4_KxMin(d, j, r);
    }
    PackScalesK4(sc, m, s.scales);
    for (int p = 0; p < 4; ++p) GetSteps(d.qs + 256 * p, r, 8, s.qs + 32 * p);
  }
};

struct Q6_KLayout {
  using Src = BlockQ6_K;
  using Dst = BlockQ6_Kx8;
  static void Put(const Src& s, int r, Dst& d) {
    d.d[r] = s.d;
    for (int j = 0; j < 16; ++j) d.sc[8 * j + r] = s.scales[j];
    for (int h = 0; h < 2; ++h) {
      for (int gp = 0; gp < 2; ++gp) PutSteps(s.ql + 64 * h + 32 * gp, r, 8, d.ql + 512 * h + 256 * gp);
      PutSteps(s.qh + 32 * h, r, 8, d.qh + 256 * h);
    }
  }
  static void Get(const Dst& d, int r, Src& s) {
    s.d = d.d[r];
    for (int j = 0; j < 16; ++j) s.scales[j] = d.sc[8 * j + r];
    for (int h = 0; h < 2; ++h) {
      for (int gp = 0; gp < 2; ++gp) GetSteps(d.ql + 512 * h + 256 * gp, r, 8, s.ql + 64 * h + 32 * gp);
      GetSteps(d.qh + 256 * h, r, 8, s.qh + 32 * h);
    }
  }
};

int64_t BlocksPerRow(DType t, int64_t n_in) { return n_in / Traits(t).block_size; }

template <class L>
void RepackGroups(const MatMulWeight& src, uint8_t* dst, int64_t g_begin, int64_t g_end) {
  const int64_t n_blocks = BlocksPerRow(src.type, src.n_in);
  const auto* base = static_cast<const uint8_t*>(src.data);
  for (int64_t g = g_begin; g < g_end; ++g) {
    auto* out = reinterpret_cast<typename L::Dst*>(dst) + g * n_blocks;
    std::memset(static_cast<void*>(out), 0, sizeof(typename L::Dst) * size_t(n_blocks));
    for (int r = 0; r < kInterleave; ++r) {
      const int64_t o = g * kInterleave + r;
      if (o >= src.n_out) break;  // padding rows stay zero (scale 0)
      const auto* row = reinterpret_cast<const typename L::Src*>(base + o * src.row_bytes);
      for (int64_t b = 0; b < n_blocks; ++b) L::Put(row[b], r, out[b]);
    }
  }
}

template <class L>
void UnpackRow(const MatMulWeight& w, int64_t row, float* out) {
  const int64_t n_blocks = BlocksPerRow(w.type, w.n_in);
  const int64_t bs = Traits(w.type).block_size;
  const auto* group = static_cast<const typename L::Dst*>(w.data) + (row / kInterleave) * n_blocks;
  const int r = int(row % kInterleave);
  DType t = w.type;
  for (int64_t b = 0; b < n_blocks; ++b) {
    typename L::Src blk;
    L::Get(group[b], r, blk);
    DequantizeRow(t, &blk, out + bs * b, bs);
  }
}

size_t GroupBlockBytes(DType t) {
  switch (t) {
    case DType::kQ4_0: return sizeof(BlockQ4_0x8);
    case DType::kQ4_1: return sizeof(BlockQ4_1x8);
    case DType::kQ5_0: return sizeof(BlockQ5_0x8);
    case DType::kQ5_1: return sizeof(BlockQ5_1x8);
    case DType::kQ8_0: return sizeof(BlockQ8_0x8);
    case DType::kQ4_K: return sizeof(BlockQ4_Kx8);
    case DType::kQ6_K: return sizeof(BlockQ6_Kx8);
    default: return 0;
  }
}

// ---- scalar twins of the group kernels (same arithmetic and order as interleaved_avx2.cc) ----

// Value j (0..31) of row r in an interleaved block's qs.
inline int Q4Value(const uint8_t* qs, int r, int j) {
  const int s = j % 16;  // value s of the low half, or of the high half
  const uint8_t byte = qs[32 * (s / 4) + 4 * r + s % 4];
  return j < 16 ? (byte & 0x0F) : (byte >> 4);
}
inline int Q8Value(const int8_t* qs, int r, int j) { return qs[32 * (j / 4) + 4 * r + j % 4]; }
// Value j (0..31) of row r in a Q5 interleaved block: the nibble, and bit 4 from the qh plane.
inline int Q5Value(const uint8_t* qh, const uint8_t* qs, int r, int j) {
  const int bit = 4 * (j / 16) + (j % 16) / 4;
  return Q4Value(qs, r, j) | (((qh[4 * r + j % 4] >> bit) & 1) << 4);
}

template <class Dst, int NT>
void DotGroupRef(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const Dst*>(group);
  for (int t = 0; t < NT; ++t) {
    const auto* a = reinterpret_cast<const ActQ8x32*>(act + t * act_stride);
    float acc[kInterleave] = {};
    for (int64_t b = 0; b < n_blocks; ++b) {
      const Dst& blk = blocks[b];
      for (int r = 0; r < kInterleave; ++r) {
        int isum = 0;
        for (int j = 0; j < 32; ++j) {
          if constexpr (std::is_same_v<Dst, BlockQ8_0x8>) {
            isum += Q8Value(blk.qs, r, j) * a[b].qs[j];
          } else if constexpr (std::is_same_v<Dst, BlockQ5_0x8> || std::is_same_v<Dst, BlockQ5_1x8>) {
            isum += Q5Value(blk.qh, blk.qs, r, j) * a[b].qs[j];
          } else {
            isum += Q4Value(blk.qs, r, j) * a[b].qs[j];
          }
        }
        const float d = FP16ToF32(blk.d[r]);
        if constexpr (std::is_same_v<Dst, BlockQ4_0x8>) {
          acc[r] = std::fma(d, std::fma(float(isum), a[b].d, -8.0f * a[b].s), acc[r]);
          continue;
        }
        acc[r] = std::fma(float(isum), d * a[b].d, acc[r]);
        if constexpr (std::is_same_v<Dst, BlockQ5_0x8>) acc[r] = std::fma(-16.0f * d, a[b].s, acc[r]);
        if constexpr (std::is_same_v<Dst, BlockQ4_1x8> || std::is_same_v<Dst, BlockQ5_1x8>)
          acc[r] = std::fma(FP16ToF32(blk.m[r]), a[b].s, acc[r]);
      }
    }
    for (int r = 0; r < kInterleave; ++r) out[t * kInterleave + r] = acc[r];
  }
}

template <int NT>
void DotGroupQ4_KRef(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ4_Kx8*>(group);
  for (int t = 0; t < NT; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride);
    float acc[kInterleave] = {};
    for (int64_t b = 0; b < n_blocks; ++b) {
      const BlockQ4_Kx8& blk = blocks[b];
      for (int r = 0; r < kInterleave; ++r) {
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; ++j) {
          int sub = 0;
          for (int l = 0; l < 32; ++l) {
            const uint8_t byte = blk.qs[256 * (j / 2) + 32 * (l / 4) + 4 * r + l % 4];
            sub += ((j % 2) ? (byte >> 4) : (byte & 0x0F)) * a[b].qs[32 * j + l];
          }
          isum += Q4_KxScale(blk, j, r) * sub;
          msum += Q4_KxMin(blk, j, r) * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        }
        acc[r] = std::fma(float(isum), FP16ToF32(blk.d[r]) * a[b].d, acc[r]);
        acc[r] = std::fma(-float(msum), FP16ToF32(blk.dmin[r]) * a[b].d, acc[r]);
      }
    }
    for (int r = 0; r < kInterleave; ++r) out[t * kInterleave + r] = acc[r];
  }
}

template <int NT>
void DotGroupQ6_KRef(const uint8_t* group, const uint8_t* act, size_t act_stride, int64_t n_blocks, float* out) {
  const auto* blocks = reinterpret_cast<const BlockQ6_Kx8*>(group);
  for (int t = 0; t < NT; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride);
    float acc[kInterleave] = {};
    for (int64_t b = 0; b < n_blocks; ++b) {
      const BlockQ6_Kx8& blk = blocks[b];
      for (int r = 0; r < kInterleave; ++r) {
        int isum = 0, osum = 0;
        for (int v0 = 0; v0 < 256; v0 += 16) {  // sub-block j = v0 / 16
          int sub = 0;
          for (int v = v0; v < v0 + 16; ++v) {
            const int h = v / 128, g = (v % 128) / 32, l = v % 32, k = l / 4, i = l % 4;
            const uint8_t ql = blk.ql[512 * h + 256 * (g % 2) + 32 * k + 4 * r + i];
            const uint8_t qh = blk.qh[256 * h + 32 * k + 4 * r + i];
            const int q = ((g < 2 ? ql : ql >> 4) & 0x0F) | (((qh >> (2 * g)) & 3) << 4);
            sub += q * a[b].qs[v];
          }
          const int j = v0 / 16;
          isum += blk.sc[8 * j + r] * sub;
          osum += blk.sc[8 * j + r] * a[b].bsums[j];
        }
        acc[r] = std::fma(float(isum - 32 * osum), FP16ToF32(blk.d[r]) * a[b].d, acc[r]);
      }
    }
    for (int r = 0; r < kInterleave; ++r) out[t * kInterleave + r] = acc[r];
  }
}

void QuantizeActQ8KRefFn(const float* x, void* out, int64_t n) {
  QuantizeActQ8KRef(x, static_cast<BlockQ8_K*>(out), n);
}

void QuantizeActRefFn(const float* x, void* out, int64_t n) {
  QuantizeActQ8x32Ref(x, static_cast<ActQ8x32*>(out), n);
}

template <class Dst>
GroupKernelSet MakeRefSet() {
  return {ActKind::kQ8x32, QuantizeActRefFn, {DotGroupRef<Dst, 1>, DotGroupRef<Dst, 2>, DotGroupRef<Dst, 3>, DotGroupRef<Dst, 4>}};
}

}  // namespace

bool CanRepack(WeightLayout layout, DType t) {
  switch (layout) {
    case WeightLayout::kRows: return true;
    case WeightLayout::kInterleaved8: return GroupBlockBytes(t) != 0;
  }
  return false;
}

size_t RepackedBytes(WeightLayout layout, DType t, int64_t n_in, int64_t n_out) {
  SEEK_CHECK(CanRepack(layout, t));
  if (layout == WeightLayout::kRows) return *RowBytes(t, n_in) * size_t(n_out);
  const int64_t n_groups = (n_out + kInterleave - 1) / kInterleave;
  return GroupBlockBytes(t) * size_t(BlocksPerRow(t, n_in)) * size_t(n_groups);
}

void RepackWeight(const MatMulWeight& src, WeightLayout layout, void* dst, ThreadPool* pool) {
  SEEK_CHECK(src.layout == WeightLayout::kRows && CanRepack(layout, src.type) &&
             src.n_in % Traits(src.type).block_size == 0);
  auto* out = static_cast<uint8_t*>(dst);
  if (layout == WeightLayout::kRows) {
    std::memcpy(out, src.data, src.row_bytes * size_t(src.n_out));
    return;
  }
  const int64_t n_groups = (src.n_out + kInterleave - 1) / kInterleave;
  Parallel(pool, n_groups, 1, [&](int64_t b, int64_t e) {
    switch (src.type) {
      case DType::kQ4_0: RepackGroups<Q4_0Layout>(src, out, b, e); break;
      case DType::kQ4_1: RepackGroups<Q4_1Layout>(src, out, b, e); break;
      case DType::kQ5_0: RepackGroups<Q5_0Layout>(src, out, b, e); break;
      case DType::kQ5_1: RepackGroups<Q5_1Layout>(src, out, b, e); break;
      case DType::kQ8_0: RepackGroups<Q8_0Layout>(src, out, b, e); break;
      case DType::kQ4_K: RepackGroups<Q4_KLayout>(src, out, b, e); break;
      case DType::kQ6_K: RepackGroups<Q6_KLayout>(src, out, b, e); break;
      default: SEEK_CHECK(false);
    }
  });
}

void DequantizeWeightRow(const MatMulWeight& w, int64_t row, float* out) {
  SEEK_CHECK(row >= 0 && row < w.n_out);
  if (w.layout == WeightLayout::kRows) {
    DequantizeRow(w.type, static_cast<const uint8_t*>(w.data) + size_t(row) * w.row_bytes, out, w.n_in);
    return;
  }
  switch (w.type) {
    case DType::kQ4_0: return UnpackRow<Q4_0Layout>(w, row, out);
    case DType::kQ4_1: return UnpackRow<Q4_1Layout>(w, row, out);
    case DType::kQ5_0: return UnpackRow<Q5_0Layout>(w, row, out);
    case DType::kQ5_1: return UnpackRow<Q5_1Layout>(w, row, out);
    case DType::kQ8_0: return UnpackRow<Q8_0Layout>(w, row, out);
    case DType::kQ4_K: return UnpackRow<Q4_KLayout>(w, row, out);
    case DType::kQ6_K: return UnpackRow<Q6_KLayout>(w, row, out);
    default: SEEK_CHECK(false);
  }
}

void DequantizeWeightRow(const TensorView& w, int64_t row, float* out) {
  if (w.layout == WeightLayout::kRows) {
    DequantizeRow(w.type, w.row(row), out, w.ne[0]);  // also 3-D views (row over ne[1] * ne[2])
    return;
  }
  DequantizeWeightRow(AsMatMulWeight(w), row, out);
}

const GroupKernelSet* FindGroupKernelsRef(DType t) {
  static const GroupKernelSet kQ4_0 = MakeRefSet<BlockQ4_0x8>(), kQ4_1 = MakeRefSet<BlockQ4_1x8>(),
                              kQ5_0 = MakeRefSet<BlockQ5_0x8>(), kQ5_1 = MakeRefSet<BlockQ5_1x8>(),
                              kQ8_0 = MakeRefSet<BlockQ8_0x8>();
  static const GroupKernelSet kQ4_K = {
      ActKind::kQ8K, QuantizeActQ8KRefFn,
      {DotGroupQ4_KRef<1>, DotGroupQ4_KRef<2>, DotGroupQ4_KRef<3>, DotGroupQ4_KRef<4>}};
  static const GroupKernelSet kQ6_K = {
      ActKind::kQ8K, QuantizeActQ8KRefFn,
      {DotGroupQ6_KRef<1>, DotGroupQ6_KRef<2>, DotGroupQ6_KRef<3>, DotGroupQ6_KRef<4>}};
  switch (t) {
    case DType::kQ4_0: return &kQ4_0;
    case DType::kQ4_1: return &kQ4_1;
    case DType::kQ5_0: return &kQ5_0;
    case DType::kQ5_1: return &kQ5_1;
    case DType::kQ8_0: return &kQ8_0;
    case DType::kQ4_K: return &kQ4_K;
    case DType::kQ6_K: return &kQ6_K;
    default: return nullptr;
  }
}

// Token tiles outermost, then groups (a group's blocks stay in L1 while they meet the tile's tokens 4 at a
// time).
void MatMulInterleaved8Groups(const GroupKernelSet& k, const MatMulWeight& w, const uint8_t* act,
                              size_t act_stride, float* y, int64_t n_tokens, int64_t begin, int64_t end) {
  const int64_t n_blocks = BlocksPerRow(w.type, w.n_in);
  const size_t group_bytes = GroupBlockBytes(w.type) * size_t(n_blocks);
  const auto* base = static_cast<const uint8_t*>(w.data);
  const int64_t tile = TokenTile(act_stride);
  float out[4 * kInterleave];  // [NT][8]
  if (n_tokens == 1 && k.run1) {  // decode: the groups with 8 real rows in one call, straight into y
    const int64_t full_end = std::min(end, w.n_out / kInterleave);
    if (begin < full_end) {
      k.run1(base + size_t(begin) * group_bytes, group_bytes, full_end - begin, act, n_blocks, y + begin * kInterleave);
      begin = full_end;
    }
  }
  for (int64_t t0 = 0; t0 < n_tokens; t0 += tile) {
    const int64_t t1 = std::min(n_tokens, t0 + tile);
    for (int64_t g = begin; g < end; ++g) {
      const uint8_t* group = base + size_t(g) * group_bytes;
      const int64_t o = g * kInterleave;
      const int64_t n_rows = std::min<int64_t>(kInterleave, w.n_out - o);
      for (int64_t t = t0; t < t1; t += 4) {
        const int nt = int(std::min<int64_t>(4, t1 - t));
        if (nt == 1 && n_rows == kInterleave) {  // straight into y (a libc memcpy per group cost ~1% of decode)
          k.dot[0](group, act + t * act_stride, act_stride, n_blocks, y + t * w.n_out + o);
          continue;
        }
        k.dot[nt - 1](group, act + t * act_stride, act_stride, n_blocks, out);
        for (int i = 0; i < nt; ++i) {
          std::memcpy(y + (t + i) * w.n_out + o, out + i * kInterleave, size_t(n_rows) * sizeof(float));
        }
      }
    }
  }
}

void MatMulInterleaved8(const GroupKernelSet& k, const MatMulWeight& w, const float* x, float* y,
                        int64_t n_tokens, ThreadPool* pool) {
  SEEK_CHECK(w.layout == WeightLayout::kInterleaved8 && GroupBlockBytes(w.type) != 0);
  if (n_tokens <= 0 || w.n_out <= 0) return;
  size_t act_stride = 0;
  const uint8_t* act = QuantizeActivations(k.act, k.quantize, x, w.n_in, n_tokens, pool, &act_stride);
  const int64_t n_groups = (w.n_out + kInterleave - 1) / kInterleave;
  Parallel(pool, n_groups, 2,
           [&](int64_t b, int64_t e) { MatMulInterleaved8Groups(k, w, act, act_stride, y, n_tokens, b, e); });
}

}  // namespace seek
