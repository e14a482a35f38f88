#include "exporter/service/admission.h"

#include <atomic>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace canary::exporter {
namespace {

using Kind = ProbeOutcome::Kind;
using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const config::Config> MakeConfig(int max_probes,
                                                 int max_requests,
                                                 absl::Duration min_interval,
                                                 int vus = 10) {
  auto c = std::make_shared<config::Config>();
  c->server.max_concurrent_probes = max_probes;
  c->server.max_inflight_requests = max_requests;
  config::Module m;
  m.name = "m";
  m.burst.vus = vus;
  m.burst.duration = absl::Seconds(5);
  m.min_interval = min_interval;
  c->modules.emplace("m", m);
  return c;
}

probes::ProbeReport Report(bool success) {
  probes::ProbeReport r;
  r.success = success;
  return r;
}

// A burst that runs on its own thread until Release(); Started() waits until
// it is inside the run function, so it holds its load-limit share.
class HeldBurst {
 public:
  HeldBurst(ProbeCoordinator* c, std::shared_ptr<const config::Config> config,
            std::string target)
      : config_(std::move(config)) {
    thread_ = std::thread([this, c, target] {
      outcome_ = c->Probe(config_, *config_->FindModule("m"), target,
                          absl::Seconds(60), [this] {
                            ++runs;
                            started_.set_value();
                            release_.get_future().wait();
                            return Report(true);
                          });
    });
    started_.get_future().wait();
  }
  ~HeldBurst() { Finish(); }
  const ProbeOutcome& Finish() {
    if (thread_.joinable()) {
      release_.set_value();
      thread_.join();
    }
    return outcome_;
  }
  std::atomic<int> runs{0};

 private:
  std::shared_ptr<const config::Config> config_;
  std::promise<void> started_;
  std::promise<void> release_;
  ProbeOutcome outcome_;
  std::thread thread_;
};

ProbeOutcome ProbeNow(ProbeCoordinator* c,
                      const std::shared_ptr<const config::Config>& config,
                      const std::string& target, int* runs = nullptr) {
  return c->Probe(config, *config->FindModule("m"), target, absl::Seconds(60),
                  [runs] {
                    if (runs != nullptr) ++*runs;
                    return Report(true);
                  });
}

TEST(ProbeCoordinatorTest, RefusesAtOnceOverMaxConcurrentProbes) {
  ProbeCoordinator c;
  auto config =
      MakeConfig(/*max_probes=*/2, /*max_requests=*/1000, absl::ZeroDuration());
  HeldBurst a(&c, config, "http://a");
  HeldBurst b(&c, config, "http://b");
  int runs = 0;
  ProbeOutcome refused = ProbeNow(&c, config, "http://c", &runs);
  EXPECT_EQ(refused.kind, Kind::kRefused);
  EXPECT_EQ(refused.reason, kRejectMaxConcurrentProbes);
  EXPECT_THAT(refused.message, HasSubstr("server.max_concurrent_probes = 2"));
  EXPECT_EQ(refused.report, nullptr);
  EXPECT_EQ(runs, 0);

  EXPECT_EQ(a.Finish().kind, Kind::kRan);
  EXPECT_EQ(ProbeNow(&c, config, "http://c", &runs).kind, Kind::kRan);
  EXPECT_EQ(runs, 1);
}

TEST(ProbeCoordinatorTest, ReservesEachBurstsInFlightCap) {
  ProbeCoordinator c;
  auto big = MakeConfig(100, /*max_requests=*/25, absl::ZeroDuration(), 10);
  HeldBurst a(&c, big, "http://a");
  HeldBurst b(&c, big, "http://b");
  EXPECT_EQ(c.Usage().requests, 20);
  EXPECT_EQ(c.Usage().bursts, 2);

  ProbeOutcome refused = ProbeNow(&c, big, "http://c");
  EXPECT_EQ(refused.kind, Kind::kRefused);
  EXPECT_EQ(refused.reason, kRejectMaxInflightRequests);
  EXPECT_THAT(refused.message, HasSubstr("needs 10 requests in flight"));
  EXPECT_THAT(refused.message, HasSubstr("hold 20 of 25"));

  // A burst that can have at most 5 requests in flight still fits.
  auto small = MakeConfig(100, 25, absl::ZeroDuration(), 5);
  EXPECT_EQ(ProbeNow(&c, small, "http://d").kind, Kind::kRan);
  a.Finish();
  b.Finish();
  EXPECT_EQ(c.Usage().requests, 0);
  EXPECT_EQ(c.Usage().probes, 0);
}

TEST(ProbeCoordinatorTest, RequestsCapTheReservationBelowVus) {
  config::BurstConfig b;
  b.vus = 10;
  b.requests = 2;
  EXPECT_EQ(b.max_in_flight(), 2);
  b.requests = 50;
  EXPECT_EQ(b.max_in_flight(), 10);
  b.requests.reset();
  EXPECT_EQ(b.max_in_flight(), 10);
}

TEST(ProbeCoordinatorTest, ConcurrentCallsForOneTargetShareOneBurst) {
  constexpr int kJoiners = 5;
  std::latch joined(kJoiners);
  ProbeCoordinator c({.on_join = [&joined] { joined.count_down(); }});
  auto config = MakeConfig(100, 1000, absl::ZeroDuration());
  HeldBurst leader(&c, config, "http://same");
  std::vector<ProbeOutcome> outcomes(kJoiners);
  std::vector<std::thread> joiners;
  std::atomic<int> joiner_runs{0};
  for (int i = 0; i < kJoiners; ++i) {
    joiners.emplace_back([&, i] {
      outcomes[i] = c.Probe(config, *config->FindModule("m"), "http://same",
                            absl::Seconds(60), [&joiner_runs] {
                              ++joiner_runs;
                              return Report(false);
                            });
    });
  }
  joined.wait();
  EXPECT_EQ(c.Usage().probes, kJoiners + 1);
  EXPECT_EQ(c.Usage().requests, 10);  // joiners reserve no requests
  const ProbeOutcome& led = leader.Finish();
  for (std::thread& t : joiners) t.join();

  EXPECT_EQ(led.kind, Kind::kRan);
  EXPECT_EQ(leader.runs, 1);
  EXPECT_EQ(joiner_runs, 0);
  for (const ProbeOutcome& o : outcomes) {
    EXPECT_EQ(o.kind, Kind::kShared);
    EXPECT_EQ(o.report, led.report);  // the very same result
  }
  EXPECT_EQ(c.Usage().probes, 0);
}

TEST(ProbeCoordinatorTest, JoinerNeedsAProbeSlotToWait) {
  ProbeCoordinator c;
  auto config = MakeConfig(/*max_probes=*/1, 1000, absl::ZeroDuration());
  HeldBurst leader(&c, config, "http://same");
  ProbeOutcome o = ProbeNow(&c, config, "http://same");
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.reason, kRejectMaxConcurrentProbes);
}

TEST(ProbeCoordinatorTest, DifferentModulesOrTargetsDoNotShare) {
  ProbeCoordinator c;
  auto config = MakeConfig(100, 1000, absl::ZeroDuration());
  HeldBurst a(&c, config, "http://a");
  int runs = 0;
  EXPECT_EQ(ProbeNow(&c, config, "http://a/other", &runs).kind, Kind::kRan);
  EXPECT_EQ(runs, 1);
}

TEST(ProbeCoordinatorTest, MinIntervalReusesTheLastBurstUntilItPasses) {
  testing::FakeClock clock;
  ProbeCoordinator c({.clock = &clock});
  auto config = MakeConfig(100, 1000, absl::Seconds(10));
  int runs = 0;
  ProbeOutcome first = ProbeNow(&c, config, "http://a", &runs);
  EXPECT_EQ(first.kind, Kind::kRan);
  clock.Advance(absl::Seconds(9));
  ProbeOutcome again = ProbeNow(&c, config, "http://a", &runs);
  EXPECT_EQ(again.kind, Kind::kCached);
  EXPECT_EQ(again.report, first.report);
  EXPECT_EQ(runs, 1);
  // Other targets are not affected.
  EXPECT_EQ(ProbeNow(&c, config, "http://b", &runs).kind, Kind::kRan);
  clock.Advance(absl::Seconds(1));  // 10 s after the first burst started
  EXPECT_EQ(ProbeNow(&c, config, "http://a", &runs).kind, Kind::kRan);
  EXPECT_EQ(runs, 3);
}

TEST(ProbeCoordinatorTest, MinIntervalCountsFromTheBurstStart) {
  testing::FakeClock clock;
  ProbeCoordinator c({.clock = &clock});
  auto config = MakeConfig(100, 1000, absl::Seconds(10));
  c.Probe(config, *config->FindModule("m"), "http://a", absl::Seconds(60),
          [&clock] {
            clock.Advance(absl::Seconds(8));  // a long burst
            return Report(true);
          });
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(ProbeNow(&c, config, "http://a").kind, Kind::kRan);
}

TEST(ProbeCoordinatorTest, ZeroMinIntervalNeverCaches) {
  ProbeCoordinator c;
  auto config = MakeConfig(100, 1000, absl::ZeroDuration());
  int runs = 0;
  ProbeNow(&c, config, "http://a", &runs);
  ProbeNow(&c, config, "http://a", &runs);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(c.Usage().cached, 0u);
}

TEST(ProbeCoordinatorTest, AReloadedConfigIsNotAnsweredFromTheOldOnesCache) {
  testing::FakeClock clock;
  ProbeCoordinator c({.clock = &clock});
  auto before = MakeConfig(100, 1000, absl::Minutes(1));
  auto after = MakeConfig(100, 1000, absl::Minutes(1));
  int runs = 0;
  ProbeNow(&c, before, "http://a", &runs);
  EXPECT_EQ(ProbeNow(&c, before, "http://a", &runs).kind, Kind::kCached);
  EXPECT_EQ(ProbeNow(&c, after, "http://a", &runs).kind, Kind::kRan);
  EXPECT_EQ(runs, 2);
}

TEST(ProbeCoordinatorTest, CacheKeepsAtMostMaxCachedEntries) {
  testing::FakeClock clock;
  ProbeCoordinator c({.clock = &clock, .max_cached = 3});
  auto config = MakeConfig(100, 1000, absl::Minutes(1));
  for (int i = 0; i < 5; ++i) {
    ProbeNow(&c, config, absl::StrCat("http://t", i));
    clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(c.Usage().cached, 3u);
  // The oldest went first: t0 runs again, t4 is still cached.
  EXPECT_EQ(ProbeNow(&c, config, "http://t0").kind, Kind::kRan);
  EXPECT_EQ(ProbeNow(&c, config, "http://t4").kind, Kind::kCached);
}

TEST(ProbeCoordinatorTest, ExpiredEntriesAreDropped) {
  testing::FakeClock clock;
  ProbeCoordinator c({.clock = &clock});
  auto config = MakeConfig(100, 1000, absl::Seconds(5));
  ProbeNow(&c, config, "http://a");
  ProbeNow(&c, config, "http://b");
  clock.Advance(absl::Seconds(6));
  ProbeNow(&c, config, "http://c");  // storing purges a and b
  EXPECT_EQ(c.Usage().cached, 1u);
}

TEST(ProbeCoordinatorTest, ABurstThatThrowsReleasesItsLoadLimitShare) {
  ProbeCoordinator c;
  auto config = MakeConfig(1, 10, absl::ZeroDuration());
  EXPECT_THROW(
      c.Probe(
          config, *config->FindModule("m"), "http://a", absl::Seconds(1),
          []() -> probes::ProbeReport { throw std::runtime_error("boom"); }),
      std::runtime_error);
  EXPECT_EQ(c.Usage().probes, 0);
  EXPECT_EQ(c.Usage().requests, 0);
  EXPECT_EQ(ProbeNow(&c, config, "http://a").kind, Kind::kRan);
}

TEST(ProbeCachedFamilyTest, IsAGaugeOfOneOrZero) {
  prometheus::MetricFamily yes = ProbeCachedFamily(true);
  EXPECT_EQ(yes.name, "probe_cached");
  EXPECT_EQ(yes.type, prometheus::MetricType::Gauge);
  ASSERT_EQ(yes.metric.size(), 1u);
  EXPECT_EQ(yes.metric[0].gauge.value, 1);
  EXPECT_EQ(ProbeCachedFamily(false).metric[0].gauge.value, 0);
}

TEST(WorkerPoolTest, OneWorkerPerProbeSlotPlusSpares) {
  config::ServerConfig limits;
  EXPECT_EQ(WorkerThreadsFor(limits), 16 + kSpareWorkerThreads);
  limits.max_concurrent_probes = 1;
  EXPECT_EQ(WorkerThreadsFor(limits), 1 + kSpareWorkerThreads);
  limits.max_concurrent_probes = 10000;  // the config's maximum
  EXPECT_EQ(WorkerThreadsFor(limits), kMaxWorkerThreads);
}

TEST(WorkerPoolTest, ALimitAboveTheMostWorkersWarnsWithoutSuggestingARestart) {
  config::Config c;
  c.server.max_concurrent_probes = 5000;
  std::optional<std::string> w =
      WorkerPoolWarning(c, WorkerThreadsFor(c.server));
  ASSERT_TRUE(w.has_value());
  EXPECT_THAT(*w, HasSubstr("the most it starts is 1024"));
  EXPECT_THAT(*w, Not(HasSubstr("restart")));
}

TEST(WorkerPoolTest, WarnsOnlyWhenTheConfigOutgrowsThePool) {
  config::Config c;
  c.server.max_concurrent_probes = 16;
  EXPECT_EQ(WorkerPoolWarning(c, 24), std::nullopt);
  EXPECT_EQ(WorkerPoolWarning(c, 100), std::nullopt);
  EXPECT_EQ(WorkerPoolWarning(c, 0), std::nullopt);  // size unknown
  std::optional<std::string> w = WorkerPoolWarning(c, 23);
  ASSERT_TRUE(w.has_value());
  EXPECT_THAT(*w, HasSubstr("needs 24 HTTP workers"));
  EXPECT_THAT(*w, HasSubstr("started with 23"));
}

}  // namespace
}  // namespace canary::exporter
