// The Prometheus exposition: every sample line is `name{labels} value` with a HELP/TYPE header for its family;
// histogram buckets are cumulative, end at +Inf, and +Inf equals _count.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "server/metrics.h"

namespace seek::server {
namespace {

TEST(Metrics, PrometheusTextFormat) {
  Metrics m;
  m.CountRequest("/v1/chat/completions", 200);
  m.CountRequest("/v1/chat/completions", 200);
  m.CountRequest("/v1/chat/completions", 400);
  m.generated_tokens += 17;
  m.kv_tokens_used = 50;
  m.kv_tokens_capacity = 200;
  m.time_to_first_token.Observe(0.07);
  m.time_to_first_token.Observe(0.3);
  m.time_to_first_token.Observe(1000);
  const std::string text = m.RenderPrometheus();

  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (\S+)$)");
  const std::regex help(R"(^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$)");
  std::map<std::string, std::string> types;
  std::map<std::string, double> values;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch mt;
    if (std::regex_match(line, mt, help)) {
      if (mt[1] == "TYPE") types[mt[2]] = line.substr(line.rfind(' ') + 1);
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, mt, sample)) << "bad line: " << line;
    std::string family = mt[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (family.ends_with(suffix) && types.count(family.substr(0, family.size() - strlen(suffix))))
        family = family.substr(0, family.size() - strlen(suffix));
    EXPECT_TRUE(types.count(family)) << "no TYPE before " << line;
    values[mt[1].str() + mt[2].str()] = std::stod(mt[4]);
  }
  EXPECT_EQ(values["seek_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"], 2);
  EXPECT_EQ(values["seek_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"}"], 1);
  EXPECT_EQ(values["seek_generated_tokens_total"], 17);
  EXPECT_DOUBLE_EQ(values["seek_kv_cache_usage_ratio"], 0.25);
  EXPECT_EQ(types["seek_time_to_first_token_seconds"], "histogram");
  EXPECT_EQ(values["seek_time_to_first_token_seconds_bucket{le=\"0.05\"}"], 0);
  EXPECT_EQ(values["seek_time_to_first_token_seconds_bucket{le=\"0.1\"}"], 1);
  EXPECT_EQ(values["seek_time_to_first_token_seconds_bucket{le=\"0.5\"}"], 2);
  EXPECT_EQ(values["seek_time_to_first_token_seconds_bucket{le=\"300\"}"], 2);
  EXPECT_EQ(values["seek_time_to_first_token_seconds_bucket{le=\"+Inf\"}"], 3);
  EXPECT_EQ(values["seek_time_to_first_token_seconds_count"], 3);
  EXPECT_NEAR(values["seek_time_to_first_token_seconds_sum"], 1000.37, 1e-6);
  EXPECT_EQ(values["seek_request_duration_seconds_count"], 0);
}

}  // namespace
}  // namespace seek::server
