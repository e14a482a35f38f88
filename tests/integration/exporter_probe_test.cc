// The whole /probe path with everything real on loopback: the exporter's
// CivetWeb server, the libcurl prober, and a CivetWeb target.
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "config/loader.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/prober.h"
#include "probes/target.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::canary::testing::TargetServer;
using ::testing::HasSubstr;

// 10 VUs, 1 s think time, 3 s: longer than a 2 s scrape allows.
constexpr char kConfig[] = R"(
[modules.canary]
timeout = "2s"
thresholds = ["p(95)<500ms"]
[modules.canary.burst]
vus = 10
think_time = "1s"
duration = "3s"
)";

// The value of an unlabelled sample `name` in an exposition, or -1.
double Sample(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    double v;
    if (parts.size() == 2 && parts[0] == name &&
        absl::SimpleAtod(parts[1], &v)) {
      return v;
    }
  }
  return -1;
}

class ExporterProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), canary::testing::IsOk());
    auto target = TargetServer::Start();
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = target->release();
    logger_ = new exporter::Logger(&log_sink_, exporter::LogLevel::kError);
    metrics_ = new exporter::SelfMetrics;
    auto store = exporter::ConfigStore::Create(
        [] { return config::LoadConfig(kConfig, "test.toml"); }, "test.toml",
        metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    prober_ = probes::NewHttpProber().release();
    auto server = exporter::Server::Start(
        {.listen_address = "127.0.0.1:0", .logger = logger_}, prober_, store_,
        metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete prober_;
    delete store_;
    delete metrics_;
    delete logger_;
    delete target_;
  }

  static std::string ProbeUrl(const std::string& target_path) {
    return absl::StrCat(
        "http://127.0.0.1:", server_->port(),
        "/probe?module=canary&target=", target_->Url(target_path));
  }

  static inline TargetServer* target_ = nullptr;
  static inline std::ostringstream log_sink_;
  static inline exporter::Logger* logger_ = nullptr;
  static inline exporter::SelfMetrics* metrics_ = nullptr;
  static inline exporter::ConfigStore* store_ = nullptr;
  static inline probes::Prober* prober_ = nullptr;
  static inline exporter::Server* server_ = nullptr;
};

TEST_F(ExporterProbeTest, ScrapeTimeoutHeaderBoundsALongerBurst) {
  target_->ResetHits();
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(
      HttpResult r,
      HttpGet(ProbeUrl("/ok"), {{"X-Prometheus-Scrape-Timeout-Seconds", "2"}},
              absl::Seconds(10)));
  const absl::Duration took = absl::Now() - start;
  ASSERT_EQ(r.status, 200) << r.body;
  // The budget is 2 s − 0.5 s; the answer comes inside the scrape timeout.
  EXPECT_LT(took, absl::Seconds(2)) << took;
  EXPECT_DOUBLE_EQ(Sample(r.body, "probe_timeout_seconds"), 1.5);
  EXPECT_EQ(Sample(r.body, "probe_burst_truncated"), 1);
  EXPECT_EQ(Sample(r.body, "probe_success"), 1);
  // The first round of 10 VUs starts at once; the second (~1 s) races the
  // 1.125 s stop on a slow machine; the third (~2 s) never fits.
  const double sent = Sample(r.body, "probe_http_requests_sent");
  EXPECT_GE(sent, 10);
  EXPECT_LE(sent, 20);
  EXPECT_EQ(target_->Hits("/ok"), sent);
}

TEST_F(ExporterProbeTest, WithoutTheHeaderTheWholeBurstRuns) {
  target_->ResetHits();
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(HttpResult r,
                       HttpGet(ProbeUrl("/ok"), {}, absl::Seconds(30)));
  const absl::Duration took = absl::Now() - start;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Sample(r.body, "probe_burst_truncated"), 0);
  EXPECT_EQ(Sample(r.body, "probe_http_requests_sent"), 30);
  EXPECT_GE(took, absl::Seconds(2));
  EXPECT_LT(took, absl::Seconds(4.5));
}

TEST_F(ExporterProbeTest, FailingTargetIsDataNotAnError) {
  ASSERT_OK_AND_ASSIGN(HttpResult r,
                       HttpGet(ProbeUrl("/status?code=503"),
                               {{"X-Prometheus-Scrape-Timeout-Seconds", "1.5"}},
                               absl::Seconds(10)));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Sample(r.body, "probe_success"), 0);
  EXPECT_THAT(r.body, HasSubstr("probe_http_responses{code=\"503\"} 10"));
  EXPECT_THAT(r.body,
              HasSubstr("probe_http_requests{result=\"http_status\"} 10"));
}

}  // namespace
}  // namespace canary
