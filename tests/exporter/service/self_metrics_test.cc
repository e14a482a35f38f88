#include "exporter/service/self_metrics.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/process/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/exposition.h"
#include "tests/exporter/fake_prober.h"
#include "tests/testing/exposition_check.h"

namespace canary::exporter {
namespace {

using probes::ResultClass;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Text(const SelfMetrics& m) {
  absl::StatusOr<std::string> text = m.Serialize();
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(SelfMetricsTest, BuildInfoCarriesVersionAndRevision) {
  SelfMetrics m;
  EXPECT_THAT(Text(m), HasSubstr(absl::StrCat(
                           "canary_exporter_build_info{revision=\"", Revision(),
                           "\",version=\"", Version(), "\"} 1")));
}

TEST(SelfMetricsTest, ProcessMetricsArePresent) {
  const std::string text = Text(SelfMetrics());
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
        "process_start_time_seconds"}) {
    EXPECT_THAT(text, ContainsRegex(absl::StrCat("\n", name, " [0-9.e+]+\n")))
        << name;
  }
}

TEST(SelfMetricsTest, ProcessStartTimeIsRecentAndResidentMemoryPositive) {
  double start = -1, rss = -1;
  for (const prometheus::MetricFamily& f : ProcessMetricFamilies()) {
    if (f.name == "process_start_time_seconds") start = f.metric[0].gauge.value;
    if (f.name == "process_resident_memory_bytes") {
      rss = f.metric[0].gauge.value;
    }
  }
  const double now = absl::ToUnixSeconds(absl::Now());
  EXPECT_GT(start, now - 3600);  // this test process started within an hour
  EXPECT_LE(start, now + 5);
  EXPECT_GT(rss, 0);
}

TEST(SelfMetricsTest, ProbeCountersIncrementByModuleAndResult) {
  SelfMetrics m;
  m.ProbeStarted();
  m.ProbeFinished("canary", FakeProber::Report(true, {ResultClass::kSuccess,
                                                      ResultClass::kSuccess,
                                                      ResultClass::kTimeout}));
  m.ProbeStarted();
  m.ProbeFinished("canary", FakeProber::Report(false, {ResultClass::kDns}));
  m.ProbeStarted();
  m.ProbeFinished("canary", FakeProber::Report(true, {}));
  const std::string text = Text(m);
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_total{module=\"canary\","
                              "result=\"success\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_total{module=\"canary\","
                              "result=\"failure\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probe_requests_total{module="
                              "\"canary\",result=\"success\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probe_requests_total{module="
                              "\"canary\",result=\"timeout\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probe_requests_total{module="
                              "\"canary\",result=\"dns\"} 1\n"));
  // Every class is exported, zeros included.
  EXPECT_THAT(text, HasSubstr("canary_exporter_probe_requests_total{module="
                              "\"canary\",result=\"tls\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_in_flight 0\n"));
}

TEST(SelfMetricsTest, InFlightCountsRunningProbes) {
  SelfMetrics m;
  m.ProbeStarted();
  m.ProbeStarted();
  EXPECT_THAT(Text(m), HasSubstr("canary_exporter_probes_in_flight 2\n"));
  m.ProbeFinished("a", FakeProber::Report(true, {}));
  EXPECT_THAT(Text(m), HasSubstr("canary_exporter_probes_in_flight 1\n"));
}

TEST(SelfMetricsTest, RejectionsCountByReason) {
  SelfMetrics m;
  EXPECT_THAT(Text(m), HasSubstr("canary_exporter_probe_rejections_total{"
                                 "reason=\"bad_request\"} 0\n"));
  m.ProbeRejected(kRejectBadRequest);
  m.ProbeRejected(kRejectBadRequest);
  EXPECT_THAT(Text(m), HasSubstr("canary_exporter_probe_rejections_total{"
                                 "reason=\"bad_request\"} 2\n"));
}

TEST(SelfMetricsTest, ReloadFailureKeepsLastSuccessTimestamp) {
  SelfMetrics m;
  m.ConfigLoaded(true, absl::FromUnixSeconds(1700000000));
  EXPECT_THAT(Text(m),
              HasSubstr("canary_exporter_config_last_reload_successful 1\n"));
  m.ConfigLoaded(false, absl::FromUnixSeconds(1700000100));
  const std::string text = Text(m);
  EXPECT_THAT(text,
              HasSubstr("canary_exporter_config_last_reload_successful 0\n"));
  EXPECT_THAT(text, ContainsRegex("canary_exporter_config_last_reload_success_"
                                  "timestamp_seconds 1\\.7e\\+0?9\n|"
                                  "timestamp_seconds 1700000000\n"));
  EXPECT_THAT(text, Not(HasSubstr("1700000100")));
}

// /metrics and /probe share one exposition writer (probes/exposition.h):
// every /metrics family is written as prometheus-cpp's TextSerializer would,
// sample by sample, and Serialize() is that writer's text (the reload
// timestamp, a double TextSerializer spells differently, proves it).
TEST(SelfMetricsTest, MetricsIsWrittenByTheOneExpositionWriter) {
  SelfMetrics m;
  m.ConfigLoaded(true, absl::FromUnixMillis(1700000000123));
  m.ProbeStarted();
  m.ProbeFinished("canary", FakeProber::Report(false, {ResultClass::kSuccess,
                                                       ResultClass::kTimeout}));
  m.ProbeRejected(kRejectBadRequest);
  m.ProbeShared("canary");
  m.ProbeCached("canary");
  const std::vector<prometheus::MetricFamily> families = m.Collect();
  testing::ExpectSameAsTextSerializer(families);

  const std::vector<std::string> want =
      absl::StrSplit(probes::SerializeFamilies(families), '\n');
  const std::vector<std::string> got = absl::StrSplit(Text(m), '\n');
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    // process_* values (CPU, memory) move between the two collections.
    if (absl::StartsWith(want[i], "process_")) continue;
    EXPECT_EQ(got[i], want[i]) << "line " << i + 1;
  }
  // The shortest round-trip spelling needs 17 digits here; TextSerializer
  // writes 16 ("1700000000.123").
  EXPECT_THAT(Text(m), HasSubstr("canary_exporter_config_last_reload_success_"
                                 "timestamp_seconds 1700000000.1230001\n"));
}

}  // namespace
}  // namespace canary::exporter
