#include "probes/result.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/burst.h"
#include "tests/testing/fake_transport.h"

namespace canary::probes {
namespace {

using ::canary::testing::FakeClock;
using ::canary::testing::FakeTransport;
using ::testing::ElementsAre;

TEST(RequestResultTest, IsAtMostFortyEightBytes) {
  EXPECT_LE(sizeof(RequestResult), 48u);
}

TEST(RequestResultTest, DefaultIsAnEmptyOtherResult) {
  const RequestResult r;
  EXPECT_EQ(r.vu(), 0);
  EXPECT_EQ(r.intended_start(), absl::ZeroDuration());
  EXPECT_EQ(r.actual_start(), absl::ZeroDuration());
  EXPECT_EQ(r.latency(), absl::ZeroDuration());
  for (int p = 0; p < kNumPhases; ++p) {
    EXPECT_EQ(r.phase(static_cast<Phase>(p)), absl::ZeroDuration());
  }
  EXPECT_FALSE(r.new_connection());
  EXPECT_EQ(r.status_code(), 0);
  EXPECT_EQ(r.bytes_received(), 0);
  EXPECT_EQ(r.result(), ResultClass::kOther);
  EXPECT_EQ(r.error_id(), 0u);
}

TEST(RequestResultTest, KeepsEveryFieldExactlyUpToItsLimit) {
  RequestResult r;
  const absl::Duration hours4 = absl::Hours(4) + absl::Nanoseconds(123456789);
  r.set_vu(999);
  r.set_intended_start(hours4);
  r.set_actual_start(hours4 + absl::Nanoseconds(1));
  r.set_latency(absl::Nanoseconds(RequestResult::kMaxNanos));
  r.set_phase(Phase::kResolve, absl::Microseconds(1));
  r.set_phase(Phase::kConnect, absl::Minutes(5));
  r.set_phase(Phase::kTls, absl::Microseconds(-7));
  r.set_phase(Phase::kProcessing, absl::Microseconds(123456789));
  r.set_phase(Phase::kTransfer, absl::Microseconds(2147483647));
  r.set_new_connection(true);
  r.set_status_code(599);
  r.set_bytes_received(RequestResult::kMaxBytes);
  r.set_result(ResultClass::kValidation);
  r.set_error_id(RequestResult::kMaxErrorId);

  EXPECT_EQ(r.vu(), 999);
  EXPECT_EQ(r.intended_start(), hours4);
  EXPECT_EQ(r.actual_start(), hours4 + absl::Nanoseconds(1));
  EXPECT_EQ(r.latency(), absl::Nanoseconds(RequestResult::kMaxNanos));
  EXPECT_THAT(r.phases(),
              ElementsAre(absl::Microseconds(1), absl::Minutes(5),
                          absl::Microseconds(-7), absl::Microseconds(123456789),
                          absl::Microseconds(2147483647)));
  EXPECT_TRUE(r.new_connection());
  EXPECT_EQ(r.status_code(), 599);
  EXPECT_EQ(r.bytes_received(), RequestResult::kMaxBytes);
  EXPECT_EQ(r.result(), ResultClass::kValidation);
  EXPECT_EQ(r.error_id(), RequestResult::kMaxErrorId);

  // Each field is its own: clearing one leaves the neighbours intact.
  r.set_new_connection(false);
  r.set_status_code(0);
  r.set_intended_start(absl::ZeroDuration());
  EXPECT_EQ(r.actual_start(), hours4 + absl::Nanoseconds(1));
  EXPECT_EQ(r.error_id(), RequestResult::kMaxErrorId);
  EXPECT_EQ(r.result(), ResultClass::kValidation);
  EXPECT_EQ(r.bytes_received(), RequestResult::kMaxBytes);
}

TEST(RequestResultTest, ValuesBeyondARangeAreStoredAsItsLimit) {
  RequestResult r;
  r.set_vu(5000);
  r.set_latency(absl::Hours(10));
  r.set_intended_start(-absl::Seconds(1));
  r.set_phase(Phase::kConnect, absl::Hours(1));
  r.set_phase(Phase::kTls, -absl::Hours(1));
  r.set_status_code(70000);
  r.set_bytes_received(int64_t{1} << 50);
  r.set_error_id(~0u);
  r.set_step(500);
  EXPECT_EQ(r.vu(), RequestResult::kMaxVu);
  EXPECT_EQ(r.step(), RequestResult::kMaxStep);
  EXPECT_EQ(r.latency(), absl::Nanoseconds(RequestResult::kMaxNanos));
  EXPECT_EQ(r.intended_start(), absl::ZeroDuration());
  EXPECT_EQ(r.phase(Phase::kConnect), absl::Microseconds(2147483647));
  EXPECT_EQ(r.phase(Phase::kTls), absl::Microseconds(-2147483648LL));
  EXPECT_EQ(r.status_code(), RequestResult::kMaxStatus);
  EXPECT_EQ(r.bytes_received(), RequestResult::kMaxBytes);
  EXPECT_EQ(r.error_id(), RequestResult::kMaxErrorId);
}

TEST(RequestResultTest, StepSitsBesideAThreeDigitStatusCode) {
  RequestResult r;
  r.set_status_code(999);  // libcurl's largest
  r.set_step(31);
  r.set_result(ResultClass::kValidation);
  EXPECT_EQ(r.status_code(), 999);
  EXPECT_EQ(r.step(), 31);
  EXPECT_EQ(r.result(), ResultClass::kValidation);
}

TEST(RequestResultTest, PhasesAreWholeMicrosecondsAsLibcurlReportsThem) {
  RequestResult r;
  r.set_phase(Phase::kProcessing, absl::Nanoseconds(1999));
  EXPECT_EQ(r.phase(Phase::kProcessing), absl::Microseconds(1));
}

TEST(BurstResultTest, ErrorTextsLiveInTheBurst) {
  BurstResult burst;
  EXPECT_EQ(burst.AddError(""), 0u);
  const uint32_t refused = burst.AddError("Connection refused");
  const uint32_t reset = burst.AddError("Connection reset");
  EXPECT_NE(refused, reset);
  RequestResult a;
  a.set_error_id(refused);
  RequestResult b;
  b.set_error_id(reset);
  RequestResult none;
  RequestResult dangling;
  dangling.set_error_id(99);
  EXPECT_EQ(burst.error(a), "Connection refused");
  EXPECT_EQ(burst.error(b), "Connection reset");
  EXPECT_EQ(burst.error(none), "");
  EXPECT_EQ(burst.error(dangling), "");

  // A copy of the burst answers alike.
  const BurstResult copy = burst;
  EXPECT_EQ(copy.error(a), "Connection refused");
}

TEST(BurstResultTest, TheEngineStoresEachDistinctTextOnce) {
  FakeClock clock;
  FakeTransport transport(&clock, [](int64_t seq, int) {
    Completion c;
    c.total = absl::Milliseconds(1);
    if (seq % 5 == 4) return FakeTransport::Ok(absl::Milliseconds(1));
    c.result = ResultClass::kConnect;
    c.error = absl::StrCat("refused after ", seq % 2, " ms");
    return c;
  });
  config::BurstConfig cfg;
  cfg.vus = 2;
  cfg.requests = 100;
  const BurstPlan plan = PlanBurst(cfg, absl::Seconds(1), absl::Seconds(60));
  absl::StatusOr<BurstResult> r = RunBurst(plan, &transport, &clock);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->requests.size(), 100u);
  EXPECT_EQ(r->errors.size(), 2u);
  int with_text = 0;
  for (const RequestResult& q : r->requests) {
    if (q.result() == ResultClass::kSuccess) {
      EXPECT_EQ(r->error(q), "");
    } else {
      ++with_text;
      EXPECT_THAT(r->error(q), ::testing::StartsWith("refused after "));
    }
  }
  EXPECT_EQ(with_text, 80);
}

}  // namespace
}  // namespace canary::probes
