#include "exporter/views/debug_view.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/stats.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

config::Module SecretModule() {
  config::Module m;
  m.name = "login";
  m.http.method = "POST";
  m.http.headers = {{"Authorization", "Bearer tok-AAAA"},
                    {"cookie", "session=COOKIE-BBBB"},
                    {"Proxy-Authorization", "Basic PROXY-CCCC"},
                    {"X-Api-Key", "KEY-DDDD"},
                    {"X-Canary", "1"}};
  m.http.body = "user=alice&password=BODY-EEEE";
  m.http.proxy_url = "http://puser:PROXY-FFFF@proxy:3128";
  return m;
}

probes::ProbeReport OneRequest() {
  probes::ProbeReport r;
  r.success = true;
  probes::RequestResult req;
  req.set_result(probes::ResultClass::kSuccess);
  req.set_status_code(200);
  req.set_intended_start(absl::Milliseconds(100));
  req.set_actual_start(absl::Milliseconds(103));
  req.set_latency(absl::Milliseconds(12));
  r.burst.requests.push_back(req);
  probes::RequestResult bad;
  bad.set_result(probes::ResultClass::kConnect);
  bad.set_error_id(r.burst.AddError("Connection refused"));
  r.burst.requests.push_back(bad);
  r.burst.planned = 2;
  r.stats = probes::ComputeStats(r.burst);
  return r;
}

TEST(DebugViewTest, SecretsNeverAppear) {
  const config::Module m = SecretModule();
  const probes::ProbeReport report = OneRequest();
  const std::string out =
      RenderDebug({.module = &m,
                   .target = "https://tuser:TARGET-GGGG@127.0.0.1:8443/login",
                   .budget = absl::Milliseconds(9500),
                   .budget_explanation = "X-Prometheus-Scrape-Timeout-Seconds "
                                         "10 minus --timeout-offset 500ms",
                   .report = &report});
  for (const char* secret :
       {"tok-AAAA", "COOKIE-BBBB", "PROXY-CCCC", "KEY-DDDD", "BODY-EEEE",
        "PROXY-FFFF", "TARGET-GGGG", "tuser", "puser"}) {
    EXPECT_THAT(out, Not(HasSubstr(secret))) << secret;
  }
  // The placeholder docs/configuration.md names, as every config render.
  EXPECT_THAT(out, HasSubstr("\"Authorization\" = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("\"X-Api-Key\" = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("\"X-Canary\" = \"1\""));
  EXPECT_THAT(out, HasSubstr("body = \"<secret>\"  # 29 bytes"));
  EXPECT_THAT(out, HasSubstr("https://<secret>@127.0.0.1:8443/login"));
  EXPECT_THAT(out, Not(HasSubstr("<redacted>")));
}

// bearer_token and basic_auth are shown as present, their values never.
TEST(DebugViewTest, BearerTokenAndBasicAuthAppearAsSecrets) {
  const probes::ProbeReport report = OneRequest();
  config::Module bearer;
  bearer.name = "bearer";
  bearer.http.bearer_token = "BEARER-HHHH";
  const std::string b = RenderDebug(
      {.module = &bearer, .target = "http://h/", .report = &report});
  EXPECT_THAT(b, HasSubstr("bearer_token = \"<secret>\""));
  EXPECT_THAT(b, Not(HasSubstr("BEARER-HHHH")));
  config::Module basic;
  basic.name = "basic";
  basic.http.basic_auth = config::BasicAuth{"alice", "BASIC-IIII"};
  const std::string a =
      RenderDebug({.module = &basic, .target = "http://h/", .report = &report});
  EXPECT_THAT(a, HasSubstr("basic_auth = { username = \"alice\", password = "
                           "\"<secret>\" }"));
  EXPECT_THAT(a, Not(HasSubstr("BASIC-IIII")));
}

TEST(DebugViewTest, ListsEachRequestWithTimesStatusResultAndError) {
  const config::Module m = SecretModule();
  const probes::ProbeReport report = OneRequest();
  const std::string out =
      RenderDebug({.module = &m, .target = "http://h/", .report = &report});
  EXPECT_THAT(out, HasSubstr("1     0    100ms      103ms      12ms       "
                             "200     success"));
  EXPECT_THAT(out, HasSubstr("connect      "));
  EXPECT_THAT(out, HasSubstr("error=\"Connection refused\""));
  EXPECT_THAT(out, HasSubstr("planned 2, sent 2, dropped 0, errors 1"));
  EXPECT_THAT(out, HasSubstr("--- metrics"));
}

TEST(DebugViewTest, LongBurstsAreSummarisedPastTheLineLimit) {
  config::Module m;
  m.name = "m";
  probes::ProbeReport report;
  report.burst.requests.resize(25);
  report.stats = probes::ComputeStats(report.burst);
  const std::string out = RenderDebug({.module = &m,
                                       .target = "http://h/",
                                       .report = &report,
                                       .max_request_lines = 10});
  EXPECT_THAT(out, HasSubstr("... 15 more requests not listed"));
  EXPECT_THAT(out, HasSubstr("\n10    "));
  EXPECT_THAT(out, Not(HasSubstr("\n11    ")));
}

}  // namespace
}  // namespace canary::exporter

namespace canary::exporter {
namespace {

TEST(DebugViewTest, ScenarioStepsAppearPerStepWithoutSecrets) {
  config::Module m;
  m.name = "shop";
  m.variables = {"token"};
  config::Step login;
  login.name = "login";
  login.checks.method = "POST";
  login.url.source = "/login";
  login.body.source = "user=alice&password=STEP-BODY-1111";
  login.extract.push_back({.var = "token"});
  config::Step list;
  list.name = "list";
  list.url.source = "/items";
  list.headers.push_back({"Authorization", {.source = "Bearer STEP-TOK-2222"}});
  list.headers.push_back({"X-Trace", {.source = "${token}"}});
  m.steps = {login, list};
  probes::ProbeReport report;
  probes::RequestResult a;
  a.set_result(probes::ResultClass::kSuccess);
  a.set_status_code(200);
  probes::RequestResult b;
  b.set_step(1);
  b.set_result(probes::ResultClass::kHttpStatus);
  b.set_status_code(401);
  report.burst.requests = {a, b};
  report.burst.iterations.push_back({.failed_step = 1});
  report.stats = probes::ComputeStats(report.burst);
  report.scenario = probes::ComputeScenarioStats(report.burst, 2);
  const std::string out =
      RenderDebug({.module = &m, .target = "http://h/", .report = &report});
  EXPECT_THAT(out, Not(HasSubstr("STEP-BODY-1111")));
  EXPECT_THAT(out, Not(HasSubstr("STEP-TOK-2222")));
  EXPECT_THAT(out, HasSubstr("url = \"/items\""));
  EXPECT_THAT(out, HasSubstr("\"X-Trace\" = \"${token}\""));
  EXPECT_THAT(out, HasSubstr("iterations: completed 0, failed 1, dropped 0"));
  EXPECT_THAT(out, HasSubstr("step list: 1 requests, 1 errors"));
  EXPECT_THAT(out, HasSubstr("ended 1 iterations"));
  EXPECT_THAT(out, HasSubstr(" step=list"));
}

}  // namespace
}  // namespace canary::exporter
