// The HTTP front end of `seek serve`: OpenAI-compatible routes over cpp-httplib.
//
//   POST /v1/chat/completions, /v1/completions   (SSE streaming or one JSON object)
//   GET  /v1/models, /health (503 while the model loads), /metrics (Prometheus text)
//   POST /tokenize, /detokenize                    (llama.cpp-style)
//
// HTTP threads parse and validate, render the chat template, tokenize, and post sequences to the Engine; they
// read the results from a per-request RequestStream. They never touch a Context. A streaming client that goes
// away makes the next write fail; the stream is then cancelled and the engine frees the slot at its next step.
// Security: API keys (constant-time, every route but /health and CORS preflights), a body size limit, read and
// write timeouts, 127.0.0.1 by default, no file paths taken from requests, CORS only with --cors-origin.
// Limits compiled into Debian's libcpp-httplib 0.11.4: request line 8 KiB, header line 8 KiB.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "server/auth.h"
#include "server/engine.h"
#include "server/metrics.h"

namespace seek::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;           // 0: any free port (see HttpServer::port())
  ApiKeys api_keys;
  std::string cors_origin;   // "" = no CORS headers
  size_t max_body_bytes = 8u << 20;
  int timeout_seconds = 60;  // read and write timeouts per socket operation
  int http_threads = 0;      // 0: enough for the slots and a part of the queue
  std::string model_id;      // the name /v1/models reports
  std::string chat_template; // "" = the model's own
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();

  // Binds (throws seek::Error when the address is taken) and starts serving on a background thread. Until
  // SetReady, /health answers 503 and the API routes 503 "loading".
  void Start(int n_slots_hint);
  int port() const { return port_; }
  // The loaded model and the running engine; both must outlive the server (call Stop first).
  void SetReady(const Model* model, Engine* engine);
  void Stop();

  Metrics& metrics() { return metrics_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Metrics metrics_;
  int port_ = 0;
};

}  // namespace seek::server
