#include "probes/threshold_check.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/result.h"
#include "probes/stats.h"

namespace canary::probes {
namespace {

using ::testing::ElementsAre;
using Stat = config::Threshold::Stat;
using Op = config::Threshold::Op;

config::Threshold T(Stat stat, Op op, double value, double percentile = 0) {
  config::Threshold t;
  t.source = "test";
  t.stat = stat;
  t.op = op;
  t.value = value;
  t.percentile = percentile;
  return t;
}

// Latencies 0.125, 0.25, 0.5, 1 s (binary fractions, so equality is exact):
// min 0.125, med 0.375, avg 0.46875, max 1, p(75) 0.625; one error of four:
// error_rate 0.25.
BurstStats Sample() {
  BurstResult burst;
  for (int ms : {500, 125, 1000, 250}) {
    RequestResult r;
    r.set_result(ResultClass::kSuccess);
    r.set_status_code(200);
    r.set_latency(absl::Milliseconds(ms));
    burst.requests.push_back(r);
  }
  burst.requests[2].set_result(ResultClass::kHttpStatus);
  return ComputeStats(burst);
}

// Every request failed before a response: latency stats are NaN.
BurstStats NoResponses() {
  BurstResult burst;
  RequestResult r;
  r.set_result(ResultClass::kConnect);
  r.set_latency(absl::Milliseconds(3));
  burst.requests = {r, r};
  return ComputeStats(burst);
}

struct Case {
  std::string name;
  config::Threshold threshold;
  bool want;
};

class EvaluateThresholdTest : public ::testing::TestWithParam<Case> {};

TEST_P(EvaluateThresholdTest, OnSample) {
  EXPECT_EQ(EvaluateThreshold(GetParam().threshold, Sample()), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, EvaluateThresholdTest,
    ::testing::Values(
        // Strict vs inclusive at equality, for every stat.
        Case{"MinLessAtEqual", T(Stat::kMin, Op::kLess, 0.125), false},
        Case{"MinLessEqualAtEqual", T(Stat::kMin, Op::kLessEqual, 0.125), true},
        Case{"MinGreaterAtEqual", T(Stat::kMin, Op::kGreater, 0.125), false},
        Case{"MinGreaterEqualAtEqual", T(Stat::kMin, Op::kGreaterEqual, 0.125),
             true},
        Case{"MaxLessAtEqual", T(Stat::kMax, Op::kLess, 1), false},
        Case{"MaxLessEqualAtEqual", T(Stat::kMax, Op::kLessEqual, 1), true},
        Case{"MaxGreaterBelow", T(Stat::kMax, Op::kGreater, 0.999), true},
        Case{"MaxGreaterEqualAbove", T(Stat::kMax, Op::kGreaterEqual, 1.001),
             false},
        Case{"AvgLessAtEqual", T(Stat::kAvg, Op::kLess, 0.46875), false},
        Case{"AvgLessEqualAtEqual", T(Stat::kAvg, Op::kLessEqual, 0.46875),
             true},
        Case{"AvgLessAbove", T(Stat::kAvg, Op::kLess, 0.5), true},
        Case{"AvgGreaterEqualAtEqual",
             T(Stat::kAvg, Op::kGreaterEqual, 0.46875), true},
        Case{"MedLessAtEqual", T(Stat::kMed, Op::kLess, 0.375), false},
        Case{"MedLessEqualAtEqual", T(Stat::kMed, Op::kLessEqual, 0.375), true},
        Case{"MedGreaterBelow", T(Stat::kMed, Op::kGreater, 0.37), true},
        Case{"P75LessAtEqual", T(Stat::kPercentile, Op::kLess, 0.625, 75),
             false},
        Case{"P75LessEqualAtEqual",
             T(Stat::kPercentile, Op::kLessEqual, 0.625, 75), true},
        Case{"P75GreaterBelow", T(Stat::kPercentile, Op::kGreater, 0.6, 75),
             true},
        Case{"P100IsMax", T(Stat::kPercentile, Op::kGreaterEqual, 1, 100),
             true},
        Case{"P50IsMed", T(Stat::kPercentile, Op::kLessEqual, 0.375, 50), true},
        Case{"P50AboveMedFails", T(Stat::kPercentile, Op::kLess, 0.375, 50),
             false},
        Case{"ErrorRateLessAtEqual", T(Stat::kErrorRate, Op::kLess, 0.25),
             false},
        Case{"ErrorRateLessEqualAtEqual",
             T(Stat::kErrorRate, Op::kLessEqual, 0.25), true},
        Case{"ErrorRateGreaterBelow", T(Stat::kErrorRate, Op::kGreater, 0.2),
             true},
        Case{"ErrorRateGreaterEqualAbove",
             T(Stat::kErrorRate, Op::kGreaterEqual, 0.3), false},
        Case{"ErrorRateTypicalSloFails", T(Stat::kErrorRate, Op::kLess, 0.01),
             false},
        // k6's ==/=== and != compare exactly; p(0) is the minimum.
        Case{"MinEqualAtEqual", T(Stat::kMin, Op::kEqual, 0.125), true},
        Case{"MinEqualOther", T(Stat::kMin, Op::kEqual, 0.126), false},
        Case{"MinNotEqualAtEqual", T(Stat::kMin, Op::kNotEqual, 0.125), false},
        Case{"MaxNotEqualOther", T(Stat::kMax, Op::kNotEqual, 2), true},
        Case{"ErrorRateEqual", T(Stat::kErrorRate, Op::kEqual, 0.25), true},
        Case{"ErrorRateNotEqualZero", T(Stat::kErrorRate, Op::kNotEqual, 0),
             true},
        Case{"P0IsMin", T(Stat::kPercentile, Op::kEqual, 0.125, 0), true},
        Case{"P0AboveMinFails", T(Stat::kPercentile, Op::kGreater, 0.125, 0),
             false}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(EvaluateThresholdNaNTest, NoResponsesFailEveryLatencyStatAndOp) {
  const BurstStats s = NoResponses();
  for (Stat stat :
       {Stat::kPercentile, Stat::kAvg, Stat::kMin, Stat::kMed, Stat::kMax}) {
    for (Op op : {Op::kLess, Op::kLessEqual, Op::kGreater, Op::kGreaterEqual,
                  Op::kNotEqual}) {
      // Bounds either way would pass for any finite value (!= 1e9 too).
      const double bound =
          (op == Op::kLess || op == Op::kLessEqual) ? 1e9 : -1e9;
      EXPECT_FALSE(EvaluateThreshold(T(stat, op, bound, 95), s))
          << "stat=" << static_cast<int>(stat)
          << " op=" << static_cast<int>(op);
    }
  }
}

TEST(EvaluateThresholdNaNTest, NoResponsesStillEvaluateErrorRate) {
  const BurstStats s = NoResponses();
  EXPECT_TRUE(EvaluateThreshold(T(Stat::kErrorRate, Op::kGreaterEqual, 1), s));
  EXPECT_FALSE(EvaluateThreshold(T(Stat::kErrorRate, Op::kLess, 0.5), s));
}

TEST(EvaluateThresholdNaNTest, ErrorRateWithZeroRequestsFailsEveryOp) {
  const BurstStats s = ComputeStats(BurstResult{});
  for (Op op : {Op::kLess, Op::kLessEqual, Op::kGreater, Op::kGreaterEqual,
                Op::kNotEqual}) {
    const double bound =
        (op == Op::kLess || op == Op::kLessEqual || op == Op::kNotEqual) ? 1
                                                                         : 0;
    EXPECT_FALSE(EvaluateThreshold(T(Stat::kErrorRate, op, bound), s))
        << "op=" << static_cast<int>(op);
  }
}

TEST(EvaluateThresholdsTest, ResultIsParallelToInput) {
  std::vector<config::Threshold> ts = {
      T(Stat::kMax, Op::kLess, 2),          // 1 < 2
      T(Stat::kErrorRate, Op::kLess, 0.1),  // 0.25 < 0.1 fails
      T(Stat::kPercentile, Op::kLessEqual, 0.625, 75),
      T(Stat::kMin, Op::kGreater, 0.2),  // 0.125 > 0.2 fails
  };
  EXPECT_THAT(EvaluateThresholds(ts, Sample()),
              ElementsAre(true, false, true, false));
  EXPECT_THAT(EvaluateThresholds({}, Sample()), ElementsAre());
}

TEST(ThresholdValueTest, ReturnsTheComparedStatistic) {
  const BurstStats s = Sample();
  EXPECT_DOUBLE_EQ(ThresholdValue(T(Stat::kPercentile, Op::kLess, 0, 75), s),
                   0.625);
  EXPECT_DOUBLE_EQ(ThresholdValue(T(Stat::kErrorRate, Op::kLess, 0), s), 0.25);
}

}  // namespace
}  // namespace canary::probes
