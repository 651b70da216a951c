#include "kernels/attention/attention.h"

#include "core/error.h"
#include "kernels/dispatch.h"

namespace seek {

void Attention(const AttentionParams& p, ThreadPool* pool) {
  SEEK_CHECK(p.q && p.out && p.k.data && p.v.data);
  SEEK_CHECK(p.n_tokens > 0 && p.n_head > 0 && p.n_head_kv > 0 && p.n_head % p.n_head_kv == 0);
  SEEK_CHECK(p.dk > 0 && p.dv > 0 && p.pos0 >= 0);
  for (const KvRows* r : {&p.k, &p.v}) {
    const int64_t block = KvBlockSize(r->type);
    SEEK_CHECK(r->col_offset % block == 0);
  }
  SEEK_CHECK(p.dk % KvBlockSize(p.k.type) == 0 && p.dv % KvBlockSize(p.v.type) == 0);
  ActiveKernels().attention->attend(p, pool);
}

void KvStoreRow(KvType t, const float* x, void* y, int64_t n) {
  SEEK_CHECK(n % KvBlockSize(t) == 0);
  ActiveKernels().attention->store_row(t, x, y, n);
}

void KvLoadRow(KvType t, const void* x, float* y, int64_t n) {
  SEEK_CHECK(n % KvBlockSize(t) == 0);
  ActiveKernels().attention->load_row(t, x, y, n);
}

}  // namespace seek
