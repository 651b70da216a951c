#include "kernels/matmul/many.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "kernels/matmul/tiled.h"
#include "kernels/ref/matmul.h"

namespace seek {

namespace {

constexpr int64_t kUnitRows = 16;                  // output rows per work unit (kInterleave * 2)
constexpr int64_t kUnitGroups = kUnitRows / kInterleave;
constexpr int64_t kParallelQuantValues = 1 << 15;  // below this many activation values, quantize inline
constexpr size_t kActAlign = 64;

// One distinct activation input in kernel form.
struct Act {
  const float* x;
  int64_t n_in, n_tokens;
  ActKind kind;
  ActQuantFn quantize;
  size_t offset = 0, stride = 0;  // into the buffer; stride = bytes per token
};

// One job as the driver runs it.
struct Prepared {
  const MatMulJob* job;
  JobKernels k;
  int64_t act = -1;           // index into the Acts, or -1: fp32 x as given
  int64_t n_units = 0;
  double unit_cost = 0;       // cost of one (full) unit
  const uint8_t* act_data = nullptr;
  size_t act_stride = 0;
};

// Units [u_begin, u_end) of job p, on the calling thread.
void RunUnits(const Prepared& p, int64_t u_begin, int64_t u_end) {
  const MatMulJob& j = *p.job;
  if (p.k.groups) {
    const int64_t n_groups = (j.w.n_out + kInterleave - 1) / kInterleave;
    MatMulInterleaved8Groups(*p.k.groups, j.w, p.act_data, p.act_stride, j.y, j.n_tokens, u_begin * kUnitGroups,
                             std::min(n_groups, u_end * kUnitGroups));
    return;
  }
  const int64_t begin = u_begin * kUnitRows, end = std::min(j.w.n_out, u_end * kUnitRows);
  if (p.k.rows) {
    MatMulTiledRows(*p.k.rows, j.w, p.act_data, p.act_stride, j.y, j.n_tokens, begin, end);
  } else {
    MatMulRefRows(j.w, j.x, j.y, j.n_tokens, begin, end);
  }
}

// Global units [g_begin, g_end) of the jobs (job i owns units first[i] .. first[i] + n_units - 1).
void RunGlobalUnits(const std::vector<Prepared>& jobs, const std::vector<int64_t>& first, int64_t g_begin,
                    int64_t g_end) {
  // The first job whose units reach past g_begin.
  size_t i = size_t(std::upper_bound(first.begin(), first.end(), g_begin) - first.begin()) - 1;
  for (; i < jobs.size() && first[i] < g_end; ++i) {
    const int64_t b = std::max(g_begin, first[i]) - first[i];
    const int64_t e = std::min(g_end, first[i] + jobs[i].n_units) - first[i];
    if (b < e) RunUnits(jobs[i], b, e);
  }
}

// The driver's lists, kept per calling thread so that decode allocates nothing. Lambdas run on the workers
// must reach them through a captured reference (a thread_local named there would be the worker's own).
struct Scratch {
  std::vector<Prepared> prepared;
  std::vector<Act> acts;
  std::vector<int64_t> first;   // first global unit of each prepared job
  std::vector<int64_t> bounds;  // first global unit of each slice, then the total
  std::vector<uint8_t> buffer;  // all quantized activations, each at its Act::offset
};

}  // namespace

void MatMulManyDriver(ChooseJobKernelsFn choose, std::span<const MatMulJob> jobs, ThreadPool* pool) {
  thread_local Scratch scratch;
  Scratch& sc = scratch;
  std::vector<Prepared>& prepared = sc.prepared;
  std::vector<Act>& acts = sc.acts;
  std::vector<int64_t>& first = sc.first;
  std::vector<uint8_t>& buffer = sc.buffer;
  prepared.clear();
  acts.clear();
  first.clear();

  // 1. Kernels per job, and the distinct activations to quantize.
  size_t buffer_bytes = 0;
  for (const MatMulJob& j : jobs) {
    if (j.n_tokens <= 0 || j.w.n_out <= 0) continue;
    Prepared p{&j, choose(j.w)};
    const RowKernelSet* rk = p.k.rows;
    const GroupKernelSet* gk = p.k.groups;
    const ActKind kind = rk ? rk->act : gk ? gk->act : ActKind::kF32;
    const ActQuantFn quantize = rk ? rk->quantize : gk ? gk->quantize : nullptr;
    if (kind != ActKind::kF32) {
      for (size_t a = 0; a < acts.size() && p.act < 0; ++a) {
        const Act& o = acts[a];
        if (o.x == j.x && o.n_in == j.w.n_in && o.n_tokens == j.n_tokens && o.kind == kind && o.quantize == quantize)
          p.act = int64_t(a);
      }
      if (p.act < 0) {
        Act a{j.x, j.w.n_in, j.n_tokens, kind, quantize};
        a.stride = ActRowBytes(kind, j.w.n_in);
        a.offset = buffer_bytes;
        buffer_bytes += (a.stride * size_t(j.n_tokens) + kActAlign - 1) / kActAlign * kActAlign;
        p.act = int64_t(acts.size());
        acts.push_back(a);
      }
    } else {
      p.act_data = reinterpret_cast<const uint8_t*>(j.x);
      p.act_stride = size_t(j.w.n_in) * sizeof(float);
    }
    const int64_t n_rows_units = gk ? ((j.w.n_out + kInterleave - 1) / kInterleave + kUnitGroups - 1) / kUnitGroups
                                    : (j.w.n_out + kUnitRows - 1) / kUnitRows;
    p.n_units = n_rows_units;
    p.unit_cost = double(j.w.row_bytes) * double(kUnitRows) * double((j.n_tokens + 3) / 4);
    prepared.push_back(p);
  }
  if (prepared.empty()) return;

  // 2. Activations in kernel form: [n_tokens][stride] per distinct input.
  buffer.resize(std::max<size_t>(buffer.size(), buffer_bytes + kActAlign));
  uint8_t* base = buffer.data() + (kActAlign - reinterpret_cast<uintptr_t>(buffer.data()) % kActAlign) % kActAlign;
  int64_t act_rows = 0, act_values = 0;
  for (const Act& a : acts) {
    act_rows += a.n_tokens;
    act_values += a.n_tokens * a.n_in;
  }
  auto quantize_rows = [&sc, base](int64_t r_begin, int64_t r_end) {  // global token rows over all acts
    int64_t r0 = 0;
    for (const Act& a : sc.acts) {
      const int64_t b = std::max(r_begin, r0), e = std::min(r_end, r0 + a.n_tokens);
      for (int64_t r = b; r < e; ++r) {
        const int64_t t = r - r0;
        a.quantize(a.x + t * a.n_in, base + a.offset + size_t(t) * a.stride, a.n_in);
      }
      r0 += a.n_tokens;
    }
  };
  const bool threaded = pool && pool->size() > 1;
  if (threaded && act_rows > 1 && act_values >= kParallelQuantValues) {
    pool->ParallelFor(act_rows, [&](int64_t b, int64_t e, int) { quantize_rows(b, e); }, 1);
  } else {
    quantize_rows(0, act_rows);
  }
  for (Prepared& p : prepared) {
    if (p.act < 0) continue;
    p.act_data = base + acts[size_t(p.act)].offset;
    p.act_stride = acts[size_t(p.act)].stride;
  }

  // 3. One list of units over all jobs, cut into slices of about equal cost.
  int64_t n_units = 0;
  double total_cost = 0;
  for (const Prepared& p : prepared) {
    first.push_back(n_units);
    n_units += p.n_units;
    total_cost += p.unit_cost * double(p.n_units);
  }
  const int64_t n_slices =
      threaded ? std::min<int64_t>(n_units, int64_t(pool->size()) * ThreadPool::kChunksPerThread) : 1;
  if (n_slices <= 1) {
    RunGlobalUnits(prepared, first, 0, n_units);
    return;
  }
  // bounds[s] = first global unit of slice s: the first unit at or past the cost s * total / n_slices.
  std::vector<int64_t>& bounds = sc.bounds;
  bounds.resize(size_t(n_slices + 1));
  bounds[0] = 0;
  bounds[size_t(n_slices)] = n_units;
  {
    size_t i = 0;
    double cost0 = 0;  // cost of the jobs before job i
    for (int64_t s = 1; s < n_slices; ++s) {
      const double target = total_cost * double(s) / double(n_slices);
      while (i + 1 < prepared.size() && cost0 + prepared[i].unit_cost * double(prepared[i].n_units) <= target) {
        cost0 += prepared[i].unit_cost * double(prepared[i].n_units);
        ++i;
      }
      const double in_job = (target - cost0) / prepared[i].unit_cost;
      int64_t u = first[i] + std::min<int64_t>(prepared[i].n_units, int64_t(in_job + 0.5));
      // Every slice gets at least one unit and leaves one for each slice after it.
      u = std::clamp<int64_t>(u, bounds[size_t(s - 1)] + 1, n_units - (n_slices - s));
      bounds[size_t(s)] = u;
    }
  }
  pool->ParallelFor(
      n_slices,
      [&sc](int64_t b, int64_t e, int) {
        RunGlobalUnits(sc.prepared, sc.first, sc.bounds[size_t(b)], sc.bounds[size_t(e)]);
      },
      1);
}

}  // namespace seek
