// seek bench: timed prefill and decode runs (see bench.h for the method).
#include "runtime/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/weights.h"

namespace seek {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t Elements(const TensorView& v) {
  return v.data ? v.nelements() : 0;
}

std::vector<int32_t> RandomTokens(std::mt19937_64& rng, int32_t n, int32_t n_vocab) {
  std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
  std::vector<int32_t> ids(size_t(std::max(n, 0)));
  for (int32_t& id : ids) id = dist(rng);
  return ids;
}

uint64_t PeakRssBytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return uint64_t(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

BenchTest Finish(int32_t n_tokens, std::vector<double> seconds) {
  BenchTest t;
  t.n_tokens = n_tokens;
  std::vector<double> rate;
  for (double s : seconds) rate.push_back(double(n_tokens) / std::max(s, 1e-12));
  t.seconds = Summarize(std::move(seconds));
  t.tok_s = Summarize(std::move(rate));
  return t;
}

}  // namespace

double ModelCost::PrefillFlops(int64_t n, int64_t depth) const {
  const double dn = double(n);
  return 2.0 * double(layer_matmul_params) * dn + 2.0 * double(output_params) +
         double(attn_flops_per_pair) * dn * ((dn + 1.0) / 2.0 + double(depth));
}

ModelCost ComputeModelCost(const Model& model) {
  // From the file's tensors by GGUF name, so every architecture's layer tensors count (MLA's attn_q_a /
  // attn_kv_a_mqa / attn_k_b / ..., MoE stacks): a decoded token reads each layer tensor in full, except
  // that a stacked expert tensor (*_exps) is read for n_expert_used of its n_expert experts, the MTP layers
  // (blk.N, N >= n_layer) are not read by the main model, and token_embd gives one row (plus the
  // whole table when it is tied to the output).
  // Files in the pre-#12801 MLA layout (attn_kv_b only) count attn_kv_b, which is the size of the
  // attn_k_b + attn_v_b seek derives from it.
  const ModelConfig& c = model.config();
  const Model::Weights& w = model.weights();
  ModelCost cost;
  const double expert_share = c.moe.n_expert > 0 ? double(c.moe.n_expert_used) / double(c.moe.n_expert) : 1.0;
  double decode = 0;
  double layer_params = 0;
  for (const TensorView& t : model.source().tensors()) {
    cost.weight_bytes += t.nbytes;
    const std::string& name = t.name;
    if (name == "token_embd.weight" || name == "model.embed_tokens.weight") {
      decode += double(t.nbytes) / double(std::max<int64_t>(1, t.ne[1])) +
                (c.tied_embeddings ? double(t.nbytes) : 0.0);
      continue;
    }
    // GGUF "blk.N." or HF "model.layers.N." (per-expert tensors "mlp.experts.E.": the same share in sum).
    const bool gguf_layer = name.rfind("blk.", 0) == 0, hf_layer = name.rfind("model.layers.", 0) == 0;
    if (gguf_layer || hf_layer) {
      const int layer = std::atoi(name.c_str() + (gguf_layer ? 4 : 13));
      if (layer >= c.n_layer) continue;  // MTP (NextN) layers
      const bool expert =
          name.find("_exps.") != std::string::npos || name.find(".experts.") != std::string::npos;
      const double share = expert ? expert_share : 1.0;
      decode += double(t.nbytes) * share;
      if (t.n_dims >= 2 && name.find("ffn_gate_inp") == std::string::npos &&
          name.find("mlp.gate.") == std::string::npos)
        layer_params += double(t.nelements()) * share;
      continue;
    }
    decode += double(t.nbytes);  // output_norm, output, rope_freqs
  }
  cost.decode_bytes_per_token = uint64_t(decode);
  cost.layer_matmul_params = int64_t(layer_params);
  cost.output_params = Elements(w.output.data ? w.output : w.token_embd);
  cost.attn_flops_per_pair = 4ll * c.n_layer * c.n_head * c.head_dim;
  return cost;
}

double BenchResult::prefill_gflops() const {
  if (pp.n_tokens <= 0 || pp.seconds.median <= 0) return 0;
  return cost.PrefillFlops(pp.n_tokens, depth) / pp.seconds.median / 1e9;
}

double BenchResult::decode_gbps() const {
  return tg.n_tokens > 0 ? double(cost.decode_bytes_per_token) * tg.tok_s.median / 1e9 : 0;
}

BenchResult RunBench(const Model& model, ThreadPool& pool, const BenchOptions& o,
                     void (*progress)(const char* step)) {
  if (o.n_prompt < 0 || o.n_gen < 0) Fail("bench: -p and -n must be >= 0 (got %d, %d)", o.n_prompt, o.n_gen);
  if (o.n_prompt == 0 && o.n_gen == 0) Fail("bench: nothing to measure: -p and -n are both 0");
  if (o.repetitions < 1) Fail("bench: -r must be at least 1 (got %d)", o.repetitions);
  if (o.depth < 0) Fail("bench: -d must be >= 0 (got %d)", o.depth);
  const int64_t longest = int64_t(o.depth) + std::max(o.n_prompt, o.n_gen);
  if (longest > (int64_t(1) << 24)) {
    Fail("bench: -d %d with these tests needs %lld tokens of context", o.depth,
         static_cast<long long>(longest));
  }
  if (o.n_ctx != 0 && o.n_ctx < longest) {
    Fail("bench: -c %d is smaller than the depth plus the longest test (%lld tokens)", o.n_ctx,
         static_cast<long long>(longest));
  }
  const ModelConfig& c = model.config();

  BenchResult r;
  r.model_path = model.source().path();
  r.arch = c.arch_name;
  r.n_params = model.n_params();
  r.file_bytes = model.source().file_bytes();
  r.cost = ComputeModelCost(model);
  r.threads = pool.size();
  r.n_ctx = o.n_ctx > 0 ? o.n_ctx : o.depth + o.n_prompt + o.n_gen;
  r.depth = o.depth;
  r.kv_type = o.kv_type;
  r.seed = o.seed;
  std::map<std::string, int> types;
  for (const TensorView& t : model.source().tensors()) types[DTypeName(t.type)]++;
  for (const auto& [name, count] : types) {
    r.type_summary += (r.type_summary.empty() ? "" : ", ") + name + " x" + std::to_string(count);
  }

  Context ctx(model, r.n_ctx, &pool, o.kv_type);
  std::mt19937_64 rng(o.seed);
  auto step = [&](const char* what, int i) {
    if (progress) progress(StrFormat("%s %d/%d", what, i, o.repetitions).c_str());
  };

  // Warm-up: page in every weight, touch the scratch buffers.
  {
    if (progress) progress("warm-up");
    ctx.Truncate(0);
    const std::vector<int32_t> ids = RandomTokens(rng, std::max(1, std::min(o.n_prompt, 32)), c.n_vocab);
    ctx.Eval(ids);
    const std::vector<int32_t> one = RandomTokens(rng, 1, c.n_vocab);
    ctx.Eval(one);
  }
  // The cache every run starts from: `depth` random tokens, evaluated once (untimed) and then kept.
  bool filled = false;
  auto start = [&] {
    if (filled) return ctx.Truncate(o.depth);
    ctx.Truncate(0);
    if (progress && o.depth > 0) progress(StrFormat("depth %d", o.depth).c_str());
    const std::vector<int32_t> ids = RandomTokens(rng, o.depth, c.n_vocab);
    for (int32_t at = 0; at < o.depth; at += 512) {
      const int32_t n = std::min<int32_t>(512, o.depth - at);
      ctx.Eval(std::span<const int32_t>(ids.data() + at, size_t(n)));
    }
    filled = true;
  };

  if (o.n_prompt > 0) {
    std::vector<double> seconds;
    for (int i = 0; i < o.repetitions; ++i) {
      step("pp", i + 1);
      const std::vector<int32_t> ids = RandomTokens(rng, o.n_prompt, c.n_vocab);
      start();
      const auto t0 = Clock::now();
      ctx.Eval(ids);
      seconds.push_back(SecondsSince(t0));
    }
    r.pp = Finish(o.n_prompt, std::move(seconds));
  }
  if (o.n_gen > 0) {
    std::vector<double> seconds, read_gbps, fraction;
    for (int i = 0; i < o.repetitions; ++i) {
      step("tg", i + 1);
      const std::vector<int32_t> ids = RandomTokens(rng, o.n_gen, c.n_vocab);
      start();
      // Paired: read passes before, every kPairedReadEvery tokens and after, off the clock. Each is the
      // second of two back-to-back passes, as MeasureMachine times its passes after a warm-up one: a pass
      // right after decode tokens read ~2-3% slower than one right after a pass (median of 40 pairs), which
      // would set decode against too low a bound. Unpaired: the run is one segment.
      ReadProbe* const probe = o.paired_read;
      double run_seconds = 0, read_sum = 0;
      int passes = 0;
      auto read = [&] {
        if (!probe) return;
        probe->Pass();
        read_sum += probe->Pass();
        ++passes;
      };
      read();
      const int32_t segment = probe ? kPairedReadEvery : o.n_gen;
      for (int32_t k = 0; k < o.n_gen; k += segment) {
        const int32_t end = std::min(o.n_gen, k + segment);
        const auto t0 = Clock::now();
        for (int32_t j = k; j < end; ++j) ctx.Eval(std::span<const int32_t>(&ids[size_t(j)], 1));
        run_seconds += SecondsSince(t0);
        read();
      }
      seconds.push_back(run_seconds);
      if (probe) {
        const double bound = read_sum / passes;
        read_gbps.push_back(bound);
        fraction.push_back(double(r.cost.decode_bytes_per_token) * o.n_gen / std::max(run_seconds, 1e-12) /
                           1e9 / bound);
      }
    }
    r.tg = Finish(o.n_gen, std::move(seconds));
    if (o.paired_read) {
      r.tg.paired_read_gbps = Summarize(std::move(read_gbps));
      r.tg.paired_fraction = Summarize(std::move(fraction));
    }
  }
  r.peak_rss_bytes = PeakRssBytes();
  return r;
}

}  // namespace seek
