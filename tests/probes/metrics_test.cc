#include "probes/metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/exposition.h"
#include "probes/metric_names.h"
#include "probes/result.h"
#include "probes/stats.h"
#include "probes/threshold_check.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"
#include "tests/testing/exposition_check.h"

namespace canary::probes {
namespace {

using ::canary::testing::ExpectSameAsTextSerializer;

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kPromtool[] = "/usr/bin/promtool";

const MetricFamily* FindFamily(const std::vector<MetricFamily>& families,
                               const std::string& name) {
  for (const MetricFamily& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The single series of `f` whose label `label` is `value`, or nullptr.
const ClientMetric* FindSeries(const MetricFamily& f, const std::string& label,
                               const std::string& value) {
  const ClientMetric* found = nullptr;
  for (const ClientMetric& m : f.metric) {
    for (const ClientMetric::Label& l : m.label) {
      if (l.name == label && l.value == value) {
        EXPECT_EQ(found, nullptr)
            << "duplicate series " << label << "=" << value << " in " << f.name;
        found = &m;
      }
    }
  }
  return found;
}

std::vector<uint64_t> BucketCounts(const ClientMetric& m) {
  std::vector<uint64_t> counts;
  for (const auto& b : m.histogram.bucket) counts.push_back(b.cumulative_count);
  return counts;
}

std::vector<double> BucketBounds(const ClientMetric& m) {
  std::vector<double> bounds;
  for (const auto& b : m.histogram.bucket) bounds.push_back(b.upper_bound);
  return bounds;
}

struct PromtoolResult {
  int exit_code = -1;
  std::string output;
};

// Runs the real `promtool check metrics` on `text`; lint problems go to its
// output with exit status 3.
PromtoolResult CheckMetrics(const std::string& text) {
  PromtoolResult result;
  std::string path = absl::StrCat(::testing::TempDir(), "/metrics_XXXXXX");
  int fd = mkstemp(path.data());
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return result;
  }
  close(fd);
  {
    std::ofstream out(path);
    out << text;
  }
  const std::string command =
      absl::StrCat(kPromtool, " check metrics < ", path, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed";
    return result;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0)
    result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::remove(path.c_str());
  return result;
}

void ExpectPromtoolAccepts(const std::string& text) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: run scripts/setup.sh --test (Debian "
      << "package `prometheus`)";
  ASSERT_THAT(text, Not(IsEmpty()));
  PromtoolResult r = CheckMetrics(text);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- exposition:\n" << text;
  EXPECT_THAT(r.output, IsEmpty()) << "--- exposition:\n" << text;
}

RequestResult Response(ResultClass result, int code, absl::Duration latency) {
  RequestResult r;
  r.set_result(result);
  r.set_status_code(code);
  r.set_latency(latency);
  return r;
}

void SetPhase(RequestResult& r, Phase p, absl::Duration d) {
  r.set_phase(p, d);
}

config::Threshold MakeThreshold(std::string source) {
  config::Threshold t;
  t.source = std::move(source);
  return t;
}

config::Module TestModule() {
  config::Module m;
  m.name = "canary";
  m.buckets = {0.1, 0.5, 1};
  m.thresholds = {MakeThreshold("p(95)<200ms"),
                  MakeThreshold("error_rate<0.01")};
  return m;
}

// Latencies with a response: 0.05, 0.2, 0.7, 1.5 s.
BurstResult NormalBurst() {
  BurstResult b;
  b.planned = 8;
  b.dropped = 2;
  b.duration = absl::Seconds(3);
  b.budget = absl::Seconds(9.5);

  RequestResult r1 =
      Response(ResultClass::kSuccess, 200, absl::Milliseconds(50));
  r1.set_new_connection(true);
  SetPhase(r1, Phase::kResolve, absl::Milliseconds(5));
  SetPhase(r1, Phase::kConnect, absl::Milliseconds(10));
  SetPhase(r1, Phase::kProcessing, absl::Milliseconds(30));
  SetPhase(r1, Phase::kTransfer, absl::Milliseconds(5));
  r1.set_bytes_received(100);

  RequestResult r2 =
      Response(ResultClass::kSuccess, 200, absl::Milliseconds(200));
  SetPhase(r2, Phase::kProcessing, absl::Milliseconds(150));
  SetPhase(r2, Phase::kTransfer, absl::Milliseconds(50));
  r2.set_bytes_received(200);

  RequestResult r3 =
      Response(ResultClass::kHttpStatus, 503, absl::Milliseconds(700));
  r3.set_new_connection(true);
  SetPhase(r3, Phase::kResolve, absl::Milliseconds(1));
  SetPhase(r3, Phase::kConnect, absl::Milliseconds(600));
  SetPhase(r3, Phase::kProcessing, absl::Milliseconds(600));
  SetPhase(r3, Phase::kTransfer, absl::Milliseconds(97));
  r3.set_bytes_received(50);

  // No response: neither latency nor phases are observed.
  RequestResult r4 = Response(ResultClass::kTimeout, 0, absl::Seconds(2));
  r4.set_new_connection(true);
  SetPhase(r4, Phase::kResolve, absl::Milliseconds(1));
  SetPhase(r4, Phase::kConnect, absl::Milliseconds(1));
  SetPhase(r4, Phase::kProcessing, absl::Seconds(2));
  RequestResult r5 = Response(ResultClass::kConnect, 0, absl::Milliseconds(1));
  r5.set_new_connection(true);
  SetPhase(r5, Phase::kResolve, absl::Milliseconds(1));

  RequestResult r6 =
      Response(ResultClass::kValidation, 200, absl::Milliseconds(1500));
  SetPhase(r6, Phase::kProcessing, absl::Milliseconds(1200));
  SetPhase(r6, Phase::kTransfer, absl::Milliseconds(300));
  r6.set_bytes_received(10);

  b.requests = {r1, r2, r3, r4, r5, r6};
  return b;
}

BurstResult TlsBurst() {
  BurstResult b;
  b.planned = 2;
  b.budget = absl::Seconds(5);
  b.earliest_cert_expiry = absl::FromUnixSeconds(1767225600);
  RequestResult r1 =
      Response(ResultClass::kSuccess, 200, absl::Milliseconds(80));
  r1.set_new_connection(true);
  SetPhase(r1, Phase::kResolve, absl::Milliseconds(2));
  SetPhase(r1, Phase::kConnect, absl::Milliseconds(3));
  SetPhase(r1, Phase::kTls, absl::Milliseconds(40));
  SetPhase(r1, Phase::kProcessing, absl::Milliseconds(30));
  SetPhase(r1, Phase::kTransfer, absl::Milliseconds(5));
  RequestResult r2 =
      Response(ResultClass::kSuccess, 200, absl::Milliseconds(30));
  SetPhase(r2, Phase::kProcessing, absl::Milliseconds(25));
  SetPhase(r2, Phase::kTransfer, absl::Milliseconds(5));
  b.requests = {r1, r2};
  return b;
}

std::vector<MetricFamily> Build(const BurstResult& burst,
                                const config::Module& module,
                                const std::vector<bool>& passed,
                                bool success = true) {
  return BuildProbeFamilies(burst, ComputeStats(burst), module, passed,
                            {.success = success,
                             .probe_duration = absl::Milliseconds(3250),
                             .budget = absl::Seconds(9.5)});
}

double GaugeValue(const std::vector<MetricFamily>& fs,
                  const std::string& name) {
  const MetricFamily* f = FindFamily(fs, name);
  EXPECT_NE(f, nullptr) << name;
  if (f == nullptr) return std::nan("");
  EXPECT_EQ(f->type, MetricType::Gauge) << name;
  EXPECT_EQ(f->metric.size(), 1u) << name;
  return f->metric.empty() ? std::nan("") : f->metric[0].gauge.value;
}

TEST(BuildProbeFamiliesTest, ProbeGaugesAndCounts) {
  auto fs = Build(NormalBurst(), TestModule(), {true, false}, false);
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs[0].name, kProbeSuccess);
  EXPECT_EQ(GaugeValue(fs, kProbeSuccess), 0);
  EXPECT_DOUBLE_EQ(GaugeValue(fs, kProbeDurationSeconds), 3.25);
  EXPECT_DOUBLE_EQ(GaugeValue(fs, kProbeTimeoutSeconds), 9.5);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpRequestsPlanned), 8);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpRequestsSent), 6);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpRequestsDropped), 2);
  EXPECT_EQ(GaugeValue(fs, kProbeBurstTruncated), 0);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpReceivedBytes), 360);
  EXPECT_EQ(FindFamily(fs, kProbeSslEarliestCertExpiry), nullptr);

  BurstResult truncated = NormalBurst();
  truncated.truncated = true;
  EXPECT_EQ(GaugeValue(Build(truncated, TestModule(), {true, true}),
                       kProbeBurstTruncated),
            1);
}

TEST(BuildProbeFamiliesTest, AllNineResultClassesAlwaysPresent) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  const MetricFamily* f = FindFamily(fs, kProbeHttpRequests);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::Gauge);
  ASSERT_EQ(f->metric.size(), static_cast<size_t>(kNumResultClasses));
  const std::vector<std::pair<std::string, double>> want = {
      {"success", 2}, {"http_status", 1},   {"validation", 1}, {"timeout", 1},
      {"connect", 1}, {"dns", 0},           {"tls", 0},        {"protocol", 0},
      {"other", 0},   {"body_too_large", 0}};
  for (const auto& [result, n] : want) {
    const ClientMetric* m = FindSeries(*f, kLabelResult, result);
    ASSERT_NE(m, nullptr) << result;
    EXPECT_EQ(m->gauge.value, n) << result;
  }
}

TEST(BuildProbeFamiliesTest, ResponsesByCodeOnlyForCodesSeen) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  const MetricFamily* f = FindFamily(fs, kProbeHttpResponses);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metric.size(), 2u);
  EXPECT_EQ(FindSeries(*f, kLabelCode, "200")->gauge.value, 3);
  EXPECT_EQ(FindSeries(*f, kLabelCode, "503")->gauge.value, 1);
  EXPECT_EQ(FindSeries(*f, kLabelCode, "0"), nullptr);
}

TEST(BuildProbeFamiliesTest, LatencyHistogramHasCumulativeBuckets) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  const MetricFamily* f = FindFamily(fs, kProbeHttpRequestDurationSeconds);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::Histogram);
  ASSERT_EQ(f->metric.size(), 1u);
  const ClientMetric& m = f->metric[0];
  EXPECT_THAT(BucketBounds(m), ElementsAre(0.1, 0.5, 1));
  // 0.05 | 0.2 | 0.7 | 1.5 (only in +Inf, which is the count).
  EXPECT_THAT(BucketCounts(m), ElementsAre(1, 2, 3));
  EXPECT_EQ(m.histogram.sample_count, 4u);
  EXPECT_NEAR(m.histogram.sample_sum, 2.45, 1e-9);
}

TEST(BuildProbeFamiliesTest, BucketUpperBoundIsInclusive) {
  BurstResult b;
  b.requests = {Response(ResultClass::kSuccess, 200, absl::Milliseconds(500))};
  auto fs = Build(b, TestModule(), {});
  const MetricFamily* f = FindFamily(fs, kProbeHttpRequestDurationSeconds);
  ASSERT_NE(f, nullptr);
  EXPECT_THAT(BucketCounts(f->metric[0]), ElementsAre(0, 1, 1));
}

TEST(BuildProbeFamiliesTest, PhasesObservedPerConnectionRules) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  const MetricFamily* f = FindFamily(fs, kProbeHttpPhaseDurationSeconds);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::Histogram);
  ASSERT_EQ(f->metric.size(), static_cast<size_t>(kNumPhases));

  // resolve/connect: the two new connections that got a response.
  const ClientMetric* resolve = FindSeries(*f, kLabelPhase, "resolve");
  ASSERT_NE(resolve, nullptr);
  EXPECT_EQ(resolve->histogram.sample_count, 2u);
  EXPECT_NEAR(resolve->histogram.sample_sum, 0.006, 1e-9);
  EXPECT_THAT(BucketCounts(*resolve), ElementsAre(2, 2, 2));

  const ClientMetric* connect = FindSeries(*f, kLabelPhase, "connect");
  ASSERT_NE(connect, nullptr);
  EXPECT_EQ(connect->histogram.sample_count, 2u);
  EXPECT_THAT(BucketCounts(*connect), ElementsAre(1, 1, 2));

  // Plain HTTP: tls present but empty.
  const ClientMetric* tls = FindSeries(*f, kLabelPhase, "tls");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->histogram.sample_count, 0u);
  EXPECT_THAT(BucketCounts(*tls), ElementsAre(0, 0, 0));

  // processing/transfer: every response, reused connections included.
  const ClientMetric* processing = FindSeries(*f, kLabelPhase, "processing");
  ASSERT_NE(processing, nullptr);
  EXPECT_EQ(processing->histogram.sample_count, 4u);
  EXPECT_THAT(BucketCounts(*processing), ElementsAre(1, 2, 3));
  EXPECT_NEAR(processing->histogram.sample_sum, 1.98, 1e-9);

  const ClientMetric* transfer = FindSeries(*f, kLabelPhase, "transfer");
  ASSERT_NE(transfer, nullptr);
  EXPECT_EQ(transfer->histogram.sample_count, 4u);
  EXPECT_THAT(BucketCounts(*transfer), ElementsAre(3, 4, 4));
}

TEST(BuildProbeFamiliesTest, SummaryHasExactQuantiles) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  const MetricFamily* f =
      FindFamily(fs, kProbeHttpRequestDurationQuantileSeconds);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::Summary);
  ASSERT_EQ(f->metric.size(), 1u);
  const auto& s = f->metric[0].summary;
  EXPECT_EQ(s.sample_count, 4u);
  EXPECT_NEAR(s.sample_sum, 2.45, 1e-9);
  // Sorted 0.05, 0.2, 0.7, 1.5; rank = q * 3.
  using Q = ClientMetric::Quantile;
  EXPECT_THAT(s.quantile,
              ElementsAre(AllOf(Field(&Q::quantile, 0.5),
                                Field(&Q::value, DoubleNear(0.45, 1e-9))),
                          AllOf(Field(&Q::quantile, 0.9),
                                Field(&Q::value, DoubleNear(1.26, 1e-9))),
                          AllOf(Field(&Q::quantile, 0.95),
                                Field(&Q::value, DoubleNear(1.38, 1e-9))),
                          AllOf(Field(&Q::quantile, 0.99),
                                Field(&Q::value, DoubleNear(1.476, 1e-9))),
                          AllOf(Field(&Q::quantile, 1.0),
                                Field(&Q::value, DoubleNear(1.5, 1e-9)))));
}

TEST(BuildProbeFamiliesTest, ThresholdGaugePerSource) {
  auto fs = Build(NormalBurst(), TestModule(), {true, false});
  const MetricFamily* f = FindFamily(fs, kProbeHttpThresholdPassed);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metric.size(), 2u);
  EXPECT_EQ(FindSeries(*f, kLabelThreshold, "p(95)<200ms")->gauge.value, 1);
  EXPECT_EQ(FindSeries(*f, kLabelThreshold, "error_rate<0.01")->gauge.value, 0);
}

TEST(BuildProbeFamiliesTest, DuplicateThresholdSourceIsOneSeriesFailedIfAny) {
  config::Module module = TestModule();
  module.thresholds = {MakeThreshold("max<1s"), MakeThreshold("max<1s")};
  auto fs = Build(NormalBurst(), module, {true, false});
  const MetricFamily* f = FindFamily(fs, kProbeHttpThresholdPassed);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metric.size(), 1u);
  EXPECT_EQ(f->metric[0].gauge.value, 0);
}

TEST(BuildProbeFamiliesTest, MissingThresholdOutcomeCountsAsFailed) {
  auto fs = Build(NormalBurst(), TestModule(), {true});
  const MetricFamily* f = FindFamily(fs, kProbeHttpThresholdPassed);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(FindSeries(*f, kLabelThreshold, "error_rate<0.01")->gauge.value, 0);
}

TEST(BuildProbeFamiliesTest, NoThresholdsNoThresholdFamily) {
  config::Module module = TestModule();
  module.thresholds.clear();
  EXPECT_EQ(
      FindFamily(Build(NormalBurst(), module, {}), kProbeHttpThresholdPassed),
      nullptr);
}

TEST(BuildProbeFamiliesTest, TlsBurstObservesTlsPhaseAndCertExpiry) {
  auto fs = Build(TlsBurst(), TestModule(), {true, true});
  EXPECT_DOUBLE_EQ(GaugeValue(fs, kProbeSslEarliestCertExpiry), 1767225600);
  const MetricFamily* f = FindFamily(fs, kProbeHttpPhaseDurationSeconds);
  ASSERT_NE(f, nullptr);
  const ClientMetric* tls = FindSeries(*f, kLabelPhase, "tls");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->histogram.sample_count, 1u);
  EXPECT_NEAR(tls->histogram.sample_sum, 0.04, 1e-9);
  EXPECT_EQ(FindSeries(*f, kLabelPhase, "processing")->histogram.sample_count,
            2u);
  EXPECT_EQ(FindSeries(*f, kLabelPhase, "resolve")->histogram.sample_count, 1u);
}

TEST(BuildProbeFamiliesTest, EmptyBurstHasZeroSeriesAndNaNQuantiles) {
  auto fs = Build(BurstResult{}, TestModule(), {false, false}, false);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpRequestsSent), 0);
  EXPECT_EQ(FindFamily(fs, kProbeHttpResponses), nullptr);

  const MetricFamily* results = FindFamily(fs, kProbeHttpRequests);
  ASSERT_NE(results, nullptr);
  ASSERT_EQ(results->metric.size(), static_cast<size_t>(kNumResultClasses));
  for (const ClientMetric& m : results->metric) EXPECT_EQ(m.gauge.value, 0);

  const MetricFamily* latency =
      FindFamily(fs, kProbeHttpRequestDurationSeconds);
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->metric[0].histogram.sample_count, 0u);
  EXPECT_THAT(BucketCounts(latency->metric[0]), ElementsAre(0, 0, 0));

  const MetricFamily* phases = FindFamily(fs, kProbeHttpPhaseDurationSeconds);
  ASSERT_NE(phases, nullptr);
  EXPECT_EQ(phases->metric.size(), static_cast<size_t>(kNumPhases));

  const MetricFamily* summary =
      FindFamily(fs, kProbeHttpRequestDurationQuantileSeconds);
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->metric[0].summary.sample_count, 0u);
  EXPECT_EQ(summary->metric[0].summary.sample_sum, 0);
  ASSERT_EQ(summary->metric[0].summary.quantile.size(), 5u);
  for (const auto& q : summary->metric[0].summary.quantile) {
    EXPECT_TRUE(std::isnan(q.value)) << q.quantile;
  }
}

TEST(BuildProbeFamiliesTest, NoFamilyNameEndsInTotal) {
  for (const MetricFamily& f : Build(TlsBurst(), TestModule(), {true, true})) {
    EXPECT_THAT(f.name, Not(::testing::EndsWith("_total")));
    EXPECT_NE(f.type, MetricType::Counter) << f.name;
    EXPECT_THAT(f.help, Not(IsEmpty())) << f.name;
  }
}

TEST(SerializeFamiliesTest, WritesConventionalLabelValues) {
  const std::string text =
      SerializeFamilies(Build(NormalBurst(), TestModule(), {true, false}));
  EXPECT_THAT(text, HasSubstr("probe_success 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE probe_http_request_duration_quantile_"
                              "seconds summary\n"));
  EXPECT_THAT(text, HasSubstr("probe_http_request_duration_quantile_seconds{"
                              "quantile=\"0.95\"}"));
  EXPECT_THAT(text, HasSubstr("probe_http_request_duration_seconds_bucket{"
                              "le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("probe_http_request_duration_seconds_bucket{"
                              "le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("probe_http_phase_duration_seconds_count{phase="
                              "\"tls\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("probe_http_requests{result=\"dns\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("probe_http_threshold_passed{threshold=\"p(95)"
                              "<200ms\"} 1\n"));
}

TEST(SerializeFamiliesTest, EscapesLabelValues) {
  config::Module module = TestModule();
  module.thresholds = {MakeThreshold("avg<\"1s\"\\\nx")};
  const std::string text =
      SerializeFamilies(Build(NormalBurst(), module, {true}));
  EXPECT_THAT(text, HasSubstr("{threshold=\"avg<\\\"1s\\\"\\\\\\nx\"} 1\n"));
  ExpectPromtoolAccepts(text);
}

TEST(SerializeFamiliesTest, SameSamplesAsPrometheusCppTextSerializer) {
  ExpectSameAsTextSerializer(Build(NormalBurst(), TestModule(), {true, false}));
  ExpectSameAsTextSerializer(Build(TlsBurst(), TestModule(), {true, true}));
  ExpectSameAsTextSerializer(
      Build(BurstResult{}, TestModule(), {false, false}));
  config::Module module = TestModule();
  module.buckets = config::DefaultBuckets();
  module.thresholds = {MakeThreshold("avg<\"1s\"\\\nx")};
  ExpectSameAsTextSerializer(Build(NormalBurst(), module, {true}));
}

TEST(SerializeFamiliesTest, SameAsTextSerializerForEveryTypeAndOddValues) {
  // Shapes the probe families do not use today (counter, untyped,
  // timestamps, an explicit +Inf bucket) and values whose spelling differs.
  auto family = [](const char* name, MetricType type) {
    MetricFamily f;
    f.name = name;
    f.help = "help text";
    f.type = type;
    return f;
  };
  MetricFamily counter = family("c_total", MetricType::Counter);
  ClientMetric m;
  m.counter.value = 0.1 + 0.2;
  m.label = {{"a", "x"}, {"b", "y\"z"}};
  counter.metric.push_back(m);
  MetricFamily untyped = family("u", MetricType::Untyped);
  ClientMetric u;
  u.untyped.value = -1e300;
  u.timestamp_ms = 1700000000123;
  untyped.metric.push_back(u);
  MetricFamily gauge = family("g", MetricType::Gauge);
  for (double v : {0.0, -0.0, 1e-7, 123456789.0, 1.5e21,
                   std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    ClientMetric g;
    g.gauge.value = v;
    g.label = {{"v", absl::StrCat(v)}};
    gauge.metric.push_back(g);
  }
  MetricFamily hist = family("h", MetricType::Histogram);
  ClientMetric h;
  h.histogram.sample_count = 3;
  h.histogram.sample_sum = 0.7;
  h.histogram.bucket = {{1, 0.1}, {3, std::numeric_limits<double>::infinity()}};
  hist.metric.push_back(h);
  MetricFamily no_help = family("n", MetricType::Gauge);
  no_help.help.clear();
  no_help.metric.push_back(ClientMetric{});
  ExpectSameAsTextSerializer({counter, untyped, gauge, hist, no_help});
}

// The blackbox_exporter-compatible families, by name (docs/metrics.md).
constexpr const char* kCompatFamilies[] = {
    kProbeHttpStatusCode,
    kProbeHttpVersion,
    kProbeHttpSsl,
    kProbeHttpRedirects,
    kProbeHttpContentLength,
    kProbeHttpUncompressedBodyLength,
    kProbeHttpDurationSeconds,
    kProbeDnsLookupTimeSeconds,
    kProbeIpProtocol,
    kProbeIpAddrHash,
    kProbeFailedDueToRegex,
};

BurstResult CompatTlsBurst() {
  BurstResult b = TlsBurst();
  auto tls = std::make_shared<TlsFacts>();
  tls->version = "TLS 1.3";
  tls->fingerprint_sha256 = "ab01";
  tls->subject = "CN=localhost";
  tls->issuer = "CN=Test CA,O=Canary\\, Inc.";
  tls->subject_alternative = "localhost,example.test";
  tls->serial_number = "1f";
  tls->verified_chain_expiry = absl::FromUnixSeconds(1767225600);
  b.compat.last_tls = tls;
  b.compat.earliest_verified_chain_expiry = tls->verified_chain_expiry;
  b.compat.responses = 2;
  b.compat.tls_responses = 2;
  b.compat.lowest_http_version = 20;
  b.compat.last_http_version = 20;
  b.compat.max_redirects = 1;
  b.compat.last_content_length = 1234;
  b.compat.last_address = "2001:db8::1";
  return b;
}

double SeriesValue(const std::vector<MetricFamily>& fs, const std::string& name,
                   const std::string& label, const std::string& value) {
  const MetricFamily* f = FindFamily(fs, name);
  EXPECT_NE(f, nullptr) << name;
  if (f == nullptr) return std::nan("");
  const ClientMetric* m = FindSeries(*f, label, value);
  EXPECT_NE(m, nullptr) << name << "{" << label << "=" << value << "}";
  return m == nullptr ? std::nan("") : m->gauge.value;
}

TEST(BlackboxCompatTest, OnByDefaultWithEveryFamily) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  for (const char* name : kCompatFamilies) {
    EXPECT_NE(FindFamily(fs, name), nullptr) << name;
  }
}

TEST(BlackboxCompatTest, StatusCodeIsTheWorstResponse) {
  // NormalBurst: 200, 200, 503 (invalid), timeout, refused, 200 (body check).
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  EXPECT_EQ(GaugeValue(fs, kProbeHttpStatusCode), 503);

  // An invalid status beats a higher valid one (valid_status_codes = [404]).
  BurstResult b;
  b.requests = {Response(ResultClass::kSuccess, 404, absl::Milliseconds(1)),
                Response(ResultClass::kHttpStatus, 302, absl::Milliseconds(1)),
                Response(ResultClass::kSuccess, 404, absl::Milliseconds(1))};
  EXPECT_EQ(
      GaugeValue(Build(b, TestModule(), {true, true}), kProbeHttpStatusCode),
      302);
  // Only valid codes: the highest.
  b.requests[1] = Response(ResultClass::kSuccess, 200, absl::Milliseconds(1));
  EXPECT_EQ(
      GaugeValue(Build(b, TestModule(), {true, true}), kProbeHttpStatusCode),
      404);
  // No response at all: 0, as blackbox.
  b.requests = {Response(ResultClass::kConnect, 0, absl::Milliseconds(1))};
  EXPECT_EQ(
      GaugeValue(Build(b, TestModule(), {true, true}), kProbeHttpStatusCode),
      0);
}

TEST(BlackboxCompatTest, PhaseDurationsAreMeansOverRequestsWithThePhase) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  // resolve/connect: the two responses that opened a connection.
  EXPECT_NEAR(
      SeriesValue(fs, kProbeHttpDurationSeconds, kLabelPhase, "resolve"), 0.003,
      1e-9);
  EXPECT_NEAR(
      SeriesValue(fs, kProbeHttpDurationSeconds, kLabelPhase, "connect"), 0.305,
      1e-9);
  EXPECT_EQ(SeriesValue(fs, kProbeHttpDurationSeconds, kLabelPhase, "tls"), 0);
  // processing/transfer: every response (30, 150, 600, 1200 ms).
  EXPECT_NEAR(
      SeriesValue(fs, kProbeHttpDurationSeconds, kLabelPhase, "processing"),
      0.495, 1e-9);
  EXPECT_NEAR(
      SeriesValue(fs, kProbeHttpDurationSeconds, kLabelPhase, "transfer"),
      0.113, 1e-9);
  // DNS: every request that opened a connection, failed ones too.
  EXPECT_NEAR(GaugeValue(fs, kProbeDnsLookupTimeSeconds), 0.002, 1e-9);
}

TEST(BlackboxCompatTest, BodyRegexAndLastResponse) {
  auto fs = Build(NormalBurst(), TestModule(), {true, true});
  EXPECT_EQ(GaugeValue(fs, kProbeFailedDueToRegex), 1);  // r6: validation
  EXPECT_EQ(GaugeValue(fs, kProbeHttpUncompressedBodyLength), 10);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpSsl), 0);
  EXPECT_EQ(GaugeValue(fs, kProbeIpProtocol), 0);  // no address seen
  EXPECT_EQ(GaugeValue(fs, kProbeIpAddrHash), 0);
  EXPECT_EQ(FindFamily(fs, kProbeTlsVersionInfo), nullptr);
  EXPECT_EQ(FindFamily(fs, kProbeSslLastChainInfo), nullptr);
  EXPECT_EQ(FindFamily(fs, kProbeSslLastChainExpiryTimestampSeconds), nullptr);
}

TEST(BlackboxCompatTest, TlsAndConnectionFacts) {
  auto fs = Build(CompatTlsBurst(), TestModule(), {true, true});
  EXPECT_EQ(GaugeValue(fs, kProbeFailedDueToRegex), 0);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpSsl), 1);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpVersion), 2);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpRedirects), 1);
  EXPECT_EQ(GaugeValue(fs, kProbeHttpContentLength), 1234);
  EXPECT_EQ(GaugeValue(fs, kProbeIpProtocol), 6);
  // FNV-1a 32 of the 16 address bytes, computed independently.
  EXPECT_EQ(GaugeValue(fs, kProbeIpAddrHash), 1851458804);
  EXPECT_EQ(SeriesValue(fs, kProbeTlsVersionInfo, kLabelVersion, "TLS 1.3"), 1);
  EXPECT_EQ(GaugeValue(fs, kProbeSslLastChainExpiryTimestampSeconds),
            1767225600);
  const MetricFamily* info = FindFamily(fs, kProbeSslLastChainInfo);
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->metric.size(), 1u);
  EXPECT_EQ(info->metric[0].gauge.value, 1);
  std::vector<std::string> labels;
  for (const auto& l : info->metric[0].label) {
    labels.push_back(absl::StrCat(l.name, "=", l.value));
  }
  EXPECT_THAT(labels, ElementsAre("fingerprint_sha256=ab01",
                                  "issuer=CN=Test CA,O=Canary\\, Inc.",
                                  "serialnumber=1f", "subject=CN=localhost",
                                  "subjectalternative=localhost,example.test"));

  BurstResult v4 = CompatTlsBurst();
  v4.compat.last_address = "192.0.2.1";
  auto fs4 = Build(v4, TestModule(), {true, true});
  EXPECT_EQ(GaugeValue(fs4, kProbeIpProtocol), 4);
  EXPECT_EQ(GaugeValue(fs4, kProbeIpAddrHash), 3400906390);
  // One plain response among TLS ones: not "SSL".
  v4.compat.tls_responses = 1;
  EXPECT_EQ(GaugeValue(Build(v4, TestModule(), {true, true}), kProbeHttpSsl),
            0);
}

TEST(BlackboxCompatTest, SwitchedOffLeavesEveryCompatFamilyOut) {
  config::Module module = TestModule();
  module.metrics.blackbox_compat = false;
  auto fs = Build(CompatTlsBurst(), module, {true, true});
  for (const char* name : kCompatFamilies) {
    EXPECT_EQ(FindFamily(fs, name), nullptr) << name;
  }
  EXPECT_EQ(FindFamily(fs, kProbeTlsVersionInfo), nullptr);
  EXPECT_EQ(FindFamily(fs, kProbeSslLastChainInfo), nullptr);
  EXPECT_EQ(FindFamily(fs, kProbeSslLastChainExpiryTimestampSeconds), nullptr);
  // The exporter's own metrics stay.
  EXPECT_NE(FindFamily(fs, kProbeSslEarliestCertExpiry), nullptr);
  EXPECT_NE(FindFamily(fs, kProbeHttpPhaseDurationSeconds), nullptr);
}

TEST(PhasesSwitchTest, QuantilesReplaceTheHistogram) {
  config::Module module = TestModule();
  module.metrics.phases = config::MetricsConfig::Phases::kQuantiles;
  auto fs = Build(NormalBurst(), module, {true, true});
  EXPECT_EQ(FindFamily(fs, kProbeHttpPhaseDurationSeconds), nullptr);
  const MetricFamily* f =
      FindFamily(fs, kProbeHttpPhaseDurationQuantileSeconds);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::Summary);
  ASSERT_EQ(f->metric.size(), static_cast<size_t>(kNumPhases));
  const ClientMetric* processing = FindSeries(*f, kLabelPhase, "processing");
  ASSERT_NE(processing, nullptr);
  EXPECT_EQ(processing->summary.sample_count, 4u);
  EXPECT_NEAR(processing->summary.sample_sum, 1.98, 1e-9);
  ASSERT_EQ(processing->summary.quantile.size(), std::size(kPhaseQuantiles));
  // 30, 150, 600, 1200 ms: the median interpolates 150 and 600.
  EXPECT_NEAR(processing->summary.quantile[0].value, 0.375, 1e-9);
  const ClientMetric* tls = FindSeries(*f, kLabelPhase, "tls");
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->summary.sample_count, 0u);
  EXPECT_TRUE(std::isnan(tls->summary.quantile[0].value));
}

TEST(PhasesSwitchTest, OffLeavesBothOut) {
  config::Module module = TestModule();
  module.metrics.phases = config::MetricsConfig::Phases::kOff;
  auto fs = Build(NormalBurst(), module, {true, true});
  EXPECT_EQ(FindFamily(fs, kProbeHttpPhaseDurationSeconds), nullptr);
  EXPECT_EQ(FindFamily(fs, kProbeHttpPhaseDurationQuantileSeconds), nullptr);
  EXPECT_NE(FindFamily(fs, kProbeHttpRequestDurationSeconds), nullptr);
}

// Guards the checks below: the runner must see promtool's lint findings.
TEST(PromtoolTest, RunnerReportsLintProblems) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: run scripts/setup.sh --test";
  PromtoolResult r =
      CheckMetrics("# HELP foo_bar x\n# TYPE foo_bar counter\nfoo_bar 1\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.output, HasSubstr("_total"));
}

TEST(PromtoolTest, AcceptsNormalBurst) {
  ExpectPromtoolAccepts(
      SerializeFamilies(Build(NormalBurst(), TestModule(), {true, false})));
}

TEST(PromtoolTest, AcceptsEmptyBurstWithNaNQuantiles) {
  const std::string text =
      SerializeFamilies(Build(BurstResult{}, TestModule(), {false, false}));
  EXPECT_THAT(text, HasSubstr("quantile=\"0.5\"} Nan"));
  ExpectPromtoolAccepts(text);
}

TEST(PromtoolTest, AcceptsTlsBurst) {
  const std::string text =
      SerializeFamilies(Build(TlsBurst(), TestModule(), {true, true}));
  EXPECT_THAT(text, HasSubstr("probe_ssl_earliest_cert_expiry "));
  ExpectPromtoolAccepts(text);
}

TEST(PromtoolTest, AcceptsCompatTlsBurst) {
  const std::string text =
      SerializeFamilies(Build(CompatTlsBurst(), TestModule(), {true, true}));
  EXPECT_THAT(text, HasSubstr("probe_ssl_last_chain_info{"));
  ExpectPromtoolAccepts(text);
}

TEST(PromtoolTest, AcceptsPhaseQuantiles) {
  config::Module module = TestModule();
  module.metrics.phases = config::MetricsConfig::Phases::kQuantiles;
  ExpectPromtoolAccepts(
      SerializeFamilies(Build(NormalBurst(), module, {true, true})));
}

TEST(PromtoolTest, AcceptsDefaultBuckets) {
  config::Module module = TestModule();
  module.buckets = config::DefaultBuckets();
  ExpectPromtoolAccepts(
      SerializeFamilies(Build(NormalBurst(), module, {true, true})));
}

}  // namespace
}  // namespace canary::probes
