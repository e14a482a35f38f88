// Pins what a fixed burst records and exposes, byte for byte: the /probe
// exposition text and every field of every request, for one open-model and
// one closed-model burst on a clock that ticks in nanoseconds (so late sends
// and latencies are not whole milliseconds). The golden file was written by
// the wide per-request record; the compact one must reproduce it exactly.
//
// To rewrite the golden file after an intended change of output:
//   CANARY_UPDATE_GOLDEN=1 tests/probes_tests --gtest_filter='RecordGolden*'
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/prober.h"
#include "tests/testing/fake_transport.h"

namespace canary::probes {
namespace {

using ::canary::testing::FakeClock;
using ::canary::testing::FakeTransport;

constexpr char kGolden[] =
    CANARY_TEST_SRCDIR "/testdata/probes/record_golden.txt";

// Every reading moves time on by 137 ns, as a real clock would between two
// reads: sends are late by a few hundred nanoseconds and latencies are not
// round numbers.
class TickingClock : public FakeClock {
 public:
  absl::Time Now() override {
    Advance(absl::Nanoseconds(137));
    return FakeClock::Now();
  }
};

// A mix of every outcome, with libcurl-like phases (whole microseconds) and
// totals with nanoseconds in them.
Completion Respond(int64_t seq) {
  Completion c;
  const absl::Duration jitter = absl::Nanoseconds(seq * 1237 % 9973);
  switch (seq % 7) {
    case 0:
      c.total = absl::Microseconds(850) + jitter;
      c.result = ResultClass::kConnect;
      c.error = absl::StrCat("Failed to connect to 127.0.0.1 port 1 after ",
                             seq % 3, " ms: Couldn't connect to server");
      return c;
    case 1:
      c = FakeTransport::Ok(absl::Milliseconds(12) + jitter);
      c.status_code = 503;
      c.result = ResultClass::kHttpStatus;
      c.error = "status 503 is not a valid status code";
      c.bytes_received = 512;
      break;
    case 2:
      c.total = absl::Seconds(5);  // beyond the 2 s timeout
      return c;
    case 3:
      c = FakeTransport::Ok(absl::Milliseconds(7) + jitter);
      c.result = ResultClass::kValidation;
      c.error = "body matched fail_if_body_matches_regexp \"error\"";
      c.bytes_received = 2048;
      break;
    default:
      c = FakeTransport::Ok(absl::Milliseconds(3 + seq % 11) + jitter);
      c.bytes_received = (int64_t{3} << 32) + seq;  // beyond 4 GiB in total
      break;
  }
  // libcurl reports phases in whole microseconds.
  const absl::Duration total_us = absl::Trunc(c.total, absl::Microseconds(1));
  auto phase = [&c](Phase p) -> absl::Duration& {
    return c.phases[static_cast<int>(p)];
  };
  c.new_connection = seq % 4 == 0 || seq < 2;
  if (c.new_connection) {
    phase(Phase::kResolve) = absl::Microseconds(40 + seq);
    phase(Phase::kConnect) = absl::Microseconds(95);
    if (seq % 8 == 0) phase(Phase::kTls) = absl::Microseconds(1800 + seq);
  }
  phase(Phase::kTransfer) = absl::Microseconds(25 + seq % 5);
  phase(Phase::kProcessing) = total_us - phase(Phase::kResolve) -
                              phase(Phase::kConnect) - phase(Phase::kTls) -
                              phase(Phase::kTransfer);
  return c;
}

std::string Dump(const std::string& title, const ProbeReport& r) {
  const BurstResult& b = r.burst;
  std::string out = absl::StrCat(
      "== ", title, "\nsuccess=", r.success, " planned=", b.planned,
      " dropped=", b.dropped, " truncated=", b.truncated,
      " duration=", absl::FormatDuration(b.duration),
      " budget=", absl::FormatDuration(b.budget), "\n");
  for (size_t i = 0; i < b.requests.size(); ++i) {
    const RequestResult& q = b.requests[i];
    absl::StrAppend(&out, i, " vu=", q.vu(),
                    " intended=", absl::FormatDuration(q.intended_start()),
                    " actual=", absl::FormatDuration(q.actual_start()),
                    " latency=", absl::FormatDuration(q.latency()));
    for (int p = 0; p < kNumPhases; ++p) {
      absl::StrAppend(&out, " ", PhaseName(static_cast<Phase>(p)), "=",
                      absl::FormatDuration(q.phase(static_cast<Phase>(p))));
    }
    absl::StrAppend(&out, " new_connection=", q.new_connection(),
                    " code=", q.status_code(), " bytes=", q.bytes_received(),
                    " result=", ResultClassName(q.result()), " error=\"",
                    b.error(q), "\"\n");
  }
  absl::StrAppend(&out, SerializeFamilies(r.families));
  return out;
}

std::string RunBurst(const config::Module& module, absl::Duration budget) {
  TickingClock clock;
  auto prober = NewProber(
      [&clock](const Target&, const config::Module&, int,
               const Allowlist&) -> absl::StatusOr<std::unique_ptr<Transport>> {
        return std::make_unique<FakeTransport>(
            &clock, [](int64_t seq, int) { return Respond(seq); });
      },
      &clock);
  const ProbeReport r = prober->Probe(
      {.target = "http://127.0.0.1:1/", .module = &module, .budget = budget});
  return Dump(
      absl::StrCat(module.name, " budget ", absl::FormatDuration(budget)), r);
}

TEST(RecordGoldenTest, FixedBurstsRecordAndExposeExactlyTheGolden) {
  config::Module open;
  open.name = "open";
  open.timeout = absl::Seconds(2);
  open.burst.rate = 3;  // arrivals every 333.333333 ms
  open.burst.vus = 3;
  open.burst.duration = absl::Seconds(9);
  config::Threshold p90;
  p90.source = "p(90)<20ms";
  p90.stat = config::Threshold::Stat::kPercentile;
  p90.percentile = 90;
  p90.op = config::Threshold::Op::kLess;
  p90.value = 0.02;
  open.thresholds = {p90};

  config::Module closed;
  closed.name = "closed";
  closed.timeout = absl::Seconds(2);
  closed.burst.vus = 4;
  closed.burst.requests = 60;
  closed.burst.think_time = absl::Microseconds(333);
  // The golden pins the exporter's own families; the blackbox-compatible
  // ones are pinned by metrics_test.cc and compat_metrics_test.cc.
  open.metrics.blackbox_compat = false;
  closed.metrics.blackbox_compat = false;

  const std::string got =
      RunBurst(open, absl::Seconds(10)) + RunBurst(closed, absl::Seconds(4));
  if (std::getenv("CANARY_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden, std::ios::binary) << got;
    GTEST_SKIP() << "rewrote " << kGolden;
  }
  std::ifstream in(kGolden, std::ios::binary);
  ASSERT_TRUE(in.good()) << kGolden;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str());
}

}  // namespace
}  // namespace canary::probes
