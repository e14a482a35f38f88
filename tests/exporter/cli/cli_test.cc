#include "exporter/cli/cli.h"

#include <string>
#include <vector>

#include "config/allowed_target.h"
#include "config/threshold_syntax.h"
#include "exporter/process/flags.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/stats.h"
#include "probes/threshold_check.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::ScopedEnv;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<ProbeArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "probe");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseProbeArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseProbeArgsTest, AcceptsBothFlagFormsAndOneTarget) {
  ASSERT_OK_AND_ASSIGN(
      ProbeArgs a,
      Parse({"--config.file=c.toml", "--module", "fast", "--timeout=30s",
             "--output=prometheus", "http://127.0.0.1:8080/x"}));
  EXPECT_EQ(a.config_file, "c.toml");
  EXPECT_EQ(a.module, "fast");
  ASSERT_TRUE(a.timeout.has_value());
  EXPECT_EQ(*a.timeout, absl::Seconds(30));
  EXPECT_EQ(a.output, CliOutput::kPrometheus);
  EXPECT_EQ(a.target, "http://127.0.0.1:8080/x");
}

TEST(ParseProbeArgsTest, DefaultsToCanaryModuleAndSummary) {
  ASSERT_OK_AND_ASSIGN(ProbeArgs a, Parse({"localhost:8080"}));
  EXPECT_EQ(a.module, "canary");
  EXPECT_EQ(a.output, CliOutput::kSummary);
  EXPECT_FALSE(a.timeout.has_value());
  EXPECT_TRUE(a.config_file.empty());
}

// `docker run IMAGE probe URL` uses the image's config file too.
TEST(ParseProbeArgsTest, ConfigFileDefaultsToTheEnvironmentFlagWins) {
  ScopedEnv env(kConfigFileEnv, "/etc/canary_exporter/config.toml");
  ASSERT_OK_AND_ASSIGN(ProbeArgs a, Parse({"localhost:8080"}));
  EXPECT_EQ(a.config_file, "/etc/canary_exporter/config.toml");
  ASSERT_OK_AND_ASSIGN(ProbeArgs b,
                       Parse({"--config.file", "mine.toml", "localhost:8080"}));
  EXPECT_EQ(b.config_file, "mine.toml");
}

TEST(ParseProbeArgsTest, TimeoutTakesSecondsOrDurations) {
  ASSERT_OK_AND_ASSIGN(ProbeArgs a, Parse({"--timeout=2.5", "h:1"}));
  EXPECT_EQ(*a.timeout, absl::Milliseconds(2500));
  ASSERT_OK_AND_ASSIGN(a, Parse({"--timeout", "1m30s", "h:1"}));
  EXPECT_EQ(*a.timeout, absl::Seconds(90));
}

TEST(ParseProbeArgsTest, UsageErrorsNameTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{}, "missing the target URL"},
      {{"a", "b"}, "unexpected argument \"b\""},
      {{"--nope=1", "a"}, "unknown flag --nope"},
      {{"-x", "a"}, "unknown flag -x"},
      {{"--module"}, "flag --module needs a value"},
      {{"--module", "--output=summary", "a"}, "flag --module needs a value"},
      {{"--output=json", "a"}, "invalid value \"json\" for flag --output"},
      {{"--timeout=0", "a"}, "invalid value \"0\" for flag --timeout"},
      {{"--timeout=soon", "a"}, "invalid value \"soon\" for flag --timeout"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Parse(c.args), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr(c.message)))
        << ::testing::PrintToString(c.args);
  }
}

TEST(ParseProbeArgsTest, HelpNeedsNoTarget) {
  ASSERT_OK_AND_ASSIGN(ProbeArgs a, Parse({"--help"}));
  EXPECT_TRUE(a.help);
  EXPECT_THAT(Parse({"-h"}), IsOk());
}

config::Module ModuleWith(config::BurstConfig burst, absl::Duration timeout) {
  config::Module m;
  m.name = "m";
  m.burst = burst;
  m.timeout = timeout;
  return m;
}

TEST(CliBudgetTest, ShapePlusRequestTimeoutPlusOneSecondCapped) {
  config::BurstConfig timed;
  timed.vus = 10;
  timed.duration = absl::Seconds(5);
  EXPECT_EQ(CliBudget(ModuleWith(timed, absl::Seconds(2))), absl::Seconds(8));

  config::BurstConfig counted;  // 2 VUs, 5 requests: 3 rounds of 2s + 0.5s
  counted.vus = 2;
  counted.requests = 5;
  counted.think_time = absl::Milliseconds(500);
  EXPECT_EQ(CliBudget(ModuleWith(counted, absl::Seconds(2))),
            absl::Milliseconds(3 * 2500 + 2000 + 1000));

  config::BurstConfig open;  // 100 requests at 50/s: 2s
  open.rate = 50;
  open.vus = 10;
  open.requests = 100;
  EXPECT_EQ(CliBudget(ModuleWith(open, absl::Seconds(1))), absl::Seconds(4));

  config::BurstConfig huge;
  huge.vus = 1;
  huge.requests = 1000000;
  EXPECT_EQ(CliBudget(ModuleWith(huge, absl::Seconds(5))), kMaxCliBudget);
}

probes::RequestResult Req(probes::ResultClass c, int code, double latency_ms,
                          uint32_t error_id = 0) {
  probes::RequestResult r;
  r.set_result(c);
  r.set_status_code(code);
  r.set_latency(absl::Milliseconds(latency_ms));
  r.set_new_connection(true);
  r.set_phase(probes::Phase::kConnect, absl::Milliseconds(1));
  r.set_phase(probes::Phase::kProcessing, absl::Milliseconds(latency_ms / 2));
  r.set_error_id(error_id);
  return r;
}

struct Scenario {
  config::Module module;
  probes::ProbeReport report;
};

// 4 requests: three 200s (10, 20, 30 ms) and one 503 (40 ms); thresholds
// p(95)<35ms fails (p95 = 38.5ms) and error_rate<0.5 holds.
Scenario Mixed() {
  Scenario s;
  s.module.name = "canary";
  s.module.burst.vus = 2;
  s.module.burst.requests = 5;
  for (const char* t : {"p(95)<35ms", "error_rate<0.5"}) {
    s.module.thresholds.push_back(*config::ParseThreshold(t));
  }
  using RC = probes::ResultClass;
  s.report.burst.requests = {
      Req(RC::kSuccess, 200, 10), Req(RC::kSuccess, 200, 20),
      Req(RC::kSuccess, 200, 30),
      Req(RC::kHttpStatus, 503, 40, s.report.burst.AddError("status 503"))};
  s.report.burst.planned = 5;
  s.report.burst.dropped = 1;
  s.report.burst.duration = absl::Seconds(2);
  s.report.stats = probes::ComputeStats(s.report.burst);
  s.report.thresholds_passed =
      probes::EvaluateThresholds(s.module.thresholds, s.report.stats);
  s.report.success = false;
  return s;
}

TEST(RenderSummaryTest, ShowsThresholdMarksWithActualValues) {
  Scenario s = Mixed();
  const std::string out = RenderSummary(s.module, "http://127.0.0.1:1/x",
                                        absl::Seconds(9), s.report, false);
  EXPECT_THAT(out, HasSubstr("✗ p(95)<35ms "));
  EXPECT_THAT(out, HasSubstr("p(95)=38.5ms"));
  EXPECT_THAT(out, HasSubstr("✓ error_rate<0.5 "));
  EXPECT_THAT(out, HasSubstr("error_rate=25.00%"));
  EXPECT_THAT(out, HasSubstr("probe failed: 1 of 2 thresholds crossed"));
  EXPECT_THAT(out, Not(HasSubstr("\033[")));  // no colours off a terminal
}

TEST(RenderSummaryTest, CountsRequestsResultsCodesAndLatency) {
  Scenario s = Mixed();
  const std::string out = RenderSummary(s.module, "http://127.0.0.1:1/x",
                                        absl::Seconds(9), s.report, false);
  EXPECT_THAT(out, HasSubstr("planned 5, sent 4, dropped 1"));
  EXPECT_THAT(out, HasSubstr("2.00/s over 2s"));
  EXPECT_THAT(out, HasSubstr("success 3 (75.0%), http_status 1 (25.0%)"));
  EXPECT_THAT(out, HasSubstr("200 x3, 503 x1"));
  EXPECT_THAT(out, HasSubstr("min=10ms avg=25ms p(50)=25ms p(90)=37ms "
                             "p(95)=38.5ms p(99)=39.7ms max=40ms"));
  EXPECT_THAT(out, HasSubstr("connect"));
  EXPECT_THAT(out, HasSubstr("p(50)=1ms p(95)=1ms  (4 samples)"));
  EXPECT_THAT(out, HasSubstr("first error"));
  EXPECT_THAT(out, HasSubstr("status 503"));
}

TEST(RenderSummaryTest, SuccessAndColour) {
  Scenario s = Mixed();
  s.module.thresholds = {*config::ParseThreshold("error_rate<0.5")};
  s.report.thresholds_passed = {true};
  s.report.success = true;
  const std::string out =
      RenderSummary(s.module, "http://u:hunter2@h/", absl::Seconds(9), s.report,
                    /*color=*/true);
  EXPECT_THAT(out, HasSubstr("\033[32m✓\033[0m error_rate<0.5"));
  EXPECT_THAT(out, HasSubstr("probe succeeded: every threshold holds"));
  EXPECT_THAT(out, Not(HasSubstr("hunter2")));
}

TEST(RenderSummaryTest, WithoutThresholdsFailedRequestsFailTheProbe) {
  Scenario s = Mixed();
  s.module.thresholds.clear();
  s.report.thresholds_passed.clear();
  const std::string out =
      RenderSummary(s.module, "http://h/", absl::Seconds(9), s.report, false);
  EXPECT_THAT(out, HasSubstr("probe failed: 1 of 4 requests failed"));
}

TEST(RenderSummaryTest, NoResponsesPrintsDashesNotNaN) {
  config::Module m;
  m.name = "m";
  m.thresholds = {*config::ParseThreshold("p(95)<200ms")};
  probes::ProbeReport r;
  r.burst.requests = {
      Req(probes::ResultClass::kConnect, 0, 1, r.burst.AddError("refused"))};
  r.stats = probes::ComputeStats(r.burst);
  r.thresholds_passed = {false};
  const std::string out =
      RenderSummary(m, "http://h/", absl::Seconds(3), r, false);
  EXPECT_THAT(out, HasSubstr("p(95)=- (no responses)"));
  EXPECT_THAT(out, HasSubstr("no responses"));
  EXPECT_THAT(out, Not(HasSubstr("nan")));
}

// k6's threshold forms reach the summary with the statistic they compare.
TEST(RenderSummaryTest, K6OperatorsShowTheirStatistic) {
  Scenario s = Mixed();
  s.module.thresholds = {*config::ParseThreshold("rate!=0"),
                         *config::ParseThreshold("max===40"),
                         *config::ParseThreshold("p(0)==10ms")};
  s.report.thresholds_passed =
      probes::EvaluateThresholds(s.module.thresholds, s.report.stats);
  const std::string out =
      RenderSummary(s.module, "http://h/", absl::Seconds(9), s.report, false);
  EXPECT_THAT(out, HasSubstr("✓ rate!=0 "));
  EXPECT_THAT(out, HasSubstr("rate=25.00%"));
  EXPECT_THAT(out, HasSubstr("✓ max===40 "));
  EXPECT_THAT(out, HasSubstr("max=40ms"));
  EXPECT_THAT(out, HasSubstr("✓ p(0)==10ms "));
  EXPECT_THAT(out, HasSubstr("p(0)=10ms"));
}

TEST(SummaryJsonTest, K6ShapeInMillisecondsWithK6ThresholdBooleans) {
  Scenario s = Mixed();
  const std::string j =
      SummaryJson(s.module, "http://u:hunter2@127.0.0.1:1/x", s.report,
                  /*interrupted=*/false, kExitFailed);
  EXPECT_THAT(j, HasSubstr("\"http_reqs\": {\"count\": 4, \"rate\": 2}"));
  EXPECT_THAT(j, HasSubstr("\"dropped_iterations\": {\"count\": 1, "));
  EXPECT_THAT(j, HasSubstr("\"http_req_duration\": {\"avg\": 25, \"min\": 10, "
                           "\"med\": 25, \"max\": 40, \"p(90)\": 37, "
                           "\"p(95)\": 38.5"));
  // As k6's --summary-export: true means the threshold failed.
  EXPECT_THAT(j, HasSubstr("\"thresholds\": {\"p(95)<35ms\": true}"));
  EXPECT_THAT(j, HasSubstr("\"http_req_failed\": {\"passes\": 1, \"fails\": 3, "
                           "\"value\": 0.25, \"thresholds\": "
                           "{\"error_rate<0.5\": false}}"));
  EXPECT_THAT(j, HasSubstr("\"success\": false, \"interrupted\": false, "
                           "\"exit_code\": 99"));
  EXPECT_THAT(j, HasSubstr("\"status_codes\": {\"200\": 3, \"503\": 1}"));
  EXPECT_THAT(j, Not(HasSubstr("hunter2")));
}

TEST(SummaryJsonTest, NoRequestsGiveNullNotNaN) {
  config::Module m;
  m.name = "m";
  probes::ProbeReport r;
  r.stats = probes::ComputeStats(r.burst);
  const std::string j = SummaryJson(m, "http://h/", r, true, kExitInterrupted);
  EXPECT_THAT(j, HasSubstr("\"avg\": null"));
  EXPECT_THAT(j, HasSubstr("\"value\": null"));
  EXPECT_THAT(j, HasSubstr("\"interrupted\": true, \"exit_code\": 105"));
  EXPECT_THAT(j, Not(HasSubstr("nan")));
}

TEST(CliAllowlistTest, AnyAddressButMetadataUnlessLifted) {
  const probes::Allowlist guard = CliAllowlist(false);
  for (const char* ok : {"10.1.2.3", "8.8.8.8", "127.0.0.1", "2001:db8::1",
                         "::1", "192.168.1.1"}) {
    EXPECT_THAT(guard.CheckAddress(*config::ParseIpAddress(ok), false), IsOk())
        << ok;
  }
  for (const char* no :
       {"169.254.169.254", "fe80::1", "fd00:ec2::254", "0.0.0.0", "::"}) {
    EXPECT_THAT(guard.CheckAddress(*config::ParseIpAddress(no), false),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(no)))
        << no;
  }
  const probes::Allowlist lifted = CliAllowlist(true);
  for (const char* ok : {"169.254.169.254", "fe80::1", "fd00:ec2::254",
                         "0.0.0.0", "::", "10.1.2.3"}) {
    EXPECT_THAT(lifted.CheckAddress(*config::ParseIpAddress(ok), false), IsOk())
        << ok;
  }
}

TEST(UseColorTest, TerminalWithoutNoColor) {
  EXPECT_TRUE(UseColor(true, nullptr));
  EXPECT_TRUE(UseColor(true, ""));  // no-color.org: empty means unset
  EXPECT_FALSE(UseColor(true, "1"));
  EXPECT_FALSE(UseColor(false, nullptr));
}

TEST(ParseProbeArgsTest, SummaryExportAndMetadataFlag) {
  ASSERT_OK_AND_ASSIGN(ProbeArgs a,
                       Parse({"--summary-export=/tmp/s.json",
                              "--allow-metadata-targets", "http://h/"}));
  EXPECT_EQ(a.summary_export, "/tmp/s.json");
  EXPECT_TRUE(a.allow_metadata_targets);
  ASSERT_OK_AND_ASSIGN(a, Parse({"--summary-export", "s.json", "http://h/"}));
  EXPECT_EQ(a.summary_export, "s.json");
  EXPECT_FALSE(a.allow_metadata_targets);
  ASSERT_OK_AND_ASSIGN(a,
                       Parse({"--allow-metadata-targets=false", "http://h/"}));
  EXPECT_FALSE(a.allow_metadata_targets);
  EXPECT_THAT(Parse({"--allow-metadata-targets=yes", "http://h/"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--allow-metadata-targets")));
  EXPECT_THAT(Parse({"--summary-export=", "http://h/"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--summary-export needs a file")));
}

TEST(ProgressLineTest, CountsAgainstPlanAndElapsed) {
  EXPECT_EQ(ProgressLine(23, 50, 1, absl::Milliseconds(4600), absl::Seconds(5)),
            "running: 23/50 requests, 1 error, 4.6s/5s");
  EXPECT_EQ(ProgressLine(7, 0, 2, absl::Seconds(3), absl::ZeroDuration()),
            "running: 7 requests, 2 errors, 3.0s");
}

}  // namespace
}  // namespace canary::exporter

namespace canary::exporter {
namespace {

// A 2-step journey: the Mixed() requests, the 503 being step "list".
TEST(RenderSummaryTest, ScenarioShowsEachStepAndScopedThresholdValues) {
  Scenario s = Mixed();
  for (const char* name : {"login", "list"}) {
    config::Step step;
    step.name = name;
    s.module.steps.push_back(step);
  }
  s.module.thresholds = {
      *config::ParseThreshold("http_req_duration{step:login}: p(95)<35ms")};
  s.module.thresholds[0].step_index = 0;
  s.report.burst.requests[1].set_step(1);
  s.report.burst.requests[3].set_step(1);
  s.report.burst.iterations = {
      {.duration = absl::Milliseconds(50)},
      {.duration = absl::Milliseconds(70), .failed_step = 1}};
  s.report.stats = probes::ComputeStats(s.report.burst);
  s.report.scenario = probes::ComputeScenarioStats(s.report.burst, 2);
  s.report.thresholds_passed = probes::EvaluateThresholds(
      s.module.thresholds, s.report.stats, &*s.report.scenario);
  const std::string out = RenderSummary(s.module, "http://127.0.0.1:1/x",
                                        absl::Seconds(9), s.report, false);
  // login's own p95 (10 and 30 ms), not the burst's.
  EXPECT_THAT(out, HasSubstr("✓ http_req_duration{step:login}: p(95)<35ms"));
  EXPECT_THAT(out, HasSubstr("iterations"));
  EXPECT_THAT(out, HasSubstr("completed 1, failed 1, dropped 1"));
  EXPECT_THAT(out, HasSubstr("step login"));
  EXPECT_THAT(out, HasSubstr("✓ 2/2 ok"));
  EXPECT_THAT(out, HasSubstr("✗ 1/2 ok"));
  EXPECT_THAT(out, HasSubstr("ended 1 iteration"));
}

}  // namespace
}  // namespace canary::exporter
