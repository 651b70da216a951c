// Scalar reference attention and KV row conversions: the twins the fast kernels (kernels/attention/) are
// tested against, and the "scalar" kernel table's entries.
#pragma once
#include <cstdint>

#include "kernels/attention/attention.h"

namespace seek {

// One (token, head) at a time: q . k for every visible position (DotF32, then * scale), a full Softmax, then
// the V rows accumulated in position order, each K/V row converted to fp32 with KvLoadRowRef. Over an f32
// cache this is exactly the arithmetic of seek's first GqaAttention. Parallel over (token, head) items.
void AttentionRef(const AttentionParams& p, ThreadPool* pool);

// f32: copy; f16: F32ToFP16 (round to nearest even); q8_0: QuantizeRow (GGML's reference quantizer).
void KvStoreRowRef(KvType t, const float* x, void* y, int64_t n);
// The inverse conversions (FP16ToF32, DequantizeRow).
void KvLoadRowRef(KvType t, const void* x, float* y, int64_t n);

// The scalar table's attention entry.
extern const AttentionKernels kAttentionKernelsRef;

}  // namespace seek
