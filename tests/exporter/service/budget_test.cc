#include "exporter/service/budget.h"

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::StatusIs;

struct GoodCase {
  std::optional<std::string> header;
  absl::Duration offset;
  absl::Duration want;
};

class ProbeBudgetTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ProbeBudgetTest, DerivesBudget) {
  const GoodCase& c = GetParam();
  absl::StatusOr<absl::Duration> got =
      ProbeBudget(c.header ? c.header->c_str() : nullptr, c.offset);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProbeBudgetTest,
    ::testing::Values(
        // No header: blackbox_exporter's 120 s minus the offset.
        GoodCase{std::nullopt, absl::Milliseconds(500),
                 absl::Milliseconds(119500)},
        GoodCase{std::nullopt, absl::ZeroDuration(), absl::Seconds(120)},
        GoodCase{"10", absl::Milliseconds(500), absl::Milliseconds(9500)},
        GoodCase{"9.5", absl::Seconds(1), absl::Milliseconds(8500)},
        GoodCase{" 10 ", absl::ZeroDuration(), absl::Seconds(10)},
        GoodCase{"1e1", absl::Seconds(2), absl::Seconds(8)},
        // Offset eats the whole timeout: half the timeout instead.
        GoodCase{"0.5", absl::Milliseconds(500), absl::Milliseconds(250)},
        GoodCase{"0.2", absl::Milliseconds(500), absl::Milliseconds(100)}));

class BadHeaderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadHeaderTest, IsInvalidArgumentQuotingTheHeader) {
  EXPECT_THAT(ProbeBudget(GetParam().c_str(), absl::Milliseconds(500)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "invalid X-Prometheus-Scrape-Timeout-Seconds \"" +
                           GetParam() + "\""));
}

INSTANTIATE_TEST_SUITE_P(Table, BadHeaderTest,
                         ::testing::Values("abc", "", "0", "-1", "nan", "inf",
                                           "10s", "1,5"));

// The decision explains itself: the debug view prints this, never works the
// rule out again from the budget.
TEST(DecideProbeBudgetTest, NamesTheInputsOfEachRule) {
  absl::StatusOr<BudgetDecision> d =
      DecideProbeBudget("10", absl::Milliseconds(500));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->budget, absl::Milliseconds(9500));
  EXPECT_EQ(d->explanation,
            "X-Prometheus-Scrape-Timeout-Seconds 10 minus --timeout-offset "
            "500ms");
  d = DecideProbeBudget(nullptr, absl::Milliseconds(500));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->budget, absl::Milliseconds(119500));
  EXPECT_EQ(d->explanation,
            "no X-Prometheus-Scrape-Timeout-Seconds header: the 120s default "
            "minus --timeout-offset 500ms");
  d = DecideProbeBudget("0.4", absl::Milliseconds(500));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->budget, absl::Milliseconds(200));
  EXPECT_EQ(d->explanation,
            "X-Prometheus-Scrape-Timeout-Seconds 0.4 is not above "
            "--timeout-offset 500ms: half the scrape timeout");
  EXPECT_THAT(DecideProbeBudget("abc", absl::Milliseconds(500)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("\"abc\"")));
}

}  // namespace
}  // namespace canary::exporter
