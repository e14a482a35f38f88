#include "config/parse.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;

struct DurationCase {
  std::string input;
  absl::Duration want;
};

class ParseDurationGoodTest : public ::testing::TestWithParam<DurationCase> {};

TEST_P(ParseDurationGoodTest, ParsesGoSyntax) {
  ASSERT_OK_AND_ASSIGN(absl::Duration d, ParseDuration(GetParam().input));
  EXPECT_EQ(d, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDurationGoodTest,
    ::testing::Values(DurationCase{"500ms", absl::Milliseconds(500)},
                      DurationCase{"2s", absl::Seconds(2)},
                      DurationCase{"1.5s", absl::Milliseconds(1500)},
                      DurationCase{"1m30s", absl::Seconds(90)},
                      DurationCase{"2h45m", absl::Minutes(165)},
                      DurationCase{"250us", absl::Microseconds(250)},
                      DurationCase{"10ns", absl::Nanoseconds(10)},
                      DurationCase{"0", absl::ZeroDuration()},
                      DurationCase{"0s", absl::ZeroDuration()}));

class ParseDurationBadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParseDurationBadTest, IsInvalidArgumentQuotingInput) {
  EXPECT_THAT(ParseDuration(GetParam()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"" + GetParam() + "\"")));
}

INSTANTIATE_TEST_SUITE_P(Table, ParseDurationBadTest,
                         ::testing::Values("", "2", "2 seconds", "2sec", "s",
                                           "-1s", "-500ms", "inf", "-inf",
                                           " 2s", "1d"));

TEST(ParseDurationTest, NegativeSaysNonNegative) {
  EXPECT_THAT(ParseDuration("-1s"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("non-negative")));
}

TEST(ParseDurationTest, InfiniteSaysFinite) {
  EXPECT_THAT(ParseDuration("inf"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("finite")));
}

struct SizeCase {
  std::string input;
  int64_t want;
};

class ParseSizeGoodTest : public ::testing::TestWithParam<SizeCase> {};

TEST_P(ParseSizeGoodTest, ParsesUnits) {
  ASSERT_OK_AND_ASSIGN(int64_t n, ParseSize(GetParam().input));
  EXPECT_EQ(n, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseSizeGoodTest,
    ::testing::Values(
        SizeCase{"1024", 1024}, SizeCase{"0", 0}, SizeCase{"100B", 100},
        SizeCase{"1kB", 1000}, SizeCase{"1KB", 1000},
        SizeCase{"10MB", 10000000}, SizeCase{"2GB", 2000000000},
        SizeCase{"1TB", int64_t{1000000000000}}, SizeCase{"512KiB", 524288},
        SizeCase{"1MiB", 1048576}, SizeCase{"2GiB", int64_t{2147483648}},
        SizeCase{"1TiB", int64_t{1} << 40}, SizeCase{"10 MiB", 10 << 20},
        SizeCase{" 64KiB ", 65536}));

class ParseSizeBadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParseSizeBadTest, IsInvalidArgument) {
  EXPECT_THAT(ParseSize(GetParam()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"")));
}

INSTANTIATE_TEST_SUITE_P(Table, ParseSizeBadTest,
                         ::testing::Values("", "MiB", "-1", "1.5MiB", "1mib",
                                           "1 MiB/s", "10XB", "1e6",
                                           "99999999999999999999",
                                           "9000000TiB"));

TEST(ParseSizeTest, UnknownUnitIsNamed) {
  EXPECT_THAT(ParseSize("10XB"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown size unit \"XB\"")));
}

TEST(ParseSizeTest, OverflowSaysTooLarge) {
  EXPECT_THAT(
      ParseSize("9000000TiB"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too large")));
  EXPECT_THAT(ParseSize("8388607TiB"), IsOk());
}

}  // namespace
}  // namespace canary::config
