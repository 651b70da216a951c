// seek serve: an OpenAI-compatible HTTP server (see src/server/http_server.h for the routes).
// The listener starts before the model loads, so /health answers 503 while loading and 200 once ready.
// SIGINT / SIGTERM stop it: new connections are refused and running requests drain.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "server/engine.h"
#include "server/http_server.h"

namespace seek::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_ready = 0;

void OnSignal(int sig) {
  if (!g_ready) std::_Exit(128 + sig);  // still loading: nothing to drain (async-signal-safe)
  g_signal = sig;
}

struct ServeCmd {
  ModelOptions model;
  ServeOptions serve;
};

std::string ModelId(const ServeCmd& o) {
  if (!o.serve.alias.empty()) return o.serve.alias;
  std::string path = o.model.model;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int Serve(const ServeCmd& o) {
  // SIGINT / SIGTERM: exit at once while loading; afterwards the main thread sees the flag and drains.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the server

  server::ServerOptions so;
  so.host = o.serve.host;
  so.port = o.serve.port;
  for (const std::string& k : o.serve.api_keys) so.api_keys.Add(k);
  if (!o.serve.api_key_file.empty()) so.api_keys.AddFromFile(o.serve.api_key_file);
  so.cors_origin = o.serve.cors_origin;
  so.max_body_bytes = size_t(o.serve.max_body_mb) << 20;
  so.timeout_seconds = o.serve.timeout;
  so.http_threads = o.serve.http_threads;
  so.model_id = ModelId(o);
  if (!o.serve.chat_template_file.empty()) so.chat_template = ReadFileOrFail(o.serve.chat_template_file, "chat template");

  server::HttpServer http(std::move(so));
  http.Start(o.serve.parallel);
  std::fprintf(stderr, "seek serve: listening on http://%s:%d (loading %s)\n", o.serve.host.c_str(), http.port(),
               o.model.model.c_str());
  if (o.serve.host != "127.0.0.1" && o.serve.host != "localhost" && o.serve.api_keys.empty() &&
      o.serve.api_key_file.empty())
    std::fprintf(stderr, "seek serve: warning: listening on %s without --api-key\n", o.serve.host.c_str());

  std::unique_ptr<Model> model = LoadModel(o.model);
  server::EngineConfig ec;
  ec.n_slots = o.serve.parallel;
  ec.n_ctx = o.model.ctx;
  ec.kv_type = KvTypeOf(o.model);
  ec.n_threads = ThreadCount(o.model);
  ec.max_queue = o.serve.queue;
  server::Engine engine(*model, ec, &http.metrics());
  http.SetReady(model.get(), &engine);
  g_ready = 1;
  std::fprintf(stderr, "seek serve: ready: %s, %d slot(s) x %d tokens of context, %d threads\n",
               ModelId(o).c_str(), engine.n_slots(), engine.n_ctx(), ec.n_threads);

  while (!g_signal) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "seek serve: shutting down\n");
  http.Stop();
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, Runner& run) {
  auto o = std::make_shared<ServeCmd>();
  CLI::App* cmd = app.add_subcommand("serve", "serve the model over an OpenAI-compatible HTTP API");
  AddModelOptions(cmd, o->model);
  AddServeOptions(cmd, o->serve);
  cmd->callback([o, &run] { run = [o] { return Serve(*o); }; });
}

}  // namespace seek::cli
