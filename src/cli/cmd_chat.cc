// seek chat: an interactive conversation using the model's own chat template.
// Type a message and press Enter. A line ending in '\' continues on the next line. Commands: /reset, /exit.
// Ctrl-C stops the reply being generated; Ctrl-C at the prompt (or end of input) exits.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "runtime/chat.h"
#include "runtime/speculative_mtp.h"

namespace seek::cli {
namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_generating{false};

void OnSigint(int) {
  if (!g_generating.load()) {
    std::_Exit(130);
  }
  g_interrupted = true;
}

struct ChatOptions {
  ModelOptions model;
  SamplingOptions sampling;
  DraftOptions draft;
  std::string system, template_file;
  int32_t n_predict = -1;
};

// Reads one message (lines ending in '\' continue); false at end of input.
bool ReadMessage(bool interactive, std::string& out) {
  out.clear();
  std::string line;
  if (interactive) std::fputs("\n> ", stdout), std::fflush(stdout);
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      out += line + "\n";
      if (interactive) std::fputs(". ", stdout), std::fflush(stdout);
      continue;
    }
    out += line;
    return true;
  }
  return !out.empty();
}

int Chat(const ChatOptions& o) {
  auto model = LoadModel(o.model);
  std::string tmpl = model->chat_template();
  if (!o.template_file.empty()) tmpl = ReadFileOrFail(o.template_file, "chat template");
  ThreadPool pool(ThreadCount(o.model));
  Context ctx(*model, o.model.ctx, &pool, KvTypeOf(o.model));
  ChatSession chat(*model, ctx, tmpl, ResolveSampling(o.sampling, model->default_sampling()), o.system);

  const bool interactive = ::isatty(STDIN_FILENO);
  if (interactive) {
    std::signal(SIGINT, OnSigint);
    std::printf("seek chat: %s (%d-token context). Type a message; /reset starts over, /exit or Ctrl-D quits.\n",
                o.model.model.c_str(), ctx.n_ctx());
  }
  GenerateOptions go;
  go.n_predict = o.n_predict;
  go.speculative = ResolveDraft(o.draft);
  std::unique_ptr<Drafter> mtp_drafter;  // --draft mtp: one drafter for the session, its cache follows the turns
  if (go.speculative.kind == DraftKind::kMtp) {
    mtp_drafter = MakeModelDrafter(go.speculative, *model, ctx.n_ctx(), &pool);
    go.speculative.drafter = mtp_drafter.get();
  }
  std::string msg;
  while (ReadMessage(interactive, msg)) {
    if (msg == "/exit" || msg == "/quit") break;
    if (msg == "/reset") {
      chat.Reset();
      std::puts("(conversation cleared)");
      continue;
    }
    if (msg.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    g_interrupted = false;
    g_generating = true;
    try {
      GenerateResult r = chat.Reply(msg, go, [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return !g_interrupted.load();
      });
      if (r.finish == FinishReason::kContext) std::fputs("\n(context full: /reset to start over)", stdout);
      if (o.model.verbose)
        std::fprintf(stderr, "\n[%d prompt tokens in %.2f s, %zu generated in %.2f s]", r.n_prompt_eval,
                     r.prompt_seconds, r.tokens.size(), r.gen_seconds);
      if (o.model.verbose && go.speculative.enabled())
        std::fprintf(stderr, "\n[speculative (%s): %s]", o.draft.kind.c_str(), r.speculative.Summary().c_str());
    } catch (const Error& e) {
      std::fprintf(stderr, "seek: %s\n", e.what());
    }
    g_generating = false;
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

void RegisterChat(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "chat interactively, using the model's chat template");
  AddModelOptions(cmd, o->model);
  AddSamplingOptions(cmd, o->sampling);
  AddDraftOptions(cmd, o->draft);
  cmd->add_option("--system", o->system, "system prompt");
  cmd->add_option("--chat-template", o->template_file, "Jinja chat template file to use instead of the model's");
  cmd->add_option("-n,--n-predict", o->n_predict, "at most this many tokens per reply; -1 = no limit")
      ->check(CLI::Range(-1, 1 << 24));
  cmd->callback([o, &run] { run = [o] { return Chat(*o); }; });
}

}  // namespace seek::cli
