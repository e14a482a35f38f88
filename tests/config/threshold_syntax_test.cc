#include "config/threshold_syntax.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::canary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::DoubleNear;
using ::testing::HasSubstr;
using Stat = Threshold::Stat;
using Op = Threshold::Op;

struct GoodCase {
  std::string input;
  Stat stat;
  double percentile;
  Op op;
  double value;
  std::string source;
};

class ParseThresholdGoodTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParseThresholdGoodTest, ParsesAllParts) {
  const GoodCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(Threshold t, ParseThreshold(c.input));
  EXPECT_EQ(t.stat, c.stat);
  EXPECT_DOUBLE_EQ(t.percentile, c.percentile);
  EXPECT_EQ(t.op, c.op);
  EXPECT_THAT(t.value, DoubleNear(c.value, 1e-12));
  EXPECT_EQ(t.source, c.source);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseThresholdGoodTest,
    ::testing::Values(
        GoodCase{"p(95)<200ms", Stat::kPercentile, 95, Op::kLess, 0.2,
                 "p(95)<200ms"},
        GoodCase{"p(99.9) <= 1.5s", Stat::kPercentile, 99.9, Op::kLessEqual,
                 1.5, "p(99.9) <= 1.5s"},
        GoodCase{"p(100)>=500us", Stat::kPercentile, 100, Op::kGreaterEqual,
                 0.0005, "p(100)>=500us"},
        GoodCase{"p( 50 )>0", Stat::kPercentile, 50, Op::kGreater, 0,
                 "p( 50 )>0"},
        // k6: a bare number is milliseconds.
        GoodCase{"avg<300", Stat::kAvg, 0, Op::kLess, 0.3, "avg<300"},
        GoodCase{"  med < 12.5  ", Stat::kMed, 0, Op::kLess, 0.0125,
                 "med < 12.5"},
        GoodCase{"min>1ms", Stat::kMin, 0, Op::kGreater, 0.001, "min>1ms"},
        GoodCase{"max<=2s", Stat::kMax, 0, Op::kLessEqual, 2, "max<=2s"},
        GoodCase{"error_rate<0.01", Stat::kErrorRate, 0, Op::kLess, 0.01,
                 "error_rate<0.01"},
        GoodCase{"error_rate <= 1", Stat::kErrorRate, 0, Op::kLessEqual, 1,
                 "error_rate <= 1"},
        GoodCase{"error_rate>=0", Stat::kErrorRate, 0, Op::kGreaterEqual, 0,
                 "error_rate>=0"},
        // The forms k6 also accepts: ==, ===, !=, p(0), `rate`.
        GoodCase{"avg==1s", Stat::kAvg, 0, Op::kEqual, 1, "avg==1s"},
        GoodCase{"max === 250", Stat::kMax, 0, Op::kEqual, 0.25, "max === 250"},
        GoodCase{"min!=0", Stat::kMin, 0, Op::kNotEqual, 0, "min!=0"},
        GoodCase{"p(0)<1s", Stat::kPercentile, 0, Op::kLess, 1, "p(0)<1s"},
        GoodCase{"p(99.99)<=1e3", Stat::kPercentile, 99.99, Op::kLessEqual, 1,
                 "p(99.99)<=1e3"},
        GoodCase{"rate<0.01", Stat::kErrorRate, 0, Op::kLess, 0.01,
                 "rate<0.01"},
        GoodCase{"rate == 0", Stat::kErrorRate, 0, Op::kEqual, 0, "rate == 0"},
        GoodCase{"rate!=1", Stat::kErrorRate, 0, Op::kNotEqual, 1, "rate!=1"}));

struct BadCase {
  std::string input;
  std::string message_part;
};

class ParseThresholdBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseThresholdBadTest, ExplainsWhatWasExpected) {
  EXPECT_THAT(ParseThreshold(GetParam().input),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("invalid threshold"),
                             HasSubstr(GetParam().message_part))));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseThresholdBadTest,
    ::testing::Values(
        BadCase{"p(95)<fast", "expected a latency such as \"200ms\""},
        BadCase{"p(95)<", "expected a latency"},
        BadCase{"p(95)<-1ms", "expected a latency"},
        BadCase{"p(95)<inf", "expected a latency"},
        BadCase{"avg<2 s", "expected a latency"},
        BadCase{"p(-1)<1s", "percentile must be a number in [0, 100]"},
        BadCase{"p(101)<1s", "percentile must be a number in [0, 100]"},
        BadCase{"p(x)<1s", "percentile must be a number"},
        BadCase{"p(95<1s", "missing \")\""},
        BadCase{"p95<1s", "expected a statistic"},
        BadCase{"rates<0.1", "expected an operator"},
        BadCase{"count<10", "expected a statistic"},
        BadCase{"", "empty threshold"}, BadCase{"avg", "expected an operator"},
        BadCase{"avg=1s", "expected an operator"},
        BadCase{"avg=!1s", "expected an operator"},
        BadCase{"avg!1s", "expected an operator"},
        BadCase{"avg====1s", "expected a latency"},
        BadCase{"p(95)<-5", "expected a latency"},
        BadCase{"rate<2", "between 0 and 1"},
        BadCase{"error_rate<1.5", "between 0 and 1"},
        BadCase{"error_rate<5ms", "between 0 and 1"},
        BadCase{"error_rate<-0.1", "between 0 and 1"}));

TEST(ParseThresholdTest, LessEqualIsNotReadAsLess) {
  ASSERT_OK_AND_ASSIGN(Threshold t, ParseThreshold("max<=1s"));
  EXPECT_EQ(t.op, Op::kLessEqual);
  EXPECT_DOUBLE_EQ(t.value, 1.0);
}

}  // namespace
}  // namespace canary::config

namespace canary::config {
namespace {

TEST(ThresholdScopeTest, K6TagSyntaxScopesToAStepOrTheIterations) {
  absl::StatusOr<Threshold> t =
      ParseThreshold(" http_req_duration{step:login}: p(95)<300 ");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->step, "login");
  EXPECT_FALSE(t->iteration);
  EXPECT_EQ(t->stat, Threshold::Stat::kPercentile);
  EXPECT_DOUBLE_EQ(t->value, 0.3);
  EXPECT_EQ(t->source, "http_req_duration{step:login}: p(95)<300");

  t = ParseThreshold("iteration_duration: error_rate<0.1");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->iteration);
  EXPECT_EQ(t->step, "");
  EXPECT_EQ(t->stat, Threshold::Stat::kErrorRate);

  t = ParseThreshold("p(95)<300");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->step, "");
  EXPECT_FALSE(t->iteration);
}

TEST(ThresholdScopeTest, MalformedScopesAreErrors) {
  for (const char* bad :
       {"http_req_duration: p(95)<1", "http_req_duration{step:}: p(95)<1",
        "http_req_duration{step:a} p(95)<1", "iteration_duration p(95)<1"}) {
    EXPECT_FALSE(ParseThreshold(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace canary::config
