#include "kernels/dispatch.h"

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/log.h"
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/many.h"
#include "kernels/matmul/repack.h"
#include "kernels/matmul/tiled.h"
#include "kernels/ops/activation.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/attention.h"
#include "kernels/ref/matmul.h"
#include "kernels/ref/ops.h"

namespace seek {

namespace {

// The reference for row layouts; the scalar twins of the group kernels for repacked weights (the scalar table
// repacks nothing itself, but a weight repacked under another table still works).
void MatMulScalar(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool) {
  if (w.layout == WeightLayout::kInterleaved8) {
    const GroupKernelSet* k = FindGroupKernelsRef(w.type);
    SEEK_CHECK(k != nullptr);
    return MatMulInterleaved8(*k, w, x, y, n_tokens, pool);
  }
  MatMulRef(w, x, y, n_tokens, pool);
}

// The kernels MatMulScalar uses for w (MatMulMany's driver computes with the same ones).
JobKernels ChooseScalar(const MatMulWeight& w) {
  JobKernels k;
  if (w.layout == WeightLayout::kInterleaved8) {
    k.groups = FindGroupKernelsRef(w.type);
    SEEK_CHECK(k.groups != nullptr);
  } else {
    SEEK_CHECK(CanDequantize(w.type) && w.layout == WeightLayout::kRows);
  }
  return k;
}

void MatMulManyScalar(std::span<const MatMulJob> jobs, ThreadPool* pool) {
  if (jobs.size() == 1) return MatMulScalar(jobs[0].w, jobs[0].x, jobs[0].y, jobs[0].n_tokens, pool);
  MatMulManyDriver(ChooseScalar, jobs, pool);
}

const KernelTable kScalar = {"scalar", MatMulScalar, nullptr, &kAttentionKernelsRef, MatMulManyScalar, SwiGLU};

#if defined(__x86_64__)
const RowKernelSet* FindAvx2RowKernels(DType t) {
  if (const RowKernelSet* k = avx2::FindLegacyRowKernels(t)) return k;
  if (const RowKernelSet* k = avx2::FindKQuantRowKernels(t)) return k;
  return avx2::FindFloatRowKernels(t);
}

// Row kernels where the type has them, else the reference.
void MatMulAvx2(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool) {
  SEEK_CHECK(CanDequantize(w.type));
  if (w.layout == WeightLayout::kInterleaved8) {
    const GroupKernelSet* k = avx2::FindGroupKernels(w.type);
    SEEK_CHECK(k != nullptr);
    return MatMulInterleaved8(*k, w, x, y, n_tokens, pool);
  }
  if (const RowKernelSet* k = FindAvx2RowKernels(w.type)) {
    MatMulTiled(*k, w, x, y, n_tokens, pool);
  } else {
    MatMulRef(w, x, y, n_tokens, pool);
  }
}

// The kernels MatMulAvx2 uses for w.
JobKernels ChooseAvx2(const MatMulWeight& w) {
  SEEK_CHECK(CanDequantize(w.type));
  JobKernels k;
  if (w.layout == WeightLayout::kInterleaved8) {
    k.groups = avx2::FindGroupKernels(w.type);
    SEEK_CHECK(k.groups != nullptr);
  } else {
    k.rows = FindAvx2RowKernels(w.type);
  }
  return k;
}

void MatMulManyAvx2(std::span<const MatMulJob> jobs, ThreadPool* pool) {
  if (jobs.size() == 1) return MatMulAvx2(jobs[0].w, jobs[0].x, jobs[0].y, jobs[0].n_tokens, pool);
  MatMulManyDriver(ChooseAvx2, jobs, pool);
}

// Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 / Q4_K -> 8 rows interleaved (repack.h); the group kernels beat the row
// kernels for every token count (no horizontal sums, one scale vector per 8 rows). Q5_0 / Q5_1 (matmul_bench
// 1408x2048, 1 thread): GEMV 8.6 -> 14.4 GB/s, 4 tokens 3.8 -> 8.8 GB/s, GEMM 46 -> 128 GFLOP/s (Q5_0).
// Q6_K has an interleaved layout and kernel too (tested), but they measured slower than its row kernel
// (matmul_bench 2048x5632, 1 thread: GEMM 76 vs 83 GFLOP/s, GEMV 7.7 vs 10.7 GB/s: rebuilding 6-bit quants
// from the interleaved nibble + 2-bit planes costs more than it saves), so it is not chosen. (Its 1-2 token
// loop is rolled now, 0.63 -> 0.87 of the read probe in stream_bench, still below the row kernel's ~0.97.)
WeightLayout RepackLayoutAvx2(DType type, int64_t n_in, int64_t n_out) {
  if (type == DType::kQ6_K) return WeightLayout::kRows;
  if (avx2::FindGroupKernels(type) && n_in % Traits(type).block_size == 0 && n_out >= kInterleave) return WeightLayout::kInterleaved8;
  return WeightLayout::kRows;
}

const KernelTable kAvx2 = {"avx2", MatMulAvx2, RepackLayoutAvx2, &avx2::kAttentionKernels, MatMulManyAvx2,
                            avx2::SwiGLUAvx2};
#endif

const KernelTable& ChooseKernels() {
  const std::string isa = RequestedIsa();
  if (!isa.empty()) {
    if (const KernelTable* t = FindKernels(isa)) return *t;
    SEEK_LOG_WARN("SEEK_ISA=%s is not available on this CPU/build; using the best available kernels",
                  isa.c_str());
  }
  if (const KernelTable* t = FindKernels("avx2")) return *t;
  return kScalar;
}

}  // namespace

const KernelTable& ScalarKernels() { return kScalar; }

WeightLayout PreferredLayout(const KernelTable& t, DType type, int64_t n_in, int64_t n_out) {
  return t.repack_layout ? t.repack_layout(type, n_in, n_out) : WeightLayout::kRows;
}

const KernelTable* FindKernels(std::string_view name) {
  if (name == "scalar") return &kScalar;
#if defined(__x86_64__)
  if (name == "avx2" && GetCpuFeatures().HasAvx2Set()) return &kAvx2;
#endif
  return nullptr;
}

const KernelTable& ActiveKernels() {
  static const KernelTable& table = ChooseKernels();
  return table;
}

}  // namespace seek
