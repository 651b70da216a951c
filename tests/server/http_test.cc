// The HTTP layer without a model: /health answers 503 until the model is ready (the listener starts first),
// API keys guard every route but /health, errors have OpenAI's shape, the body limit gives 413, CORS headers
// appear only when configured.
#include <gtest/gtest.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/http_server.h"

namespace seek::server {
namespace {

void ExpectOpenAIError(const httplib::Result& r, int status) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const auto j = nlohmann::json::parse(r->body);
  ASSERT_TRUE(j.contains("error")) << r->body;
  for (const char* k : {"message", "type", "param", "code"}) EXPECT_TRUE(j["error"].contains(k)) << r->body;
  EXPECT_TRUE(j["error"]["message"].is_string());
}

TEST(HttpServer, LoadingAuthErrorsAndLimits) {
  ServerOptions o;
  o.port = 0;
  o.api_keys.Add("k1");
  o.max_body_bytes = 1024;
  o.cors_origin = "http://example.com";
  HttpServer server(o);
  server.Start(1);
  ASSERT_GT(server.port(), 0);
  httplib::Client c("127.0.0.1", server.port());
  const httplib::Headers auth = {{"Authorization", "Bearer k1"}};

  // No model yet: /health (no key needed) and the API say 503.
  auto r = c.Get("/health");
  ExpectOpenAIError(r, 503);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://example.com");
  ExpectOpenAIError(c.Post("/v1/chat/completions", auth, R"({"messages":[]})", "application/json"), 503);
  ExpectOpenAIError(c.Get("/v1/models", auth), 503);

  // Keys: missing or wrong -> 401 with the OpenAI shape and WWW-Authenticate.
  r = c.Get("/v1/models");
  ExpectOpenAIError(r, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["code"], "invalid_api_key");
  ExpectOpenAIError(c.Get("/metrics", {{"Authorization", "Bearer k2"}}), 401);

  // Metrics with the key: plain text, not ready yet, and the requests so far are counted.
  r = c.Get("/metrics", auth);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("seek_ready 0\n"), std::string::npos);
  EXPECT_NE(r->body.find("seek_requests_total{endpoint=\"/health\",status=\"503\"} 1\n"), std::string::npos)
      << r->body;

  ExpectOpenAIError(c.Get("/no/such/route", auth), 404);
  ExpectOpenAIError(c.Post("/v1/completions", auth, std::string(4096, 'x'), "application/json"), 413);

  // CORS preflight needs no key.
  r = c.Options("/v1/chat/completions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  server.Stop();
}

TEST(HttpServer, NoCorsUnlessAsked) {
  ServerOptions o;
  o.port = 0;
  HttpServer server(o);
  server.Start(1);
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/health");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  EXPECT_EQ(c.Get("/v1/models")->status, 503);  // no keys configured: open, but still loading
}

TEST(HttpServer, BindFailureIsAnError) {
  ServerOptions o;
  o.port = 0;
  HttpServer first(o);
  first.Start(1);
  ServerOptions same;
  same.port = first.port();
  HttpServer second(same);
  EXPECT_THROW(second.Start(1), seek::Error);
}

}  // namespace
}  // namespace seek::server
