#include "probes/prober.h"

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/exposition.h"
#include "probes/metric_names.h"
#include "probes/metrics.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/status_matchers.h"

namespace canary::probes {
namespace {

using ::canary::testing::FakeClock;
using ::canary::testing::FakeTransport;
using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;

config::Threshold P95Below(double seconds) {
  config::Threshold t;
  t.source = "p(95)<" + std::to_string(seconds);
  t.stat = config::Threshold::Stat::kPercentile;
  t.percentile = 95;
  t.op = config::Threshold::Op::kLess;
  t.value = seconds;
  return t;
}

class ProberTest : public ::testing::Test {
 protected:
  // A prober whose transport answers every request with `make(seq)`.
  std::unique_ptr<Prober> MakeProber(std::function<Completion(int64_t)> make) {
    return NewProber(
        [this, make](
            const Target&, const config::Module&, int,
            const Allowlist&) -> absl::StatusOr<std::unique_ptr<Transport>> {
          return std::make_unique<FakeTransport>(
              &clock_, [make](int64_t seq, int) { return make(seq); });
        },
        &clock_);
  }

  ProbeReport Run(Prober& prober) {
    return prober.Probe({.target = "http://127.0.0.1:1/",
                         .module = &module_,
                         .budget = absl::Seconds(10)});
  }

  FakeClock clock_;
  config::Module module_;
};

TEST_F(ProberTest, NoThresholdsMeansEveryRequestMustSucceed) {
  module_.burst.requests = 10;
  auto ok = MakeProber(
      [](int64_t) { return FakeTransport::Ok(absl::Milliseconds(10)); });
  EXPECT_TRUE(Run(*ok).success);

  auto one_bad = MakeProber([](int64_t seq) {
    Completion c = FakeTransport::Ok(absl::Milliseconds(10));
    if (seq == 3) {
      c.status_code = 500;
      c.result = ResultClass::kHttpStatus;
    }
    return c;
  });
  ProbeReport r = Run(*one_bad);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.burst.requests.size(), 10u);
  // The report carries the burst's stats, computed once here.
  EXPECT_EQ(r.stats.requests, 10);
  EXPECT_EQ(r.stats.errors, 1);
  EXPECT_EQ(r.stats.by_class[static_cast<int>(ResultClass::kHttpStatus)], 1);
  EXPECT_EQ(r.stats.by_code.at(500), 1);
  EXPECT_EQ(r.stats.latencies.size(), 10u);
}

TEST_F(ProberTest, ThresholdsDecideSuccess) {
  module_.burst.requests = 20;
  module_.thresholds = {P95Below(0.2)};
  auto fast = MakeProber(
      [](int64_t) { return FakeTransport::Ok(absl::Milliseconds(50)); });
  ProbeReport r = Run(*fast);
  EXPECT_TRUE(r.success);
  EXPECT_THAT(r.thresholds_passed, ::testing::ElementsAre(true));

  auto slow = MakeProber(
      [](int64_t) { return FakeTransport::Ok(absl::Milliseconds(250)); });
  r = Run(*slow);
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.thresholds_passed, ::testing::ElementsAre(false));
  const std::string text = SerializeFamilies(r.families);
  EXPECT_THAT(text, HasSubstr("probe_success 0"));
}

TEST_F(ProberTest, LatencyThresholdAloneDoesNotHideErrors) {
  module_.burst.requests = 10;
  module_.thresholds = {P95Below(0.2)};
  auto all_503 = MakeProber([](int64_t) {
    Completion c = FakeTransport::Ok(absl::Milliseconds(10));
    c.status_code = 503;
    c.result = ResultClass::kHttpStatus;
    return c;
  });
  ProbeReport r = Run(*all_503);
  EXPECT_THAT(r.thresholds_passed, ::testing::ElementsAre(true));
  EXPECT_FALSE(r.success);

  // With an error_rate threshold, the threshold decides.
  config::Threshold errors;
  errors.source = "error_rate<0.5";
  errors.stat = config::Threshold::Stat::kErrorRate;
  errors.op = config::Threshold::Op::kLess;
  errors.value = 0.5;
  module_.thresholds.push_back(errors);
  auto one_bad = MakeProber([](int64_t seq) {
    Completion c = FakeTransport::Ok(absl::Milliseconds(10));
    if (seq == 0) {
      c.status_code = 503;
      c.result = ResultClass::kHttpStatus;
    }
    return c;
  });
  r = Run(*one_bad);
  EXPECT_TRUE(r.success);
}

TEST_F(ProberTest, TransportFailureIsDataNotACrash) {
  module_.burst.requests = 3;
  auto prober = NewProber(
      [](const Target&, const config::Module&, int,
         const Allowlist&) -> absl::StatusOr<std::unique_ptr<Transport>> {
        return absl::InternalError("curl_multi_init failed");
      },
      &clock_);
  ProbeReport r = Run(*prober);
  EXPECT_FALSE(r.success);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kOther);
  EXPECT_THAT(r.burst.error(r.burst.requests[0]), HasSubstr("curl_multi_init"));
  EXPECT_THAT(SerializeFamilies(r.families),
              HasSubstr("probe_http_requests{result=\"other\"} 1"));
  // The CLI tells "could not run" from "failed" by this.
  EXPECT_THAT(r.run_status, StatusIs(absl::StatusCode::kInternal,
                                     HasSubstr("curl_multi_init")));
}

TEST_F(ProberTest, AFailingTargetIsNotARunFailure) {
  module_.burst.requests = 2;
  auto prober = MakeProber([](int64_t) {
    Completion c = FakeTransport::Ok(absl::Milliseconds(10));
    c.status_code = 503;
    c.result = ResultClass::kHttpStatus;
    return c;
  });
  ProbeReport r = Run(*prober);
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.run_status, IsOk());
}

TEST_F(ProberTest, StopFlagEndsTheBurstEarly) {
  module_.burst.requests = 10;
  std::atomic<bool> stop{false};
  int seen = 0;
  auto prober = MakeProber(
      [](int64_t) { return FakeTransport::Ok(absl::Milliseconds(10)); });
  ProbeReport r = prober->Probe({.target = "http://127.0.0.1:1/",
                                 .module = &module_,
                                 .budget = absl::Seconds(10),
                                 .on_request =
                                     [&](const RequestResult&) {
                                       if (++seen == 4) stop.store(true);
                                     },
                                 .stop = &stop});
  EXPECT_EQ(r.burst.requests.size(), 4u);
  EXPECT_TRUE(r.success);  // what ran all succeeded
}

}  // namespace
}  // namespace canary::probes
