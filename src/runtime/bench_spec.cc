#include "runtime/bench_spec.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/error.h"
#include "runtime/generate.h"
#include "runtime/speculative_mtp.h"

namespace seek {

const char* const kDocSummaryPrompt =
    "Document: Maintenance guide for the HX-40 heat exchanger.\n\n"
    "The HX-40 heat exchanger must be inspected every three months. During each inspection, check the inlet "
    "and outlet temperatures, check the pressure drop across the plates, and check the gaskets for leaks. If "
    "the pressure drop across the plates is more than twenty percent above the value recorded at "
    "commissioning, the plates must be cleaned. To clean the plates, close the inlet valve, close the outlet "
    "valve, drain the exchanger, and remove the plates one at a time. Wash each plate with warm water and a "
    "mild detergent, rinse each plate with clean water, and inspect each plate for corrosion. Replace any "
    "plate that shows corrosion. Replace any gasket that is cracked, hardened or flattened. When the plates "
    "are refitted, tighten the frame bolts in the order shown on the frame label, and tighten the frame bolts "
    "to the torque shown on the frame label. Open the outlet valve first, then open the inlet valve slowly. "
    "Record the inlet and outlet temperatures and the pressure drop across the plates in the maintenance log. "
    "The warranty covers the plates and the frame for five years and the gaskets for one year, and does not "
    "cover damage caused by skipped inspections.\n\n"
    "Summarise the document as a numbered list of the maintenance steps, quoting the document's own "
    "sentences.\n\nSummary:\n1. The HX-40 heat exchanger must be inspected every three months.\n2.";

double SpecBenchResult::accepted_per_step() const {
  return stats.n_steps > 0 ? double(stats.n_accepted) / double(stats.n_steps) : 0.0;
}

SpecBenchResult RunSpecBench(const Model& model, ThreadPool& pool, const SpecBenchOptions& o,
                             void (*progress)(const char* step)) {
  if (!o.speculative.enabled()) Fail("bench --draft: choose ngram or mtp");
  if (o.n_gen < 1) Fail("bench --draft: -n must be at least 1");
  if (o.repetitions < 1) Fail("bench: -r must be at least 1 (got %d)", o.repetitions);
  const Tokenizer& tok = model.tokenizer();
  const std::vector<int32_t> prompt = tok.Encode(o.prompt.empty() ? kDocSummaryPrompt : o.prompt, true);
  if (prompt.empty()) Fail("bench --draft: the prompt is empty");
  SpecBenchResult r;
  r.draft = DraftKindName(o.speculative.kind);
  r.prompt_name = o.prompt_name.empty() ? "built-in document summary" : o.prompt_name;
  r.n_prompt = int32_t(prompt.size());
  r.n_gen = o.n_gen;
  const int32_t n_ctx = r.n_prompt + o.n_gen + 16;
  Context ctx(model, n_ctx, &pool);
  std::unique_ptr<Drafter> drafter = MakeModelDrafter(o.speculative, model, n_ctx, &pool);

  SamplingParams sp;
  sp.temperature = 0.0f;
  sp.seed = 1;
  GenerateOptions plain;
  plain.n_predict = o.n_gen;
  plain.ignore_eos = true;
  GenerateOptions spec = plain;
  spec.speculative = o.speculative;
  spec.speculative.drafter = drafter.get();

  auto run = [&](const GenerateOptions& go) {
    Sampler sampler(sp, model.config().n_vocab);
    std::vector<int32_t> history;
    ctx.Truncate(0);
    return Generate(ctx, tok, sampler, history, prompt, go);
  };
  if (progress) progress("warm-up");
  run(plain);  // pages in the weights
  std::vector<double> plain_rate, spec_rate;
  for (int i = 0; i < o.repetitions; ++i) {
    if (progress) progress(StrFormat("%s %d/%d", r.draft.c_str(), i + 1, o.repetitions).c_str());
    GenerateResult a, b;
    if (i % 2 == 0) {
      a = run(plain);
      b = run(spec);
    } else {
      b = run(spec);
      a = run(plain);
    }
    if (a.tokens != b.tokens) r.identical = false;
    plain_rate.push_back(double(a.tokens.size()) / std::max(a.gen_seconds, 1e-9));
    spec_rate.push_back(double(b.tokens.size()) / std::max(b.gen_seconds, 1e-9));
    r.stats.n_steps += b.speculative.n_steps;
    r.stats.n_drafted += b.speculative.n_drafted;
    r.stats.n_accepted += b.speculative.n_accepted;
    r.stats.n_step_tokens += b.speculative.n_step_tokens;
  }
  r.plain_tok_s = Summarize(std::move(plain_rate));
  r.spec_tok_s = Summarize(std::move(spec_rate));
  return r;
}

std::string SpecBenchMarkdown(const SpecBenchResult& r, const ModelCost& cost, const MachineLimits* m) {
  const double mb = double(cost.decode_bytes_per_token) / 1e6;
  const double plain_gbps = mb * r.plain_tok_s.median / 1e3, spec_gbps = mb * r.spec_tok_s.median / 1e3;
  std::string out = StrFormat(
      "\n| draft | prompt | plain tok/s | effective tok/s | speed-up | acceptance | accepted/step | tokens/step "
      "| effective GB/s%s | identical |\n",
      m ? " (of read bandwidth)" : "");
  out += "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  std::string bw = StrFormat("%.2f", spec_gbps);
  if (m && m->read_gbps.median > 0) bw += " (" + StrFormat("%.0f%%", 100.0 * spec_gbps / m->read_gbps.median) + ")";
  out += StrFormat("| %s | %s (%d tokens) | %.2f | %.2f | %.2fx | %.1f%% | %.2f | %.2f | %s | %s |\n",
                   r.draft.c_str(), r.prompt_name.c_str(), r.n_prompt, r.plain_tok_s.median, r.spec_tok_s.median,
                   r.speedup(), 100.0 * r.stats.acceptance_rate(), r.accepted_per_step(),
                   r.stats.tokens_per_step(), bw.c_str(), r.identical ? "yes" : "NO");
  out += StrFormat(
      "\nGreedy, %d tokens per run (EOS ignored), plain and speculative runs alternating, medians of %zu rounds "
      "(plain min - max %.2f - %.2f, speculative %.2f - %.2f tok/s). Drafted %lld, accepted %lld over %lld "
      "verification steps. Effective GB/s = effective tok/s x %.1f MB of weights per decoded token (plain: "
      "%.2f GB/s)",
      r.n_gen, r.plain_tok_s.samples.size(), r.plain_tok_s.min, r.plain_tok_s.max, r.spec_tok_s.min,
      r.spec_tok_s.max, static_cast<long long>(r.stats.n_drafted), static_cast<long long>(r.stats.n_accepted),
      static_cast<long long>(r.stats.n_steps), mb, plain_gbps);
  if (m && m->read_gbps.median > 0) {
    out += StrFormat("; the bound is the measured read bandwidth, %.2f GB/s: speculation %s it", m->read_gbps.median,
                     spec_gbps > m->read_gbps.median ? "BEATS" : "does not beat");
  }
  out += ".\n";
  return out;
}

}  // namespace seek
