#include "probes/burst.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/status_matchers.h"

namespace canary::probes {
namespace {

using ::canary::testing::FakeClock;
using ::canary::testing::FakeTransport;
using ::testing::Each;
using ::testing::Field;
using ::testing::Property;

config::BurstConfig Closed(int vus, absl::Duration think,
                           std::optional<absl::Duration> duration,
                           std::optional<int64_t> requests = std::nullopt) {
  config::BurstConfig b;
  b.vus = vus;
  b.think_time = think;
  b.duration = duration;
  b.requests = requests;
  return b;
}

config::BurstConfig Open(double rate, int vus,
                         std::optional<absl::Duration> duration,
                         std::optional<int64_t> requests = std::nullopt) {
  config::BurstConfig b;
  b.rate = rate;
  b.vus = vus;
  b.duration = duration;
  b.requests = requests;
  return b;
}

FakeTransport::Responder Constant(absl::Duration d) {
  return [d](int64_t, int) { return FakeTransport::Ok(d); };
}

TEST(PlanBurstTest, OpenModelPlansRateTimesDuration) {
  struct Case {
    double rate;
    absl::Duration duration;
    std::optional<int64_t> requests;
    int64_t planned;
  } cases[] = {
      {50, absl::Seconds(2), std::nullopt, 100},
      {200, absl::Seconds(3), std::nullopt, 600},
      {3, absl::Milliseconds(500), std::nullopt, 2},  // arrivals at 0, 333ms
      {40, absl::Seconds(3), 7, 7},                   // requests come first
      {1, absl::Seconds(10), 100, 10},                // duration comes first
  };
  for (const Case& c : cases) {
    BurstPlan plan = PlanBurst(Open(c.rate, 10, c.duration, c.requests),
                               absl::Seconds(2), absl::Seconds(60));
    EXPECT_EQ(plan.planned, c.planned) << c.rate << "/s";
    EXPECT_FALSE(plan.window_cut_by_budget);
  }
}

TEST(PlanBurstTest, BudgetLeavesGraceForInFlightRequests) {
  // grace = min(timeout, budget/4)
  BurstPlan plan = PlanBurst(Closed(10, absl::Seconds(1), absl::Seconds(3)),
                             absl::Seconds(2), absl::Milliseconds(1500));
  EXPECT_EQ(plan.start_window, absl::Milliseconds(1125));
  EXPECT_TRUE(plan.window_cut_by_budget);

  plan = PlanBurst(Closed(10, absl::Seconds(1), absl::Seconds(3)),
                   absl::Milliseconds(200), absl::Seconds(10));
  EXPECT_EQ(plan.start_window, absl::Seconds(3));
  EXPECT_FALSE(plan.window_cut_by_budget);

  plan = PlanBurst(Closed(10, absl::Seconds(1), absl::Seconds(9)),
                   absl::Seconds(2), absl::Seconds(10));
  EXPECT_EQ(plan.start_window, absl::Seconds(8));
  EXPECT_TRUE(plan.window_cut_by_budget);
}

TEST(PlanBurstTest, NeitherDurationNorRequestsMeansOneRequest) {
  // A module built in code without a shape must not loop for the whole
  // budget.
  BurstPlan plan = PlanBurst(Closed(1, absl::ZeroDuration(), std::nullopt),
                             absl::Seconds(2), absl::Seconds(119.5));
  ASSERT_TRUE(plan.requests.has_value());
  EXPECT_EQ(*plan.requests, 1);
  EXPECT_EQ(plan.planned, 1);
  plan = PlanBurst(Open(10, 1, std::nullopt), absl::Seconds(2),
                   absl::Seconds(119.5));
  EXPECT_EQ(plan.planned, 1);
}

TEST(PlanBurstTest, ArrivalOffsetIsIOverRate) {
  EXPECT_EQ(ArrivalOffset(0, 50), absl::ZeroDuration());
  EXPECT_EQ(ArrivalOffset(1, 50), absl::Milliseconds(20));
  EXPECT_EQ(ArrivalOffset(99, 50), absl::Milliseconds(1980));
  EXPECT_EQ(ArrivalOffset(1, 3), absl::Nanoseconds(333333333));
}

TEST(BurstTest, ClosedModelTenVusThinkOneSecondForThreeSeconds) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(20)));
  BurstPlan plan = PlanBurst(Closed(10, absl::Seconds(1), absl::Seconds(3)),
                             absl::Seconds(2), absl::Seconds(119.5));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  // Each VU starts at 0, 1.02 s and 2.04 s; the next one (3.06 s) is past
  // the window.
  EXPECT_EQ(r.requests.size(), 30u);
  EXPECT_EQ(r.planned, 30);
  EXPECT_EQ(r.dropped, 0);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.duration, absl::Milliseconds(2060));
  EXPECT_EQ(transport.max_in_flight(), 10);
  std::map<int, int> per_vu;
  for (const RequestResult& q : r.requests) {
    ++per_vu[q.vu()];
    EXPECT_EQ(q.latency(), absl::Milliseconds(20));
    EXPECT_EQ(q.intended_start(), q.actual_start());
  }
  EXPECT_EQ(per_vu.size(), 10u);
  for (const auto& [vu, n] : per_vu) EXPECT_EQ(n, 3) << "vu " << vu;
}

TEST(BurstTest, FoldsBlackboxFactsPerBurstInCompletionOrder) {
  FakeClock clock;
  auto session_a = std::make_shared<TlsFacts>();
  session_a->verified_chain_expiry = absl::FromUnixSeconds(2000);
  auto session_b = std::make_shared<TlsFacts>();
  session_b->verified_chain_expiry = absl::FromUnixSeconds(1000);
  // One VU, four requests: TLS on session a (new connection, HTTP/2, one
  // redirect), a again (reused), b over HTTP/1.1, then no response.
  FakeTransport transport(&clock, [&](int64_t seq, int) {
    Completion c = FakeTransport::Ok(absl::Milliseconds(10));
    switch (seq) {
      case 0:
        c.tls = session_a;
        c.http_version = 20;
        c.redirects = 1;
        c.content_length = 10;
        c.address = "127.0.0.1";
        break;
      case 1:
        c.tls = session_a;
        c.http_version = 20;
        c.content_length = -1;
        break;
      case 2:
        c.tls = session_b;
        c.http_version = 11;
        c.content_length = 7;
        c.address = "::1";
        break;
      default:
        c.status_code = 0;
        c.result = ResultClass::kConnect;
        c.redirects = 3;
        c.address = "127.0.0.2";
    }
    return c;
  });
  config::BurstConfig shape;
  shape.vus = 1;
  shape.requests = 4;
  BurstPlan plan = PlanBurst(shape, absl::Seconds(2), absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  ASSERT_EQ(r.requests.size(), 4u);
  const CompatFacts& f = r.compat;
  EXPECT_EQ(f.responses, 3);
  EXPECT_EQ(f.tls_responses, 3);
  EXPECT_EQ(f.lowest_http_version, 11);
  EXPECT_EQ(f.last_http_version, 11);
  EXPECT_EQ(f.max_redirects, 3);        // a request without a response counts
  EXPECT_EQ(f.last_content_length, 7);  // of the last response
  EXPECT_EQ(f.last_address, "127.0.0.2");
  EXPECT_EQ(f.last_tls, session_b);
  EXPECT_EQ(f.earliest_verified_chain_expiry, absl::FromUnixSeconds(1000));
}

TEST(BurstTest, DurationOnlyClosedBurstStopsAtTheRequestCap) {
  // Against a target that answers at once, only the cap bounds how many
  // results a duration-only burst keeps.
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Microseconds(50)));
  BurstPlan plan = PlanBurst(Closed(4, absl::ZeroDuration(), absl::Seconds(60)),
                             absl::Seconds(2), absl::Seconds(119.5));
  EXPECT_EQ(plan.max_requests, config::kMaxRequests);
  plan.max_requests = 25;
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  EXPECT_EQ(r.requests.size(), 25u);
  EXPECT_FALSE(r.truncated);
  EXPECT_LT(r.duration, absl::Milliseconds(1));
}

TEST(BurstTest, OmittedThinkTimeRunsRequestsBackToBack) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(10)));
  BurstPlan plan = PlanBurst(Closed(2, absl::ZeroDuration(), std::nullopt, 10),
                             absl::Seconds(2), absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  EXPECT_EQ(r.requests.size(), 10u);
  EXPECT_EQ(r.planned, 10);
  EXPECT_EQ(r.dropped, 0);
  EXPECT_EQ(transport.max_in_flight(), 2);
  // Five rounds of two parallel 10 ms requests.
  EXPECT_EQ(r.duration, absl::Milliseconds(50));
}

TEST(BurstTest, OpenModelSendsOnScheduleFromIntendedTimes) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(5)));
  BurstPlan plan = PlanBurst(Open(50, 10, absl::Seconds(2)), absl::Seconds(2),
                             absl::Seconds(119.5));
  const absl::Time t0 = clock.Now();
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  EXPECT_EQ(r.planned, 100);
  EXPECT_EQ(r.requests.size(), 100u);
  EXPECT_EQ(r.dropped, 0);
  ASSERT_EQ(transport.starts().size(), 100u);
  for (size_t i = 0; i < transport.starts().size(); ++i) {
    EXPECT_EQ(transport.starts()[i].at - t0, absl::Milliseconds(20) * i);
  }
  EXPECT_EQ(transport.max_in_flight(), 1);
}

TEST(BurstTest, OpenModelCountsDropsWhenEveryVuIsBusy) {
  FakeClock clock;
  // 100/s with 2 VUs and 50 ms responses: only 2 of every 5 arrivals find a
  // free VU.
  FakeTransport transport(&clock, Constant(absl::Milliseconds(50)));
  BurstPlan plan = PlanBurst(Open(100, 2, absl::Seconds(1)), absl::Seconds(2),
                             absl::Seconds(10));
  const absl::Time t0 = clock.Now();
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  EXPECT_EQ(r.planned, 100);
  EXPECT_EQ(static_cast<int64_t>(r.requests.size()) + r.dropped, 100);
  EXPECT_EQ(r.requests.size(), 40u);
  EXPECT_EQ(r.dropped, 60);
  EXPECT_FALSE(r.truncated);
  // Nothing is started late: every start is exactly on a 10 ms arrival.
  for (const auto& s : transport.starts()) {
    EXPECT_EQ((s.at - t0) % absl::Milliseconds(10), absl::ZeroDuration());
  }
  EXPECT_THAT(r.requests,
              Each(Property(&RequestResult::latency, absl::Milliseconds(50))));
}

TEST(BurstTest, OpenModelLatencyIncludesLateSend) {
  FakeClock clock;
  // Starting request 0 stalls the loop for 30 ms (as a slow event loop
  // would); arrival 1 (due at 10 ms) then goes out 20 ms late and its
  // latency must include that wait.
  FakeTransport transport(&clock, [&clock](int64_t seq, int) {
    if (seq == 0) clock.Advance(absl::Milliseconds(30));
    return FakeTransport::Ok(absl::Milliseconds(5));
  });
  BurstPlan plan = PlanBurst(Open(100, 5, std::nullopt, 2), absl::Seconds(2),
                             absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  ASSERT_EQ(r.requests.size(), 2u);
  const RequestResult& late =
      r.requests[0].intended_start() == absl::Milliseconds(10) ? r.requests[0]
                                                               : r.requests[1];
  EXPECT_EQ(late.intended_start(), absl::Milliseconds(10));
  EXPECT_EQ(late.actual_start(), absl::Milliseconds(30));
  EXPECT_EQ(late.latency(), absl::Milliseconds(25));
}

TEST(BurstTest, BudgetBoundsALongerBurst) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(20)));
  BurstPlan plan = PlanBurst(Closed(10, absl::Seconds(1), absl::Seconds(3)),
                             absl::Seconds(2), absl::Milliseconds(1500));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  // Starts at 0 and 1.02 s; 2.04 s is past the 1.125 s window.
  EXPECT_EQ(r.requests.size(), 20u);
  EXPECT_TRUE(r.truncated);
  EXPECT_LE(r.duration, absl::Milliseconds(1500));
}

TEST(BurstTest, RequestTimeoutIsCappedByWhatIsLeftOfTheBudget) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Seconds(5)));
  BurstPlan plan = PlanBurst(Closed(3, absl::ZeroDuration(), std::nullopt, 3),
                             absl::Seconds(10), absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  ASSERT_EQ(r.requests.size(), 3u);
  EXPECT_THAT(r.requests,
              Each(Property(&RequestResult::result, ResultClass::kTimeout)));
  EXPECT_THAT(
      transport.starts(),
      Each(Field(&FakeTransport::StartRecord::timeout, absl::Seconds(1))));
  EXPECT_LE(r.duration, absl::Seconds(1));
}

TEST(BurstTest, RequestCountCutByBudgetCountsTheRestAsDropped) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(100)));
  // grace = min(2 s, 0.5 s): requests start until 1.5 s.
  BurstPlan plan = PlanBurst(Closed(1, absl::ZeroDuration(), std::nullopt, 100),
                             absl::Seconds(2), absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  EXPECT_EQ(r.requests.size(), 15u);
  EXPECT_EQ(r.planned, 100);
  EXPECT_EQ(r.dropped, 85);
  EXPECT_TRUE(r.truncated);
}

TEST(BurstTest, DurationBeforeRequestCountIsNotADrop) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(100)));
  BurstPlan plan =
      PlanBurst(Closed(1, absl::ZeroDuration(), absl::Milliseconds(450), 100),
                absl::Seconds(2), absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  EXPECT_EQ(r.requests.size(), 5u);  // 0, 100, 200, 300, 400 ms
  EXPECT_EQ(r.planned, 5);
  EXPECT_EQ(r.dropped, 0);
  EXPECT_FALSE(r.truncated);
}

TEST(BurstTest, EarliestCertificateExpiryIsKept) {
  FakeClock clock;
  const absl::Time soon = absl::FromUnixSeconds(1900000000);
  FakeTransport transport(&clock, [soon](int64_t seq, int) {
    Completion c = FakeTransport::Ok(absl::Milliseconds(1));
    if (seq == 1) c.cert_expiry = soon;
    if (seq == 2) c.cert_expiry = soon + absl::Hours(24);
    return c;
  });
  BurstPlan plan = PlanBurst(Closed(1, absl::ZeroDuration(), std::nullopt, 3),
                             absl::Seconds(2), absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock));
  ASSERT_TRUE(r.earliest_cert_expiry.has_value());
  EXPECT_EQ(*r.earliest_cert_expiry, soon);
}

}  // namespace
}  // namespace canary::probes

namespace canary::probes {
namespace {

// Ctrl-C in the CLI: a stop flag set mid-burst ends it early with what ran.
TEST(BurstStopTest, ClosedModelStopsStartingAndKeepsWhatRan) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(20)));
  // 2 VUs, 10 requests back to back: 5 rounds of two without a stop.
  BurstPlan plan = PlanBurst(Closed(2, absl::ZeroDuration(), std::nullopt, 10),
                             absl::Seconds(2), absl::Seconds(30));
  std::atomic<bool> stop{false};
  int seen = 0;
  const RequestObserver observer = [&](const RequestResult&) {
    if (++seen == 3) stop.store(true);
  };
  ASSERT_OK_AND_ASSIGN(BurstResult r,
                       RunBurst(plan, &transport, &clock, observer, &stop));
  // Requests 0-1 (round 1), 2-3 (round 2) started; the third completion
  // stops the burst before round 3; request 3 in flight still finishes.
  EXPECT_EQ(r.requests.size(), 4u);
  EXPECT_EQ(r.dropped, 0);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.planned, 4);  // what ran, as when a duration ends it first
  EXPECT_EQ(r.duration, absl::Milliseconds(40));
}

TEST(BurstStopTest, OpenModelStopsArrivalsWithoutCountingThemDropped) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(5)));
  // 10/s for 2 s: 20 arrivals, one every 100 ms.
  BurstPlan plan = PlanBurst(Open(10, 4, absl::Seconds(2)), absl::Seconds(2),
                             absl::Seconds(30));
  ASSERT_EQ(plan.planned, 20);
  std::atomic<bool> stop{false};
  int seen = 0;
  const RequestObserver observer = [&](const RequestResult&) {
    if (++seen == 5) stop.store(true);
  };
  ASSERT_OK_AND_ASSIGN(BurstResult r,
                       RunBurst(plan, &transport, &clock, observer, &stop));
  EXPECT_EQ(r.requests.size(), 5u);
  EXPECT_EQ(r.dropped, 0);
  EXPECT_FALSE(r.truncated);
  // The fifth request (due at 400 ms) ends at 405 ms; the stop is seen at
  // once, not at the next arrival.
  EXPECT_EQ(r.duration, absl::Milliseconds(405));
}

TEST(BurstStopTest, StopBeforeTheStartSendsNothing) {
  FakeClock clock;
  FakeTransport transport(&clock, Constant(absl::Milliseconds(5)));
  std::atomic<bool> stop{true};
  BurstPlan plan = PlanBurst(Closed(3, absl::ZeroDuration(), absl::Seconds(1)),
                             absl::Seconds(2), absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(BurstResult r,
                       RunBurst(plan, &transport, &clock, {}, &stop));
  EXPECT_TRUE(r.requests.empty());
  EXPECT_TRUE(transport.starts().empty());
}

}  // namespace
}  // namespace canary::probes
