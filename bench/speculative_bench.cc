// Speculative decoding with the n-gram (prompt lookup) drafter against plain decoding, on a chat model
// (SmolLM2-135M-Instruct by default) and three chat requests: a code edit and a document question, where the
// answer copies from the prompt and prompt lookup should shine, and a free story as the control, where drafts
// rarely match and the cost of checking them shows.
//
//   speculative_bench [--model GGUF] [--runs 5] [-n 128] [--draft-max 8] [--ngram 3] [--ngram-min 1] [-t THREADS] [--task NAME]
//                     [--batch-cost]
//
// Greedy decoding, so both modes must produce the same tokens (checked; a difference is an error, exit 1).
// Each run generates the reply from a fresh KV cache; only the decode phase is timed (the prefill is the same
// in both modes). Runs alternate plain/speculative and swap which goes first each round, so both see the same
// machine noise; the figures are medians over --runs rounds. Wall time and process CPU time are both given:
// CPU time is steadier on a shared machine, wall time is what a user sees.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "model/model.h"
#include "runtime/chat.h"
#include "runtime/generate.h"

namespace {

struct Task {
  const char* name;
  const char* request;
};

const Task kTasks[] = {
    {"code-edit",
     "Here is a Python function:\n\n```python\ndef moving_average(values, window):\n"
     "    if window <= 0:\n        raise ValueError(\"window must be positive\")\n"
     "    result = []\n    total = 0.0\n    for i, value in enumerate(values):\n        total += value\n"
     "        if i >= window:\n            total -= values[i - window]\n        if i >= window - 1:\n"
     "            result.append(total / window)\n    return result\n```\n\n"
     "Rewrite the whole function with the variable `total` renamed to `running_sum`. Reply with the code only."},
    {"doc-qa",
     "Read this product notice.\n\nThe SX-200 kettle must be filled to at least the MIN line before it is "
     "switched on. The kettle switches itself off when the water boils or when it is lifted from the base. "
     "Descale the kettle every four weeks with a mixture of one part white vinegar and two parts water, then "
     "boil clean water twice and pour it away. Never immerse the base or the cord in water. The warranty "
     "covers manufacturing faults for two years from the date of purchase and does not cover damage caused "
     "by limescale.\n\nQuestion: how and how often should the kettle be descaled? Quote the notice."},
    {"story", "Write a short story about a robot who learns to paint."},
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Timed {
  seek::GenerateResult r;
  double cpu_seconds = 0;  // process CPU time of the decode phase (approximately: prefill CPU subtracted)
};

Timed RunOnce(const seek::Model& model, seek::ThreadPool& pool, const std::vector<int32_t>& prompt,
              const seek::GenerateOptions& go) {
  seek::Context ctx(model, static_cast<int32_t>(prompt.size()) + go.n_predict + 16, &pool);
  seek::SamplingParams sp;
  sp.temperature = 0.0f;
  sp.seed = 1;
  seek::Sampler sampler(sp, model.config().n_vocab);
  std::vector<int32_t> history;
  // Prefill separately (Generate keeps it: the prompt is a prefix of history) so CPU time covers decoding.
  ctx.Eval(std::span<const int32_t>(prompt).first(prompt.size() - 1));
  history.assign(prompt.begin(), prompt.end() - 1);
  const double c0 = CpuSeconds();
  Timed t;
  t.r = seek::Generate(ctx, model.tokenizer(), sampler, history, prompt, go);
  t.cpu_seconds = CpuSeconds() - c0;
  return t;
}

// The cost of one verification step against its size: CPU time of Eval([b tokens], all_logits) at a fixed
// position, relative to b = 1. Speculation gains when tokens_per_step exceeds the relative cost of a step of
// 1 + drafts tokens; with memory-bound kernels the cost stays near 1 for small b.
void BatchCost(const seek::Model& model, seek::ThreadPool& pool, int runs) {
  seek::Context ctx(model, 512, &pool);
  std::vector<int32_t> ids(300);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>((i * 7919) % 1000 + 100);
  ctx.Eval(std::span<const int32_t>(ids).first(256));
  std::printf("%-6s %12s %12s %8s\n", "batch", "wall ms", "cpu ms", "cost");
  double base = 0;
  for (int b : {1, 2, 3, 5, 9, 17}) {
    std::vector<double> wall, cpu;
    for (int r = 0; r < std::max(runs, 5) * 2; ++r) {
      ctx.Truncate(256);
      const double c0 = CpuSeconds();
      const auto t0 = std::chrono::steady_clock::now();
      ctx.Eval(std::span<const int32_t>(ids).subspan(256, size_t(b)), /*all_logits=*/b > 1);
      wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(CpuSeconds() - c0);
    }
    const double c = Median(cpu);
    if (b == 1) base = c;
    std::printf("%-6d %12.2f %12.2f %7.2fx\n", b, 1e3 * Median(wall), 1e3 * c, c / base);
  }
  std::printf("\n");
}

int Main(int argc, char** argv) {
  CLI::App app("speculative decoding (n-gram drafter) vs plain decoding");
  std::string model_path;
  if (const char* env = std::getenv("SEEK_SMOLLM2")) model_path = env;
  if (model_path.empty() && std::getenv("HOME"))
    model_path = std::string(std::getenv("HOME")) + "/.cache/seek/SmolLM2-135M-Instruct.Q4_1.gguf";
  int runs = 5, n_predict = 128, threads = 2, n_draft = 8, ngram = 3, ngram_min = 1;
  std::string only;
  bool batch_cost = false;
  app.add_option("--model", model_path, "chat model (default: $SEEK_SMOLLM2, then ~/.cache/seek/SmolLM2...)");
  app.add_option("--runs", runs, "rounds (each: one plain and one speculative run)")->check(CLI::Range(1, 100));
  app.add_option("-n,--n-predict", n_predict, "tokens per reply")->check(CLI::Range(1, 4096));
  app.add_option("-t,--threads", threads, "threads")->check(CLI::Range(1, 256));
  app.add_option("--draft-max", n_draft, "most drafts per step")->check(CLI::Range(1, 64));
  app.add_option("--ngram", ngram, "longest n-gram matched")->check(CLI::Range(1, 16));
  app.add_option("--ngram-min", ngram_min, "shortest n-gram matched")->check(CLI::Range(1, 16));
  app.add_option("--task", only, "run only this task (code-edit, doc-qa, story)");
  app.add_flag("--batch-cost", batch_cost, "first print the cost of one Eval of b tokens relative to b = 1");
  CLI11_PARSE(app, argc, argv);

  std::FILE* probe = std::fopen(model_path.c_str(), "rb");
  if (!probe) {
    std::printf("speculative_bench: model %s not found; skipped (set SEEK_SMOLLM2 or --model)\n",
                model_path.c_str());
    return 0;
  }
  std::fclose(probe);
  const auto model = seek::Model::Load(model_path);
  seek::ThreadPool pool(threads);
  const seek::ChatTemplate tmpl(model->chat_template());
  if (batch_cost) BatchCost(*model, pool, runs);
  std::printf("model %s, %d threads, %d tokens per reply, greedy, %d alternating rounds, ngram %d..%d, "
              "draft-max %d\n\n", model_path.c_str(), threads, n_predict, runs, ngram_min, ngram, n_draft);
  std::printf("%-10s %6s %11s %11s %8s %8s %8s %9s %8s %6s\n", "task", "tokens", "plain tok/s", "spec tok/s",
              "speedup", "cpu x", "accept", "tok/step", "drafted", "same");

  bool all_same = true;
  for (const Task& task : kTasks) {
    if (!only.empty() && only != task.name) continue;
    // The request as `seek chat` would send it (the template's default system prompt, if any).
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    messages.push_back({{"role", "user"}, {"content", task.request}});
    const std::string text = tmpl.Render(seek::ChatTemplateContext(model->tokenizer(), messages, true));
    const std::vector<int32_t> prompt = model->tokenizer().Encode(text, /*add_special=*/false);
    seek::GenerateOptions plain;
    plain.n_predict = n_predict;
    seek::GenerateOptions spec = plain;
    spec.speculative.kind = seek::DraftKind::kNgram;
    spec.speculative.n_draft = n_draft;
    spec.speculative.ngram_max = ngram;
    spec.speculative.ngram_min = ngram_min;

    std::vector<double> plain_tps, spec_tps, plain_cpu, spec_cpu;
    seek::SpeculativeStats stats;
    size_t n_tokens = 0;
    bool same = true;
    for (int round = 0; round < runs; ++round) {
      Timed a, b;
      if (round % 2 == 0) {
        a = RunOnce(*model, pool, prompt, plain);
        b = RunOnce(*model, pool, prompt, spec);
      } else {
        b = RunOnce(*model, pool, prompt, spec);
        a = RunOnce(*model, pool, prompt, plain);
      }
      same = same && a.r.tokens == b.r.tokens;
      n_tokens = a.r.tokens.size();
      plain_tps.push_back(double(a.r.tokens.size()) / a.r.gen_seconds);
      spec_tps.push_back(double(b.r.tokens.size()) / b.r.gen_seconds);
      plain_cpu.push_back(a.cpu_seconds / double(a.r.tokens.size()));
      spec_cpu.push_back(b.cpu_seconds / double(b.r.tokens.size()));
      stats = b.r.speculative;  // identical every round (greedy, deterministic)
    }
    all_same = all_same && same;
    const double p = Median(plain_tps), s = Median(spec_tps);
    std::printf("%-10s %6zu %11.1f %11.1f %7.2fx %7.2fx %7.1f%% %9.2f %8lld %6s\n", task.name, n_tokens, p, s,
                s / p, Median(plain_cpu) / Median(spec_cpu), 100.0 * stats.acceptance_rate(),
                stats.tokens_per_step(), static_cast<long long>(stats.n_drafted), same ? "yes" : "NO");
    std::fflush(stdout);
  }
  std::printf("\nspeedup: median spec tok/s / median plain tok/s (wall); cpu x: the same ratio in CPU time per "
              "token.\naccept: accepted drafts / drafted; tok/step: tokens per target forward pass.\n");
  if (!all_same) {
    std::printf("ERROR: speculative greedy output differs from plain decoding\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "speculative_bench: %s\n", e.what());
    return 1;
  }
}
