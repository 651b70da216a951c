// seek run: complete a prompt and print the completion.
#include <cstdio>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "runtime/generate.h"
#include "runtime/speculative_mtp.h"

namespace seek::cli {
namespace {

struct RunOptions {
  ModelOptions model;
  SamplingOptions sampling;
  DraftOptions draft;
  std::string prompt, prompt_file;
  int32_t n_predict = 128;
  bool add_special = true;
  bool echo = false;
  bool ignore_eos = false;
  std::vector<std::string> stop;
};

int Run(const RunOptions& o) {
  std::string prompt = o.prompt;
  if (!o.prompt_file.empty()) prompt = ReadFileOrFail(o.prompt_file, "prompt file");
  auto model = LoadModel(o.model);
  const Tokenizer& tok = model->tokenizer();
  ThreadPool pool(ThreadCount(o.model));
  Context ctx(*model, o.model.ctx, &pool, KvTypeOf(o.model));
  Sampler sampler(ResolveSampling(o.sampling, model->default_sampling()), model->config().n_vocab);

  std::vector<int32_t> ids = tok.Encode(prompt, o.add_special);
  if (ids.empty()) Fail("the prompt is empty: give one with -p or -f");
  if (o.echo) {
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::fflush(stdout);
  }
  GenerateOptions go;
  go.n_predict = o.n_predict;
  go.stop = o.stop;
  go.ignore_eos = o.ignore_eos;
  go.speculative = ResolveDraft(o.draft);
  // The mtp drafter needs the model; the others Generate builds itself.
  std::unique_ptr<Drafter> drafter;
  if (go.speculative.kind == DraftKind::kMtp) {
    drafter = MakeModelDrafter(go.speculative, *model, ctx.n_ctx(), &pool);
    go.speculative.drafter = drafter.get();
  }
  std::vector<int32_t> history;
  GenerateResult r = Generate(ctx, tok, sampler, history, ids, go, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (o.model.verbose) {
    std::fprintf(stderr, "prompt: %d tokens in %.2f s (%.1f tok/s); generated: %zu tokens in %.2f s (%.1f tok/s); "
                 "finish: %s; seed: %llu\n",
                 r.n_prompt_eval, r.prompt_seconds, r.n_prompt_eval / std::max(1e-9, r.prompt_seconds),
                 r.tokens.size(), r.gen_seconds, r.tokens.size() / std::max(1e-9, r.gen_seconds),
                 FinishReasonName(r.finish), static_cast<unsigned long long>(sampler.seed()));
    if (go.speculative.enabled())
      std::fprintf(stderr, "speculative (%s): %s\n", o.draft.kind.c_str(), r.speculative.Summary().c_str());
  }
  return 0;
}

}  // namespace

void RegisterRun(CLI::App& app, Runner& run) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "complete a prompt and print the completion");
  AddModelOptions(cmd, o->model);
  AddSamplingOptions(cmd, o->sampling);
  AddDraftOptions(cmd, o->draft);
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "the prompt");
  auto* f = cmd->add_option("-f,--file", o->prompt_file, "read the prompt from a file");
  p->excludes(f);
  cmd->add_option("-n,--n-predict", o->n_predict, "tokens to generate; -1 = until end of text (default 128)")
      ->check(CLI::Range(-1, 1 << 24));
  cmd->add_option("--stop", o->stop, "stop when this text is generated (repeatable)");
  cmd->add_flag("!--no-special", o->add_special, "do not add BOS/EOS as the model does");
  cmd->add_flag("--echo", o->echo, "print the prompt before the completion");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "keep generating after an end-of-text token");
  cmd->callback([o, &run] { run = [o] { return Run(*o); }; });
}

}  // namespace seek::cli
