#include "exporter/views/probe_history.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "exporter/views/charts.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/stats.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

ProbeRecord Named(const std::string& module) {
  ProbeRecord r;
  r.module = module;
  return r;
}

TEST(ProbeHistoryTest, KeepsTheNewestUpToTheLimit) {
  ProbeHistory h(2);
  EXPECT_EQ(h.Add(Named("a")), 1u);
  EXPECT_EQ(h.Add(Named("b")), 2u);
  EXPECT_EQ(h.Add(Named("c")), 3u);
  auto recent = h.Recent();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0]->module, "c");
  EXPECT_EQ(recent[1]->module, "b");
  EXPECT_EQ(h.Find(1), nullptr);  // evicted
  ASSERT_NE(h.Find(2), nullptr);
  EXPECT_EQ(h.Find(2)->module, "b");
}

TEST(ProbeHistoryTest, LimitZeroKeepsNothing) {
  ProbeHistory h(0);
  h.Add(Named("a"));
  EXPECT_TRUE(h.Recent().empty());
  EXPECT_THAT(RenderRecentProbes(h), HasSubstr("None yet."));
}

TEST(ProbeHistoryTest, ReadersWaitForAReservedRecord) {
  ProbeHistory h(5);
  ProbeHistory::Reservation r = h.Reserve();
  std::vector<std::shared_ptr<const ProbeRecord>> seen;
  std::thread reader([&] { seen = h.Recent(); });
  // Without the wait the reader would find nothing: it runs before Fill.
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(r.Fill(Named("late")), 1u);
  reader.join();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]->module, "late");
  EXPECT_EQ(r.Fill(Named("again")), 0u);  // a reservation fills once
  EXPECT_EQ(h.Recent().size(), 1u);
}

TEST(ProbeHistoryTest, DroppedReservationReleasesReaders) {
  ProbeHistory h(5);
  {
    ProbeHistory::Reservation r = h.Reserve();
    ProbeHistory::Reservation moved = std::move(r);
    ProbeHistory::Reservation other = h.Reserve();
    other = std::move(moved);  // `other`'s own reservation is withdrawn
  }
  const absl::Time t0 = absl::Now();
  EXPECT_TRUE(h.Recent().empty());
  EXPECT_EQ(h.Find(1), nullptr);
  EXPECT_LT(absl::Now() - t0, kHistoryReadWait);
}

probes::ProbeReport Burst(int n, int failures) {
  probes::ProbeReport r;
  for (int i = 0; i < n; ++i) {
    probes::RequestResult req;
    req.set_intended_start(absl::Milliseconds(10 * i));
    req.set_latency(absl::Milliseconds(1 + i % 7));
    const bool fail = i < failures;
    req.set_result(fail ? probes::ResultClass::kTimeout
                        : probes::ResultClass::kSuccess);
    req.set_status_code(fail ? 0 : 200);
    r.burst.requests.push_back(req);
  }
  r.burst.planned = n;
  r.burst.duration = absl::Milliseconds(10 * n);
  r.success = failures == 0;
  r.stats = probes::ComputeStats(r.burst);
  return r;
}

TEST(ChartsTest, HistogramHasABarPerBucketAndInf) {
  const probes::ProbeReport r = Burst(20, 3);
  const std::string svg = LatencyHistogramSvg(r.burst, {0.002, 0.005, 0.01});
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), 4);
  // Latencies 1..7 ms of 17 responses: le=2ms holds 1 and 2 ms.
  EXPECT_THAT(svg, HasSubstr("0 &lt; latency &#8804; 2ms: 4</title>"));
  EXPECT_THAT(svg, HasSubstr("5ms &lt; latency &#8804; 10ms: 5</title>"));
  EXPECT_THAT(svg, HasSubstr("aria-label=\"Latency histogram: 17 responses\""));
}

TEST(ChartsTest, TimelineColoursEveryRequestByResult) {
  const probes::ProbeReport r = Burst(20, 3);
  const std::string svg = TimelineSvg(r.burst, r.stats);
  EXPECT_EQ(Count(svg, "<circle class=\"req r-success\""), 17);
  EXPECT_EQ(Count(svg, "<circle class=\"req r-timeout\""), 3);
  EXPECT_THAT(svg, HasSubstr(ResultColor(probes::ResultClass::kTimeout)));
  EXPECT_THAT(svg, HasSubstr(">timeout 3</text>"));  // legend
}

TEST(ChartsTest, TimelineSamplesBigBursts) {
  const probes::ProbeReport r = Burst(10000, 0);
  const std::string svg = TimelineSvg(r.burst, r.stats);
  EXPECT_LE(Count(svg, "<circle "), kMaxTimelinePoints);
  EXPECT_GE(Count(svg, "<circle "), kMaxTimelinePoints / 2);
  EXPECT_THAT(svg, HasSubstr(">success 10000</text>"));
}

TEST(ChartsTest, EmptyBurstSaysSo) {
  probes::BurstResult empty;
  EXPECT_THAT(TimelineSvg(empty, probes::ComputeStats(empty)),
              HasSubstr(">no requests</text>"));
  EXPECT_THAT(LatencyHistogramSvg(empty, config::DefaultBuckets()),
              HasSubstr(">no responses</text>"));
}

TEST(ProbeRecordTest, RendersChartsDebugAndEscapedRow) {
  config::Module m;
  m.name = "m<x>";
  m.http.headers = {{"Authorization", "Bearer SECRET-1"}};
  const probes::ProbeReport r = Burst(5, 1);
  ProbeHistory h(10);
  const uint64_t id = h.Add(MakeProbeRecord(
      m, "http://u:SECRET-2@h/<p>", absl::Seconds(9), "9s from the test", r,
      absl::FromUnixSeconds(1700000000)));
  auto rec = h.Find(id);
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->sent, 5);
  EXPECT_EQ(rec->errors, 1);
  EXPECT_THAT(rec->debug_text, HasSubstr("--- requests"));
  const std::string html = RenderRecentProbes(h);
  EXPECT_THAT(html, HasSubstr("module <code>m&lt;x&gt;</code>"));
  EXPECT_THAT(html, HasSubstr("http://&lt;secret&gt;@h/&lt;p&gt;"));
  EXPECT_THAT(html, HasSubstr("href=\"/debug?id=1\""));
  EXPECT_THAT(html, HasSubstr("class=\"chart latency-histogram\""));
  EXPECT_THAT(html, HasSubstr("class=\"chart timeline\""));
  EXPECT_THAT(html, HasSubstr("2023-11-14 22:13:20 UTC"));
  EXPECT_THAT(html + rec->debug_text, Not(HasSubstr("SECRET")));
}

TEST(ProbeRecordTest, ScenarioShowsARowPerStep) {
  config::Module m;
  m.name = "shop";
  m.steps.resize(2);
  m.steps[0].name = "login";
  m.steps[1].name = "<checkout>";
  probes::ProbeReport r = Burst(4, 1);
  probes::ScenarioStats sc;
  sc.steps.resize(2);
  sc.steps[0].requests = 2;
  sc.steps[0].latencies = {0.010, 0.030};
  sc.steps[1].requests = 2;
  sc.steps[1].errors = 1;
  sc.steps[1].latencies = {0.5};
  sc.failed_at = {0, 1};
  sc.completed = 1;
  sc.failed = 1;
  r.scenario = sc;
  ProbeHistory h(10);
  h.Add(MakeProbeRecord(m, "http://h/", absl::Seconds(9), "", r,
                        absl::FromUnixSeconds(1700000000)));
  const std::string html = RenderRecentProbes(h);
  EXPECT_THAT(html, HasSubstr("<tr><td><code>login</code></td><td>2</td>"
                              "<td>0</td><td>20ms</td>"));
  EXPECT_THAT(html, HasSubstr("<code>&lt;checkout&gt;</code></td><td>2</td>"
                              "<td>1</td>"));
  EXPECT_THAT(html, HasSubstr("iterations: completed 1, failed 1, dropped 0"));
}

TEST(ProbeRecordTest, SingleRequestModuleHasNoStepsTable) {
  config::Module m;
  m.name = "one";
  ProbeHistory h(10);
  h.Add(MakeProbeRecord(m, "http://h/", absl::Seconds(9), "", Burst(3, 0),
                        absl::FromUnixSeconds(1700000000)));
  EXPECT_THAT(RenderRecentProbes(h), Not(HasSubstr("class=\"steps\"")));
}

}  // namespace
}  // namespace canary::exporter
