// The RequestObserver hook of RunBurst (progress display of the CLI).
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/burst.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/status_matchers.h"

namespace canary::probes {
namespace {

using ::canary::testing::FakeClock;
using ::canary::testing::FakeTransport;

TEST(BurstObserverTest, SeesEveryRequestInRecordedOrder) {
  FakeClock clock;
  FakeTransport transport(&clock, [](int64_t seq, int) {
    return FakeTransport::Ok(absl::Milliseconds(10 + seq));
  });
  config::BurstConfig b;
  b.vus = 3;
  b.requests = 7;
  const BurstPlan plan = PlanBurst(b, absl::Seconds(2), absl::Seconds(30));
  std::vector<absl::Duration> seen;
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock,
                                               [&](const RequestResult& q) {
                                                 seen.push_back(q.latency());
                                               }));
  ASSERT_EQ(seen.size(), 7u);
  ASSERT_EQ(r.requests.size(), seen.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], r.requests[i].latency()) << i;
  }
}

TEST(BurstObserverTest, SeesRequestsCutByTheBudget) {
  FakeClock clock;
  // Every request would take a minute; the 4 s budget cuts them.
  FakeTransport transport(
      &clock, [](int64_t, int) { return FakeTransport::Ok(absl::Minutes(1)); });
  config::BurstConfig b;
  b.vus = 2;
  b.requests = 2;
  const BurstPlan plan = PlanBurst(b, absl::Minutes(2), absl::Seconds(4));
  int timeouts = 0;
  ASSERT_OK_AND_ASSIGN(
      BurstResult r,
      RunBurst(plan, &transport, &clock, [&](const RequestResult& q) {
        if (q.result() == ResultClass::kTimeout) {
          ++timeouts;
        }
      }));
  EXPECT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(timeouts, 2);
}

TEST(BurstObserverTest, OpenModelWithoutObserverStillRuns) {
  FakeClock clock;
  FakeTransport transport(&clock, [](int64_t, int) {
    return FakeTransport::Ok(absl::Milliseconds(5));
  });
  config::BurstConfig b;
  b.rate = 10;
  b.vus = 2;
  b.requests = 4;
  const BurstPlan plan = PlanBurst(b, absl::Seconds(1), absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(plan, &transport, &clock, {}));
  EXPECT_EQ(r.requests.size(), 4u);
}

}  // namespace
}  // namespace canary::probes
