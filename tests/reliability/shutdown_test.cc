// Graceful shutdown of the built binary (issue 14 item 2): on SIGTERM or
// SIGINT /-/ready turns 503 at once, a new /probe is refused with 503, the
// bursts in flight run to their end and get their answers, then the process
// exits 0. --shutdown.drain-timeout bounds the wait (exit 1), and a second
// signal ends it at once.
//
// Targets are a CivetWeb server on loopback answering /delay after a fixed
// time, so the bursts are slow on purpose and their length is known.
#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_fixture.h"
#include "tests/testing/exporter_process.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Three sequential requests of `ms` each: a burst of ~3 × ms.
std::string SlowConfig() {
  return R"toml(
[modules.slow]
timeout = "5s"
thresholds = []
[modules.slow.burst]
vus = 1
requests = 3
)toml";
}

// One /probe on its own client thread; Join() waits for its answer.
class ProbeClient {
 public:
  explicit ProbeClient(std::string url)
      : thread_([this, url = std::move(url)] {
          result_ =
              HttpGet(url, {{"X-Prometheus-Scrape-Timeout-Seconds", "10"}},
                      absl::Seconds(30));
        }) {}
  ~ProbeClient() { Join(); }
  const absl::StatusOr<HttpResult>& Join() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  absl::StatusOr<HttpResult> result_ = absl::UnknownError("not run");
  std::thread thread_;  // declared last: starts once result_ exists
};

class ShutdownTest : public ReliabilityTest {
 protected:
  static absl::StatusOr<std::unique_ptr<ExporterProcess>> StartExporter(
      std::vector<std::string> extra = {}) {
    extra.push_back(
        absl::StrCat("--config.file=",
                     WriteConfig("canary_shutdown_test.toml", SlowConfig())));
    return ExporterProcess::Start(Binary(), extra);
  }

  // A /probe of a distinct /delay target (no single flight between them).
  static std::string ProbeUrl(const ExporterProcess& e, int i, int delay_ms) {
    return e.Url(
        absl::StrCat("/probe?module=slow&target=",
                     absl::StrCat("http://127.0.0.1:", target_server()->port(),
                                  "/delay%3Fms%3D", delay_ms, "%26i%3D", i)));
  }

  // canary_exporter_probes_in_flight from /metrics, or -1.
  static int ProbesInFlight(const ExporterProcess& e) {
    absl::StatusOr<HttpResult> r =
        HttpGet(e.Url("/metrics"), {}, absl::Seconds(5));
    if (!r.ok() || r->status != 200) return -1;
    for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
      if (absl::ConsumePrefix(&line, "canary_exporter_probes_in_flight ")) {
        double v = 0;
        if (absl::SimpleAtod(line, &v)) return static_cast<int>(v);
      }
    }
    return -1;
  }

  // Polls until `n` bursts run (bounded); false if they never did.
  static bool AwaitInFlight(const ExporterProcess& e, int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      if (ProbesInFlight(e) >= n) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // Polls /-/ready until it is `status` (bounded).
  static long AwaitReady(const ExporterProcess& e, long status) {
    long last = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      absl::StatusOr<HttpResult> r =
          HttpGet(e.Url("/-/ready"), {}, absl::Seconds(2));
      last = r.ok() ? r->status : -1;
      if (last == status) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return last;
  }

  // A burst that would run ~6 s: the process ends long before it would, with
  // exit 1 and what it abandoned logged. `second_signal`: a second SIGTERM
  // ends the drain; else a drain timeout of 300 ms does.
  static void ExpectAbandoned(ExporterProcess& exporter, ProbeClient& client,
                              bool second_signal, absl::string_view logged) {
    exporter.Signal(SIGTERM);
    if (second_signal) {
      // Sent once the first one is handled (ready turned 503).
      EXPECT_EQ(AwaitReady(exporter, 503), 503);
      exporter.Signal(SIGTERM);
    }
    absl::StatusOr<int> code = exporter.Wait(absl::Seconds(4));
    const absl::StatusOr<HttpResult>& answer = client.Join();
    ASSERT_THAT(code, IsOk()) << exporter.Log();
    EXPECT_EQ(*code, 1);
    EXPECT_THAT(exporter.Log(), HasSubstr(std::string(logged)));
    EXPECT_FALSE(answer.ok() && answer->status == 200);
  }
};

TEST_F(ShutdownTest, SigtermAnswersTenProbesInFlightThenExitsZero) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ExporterProcess> exporter,
                       StartExporter());
  ASSERT_EQ(AwaitReady(*exporter, 200), 200);
  constexpr int kProbes = 10;
  constexpr int kDelayMs = 600;  // bursts of ~1.8 s
  std::vector<std::unique_ptr<ProbeClient>> clients;
  for (int i = 0; i < kProbes; ++i) {
    clients.push_back(
        std::make_unique<ProbeClient>(ProbeUrl(*exporter, i, kDelayMs)));
  }
  const bool all_running = AwaitInFlight(*exporter, kProbes);
  exporter->Signal(SIGTERM);
  const absl::Time signalled = absl::Now();

  // Draining: not ready, new probes refused, still alive and scrapeable.
  EXPECT_EQ(AwaitReady(*exporter, 503), 503);
  absl::StatusOr<HttpResult> late =
      HttpGet(ProbeUrl(*exporter, 99, kDelayMs), {}, absl::Seconds(5));
  ASSERT_THAT(late, IsOk());
  EXPECT_EQ(late->status, 503);
  EXPECT_THAT(late->body, HasSubstr("shutting down"));
  absl::StatusOr<HttpResult> healthy =
      HttpGet(exporter->Url("/-/healthy"), {}, absl::Seconds(5));
  ASSERT_THAT(healthy, IsOk());
  EXPECT_EQ(healthy->status, 200);
  absl::StatusOr<HttpResult> metrics =
      HttpGet(exporter->Url("/metrics"), {}, absl::Seconds(5));
  ASSERT_THAT(metrics, IsOk());
  EXPECT_THAT(metrics->body, HasSubstr("canary_exporter_probe_rejections_total{"
                                       "reason=\"shutting_down\"} 1"));

  ASSERT_TRUE(all_running) << exporter->Log();
  for (int i = 0; i < kProbes; ++i) {
    const absl::StatusOr<HttpResult>& answer = clients[i]->Join();
    ASSERT_THAT(answer, IsOk()) << "probe " << i << "\n" << exporter->Log();
    EXPECT_EQ(answer->status, 200) << "probe " << i;
    // The whole answer: the last family the handler appends is there.
    EXPECT_THAT(answer->body, HasSubstr("\nprobe_success 1\n"))
        << "probe " << i;
    EXPECT_THAT(answer->body, HasSubstr("\nprobe_cached 0\n")) << "probe " << i;
  }
  // Bounded: the bursts' length plus CivetWeb's stop, well inside this.
  ASSERT_OK_AND_ASSIGN(int code, exporter->Wait(absl::Seconds(20)));
  EXPECT_EQ(code, 0) << exporter->Log();
  const std::string log = exporter->Log();
  EXPECT_THAT(log, HasSubstr("msg=\"shutting down\" signal=SIGTERM"));
  EXPECT_THAT(log, HasSubstr("msg=\"waiting for requests in flight\""));
  EXPECT_THAT(log, HasSubstr("msg=stopped"));
  EXPECT_THAT(log, Not(HasSubstr("abandoning")));
  RecordProperty(
      "sigterm_to_exit_ms",
      static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - signalled)));
}

TEST_F(ShutdownTest, SigintDrainsLikeSigterm) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ExporterProcess> exporter,
                       StartExporter());
  ProbeClient client(ProbeUrl(*exporter, 0, 300));
  const bool running = AwaitInFlight(*exporter, 1);
  exporter->Signal(SIGINT);
  const absl::StatusOr<HttpResult>& answer = client.Join();
  ASSERT_TRUE(running) << exporter->Log();
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->status, 200);
  EXPECT_THAT(answer->body, HasSubstr("\nprobe_success 1\n"));
  ASSERT_OK_AND_ASSIGN(int code, exporter->Wait(absl::Seconds(20)));
  EXPECT_EQ(code, 0) << exporter->Log();
  EXPECT_THAT(exporter->Log(), HasSubstr("signal=SIGINT"));
}

TEST_F(ShutdownTest, DrainTimeoutBoundsTheWait) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ExporterProcess> exporter,
                       StartExporter({"--shutdown.drain-timeout=300ms"}));
  ProbeClient client(ProbeUrl(*exporter, 0, 2000));
  ASSERT_TRUE(AwaitInFlight(*exporter, 1)) << exporter->Log();
  ExpectAbandoned(*exporter, client, /*second_signal=*/false,
                  "msg=\"drain timeout passed; abandoning requests in "
                  "flight\" requests=1 drain_timeout=300ms");
}

TEST_F(ShutdownTest, SecondSignalEndsTheDrainAtOnce) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ExporterProcess> exporter,
                       StartExporter());
  ProbeClient client(ProbeUrl(*exporter, 0, 2000));
  ASSERT_TRUE(AwaitInFlight(*exporter, 1)) << exporter->Log();
  ExpectAbandoned(*exporter, client, /*second_signal=*/true,
                  "msg=\"second signal; abandoning requests in flight\" "
                  "signal=SIGTERM requests=1");
}

}  // namespace
}  // namespace canary::testing
