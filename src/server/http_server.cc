#include "server/http_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <ctime>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "runtime/chat.h"
#include "server/format.h"
#include "server/peer_socket.h"
#include "server/reasoning.h"
#include "server/request.h"
#include "tokenizer/chat_template.h"

namespace seek::server {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr double kKeepAliveSeconds = 10;  // an SSE comment after this long without output (detects hang-ups)

// Start time of the request this HTTP thread is serving (set in the pre-routing handler, read by the logger,
// which httplib calls on the same thread once the response, streamed or not, has been written).
thread_local Clock::time_point t_request_start;

std::string EndpointLabel(const std::string& path) {
  static const char* kKnown[] = {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health",
                                 "/metrics", "/tokenize", "/detokenize"};
  for (const char* k : kKnown)
    if (path == k) return k;
  return "other";
}

void SendJson(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_content(DumpJson(j), "application/json");
}

void SendError(httplib::Response& res, const ApiError& e) {
  if (e.status == 429) res.set_header("Retry-After", "1");
  if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
  SendJson(res, e.status, ErrorJson(e));
}

const char* DefaultMessage(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found";
    case 413: return "the request body is too large";
    case 414: return "the request URI is too long";
    case 431: return "request header fields too large";
    default: return status >= 500 ? "internal server error" : "request failed";
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, Metrics& m) : opt(std::move(o)), metrics(m) {}

  ServerOptions opt;
  Metrics& metrics;
  httplib::Server svr;
  std::thread thread;
  std::atomic<bool> listen_done{false};
  std::atomic<const Model*> model{nullptr};
  std::atomic<Engine*> engine{nullptr};
  std::unique_ptr<ChatTemplate> tmpl;
  std::string tmpl_error;
  std::atomic<uint64_t> next_id{1};

  void Routes();
  const Model& RequireModel() const {
    const Model* m = model.load(std::memory_order_acquire);
    if (!m) throw ApiError(503, "the model is still loading; retry shortly", "", "unavailable_error");
    return *m;
  }
  template <typename F>
  void Guard(httplib::Response& res, F&& f) {
    try {
      f();
    } catch (const ApiError& e) {
      SendError(res, e);
    } catch (const std::exception& e) {
      SEEK_LOG_WARN("server: internal error: %s", e.what());
      SendError(res, ApiError(500, std::string("internal error: ") + e.what()));
    }
  }
  void Generate(const httplib::Request& req, httplib::Response& res, ApiKind kind);
  void Tokenize(const httplib::Request& req, httplib::Response& res);
  void Detokenize(const httplib::Request& req, httplib::Response& res);
};

void HttpServer::Impl::Generate(const httplib::Request& req, httplib::Response& res, ApiKind kind) {
  const Model& m = RequireModel();
  Engine& eng = *engine.load(std::memory_order_acquire);
  const Tokenizer& tok = m.tokenizer();
  const int32_t n_vocab = m.config().n_vocab;

  ChatRequest chat;
  CompletionRequest comp;
  GenerationParams* p = nullptr;
  std::vector<std::vector<int32_t>> prompts;
  FormatterOptions fo;
  fo.kind = kind;
  if (kind == ApiKind::kChat) {
    chat = ParseChatRequest(req.body, n_vocab);
    p = &chat;
    if (!tmpl) throw ApiError(400, tmpl_error, "messages");
    Json ctx = ChatTemplateContext(tok, chat.messages, /*add_generation_prompt=*/true);
    if (!chat.tools.is_null()) ctx["tools"] = chat.tools;
    if (!chat.tool_choice.is_null()) ctx["tool_choice"] = chat.tool_choice;
    for (const auto& [k, v] : chat.template_kwargs.items()) ctx[k] = v;
    std::string text;
    try {
      text = tmpl->Render(ctx);
    } catch (const Error& e) {
      throw ApiError(400, std::string("the chat template failed on these messages: ") + e.what(), "messages");
    }
    prompts.push_back(tok.Encode(text, /*add_special=*/false));
    fo.separate_reasoning = chat.separate_reasoning;
    fo.prompt_opens_think = chat.separate_reasoning && PromptOpensThink(text);
    fo.parse_tool_calls = chat.tools.is_array() && !chat.tools.empty() &&
                          !(chat.tool_choice.is_string() && chat.tool_choice == "none");
  } else {
    comp = ParseCompletionRequest(req.body, n_vocab);
    p = &comp;
    for (const auto& pr : comp.prompts) {
      if (const auto* s = std::get_if<std::string>(&pr)) {
        prompts.push_back(tok.Encode(*s, comp.add_special));
        if (comp.echo) fo.echo.push_back(*s);
      } else {
        const auto& ids = std::get<std::vector<int32_t>>(pr);
        prompts.push_back(ids);
        if (comp.echo) fo.echo.push_back(tok.Decode(ids));
      }
    }
  }
  const int32_t n_ctx = eng.n_ctx();
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto n = int64_t(prompts[i].size());
    const char* param = kind == ApiKind::kChat ? "messages" : "prompt";
    if (n == 0) throw ApiError(400, "the prompt is empty after tokenization", param);
    if (n >= n_ctx)
      throw ApiError(400,
                     StrFormat("this model's context is %d tokens, but the prompt has %lld tokens; shorten the %s",
                               n_ctx, (long long)n, param),
                     param, "", "context_length_exceeded");
    if (p->max_tokens && n + *p->max_tokens > n_ctx)
      throw ApiError(400,
                     StrFormat("this model's context is %d tokens, but %lld prompt tokens + max_tokens %d = %lld; "
                               "lower max_tokens or shorten the %s",
                               n_ctx, (long long)n, *p->max_tokens, (long long)(n + *p->max_tokens), param),
                     "max_tokens", "", "context_length_exceeded");
    fo.prompt_tokens.push_back(int32_t(n));
  }

  fo.id = StrFormat("%s-%llx-%llu", kind == ApiKind::kChat ? "chatcmpl" : "cmpl",
                    (unsigned long long)std::time(nullptr), (unsigned long long)next_id.fetch_add(1));
  fo.model = opt.model_id;
  fo.created = std::time(nullptr);
  fo.n_per_prompt = p->n;
  fo.n_choices = int32_t(prompts.size()) * p->n;
  fo.logprobs = p->logprobs;
  fo.include_usage = p->stream && p->include_usage;

  auto stream = std::make_shared<RequestStream>();
  std::vector<SeqRequest> seqs;
  const auto now = Clock::now();
  for (size_t pi = 0; pi < prompts.size(); ++pi) {
    for (int32_t j = 0; j < p->n; ++j) {
      SeqRequest s;
      const int32_t index = int32_t(pi) * p->n + j;
      s.prompt = prompts[pi];
      s.sampling = p->Resolve(m.default_sampling(), index);
      s.max_tokens = p->max_tokens.value_or(-1);
      s.stop = p->stop;
      s.ignore_eos = p->ignore_eos;
      s.top_logprobs = p->logprobs ? p->top_logprobs : -1;
      s.index = index;
      s.out = stream;
      s.submitted = now;
      seqs.push_back(std::move(s));
    }
  }
  if (!eng.Submit(std::move(seqs)))
    throw ApiError(429, "the server is busy (the request queue is full); retry later", "", "rate_limit_error",
                   "rate_limit_exceeded");

  if (!p->stream) {
    GenerationFormatter f(fo, tok);
    std::vector<SeqEvent> events;
    PeerConnection peer(req.remote_addr, req.remote_port, req.local_addr, req.local_port);
    while (!f.all_done()) {
      events.clear();
      stream->Pop(events, kPollInterval);
      f.Accumulate(events);
      if (!f.all_done() && peer.Closed()) {
        // The client hung up while we computed: free its slots at the engine's next step. 499 (nginx's
        // "client closed request") is for the log and the metrics only; nobody reads it.
        stream->Cancel();
        res.status = 499;
        return;
      }
    }
    if (!f.error().empty()) throw ApiError(500, f.error());
    SendJson(res, 200, f.Final());
    return;
  }

  struct StreamState {
    StreamState(FormatterOptions o, const Tokenizer& t) : fmt(std::move(o), t) {}
    std::shared_ptr<RequestStream> stream;
    GenerationFormatter fmt;
    bool started = false, include_usage = false;
    Clock::time_point last_write = Clock::now();
  };
  auto st = std::make_shared<StreamState>(fo, tok);
  st->stream = stream;
  st->include_usage = p->include_usage;
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st](size_t, httplib::DataSink& sink) {
        std::string out;
        if (!st->started) {
          st->started = true;
          out = st->fmt.StreamStart();
        }
        std::vector<SeqEvent> events;
        if (out.empty()) st->stream->Pop(events, kPollInterval);
        if (!events.empty()) out += st->fmt.StreamEvents(events);
        const bool done = st->fmt.all_done();
        if (done) out += st->fmt.StreamEnd(st->include_usage);
        if (out.empty() &&
            std::chrono::duration<double>(Clock::now() - st->last_write).count() > kKeepAliveSeconds)
          out = ": keep-alive\n\n";  // an SSE comment: clients ignore it; a write to a closed socket fails
        if (!out.empty()) {
          // A failed write means the client is gone: cancel, so the engine frees the slot at its next step.
          if (!sink.write(out.data(), out.size())) {
            st->stream->Cancel();
            return false;
          }
          st->last_write = Clock::now();
        }
        if (done) sink.done();
        return true;
      },
      [st](bool) { st->stream->Cancel(); });  // no-op for a finished stream; frees the slot otherwise
}

void HttpServer::Impl::Tokenize(const httplib::Request& req, httplib::Response& res) {
  const Model& m = RequireModel();
  TokenizeRequest r = ParseTokenizeRequest(req.body);
  const Tokenizer& tok = m.tokenizer();
  std::vector<int32_t> ids = tok.Encode(r.content, r.add_special);
  Json tokens = Json::array();
  for (int32_t id : ids) {
    if (r.with_pieces) tokens.push_back({{"id", id}, {"piece", tok.TokenBytes(id)}});
    else tokens.push_back(id);
  }
  SendJson(res, 200, Json{{"tokens", tokens}});
}

void HttpServer::Impl::Detokenize(const httplib::Request& req, httplib::Response& res) {
  const Model& m = RequireModel();
  DetokenizeRequest r = ParseDetokenizeRequest(req.body, m.config().n_vocab);
  SendJson(res, 200, Json{{"content", m.tokenizer().Decode(r.tokens)}});
}

void HttpServer::Impl::Routes() {
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start = Clock::now();
    if (!opt.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", opt.cors_origin);
      res.set_header("Vary", "Origin");
    }
    if (req.method == "OPTIONS" || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (!opt.api_keys.Check(req.get_header_value("Authorization"))) {
      SendError(res, ApiError(401, "invalid or missing API key (send Authorization: Bearer KEY)", "",
                              "invalid_request_error", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::string label = EndpointLabel(req.path);
    metrics.CountRequest(label, res.status);
    if (label == "/v1/chat/completions" || label == "/v1/completions")
      metrics.request_duration.Observe(std::chrono::duration<double>(Clock::now() - t_request_start).count());
  });
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.is_chunked_content_provider_)
          return httplib::Server::HandlerResponse::Unhandled;
        std::string msg = DefaultMessage(res.status);
        if (res.status == 404) msg = "no route for " + req.method + " " + req.path;
        SendJson(res, res.status, ErrorJson(ApiError(res.status, msg)));
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendJson(res, 500, ErrorJson(ApiError(500, "internal error: " + what)));
  });
  if (!opt.cors_origin.empty()) {
    svr.Options(".*", [](const httplib::Request&, httplib::Response& res) {
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Max-Age", "600");
    });
  }

  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (model.load(std::memory_order_acquire)) SendJson(res, 200, Json{{"status", "ok"}});
    else SendError(res, ApiError(503, "the model is loading", "", "unavailable_error"));
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    Guard(res, [&] {
      const Model& m = RequireModel();
      Json meta = {{"n_vocab", m.config().n_vocab},
                   {"n_ctx_train", m.config().n_ctx_train},
                   {"n_ctx", engine.load()->n_ctx()},
                   {"n_params", m.n_params()},
                   {"slots", engine.load()->n_slots()}};
      Json model_json = {{"id", opt.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "seek"},
                         {"meta", meta}};
      SendJson(res, 200, Json{{"object", "list"}, {"data", Json::array({model_json})}});
    });
  });
  svr.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] { Generate(req, res, ApiKind::kChat); });
  });
  svr.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] { Generate(req, res, ApiKind::kCompletion); });
  });
  svr.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] { Tokenize(req, res); });
  });
  svr.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    Guard(res, [&] { Detokenize(req, res); });
  });
}

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options), metrics_)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start(int n_slots_hint) {
  Impl& s = *impl_;
  int n_threads = s.opt.http_threads;
  if (n_threads <= 0) n_threads = std::max(8, 2 * n_slots_hint + 8);
  s.svr.new_task_queue = [n_threads] { return new httplib::ThreadPool(size_t(n_threads)); };
  s.svr.set_read_timeout(s.opt.timeout_seconds, 0);
  s.svr.set_write_timeout(s.opt.timeout_seconds, 0);
  s.svr.set_payload_max_length(s.opt.max_body_bytes);
  s.svr.set_keep_alive_max_count(100);
  s.svr.set_keep_alive_timeout(5);
  s.svr.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second server bind the same port and silently take
  // a share of the connections; keep only SO_REUSEADDR (restart without waiting for TIME_WAIT).
  s.svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s.Routes();
  if (s.opt.port == 0) {
    port_ = s.svr.bind_to_any_port(s.opt.host);
    if (port_ <= 0) Fail("cannot listen on %s (any port)", s.opt.host.c_str());
  } else {
    if (!s.svr.bind_to_port(s.opt.host, s.opt.port))
      Fail("cannot listen on %s:%d (address in use, or not permitted)", s.opt.host.c_str(), s.opt.port);
    port_ = s.opt.port;
  }
  s.thread = std::thread([&s] {
    s.svr.listen_after_bind();
    s.listen_done = true;
  });
  // Return once the accept loop runs: httplib's stop() does nothing before that, and Stop() would then wait
  // forever for a loop that never ends.
  while (!s.svr.is_running() && !s.listen_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpServer::SetReady(const Model* model, Engine* engine) {
  Impl& s = *impl_;
  std::string source = s.opt.chat_template.empty() ? model->chat_template() : s.opt.chat_template;
  if (source.empty()) {
    s.tmpl_error = "this model has no chat template: use /v1/completions, or start the server with "
                   "--chat-template-file FILE";
  } else {
    try {
      s.tmpl = std::make_unique<ChatTemplate>(source);
    } catch (const Error& e) {
      Fail("the chat template does not parse: %s", e.what());
    }
  }
  if (!model->has_tokenizer()) Fail("the model has no tokenizer: pass --tokenizer FILE");
  s.engine.store(engine, std::memory_order_release);
  s.model.store(model, std::memory_order_release);
  metrics_.ready.store(true);
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->svr.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace seek::server
