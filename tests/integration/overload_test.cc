// Overload: a real exporter (CivetWeb server, libcurl prober) and a real
// CivetWeb target, flooded with concurrent /probe calls under the default
// [server] load limit while a thread reloads the config in a loop. Every answer
// must be 200 or 503, health and /metrics must keep answering, memory must
// stay bounded, and no admitted probe may fail. The figures printed here
// ("overload: ...") are the ones recorded in docs/reliability.md.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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
#include "tests/testing/sanitizers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::canary::testing::TargetServer;

// No [server] table: the default load limit is under test.
constexpr char kConfig[] = R"(
[modules.flood]
timeout = "5s"
burst = { vus = 2, requests = 2 }

[modules.ten]
timeout = "5s"
burst = { vus = 10, requests = 10 }
)";

int64_t VmRssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    if (absl::ConsumePrefix(&v, "VmRSS:")) {
      v = absl::StripAsciiWhitespace(v);
      absl::ConsumeSuffix(&v, " kB");
      int64_t kib = 0;
      if (absl::SimpleAtoi(v, &kib)) return kib;
    }
  }
  return -1;
}

// The value of the sample `series` (name and labels as printed), or -1.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
      double v = 0;
      if (absl::SimpleAtod(line, &v)) return v;
    }
  }
  return -1;
}

// The target goes into /probe's query: its own '&' must not split it.
std::string Escape(const std::string& url) {
  return absl::StrReplaceAll(url, {{"&", "%26"}});
}

struct Timings {
  std::mutex mu;
  std::vector<double> ms;
  int failures = 0;
  void Add(double v, bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    ms.push_back(v);
    if (!ok) ++failures;
  }
  double Quantile(double q) {
    std::lock_guard<std::mutex> lock(mu);
    if (ms.empty()) return -1;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted[static_cast<size_t>(q * (sorted.size() - 1))];
  }
};

class OverloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(probes::GlobalInit().ok());
    ASSERT_OK_AND_ASSIGN(target_, TargetServer::Start({.threads = 64}));
    logger_ = std::make_unique<exporter::Logger>(&log_sink_,
                                                 exporter::LogLevel::kError);
    ASSERT_OK_AND_ASSIGN(
        store_, exporter::ConfigStore::Create(
                    [] { return config::LoadConfig(kConfig, "overload.toml"); },
                    "overload.toml", &metrics_));
    prober_ = probes::NewHttpProber();
    ASSERT_OK_AND_ASSIGN(
        server_, exporter::Server::Start(
                     {.listen_address = "127.0.0.1:0", .logger = logger_.get()},
                     prober_.get(), store_.get(), &metrics_));
    // The first call initializes the test client's libcurl.
    ASSERT_OK_AND_ASSIGN(HttpResult warm, HttpGet(Url("/-/healthy")));
    ASSERT_EQ(warm.status, 200);
  }

  std::string Url(const std::string& path_and_query) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path_and_query);
  }

  // Fires `n` /probe calls at once, `path(i)` being the i-th call's; returns
  // their statuses (-1: no answer) and counts 200s without probe_success 1.
  std::vector<long> Flood(int n, const std::function<std::string(int)>& path,
                          std::atomic<int>* failed_probes) {
    std::vector<long> statuses(n, 0);
    std::latch go(n);
    std::vector<std::thread> clients;
    clients.reserve(n);
    for (int i = 0; i < n; ++i) {
      clients.emplace_back([&, i] {
        const std::string url = Url(path(i));
        go.arrive_and_wait();
        absl::StatusOr<HttpResult> r = HttpGet(url, {}, absl::Seconds(60));
        statuses[i] = r.ok() ? r->status : -1;
        if (r.ok() && r->status == 200 &&
            !absl::StrContains(r->body, "\nprobe_success 1\n")) {
          ++*failed_probes;
        }
      });
    }
    for (std::thread& t : clients) t.join();
    return statuses;
  }

  std::string Self() const {
    absl::StatusOr<HttpResult> r = HttpGet(Url("/metrics"));
    return r.ok() ? r->body : "";
  }

  std::ostringstream log_sink_;
  std::unique_ptr<exporter::Logger> logger_;
  exporter::SelfMetrics metrics_;
  std::unique_ptr<TargetServer> target_;
  std::unique_ptr<exporter::ConfigStore> store_;
  std::unique_ptr<probes::Prober> prober_;
  std::unique_ptr<exporter::Server> server_;
};

TEST_F(OverloadTest, FiveHundredConcurrentProbesGet200Or503AndHealthHolds) {
  constexpr int kClients = 500;
  const int64_t rss_before = VmRssKiB();
  std::atomic<bool> flooding{true};
  Timings health, metrics;
  std::thread watcher([&] {
    while (flooding) {
      for (auto [path, timings] : {std::pair{"/-/healthy", &health},
                                   std::pair{"/metrics", &metrics}}) {
        const absl::Time start = absl::Now();
        absl::StatusOr<HttpResult> r =
            HttpGet(Url(path), {}, absl::Seconds(30));
        timings->Add(absl::ToDoubleMilliseconds(absl::Now() - start),
                     r.ok() && r->status == 200);
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  });
  std::atomic<int> reloads{0}, failed_reloads{0};
  std::thread reloader([&] {
    while (flooding) {
      (store_->Reload().ok() ? reloads : failed_reloads)++;
      absl::SleepFor(absl::Milliseconds(2));
    }
  });

  std::atomic<int> failed_probes{0};
  const absl::Time start = absl::Now();
  // Every 10th call probes one shared target (single flight); the others
  // each probe their own, so the load limit, not sharing, has to hold them.
  std::vector<long> statuses = Flood(
      kClients,
      [this](int i) {
        const std::string t =
            i % 10 == 0 ? target_->Url("/delay?ms=300")
                        : target_->Url(absl::StrCat("/delay?ms=300&i=", i));
        return absl::StrCat("/probe?module=flood&target=", Escape(t));
      },
      &failed_probes);
  const absl::Duration flood_time = absl::Now() - start;
  flooding = false;
  watcher.join();
  reloader.join();
  const int64_t rss_after = VmRssKiB();

  const int ok = std::count(statuses.begin(), statuses.end(), 200);
  const int refused = std::count(statuses.begin(), statuses.end(), 503);
  std::cout << "overload: " << kClients << " probes in "
            << absl::FormatDuration(flood_time) << ": " << ok << " x 200, "
            << refused << " x 503; /-/healthy p50 " << health.Quantile(0.5)
            << " ms, max " << health.Quantile(1) << " ms over "
            << health.ms.size() << " calls; /metrics p50 "
            << metrics.Quantile(0.5) << " ms, max " << metrics.Quantile(1)
            << " ms; " << reloads << " reloads; VmRSS " << rss_before << " -> "
            << rss_after << " KiB; target hits " << target_->Hits("/delay")
            << "\n";

  EXPECT_EQ(ok + refused, kClients)
      << "every answer is 200 or 503; the exporter's log:\n"
      << log_sink_.str();
  EXPECT_GT(refused, 0) << "the default load limit refuses part of the flood";
  EXPECT_GT(ok, 0);
  EXPECT_EQ(failed_probes, 0) << "no admitted probe fails under reloads";
  EXPECT_GT(reloads, 0);
  EXPECT_EQ(failed_reloads, 0);
  EXPECT_GT(health.ms.size(), 0u);
  EXPECT_EQ(health.failures, 0);
  EXPECT_EQ(metrics.failures, 0);
  // Generous: a 2-core machine shared with other builds.
  EXPECT_LT(health.Quantile(1), 10000);
  EXPECT_LT(metrics.Quantile(1), 10000);
  EXPECT_LT(rss_after - rss_before, canary::testing::kRssSlack * 256 * 1024)
      << "KiB";
  // Only admitted bursts reach the target (2 requests each); shared and
  // refused calls send nothing.
  EXPECT_LE(target_->Hits("/delay"), 2 * ok);

  ASSERT_OK_AND_ASSIGN(HttpResult self, HttpGet(Url("/metrics")));
  const double rejected =
      Sample(self.body,
             "canary_exporter_probe_rejections_total{reason=\"max_concurrent_"
             "probes\"}") +
      Sample(self.body,
             "canary_exporter_probe_rejections_total{reason=\"max_inflight_"
             "requests\"}");
  EXPECT_EQ(rejected, refused) << "each 503 is counted by its reason";
  EXPECT_EQ(Sample(self.body, "canary_exporter_probes_in_flight"), 0);
}

TEST_F(OverloadTest, SixtyFourTenVuProbesArePartlyRefusedByDefault) {
  std::atomic<int> failed_probes{0};
  std::vector<long> statuses = Flood(
      64,
      [this](int i) {
        return absl::StrCat(
            "/probe?module=ten&target=",
            Escape(target_->Url(absl::StrCat("/delay?ms=1000&i=", i))));
      },
      &failed_probes);
  const int ok = std::count(statuses.begin(), statuses.end(), 200);
  const int refused = std::count(statuses.begin(), statuses.end(), 503);
  std::cout << "overload: 64 x 10-VU probes: " << ok << " x 200, " << refused
            << " x 503\n";
  EXPECT_EQ(ok + refused, 64);
  EXPECT_GT(ok, 0);
  EXPECT_GT(refused, 0);
  EXPECT_EQ(failed_probes, 0);
  ASSERT_OK_AND_ASSIGN(HttpResult self, HttpGet(Url("/metrics")));
  // 12 bursts of 10 fill 120 of the 128 requests before the 16 probe slots.
  EXPECT_GT(Sample(self.body,
                   "canary_exporter_probe_rejections_total{reason=\"max_"
                   "inflight_requests\"}"),
            0);
}

}  // namespace
}  // namespace canary
