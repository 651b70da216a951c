// seek bench: prefill and decode speed of a model (llama-bench's pp/tg tests), and with --machine this
// machine's memory bandwidth and FMA peak, with each model figure as a fraction of its limit.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "runtime/bench.h"
#include "runtime/bench_spec.h"
#include "runtime/machine_limits.h"

namespace seek::cli {
namespace {

struct BenchCmdOptions {
  ModelOptions model;
  BenchOptions bench;
  std::string output = "md";
  bool machine = false;
  bool paired_read = false;
  int32_t machine_mib = 1024;
  DraftOptions draft;       // --draft ngram|mtp: also the speculative test (runtime/bench_spec.h)
  std::string prompt_file;  // its prompt (default: the built-in document summary)
  bool draft_only = false;  // skip the pp/tg tests
};

void PrintStep(const char* step) {
  std::fprintf(stderr, "\rbench: %-16s", step);
  std::fflush(stderr);
}

int Bench(const BenchCmdOptions& o) {
  if (o.model.model.empty() && !o.machine) Fail("bench: give a model with -m, or --machine (or both)");
  if (o.paired_read && o.model.model.empty()) Fail("bench --paired-read: give a model with -m");
  ThreadPool pool(ThreadCount(o.model));
  const bool tty = ::isatty(STDERR_FILENO);

  std::unique_ptr<BenchResult> result;
  std::unique_ptr<SpecBenchResult> spec;
  std::unique_ptr<ModelCost> cost;
  const SpeculativeOptions so = ResolveDraft(o.draft);
  if (so.enabled() && o.model.model.empty()) Fail("bench --draft: give a model with -m");
  if (!o.model.model.empty()) {
    auto model = LoadModel(o.model);
    cost = std::make_unique<ModelCost>(ComputeModelCost(*model));
    if (!(so.enabled() && o.draft_only)) {
      BenchOptions bo = o.bench;
      bo.n_ctx = o.model.ctx;
      bo.kv_type = KvTypeOf(o.model);
      std::unique_ptr<ReadProbe> probe;
      if (o.paired_read && bo.n_gen > 0) {
        probe = std::make_unique<ReadProbe>(pool, size_t(o.machine_mib) << 20);
        bo.paired_read = probe.get();
      }
      result = std::make_unique<BenchResult>(RunBench(*model, pool, bo, tty ? PrintStep : nullptr));
    }
    if (so.enabled()) {
      SpecBenchOptions sbo;
      sbo.speculative = so;
      if (!o.prompt_file.empty()) {
        sbo.prompt = ReadFileOrFail(o.prompt_file, "prompt file");
        sbo.prompt_name = o.prompt_file.substr(o.prompt_file.find_last_of('/') + 1);
      }
      sbo.n_gen = o.bench.n_gen > 0 ? o.bench.n_gen : 128;
      sbo.repetitions = o.bench.repetitions;
      spec = std::make_unique<SpecBenchResult>(RunSpecBench(*model, pool, sbo, tty ? PrintStep : nullptr));
    }
  }
  std::unique_ptr<MachineLimits> machine;
  if (o.machine) {
    if (tty) PrintStep("machine limits");
    MachineProbeOptions mo;
    mo.buffer_bytes = size_t(o.machine_mib) << 20;
    mo.runs = o.bench.repetitions;
    machine = std::make_unique<MachineLimits>(MeasureMachine(pool, mo));
  }
  if (tty) std::fprintf(stderr, "\r%30s\r", "");
  std::string report;
  if (o.output == "json") {
    report = BenchJson(result.get(), machine.get(), spec.get(), cost.get());
  } else {
    report = BenchMarkdown(result.get(), machine.get());
    if (spec) report += SpecBenchMarkdown(*spec, *cost, machine.get());
  }
  std::fwrite(report.data(), 1, report.size(), stdout);
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app, Runner& run) {
  auto o = std::make_shared<BenchCmdOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "measure prefill and decode speed (and the machine's limits)");
  AddModelOptions(cmd, o->model, /*model_required=*/false);
  cmd->add_option("-p,--n-prompt", o->bench.n_prompt,
                  "prefill test: tokens in one batch; 0 = skip (default 512)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-n,--n-gen", o->bench.n_gen, "decode test: tokens, one at a time; 0 = skip (default 128)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-d,--depth", o->bench.depth,
                  "tokens already in the KV cache when each test starts (llama-bench's -d): decode and prefill "
                  "speed deep into a conversation (default 0)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-r,--repetitions", o->bench.repetitions, "timed runs of each test (default 5)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("-s,--seed", o->bench.seed, "seed of the random token ids (default 1234)");
  cmd->add_option("-o,--output", o->output, "report format: md or json (default md)")
      ->check(CLI::IsMember({"md", "json"}));
  cmd->add_flag("--machine", o->machine,
                "also measure this machine's memory read bandwidth and FMA peak, and report each figure as a "
                "fraction of its limit");
  cmd->add_flag("--paired-read", o->paired_read,
                StrFormat("time a pass of the read-bandwidth probe before each decode run, after every %d of its "
                          "tokens and after it (off the clock), and report each run's decode GB/s as a fraction "
                          "of the mean of its passes: the bound at the same moment on a host whose bandwidth "
                          "drifts",
                          kPairedReadEvery));
  cmd->add_option("--machine-mib", o->machine_mib,
                  "read-bandwidth buffer in MiB, for --machine and --paired-read (default 1024)")
      ->check(CLI::Range(1, 1 << 20));
  AddDraftOptions(cmd, o->draft);
  cmd->add_option("--prompt-file", o->prompt_file,
                  "--draft: the prompt to decode from (default: a built-in document-summary prompt)");
  cmd->add_flag("--draft-only", o->draft_only, "--draft: skip the pp/tg tests");
  cmd->callback([o, &run] { run = [o] { return Bench(*o); }; });
}

}  // namespace seek::cli
