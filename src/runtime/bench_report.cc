// seek bench reports: a markdown table (llama-bench style) or JSON, each figure optionally beside its machine
// limit.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "runtime/bench.h"
#include "runtime/bench_spec.h"

namespace seek {
namespace {

using Json = nlohmann::ordered_json;

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Percent(double x) {
  return StrFormat("%.1f%%", 100.0 * x);
}

Json StatsJson(const Stats& s) {
  return Json{{"median", s.median}, {"min", s.min},     {"max", s.max},
              {"mean", s.mean},     {"stdev", s.stdev}, {"samples", s.samples}};
}

Json MachineJson(const MachineLimits& m) {
  Json j{{"threads", m.threads},
         {"isa", m.isa},
         {"read_buffer_bytes", m.buffer_bytes},
         {"read_gbps", StatsJson(m.read_gbps)},
         {"fma_gflops", StatsJson(m.fma_gflops)},
         {"fma_gflops_1thread", m.fma_gflops_1t}};
  if (!m.int8_gops.samples.empty()) j["int8_gops"] = StatsJson(m.int8_gops);
  return j;
}

Json TestJson(const BenchTest& t) {
  return Json{{"n_tokens", t.n_tokens}, {"tok_s", StatsJson(t.tok_s)}, {"seconds", StatsJson(t.seconds)}};
}

}  // namespace

std::string BenchJson(const BenchResult* r, const MachineLimits* m, const SpecBenchResult* spec,
                      const ModelCost* cost) {
  Json j = Json::object();
  if (r) {
    j["model"] = Json{{"path", r->model_path},
                      {"arch", r->arch},
                      {"types", r->type_summary},
                      {"n_params", r->n_params},
                      {"file_bytes", r->file_bytes},
                      {"weight_bytes", r->cost.weight_bytes},
                      {"decode_bytes_per_token", r->cost.decode_bytes_per_token},
                      {"layer_matmul_params", r->cost.layer_matmul_params},
                      {"output_params", r->cost.output_params}};
    j["threads"] = r->threads;
    j["n_ctx"] = r->n_ctx;
    j["depth"] = r->depth;
    j["kv_type"] = KvTypeName(r->kv_type);
    j["seed"] = r->seed;
    if (r->pp.n_tokens > 0) {
      Json pp = TestJson(r->pp);
      pp["flops"] = r->cost.PrefillFlops(r->pp.n_tokens, r->depth);
      pp["gflops"] = r->prefill_gflops();
      if (m && m->fma_gflops.median > 0)
        pp["fraction_of_fma_peak"] = r->prefill_gflops() / m->fma_gflops.median;
      j["pp"] = pp;
    }
    if (r->tg.n_tokens > 0) {
      Json tg = TestJson(r->tg);
      tg["gbps"] = r->decode_gbps();
      if (m && m->read_gbps.median > 0)
        tg["fraction_of_read_bandwidth"] = r->decode_gbps() / m->read_gbps.median;
      if (!r->tg.paired_fraction.samples.empty()) {
        tg["paired_read_every"] = kPairedReadEvery;
        tg["paired_read_gbps"] = StatsJson(r->tg.paired_read_gbps);
        tg["paired_fraction"] = StatsJson(r->tg.paired_fraction);
      }
      j["tg"] = tg;
    }
    j["peak_rss_bytes"] = r->peak_rss_bytes;
  }
  if (spec) {
    const SpeculativeStats& st = spec->stats;
    Json sj{{"draft", spec->draft},
            {"prompt", spec->prompt_name},
            {"n_prompt", spec->n_prompt},
            {"n_gen", spec->n_gen},
            {"plain_tok_s", StatsJson(spec->plain_tok_s)},
            {"effective_tok_s", StatsJson(spec->spec_tok_s)},
            {"speedup", spec->speedup()},
            {"acceptance_rate", st.acceptance_rate()},
            {"accepted_per_step", spec->accepted_per_step()},
            {"tokens_per_step", st.tokens_per_step()},
            {"n_steps", st.n_steps},
            {"n_drafted", st.n_drafted},
            {"n_accepted", st.n_accepted},
            {"identical", spec->identical}};
    if (cost) {
      const double gbps = spec->spec_tok_s.median * double(cost->decode_bytes_per_token) / 1e9;
      sj["effective_gbps"] = gbps;
      if (m && m->read_gbps.median > 0) sj["fraction_of_read_bandwidth"] = gbps / m->read_gbps.median;
    }
    j["speculative"] = sj;
  }
  if (m) j["machine"] = MachineJson(*m);
  return j.dump(2) + "\n";
}

std::string BenchMarkdown(const BenchResult* r, const MachineLimits* m) {
  std::string out;
  if (r) {
    const BenchTest& tg = r->tg;
    const bool paired = tg.n_tokens > 0 && !tg.paired_fraction.samples.empty();
    const bool limits = m || paired;
    out += "| model | size | params | types | threads | test | tok/s | min - max | stdev | throughput |";
    out += limits ? " of machine limit |\n" : "\n";
    out += "|---|---:|---:|---|---:|---|---:|---:|---:|---:|";
    out += limits ? "---:|\n" : "\n";
    const std::string head = StrFormat("| %s | %.2f GiB | %.3f B | %s | %d ", BaseName(r->model_path).c_str(),
                                       double(r->file_bytes) / (1u << 30), double(r->n_params) / 1e9,
                                       r->type_summary.c_str(), r->threads);
    auto row = [&](const char* name, const BenchTest& t, const std::string& throughput,
                   const std::string& limit) {
      const std::string at = r->depth > 0 ? StrFormat(" @ d%d", r->depth) : std::string();
      out += head + StrFormat("| %s%d%s | %.2f | %.2f - %.2f | %.2f | %s |", name, t.n_tokens, at.c_str(),
                              t.tok_s.median, t.tok_s.min, t.tok_s.max, t.tok_s.stdev, throughput.c_str());
      out += limits ? " " + limit + " |\n" : "\n";
    };
    if (r->pp.n_tokens > 0) {
      row("pp", r->pp, StrFormat("%.2f GFLOP/s", r->prefill_gflops()),
          m && m->fma_gflops.median > 0
              ? Percent(r->prefill_gflops() / m->fma_gflops.median) + " of f32 FMA peak"
              : "-");
    }
    if (tg.n_tokens > 0) {
      std::string limit = m && m->read_gbps.median > 0
                              ? Percent(r->decode_gbps() / m->read_gbps.median) + " of read bandwidth"
                              : std::string();
      if (paired) {
        limit += (limit.empty() ? "" : "; ") +
                 StrFormat("%s of paired read (%s - %s)", Percent(tg.paired_fraction.median).c_str(),
                           Percent(tg.paired_fraction.min).c_str(), Percent(tg.paired_fraction.max).c_str());
      }
      row("tg", tg, StrFormat("%.2f GB/s", r->decode_gbps()), limit.empty() ? "-" : limit);
    }
    out += StrFormat(
        "\nTimed runs per test: %d, after one warm-up; random token ids (seed %llu); n_ctx %d, KV cache %s. "
        "Peak RSS %.1f MiB.\n",
        int(std::max(r->pp.tok_s.samples.size(), r->tg.tok_s.samples.size())),
        static_cast<unsigned long long>(r->seed), r->n_ctx, KvTypeName(r->kv_type),
        double(r->peak_rss_bytes) / (1 << 20));
    out += StrFormat(
        "Decode streams %.1f MB of weights per token (all layer tensors and the output in full, one "
        "token_embd row; MoE: the used experts' share of the expert tensors); GB/s = that x tok/s%s.\n",
        double(r->cost.decode_bytes_per_token) / 1e6,
        r->depth > 0 ? " (the KV cache reads, which grow with the depth, are not counted)" : "");
    out +=
        "Prefill flops = 2 x layer matmul params x n + 2 x output params + 4 x n_layer x n_head x head_dim x "
        "(n(n+1)/2 + n x depth).\n";
    if (paired) {
      const Stats& b = tg.paired_read_gbps;
      out += StrFormat(
          "Paired read: a read pass (after a warm-up pass) before each decode run, after every %d of its "
          "tokens "
          "and at its end, off the clock; per run, decode GB/s over the mean of its passes. Passes averaged "
          "%.2f GB/s (runs "
          "%.2f - %.2f).\n",
          kPairedReadEvery, b.median, b.min, b.max);
    }
  }
  if (m) {
    out += r ? "\n" : "";
    out += StrFormat("| machine limit (%d threads, %s) | median | min - max | stdev |\n", m->threads,
                     m->isa.c_str());
    out += "|---|---:|---:|---:|\n";
    const Stats& b = m->read_gbps;
    out += StrFormat("| memory read bandwidth (%.0f MiB buffer) | %.2f GB/s | %.2f - %.2f | %.2f |\n",
                     double(m->buffer_bytes) / (1 << 20), b.median, b.min, b.max, b.stdev);
    const Stats& f = m->fma_gflops;
    out += StrFormat("| f32 FMA peak (one thread: %.1f) | %.1f GFLOP/s | %.1f - %.1f | %.1f |\n",
                     m->fma_gflops_1t, f.median, f.min, f.max, f.stdev);
    if (!m->int8_gops.samples.empty()) {
      const Stats& q = m->int8_gops;
      out += StrFormat("| int8 multiply-add peak (vpmaddubsw) | %.1f GOP/s | %.1f - %.1f | %.1f |\n",
                       q.median, q.min, q.max, q.stdev);
    }
  }
  return out;
}

}  // namespace seek
