#include "exporter/service/server.h"

#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/sync.h"
#include "exporter/service/admission.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/target.h"
#include "tests/exporter/fake_prober.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpPost;
using ::canary::testing::HttpRequest;
using ::canary::testing::HttpResult;
using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

config::Config TwoModules() {
  config::Config c;
  c.modules["canary"].name = "canary";
  c.modules["canary"].burst.vus = 3;
  c.modules["canary"].burst.requests = 5;
  c.modules["slow<b>"].name = "slow<b>";
  return c;
}

// One server for the suite: CivetWeb's stop costs time.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    logger_ = new Logger(&log_sink_, LogLevel::kError);
    metrics_ = new SelfMetrics;
    prober_ = new FakeProber;
    auto store = ConfigStore::Create(
        []() -> absl::StatusOr<config::Config> {
          canary::MutexLock lock(&loader_mu_);
          return *next_config_;
        },
        "test.toml", metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    auto server = Server::Start({.listen_address = "127.0.0.1:0",
                                 .timeout_offset = absl::Milliseconds(500),
                                 .num_threads = 8,
                                 .logger = logger_},
                                prober_, store_, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete store_;
    delete prober_;
    delete metrics_;
    delete logger_;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    SetNextConfig(TwoModules());
    ASSERT_THAT(store_->Reload(), IsOk());
    prober_->Clear();
    prober_->SetReport(
        FakeProber::Report(true, {probes::ResultClass::kSuccess}));
  }

  static void SetNextConfig(absl::StatusOr<config::Config> c) {
    canary::MutexLock lock(&loader_mu_);
    *next_config_ = std::move(c);
  }
  static std::string Url(const std::string& path_and_query) {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path_and_query);
  }
  static HttpResult Get(const std::string& path,
                        const ::canary::testing::HttpHeaders& headers = {}) {
    absl::StatusOr<HttpResult> r = HttpGet(Url(path), headers);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : HttpResult{};
  }
  static std::string Metrics() { return Get("/metrics").body; }

  static inline std::ostringstream log_sink_;
  static inline Logger* logger_ = nullptr;
  static inline SelfMetrics* metrics_ = nullptr;
  static inline FakeProber* prober_ = nullptr;
  static inline ConfigStore* store_ = nullptr;
  static inline Server* server_ = nullptr;
  static inline canary::Mutex loader_mu_;
  static inline absl::StatusOr<config::Config>* next_config_ =
      new absl::StatusOr<config::Config>(TwoModules());
};

TEST_F(ServerTest, ProbeRunsProberAndAnswersItsFamilies) {
  HttpResult r = Get("/probe?target=127.0.0.1:8080/x&module=canary");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("probe_success 1\n"));
  std::vector<SeenSpec> seen = prober_->Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "http://127.0.0.1:8080/x");  // normalized
  EXPECT_EQ(seen[0].module, "canary");
}

TEST_F(ServerTest, ModuleDefaultsToCanary) {
  EXPECT_EQ(Get("/probe?target=http%3A%2F%2F127.0.0.1%3A9%2F").status, 200);
  ASSERT_EQ(prober_->Seen().size(), 1u);
  EXPECT_EQ(prober_->Seen()[0].module, "canary");
  EXPECT_EQ(prober_->Seen()[0].target, "http://127.0.0.1:9/");
}

TEST_F(ServerTest, FailingTargetIsStill200) {
  prober_->SetReport(
      FakeProber::Report(false, {probes::ResultClass::kConnect}));
  HttpResult r = Get("/probe?target=http://127.0.0.1:9");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("probe_success 0\n"));
}

TEST_F(ServerTest, BudgetComesFromScrapeTimeoutHeader) {
  Get("/probe?target=http://127.0.0.1:9",
      {{"X-Prometheus-Scrape-Timeout-Seconds", "10"}});
  Get("/probe?target=http://127.0.0.1:9");
  std::vector<SeenSpec> seen = prober_->Seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].budget, absl::Milliseconds(9500));
  EXPECT_EQ(seen[1].budget, absl::Milliseconds(119500));
}

struct BadProbe {
  std::string query;
  ::canary::testing::HttpHeaders headers;
  std::string message;
};

TEST_F(ServerTest, BadProbeRequestsAre400WithOneLineReason) {
  const BadProbe cases[] = {
      {"/probe", {}, "target parameter is missing\n"},
      {"/probe?module=canary", {}, "target parameter is missing\n"},
      {"/probe?target=", {}, "target parameter is missing\n"},
      {"/probe?target=http://127.0.0.1:9&module=nope",
       {},
       "unknown module \"nope\"\n"},
      {"/probe?target=http://127.0.0.1:9",
       {{"X-Prometheus-Scrape-Timeout-Seconds", "abc"}},
       "invalid X-Prometheus-Scrape-Timeout-Seconds \"abc\"\n"},
  };
  for (const BadProbe& c : cases) {
    HttpResult r = Get(c.query, c.headers);
    EXPECT_EQ(r.status, 400) << c.query;
    EXPECT_EQ(r.body, c.message) << c.query;
    EXPECT_EQ(r.Header("Content-Type"), "text/plain; charset=utf-8");
  }
  EXPECT_TRUE(prober_->Seen().empty());
  EXPECT_THAT(Metrics(), ::testing::ContainsRegex(
                             "canary_exporter_probe_rejections_total\\{"
                             "reason=\"bad_request\"\\} [1-9][0-9]*\n"));
}

TEST_F(ServerTest, UnparsableTargetIs400WithNormalizeTargetMessage) {
  absl::StatusOr<std::string> want = probes::NormalizeTarget("ftp://x");
  ASSERT_FALSE(want.ok());
  HttpResult r = Get("/probe?target=ftp://x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, absl::StrCat(want.status().message(), "\n"));
}

TEST_F(ServerTest, ProbeUpdatesSelfMetrics) {
  prober_->SetReport(FakeProber::Report(
      true, {probes::ResultClass::kSuccess, probes::ResultClass::kTimeout}));
  Get("/probe?target=http://127.0.0.1:9&module=slow%3Cb%3E");
  const std::string text = Metrics();
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_total{module=\"slow<b>\","
                              "result=\"success\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("canary_exporter_probe_requests_total{module=\"slow<b>"
                        "\",result=\"timeout\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_in_flight 0\n"));
  EXPECT_THAT(text, HasSubstr("process_open_fds "));
}

TEST_F(ServerTest, ConcurrentProbesRunInParallelAndShowInFlight) {
  prober_->Close();
  std::vector<std::thread> clients;
  std::vector<long> statuses(3, 0);
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([i, &statuses] {
      // Distinct targets: the same one would share a single burst.
      absl::StatusOr<HttpResult> r =
          HttpGet(Url(absl::StrCat("/probe?target=http://127.0.0.1:9/", i)));
      statuses[i] = r.ok() ? r->status : -1;
    });
  }
  // All three wait inside the prober at once; /metrics is still served.
  const bool all_in_flight = prober_->AwaitSeen(3, absl::Seconds(60));
  const std::string during = Metrics();
  prober_->Open();
  for (std::thread& t : clients) t.join();
  EXPECT_TRUE(all_in_flight);
  EXPECT_THAT(during, HasSubstr("canary_exporter_probes_in_flight 3\n"));
  EXPECT_THAT(statuses, ::testing::Each(200));
  EXPECT_THAT(Metrics(), HasSubstr("canary_exporter_probes_in_flight 0\n"));
}

TEST_F(ServerTest, HealthAndReadyAnswerOK) {
  for (const char* path : {"/-/healthy", "/-/ready"}) {
    HttpResult r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "OK\n") << path;
  }
}

TEST_F(ServerTest, UnknownPathIs404) {
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Get("/probe/extra").status, 404);
  EXPECT_EQ(Get("/metrics.txt").status, 404);
}

TEST_F(ServerTest, GetReloadIs405WithAllowPost) {
  HttpResult r = Get("/-/reload");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("Allow"), "POST");
}

TEST_F(ServerTest, PostToProbeIs405) {
  ASSERT_OK_AND_ASSIGN(HttpResult r,
                       HttpPost(Url("/probe?target=http://127.0.0.1:9")));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("Allow"), "GET, HEAD");
  EXPECT_TRUE(prober_->Seen().empty());
}

TEST_F(ServerTest, ReloadSuccessSwapsModules) {
  config::Config c;
  c.modules["fresh"].name = "fresh";
  SetNextConfig(c);
  ASSERT_OK_AND_ASSIGN(HttpResult r, HttpPost(Url("/-/reload")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Get("/probe?target=http://127.0.0.1:9&module=fresh").status, 200);
  EXPECT_EQ(Get("/probe?target=http://127.0.0.1:9&module=canary").body,
            "unknown module \"canary\"\n");
  EXPECT_THAT(Metrics(),
              HasSubstr("canary_exporter_config_last_reload_successful 1\n"));
}

TEST_F(ServerTest, ReloadFailureIs500AndKeepsOldConfig) {
  SetNextConfig(absl::InvalidArgumentError("test.toml:3:7: modules.x: bad"));
  ASSERT_OK_AND_ASSIGN(HttpResult r, HttpPost(Url("/-/reload")));
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, HasSubstr("test.toml:3:7: modules.x: bad"));
  EXPECT_THAT(Metrics(),
              HasSubstr("canary_exporter_config_last_reload_successful 0\n"));
  EXPECT_EQ(Get("/probe?target=http://127.0.0.1:9&module=canary").status, 200);
}

TEST_F(ServerTest, LandingPageListsModulesEscaped) {
  HttpResult r = Get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(r.body,
              HasSubstr("<td>canary</td><td>3 VUs, up to 5 requests</td>"));
  EXPECT_THAT(r.body, HasSubstr("slow&lt;b&gt;"));
  EXPECT_THAT(r.body, HasSubstr("href=\"/metrics\""));
  EXPECT_THAT(r.body, HasSubstr("href=\"/-/healthy\""));
  EXPECT_THAT(r.body, HasSubstr(absl::StrCat(
                          "href=\"/probe?target=http://127.0.0.1:",
                          server_->port(), "/-/healthy&amp;module=canary\"")));
}

TEST_F(ServerTest, HeadHasNoBody) {
  ASSERT_OK_AND_ASSIGN(HttpResult r, HttpRequest("HEAD", Url("/-/healthy"), "",
                                                 {}, absl::Seconds(10)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST(ServerStartTest, BadAddressIsInvalidArgument) {
  FakeProber prober;
  SelfMetrics metrics;
  auto store = ConfigStore::Create(
      [] { return absl::StatusOr<config::Config>(TwoModules()); }, "t",
      nullptr);
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT(Server::Start({.listen_address = "127.0.0.1"}, &prober,
                            store->get(), &metrics),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid listen address \"127.0.0.1\"")));
  EXPECT_THAT(Server::Start({.listen_address = "127.0.0.1:99999"}, &prober,
                            store->get(), &metrics),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("99999")));
}

TEST(ServerStartTest, PortInUseIsUnavailableWithReason) {
  FakeProber prober;
  SelfMetrics metrics;
  std::ostringstream sink;
  Logger logger(&sink);
  auto store = ConfigStore::Create(
      [] { return absl::StatusOr<config::Config>(TwoModules()); }, "t",
      nullptr);
  ASSERT_THAT(store, IsOk());
  ASSERT_OK_AND_ASSIGN(auto first,
                       Server::Start({.listen_address = "127.0.0.1:0",
                                      .num_threads = 2,
                                      .logger = &logger},
                                     &prober, store->get(), &metrics));
  const std::string taken = absl::StrCat("127.0.0.1:", first->port());
  EXPECT_THAT(
      Server::Start(
          {.listen_address = taken, .num_threads = 2, .logger = &logger},
          &prober, store->get(), &metrics),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("cannot listen on " + taken + ": ")));
  // Stopping is fast because the stop wakes CivetWeb's poll.
  const absl::Time t0 = absl::Now();
  first->Stop();
  EXPECT_LT(absl::Now() - t0, absl::Milliseconds(1900));
}

// Without num_threads the pool follows the config: one worker per
// concurrent probe plus the spares; a reload past it is logged.
TEST(ServerStartTest, PoolFollowsMaxConcurrentProbesAndReloadPastItWarns) {
  FakeProber prober;
  SelfMetrics metrics;
  std::ostringstream sink;
  Logger logger(&sink);
  config::Config config = TwoModules();
  config.server.max_concurrent_probes = 3;
  canary::Mutex mu;
  auto store = ConfigStore::Create(
      [&]() -> absl::StatusOr<config::Config> {
        canary::MutexLock lock(&mu);
        return config;
      },
      "t", nullptr);
  ASSERT_THAT(store, IsOk());
  ASSERT_OK_AND_ASSIGN(
      auto server,
      Server::Start({.listen_address = "127.0.0.1:0", .logger = &logger},
                    &prober, store->get(), &metrics));
  EXPECT_EQ(server->num_threads(), 3 + kSpareWorkerThreads);
  const std::string reload =
      absl::StrCat("http://127.0.0.1:", server->port(), "/-/reload");
  ASSERT_OK_AND_ASSIGN(HttpResult same, HttpPost(reload));
  EXPECT_EQ(same.status, 200);
  EXPECT_THAT(sink.str(), Not(HasSubstr("worker pool too small")));
  {
    canary::MutexLock lock(&mu);
    config.server.max_concurrent_probes = 40;
  }
  ASSERT_OK_AND_ASSIGN(HttpResult grown, HttpPost(reload));
  EXPECT_EQ(grown.status, 200);
  EXPECT_THAT(sink.str(), HasSubstr("worker pool too small"));
  EXPECT_THAT(sink.str(), HasSubstr("max_concurrent_probes = 40 needs 48"));
}

// Its own server: the suite's shared one must stay ready.
TEST(ServerShutdownTest, InFlightCountsUntilTheAnswerIsWritten) {
  std::ostringstream log;
  Logger logger(&log, LogLevel::kError);
  SelfMetrics metrics;
  FakeProber prober;
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<ConfigStore> store,
      ConfigStore::Create(
          []() -> absl::StatusOr<config::Config> { return TwoModules(); },
          "test.toml", &metrics));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Server> server,
                       Server::Start({.listen_address = "127.0.0.1:0",
                                      .num_threads = 4,
                                      .logger = &logger},
                                     &prober, store.get(), &metrics));
  const std::string base = absl::StrCat("http://127.0.0.1:", server->port());
  EXPECT_EQ(server->InFlight(), 0);
  prober.Close();
  absl::StatusOr<HttpResult> answer = absl::UnknownError("not run");
  std::thread client(
      [&] { answer = HttpGet(base + "/probe?target=http://127.0.0.1:9/"); });
  const bool held = prober.AwaitSeen(1, absl::Seconds(60));
  const int in_flight = server->InFlight();
  server->BeginShutdown();
  absl::StatusOr<HttpResult> ready = HttpGet(base + "/-/ready");
  absl::StatusOr<HttpResult> late =
      HttpGet(base + "/probe?target=http://127.0.0.1:9/late");
  prober.Open();
  client.join();
  EXPECT_TRUE(held);
  EXPECT_EQ(in_flight, 1);
  ASSERT_THAT(ready, IsOk());
  EXPECT_EQ(ready->status, 503);
  ASSERT_THAT(late, IsOk());
  EXPECT_EQ(late->status, 503);
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->status, 200);
  EXPECT_THAT(answer->body, HasSubstr("probe_success 1"));
  // The client has its answer, so the count is down (the after-send work
  // may still be finishing for an instant).
  for (int i = 0; i < 500 && server->InFlight() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(server->InFlight(), 0);
  server->Stop();
}

}  // namespace
}  // namespace canary::exporter
