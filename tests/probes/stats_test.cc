#include "probes/stats.h"

#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/result.h"

namespace canary::probes {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct QuantileCase {
  std::vector<double> sorted;
  double q;
  double want;
};

class QuantileTableTest : public ::testing::TestWithParam<QuantileCase> {};

TEST_P(QuantileTableTest, MatchesLinearInterpolationBetweenClosestRanks) {
  const QuantileCase& c = GetParam();
  EXPECT_NEAR(Quantile(c.sorted, c.q), c.want, 1e-12)
      << "q=" << c.q << " n=" << c.sorted.size();
}

std::vector<double> OneToHundred() {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  return v;
}

// The n=100 expectations are numpy.percentile(range(1, 101), 100*q), the
// method k6 uses.
INSTANTIATE_TEST_SUITE_P(
    Table, QuantileTableTest,
    ::testing::Values(
        // n = 1: every quantile is the sample.
        QuantileCase{{0.3}, 0, 0.3}, QuantileCase{{0.3}, 0.5, 0.3},
        QuantileCase{{0.3}, 0.99, 0.3}, QuantileCase{{0.3}, 1, 0.3},
        // n = 2: straight line between the two.
        QuantileCase{{1, 3}, 0, 1}, QuantileCase{{1, 3}, 0.25, 1.5},
        QuantileCase{{1, 3}, 0.5, 2}, QuantileCase{{1, 3}, 0.9, 2.8},
        QuantileCase{{1, 3}, 1, 3},
        // n = 100.
        QuantileCase{OneToHundred(), 0, 1},
        QuantileCase{OneToHundred(), 0.5, 50.5},
        QuantileCase{OneToHundred(), 0.9, 90.1},
        QuantileCase{OneToHundred(), 0.95, 95.05},
        QuantileCase{OneToHundred(), 0.99, 99.01},
        QuantileCase{OneToHundred(), 1, 100},
        // Exact ranks need no interpolation; repeated values stay put.
        QuantileCase{{1, 2, 3, 4, 5}, 0.25, 2},
        QuantileCase{{2, 2, 2, 7}, 0.5, 2},
        // Out-of-range q is clamped.
        QuantileCase{{1, 3}, -0.5, 1}, QuantileCase{{1, 3}, 1.5, 3}));

TEST(QuantileTest, EmptyInputIsNaN) {
  EXPECT_TRUE(std::isnan(Quantile({}, 0)));
  EXPECT_TRUE(std::isnan(Quantile({}, 0.5)));
  EXPECT_TRUE(std::isnan(Quantile({}, 1)));
}

TEST(QuantileTest, NaNQuantileIsNaN) {
  EXPECT_TRUE(std::isnan(Quantile({1, 2, 3}, kNaN)));
}

RequestResult Request(ResultClass result, int status_code,
                      absl::Duration latency) {
  RequestResult r;
  r.set_result(result);
  r.set_status_code(status_code);
  r.set_latency(latency);
  return r;
}

TEST(ComputeStatsTest, LatenciesHoldOnlyRequestsWithAResponseSorted) {
  BurstResult burst;
  burst.requests = {
      Request(ResultClass::kSuccess, 200, absl::Milliseconds(300)),
      Request(ResultClass::kTimeout, 0, absl::Seconds(2)),
      Request(ResultClass::kHttpStatus, 503, absl::Milliseconds(100)),
      Request(ResultClass::kConnect, 0, absl::Milliseconds(1)),
      Request(ResultClass::kValidation, 200, absl::Milliseconds(200)),
      Request(ResultClass::kSuccess, 204, absl::Milliseconds(400)),
  };
  BurstStats s = ComputeStats(burst);
  EXPECT_EQ(s.requests, 6);
  EXPECT_EQ(s.errors, 4);
  EXPECT_DOUBLE_EQ(s.error_rate, 4.0 / 6.0);
  EXPECT_THAT(s.latencies, ElementsAre(DoubleEq(0.1), DoubleEq(0.2),
                                       DoubleEq(0.3), DoubleEq(0.4)));
  EXPECT_DOUBLE_EQ(s.min, 0.1);
  EXPECT_DOUBLE_EQ(s.max, 0.4);
  EXPECT_DOUBLE_EQ(s.sum, 1.0);
  EXPECT_DOUBLE_EQ(s.avg, 0.25);
}

TEST(ComputeStatsTest, EveryNonSuccessClassCountsAsAnError) {
  BurstResult burst;
  for (int i = 0; i < kNumResultClasses; ++i) {
    burst.requests.push_back(
        Request(static_cast<ResultClass>(i), 0, absl::Milliseconds(1)));
  }
  BurstStats s = ComputeStats(burst);
  EXPECT_EQ(s.requests, kNumResultClasses);
  EXPECT_EQ(s.errors, kNumResultClasses - 1);
}

TEST(ComputeStatsTest, TalliesRequestsByClassAndResponsesByCode) {
  BurstResult burst;
  burst.requests = {
      Request(ResultClass::kSuccess, 200, absl::Milliseconds(1)),
      Request(ResultClass::kSuccess, 200, absl::Milliseconds(2)),
      Request(ResultClass::kHttpStatus, 503, absl::Milliseconds(3)),
      Request(ResultClass::kTimeout, 0, absl::Milliseconds(4))};
  BurstStats s = ComputeStats(burst);
  std::array<int64_t, kNumResultClasses> want{};
  want[static_cast<int>(ResultClass::kSuccess)] = 2;
  want[static_cast<int>(ResultClass::kHttpStatus)] = 1;
  want[static_cast<int>(ResultClass::kTimeout)] = 1;
  EXPECT_EQ(s.by_class, want);
  // Only requests that got a response have a code.
  EXPECT_EQ(s.by_code, (std::map<int, int64_t>{{200, 2}, {503, 1}}));
}

TEST(ComputeStatsTest, NoResponsesGiveNaNLatencyStatsAndFullErrorRate) {
  BurstResult burst;
  burst.requests = {Request(ResultClass::kDns, 0, absl::Milliseconds(5)),
                    Request(ResultClass::kTls, 0, absl::Milliseconds(7))};
  BurstStats s = ComputeStats(burst);
  EXPECT_EQ(s.requests, 2);
  EXPECT_EQ(s.errors, 2);
  EXPECT_DOUBLE_EQ(s.error_rate, 1.0);
  EXPECT_THAT(s.latencies, IsEmpty());
  EXPECT_TRUE(std::isnan(s.min));
  EXPECT_TRUE(std::isnan(s.avg));
  EXPECT_TRUE(std::isnan(s.max));
  EXPECT_EQ(s.sum, 0);
}

TEST(ComputeStatsTest, EmptyBurstHasZeroErrorRate) {
  BurstStats s = ComputeStats(BurstResult{});
  EXPECT_EQ(s.requests, 0);
  EXPECT_EQ(s.errors, 0);
  EXPECT_EQ(s.error_rate, 0);
  EXPECT_THAT(s.latencies, IsEmpty());
  EXPECT_TRUE(std::isnan(s.avg));
}

}  // namespace
}  // namespace canary::probes
