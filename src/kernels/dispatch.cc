#include "kernels/dispatch.h"

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/log.h"
#include "kernels/matmul/avx2_kernels.h"
#include "kernels/matmul/tiled.h"
#include "kernels/quant/quant.h"
#include "kernels/ref/attention.h"
#include "kernels/ref/matmul.h"

namespace seek {

namespace {

const KernelTable kScalar = {"scalar", MatMulRef, &kAttentionKernelsRef};

#if defined(__x86_64__)
const RowKernelSet* FindAvx2RowKernels(DType t) {
  if (const RowKernelSet* k = avx2::FindLegacyRowKernels(t)) return k;
  if (const RowKernelSet* k = avx2::FindKQuantRowKernels(t)) return k;
  return avx2::FindFloatRowKernels(t);
}

// Row kernels where the type has them, else the reference.
void MatMulAvx2(const MatMulWeight& w, const float* x, float* y, int64_t n_tokens, ThreadPool* pool) {
  SEEK_CHECK(CanDequantize(w.type));
  if (const RowKernelSet* k = FindAvx2RowKernels(w.type)) {
    MatMulTiled(*k, w, x, y, n_tokens, pool);
  } else {
    MatMulRef(w, x, y, n_tokens, pool);
  }
}

const KernelTable kAvx2 = {"avx2", MatMulAvx2, &avx2::kAttentionKernels};
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
