// Hostile targets: the real prober (libcurl transport, burst engine) and a
// real exporter Server against targets that misbehave on purpose
// (tests/testing/hostile_server.h). For each: the probe answers inside its
// budget, the failure lands in the result class docs/metrics.md documents,
// and the exporter stays healthy with bounded memory.
//
// Bounds are generous: the machine is a shared two-core box.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/loader.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/prober.h"
#include "probes/result.h"
#include "probes/target.h"
#include "tests/testing/certs.h"
#include "tests/testing/hostile_server.h"
#include "tests/testing/http_client.h"
#include "tests/testing/sanitizers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tls_front.h"

namespace canary::testing {
namespace {

using ::canary::probes::ProbeReport;
using ::canary::probes::ResultClass;
using ::testing::AnyOf;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::Property;

// Per-request timeout and probe budget: short, so the suite stays fast.
constexpr absl::Duration kRequestTimeout = absl::Seconds(1);
constexpr absl::Duration kBudget = absl::Seconds(4);
// How late after its budget a probe may answer on a loaded machine.
constexpr absl::Duration kSlack = absl::Milliseconds(1500);

// Two VUs, four requests, closed model: enough to see every request of a
// burst fail the same way, and kept-alive connections reused.
config::Module HostileModule() {
  config::Module m;
  m.name = "hostile";
  m.timeout = kRequestTimeout;
  m.burst.vus = 2;
  m.burst.requests = 4;
  return m;
}

struct Outcome {
  ProbeReport report;
  absl::Duration elapsed;
};

Outcome RunProbe(const std::string& url,
                 const config::Module& module = HostileModule()) {
  const absl::Time start = absl::Now();
  ProbeReport r = probes::NewHttpProber()->Probe(
      {.target = url, .module = &module, .budget = kBudget});
  return {std::move(r), absl::Now() - start};
}

// The probe_http_requests{result=...} gauge of the answer.
std::optional<double> RequestsGauge(const ProbeReport& r, ResultClass c) {
  for (const prometheus::MetricFamily& f : r.families) {
    if (f.name != "probe_http_requests") continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      for (const prometheus::ClientMetric::Label& l : m.label) {
        if (l.name == "result" && l.value == probes::ResultClassName(c)) {
          return m.gauge.value;
        }
      }
    }
  }
  return std::nullopt;
}

std::string Describe(const ProbeReport& r) {
  std::string out;
  for (const probes::RequestResult& q : r.burst.requests) {
    absl::StrAppend(&out, "\n  ", probes::ResultClassName(q.result()), " ",
                    q.status_code(), " ", r.burst.error(q));
  }
  return out;
}

// The common verdict: answered in budget, failed, and every request (there
// is at least one) classified as `want`, in the metrics too.
void ExpectClassified(const Outcome& o, ResultClass want) {
  const ProbeReport& r = o.report;
  EXPECT_LE(o.elapsed, kBudget + kSlack);
  EXPECT_FALSE(r.success);
  ASSERT_FALSE(r.burst.requests.empty());
  std::vector<std::string> classes;
  for (const probes::RequestResult& q : r.burst.requests) {
    classes.push_back(probes::ResultClassName(q.result()));
  }
  EXPECT_THAT(classes, Each(std::string(probes::ResultClassName(want))))
      << Describe(r);
  EXPECT_EQ(RequestsGauge(r, want),
            static_cast<double>(r.burst.requests.size()));
}

std::unique_ptr<HostileServer> StartOrDie(Hostile h) {
  absl::StatusOr<std::unique_ptr<HostileServer>> s = HostileServer::Start(h);
  EXPECT_THAT(s, IsOk());
  return s.ok() ? *std::move(s) : nullptr;
}

// Resident memory of this process, bytes (VmRSS of /proc/self/status).
int64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    if (!absl::ConsumePrefix(&v, "VmRSS:")) continue;
    v = absl::StripAsciiWhitespace(v);
    absl::ConsumeSuffix(&v, "kB");
    int64_t kb = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &kb)) return kb * 1024;
  }
  return -1;
}

class HostileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_THAT(probes::GlobalInit(), IsOk()); }
};

TEST_F(HostileTest, BaselineWellFormedTargetSucceeds) {
  auto server = StartOrDie(Hostile::kOk);
  ASSERT_NE(server, nullptr);
  Outcome o = RunProbe(server->Url("/"));
  EXPECT_TRUE(o.report.success) << Describe(o.report);
  EXPECT_EQ(RequestsGauge(o.report, ResultClass::kSuccess), 4);
}

TEST_F(HostileTest, RefusedConnectionIsConnect) {
  ASSERT_OK_AND_ASSIGN(int port, UnusedLoopbackPort());
  ExpectClassified(RunProbe(absl::StrCat("http://127.0.0.1:", port, "/")),
                   ResultClass::kConnect);
}

TEST_F(HostileTest, AcceptedButNeverAnsweredIsTimeout) {
  auto server = StartOrDie(Hostile::kNeverAnswer);
  ASSERT_NE(server, nullptr);
  Outcome o = RunProbe(server->Url("/"));
  ExpectClassified(o, ResultClass::kTimeout);
  EXPECT_GE(server->Connections(), 1);
}

TEST_F(HostileTest, HeadersOneByteASecondIsTimeout) {
  auto server = StartOrDie(Hostile::kSlowHeaders);
  ASSERT_NE(server, nullptr);
  Outcome o = RunProbe(server->Url("/"));
  ExpectClassified(o, ResultClass::kTimeout);
  EXPECT_THAT(o.report.burst.requests,
              Each(Property(&probes::RequestResult::status_code, 0)));
}

TEST_F(HostileTest, ResetMidHeadersIsConnect) {
  auto server = StartOrDie(Hostile::kResetMidHeaders);
  ASSERT_NE(server, nullptr);
  ExpectClassified(RunProbe(server->Url("/")), ResultClass::kConnect);
}

TEST_F(HostileTest, ResetMidBodyIsConnect) {
  auto server = StartOrDie(Hostile::kResetMidBody);
  ASSERT_NE(server, nullptr);
  ExpectClassified(RunProbe(server->Url("/")), ResultClass::kConnect);
}

TEST_F(HostileTest, BodyShorterThanContentLengthIsProtocol) {
  auto server = StartOrDie(Hostile::kShortBody);
  ASSERT_NE(server, nullptr);
  Outcome o = RunProbe(server->Url("/"));
  ExpectClassified(o, ResultClass::kProtocol);
  // The 100 bytes that did arrive are counted.
  for (const probes::RequestResult& q : o.report.burst.requests) {
    EXPECT_EQ(q.bytes_received(), 100);
  }
}

TEST_F(HostileTest, TwoGigabyteBodyIsCutByTheTimeoutAndNotKept) {
  auto server = StartOrDie(Hostile::kHugeBody);
  ASSERT_NE(server, nullptr);
  const int64_t rss_before = ResidentBytes();
  config::Module m = HostileModule();
  m.burst.requests = 2;
  Outcome o = RunProbe(server->Url("/"), m);
  const int64_t rss_after = ResidentBytes();
  // 2 GiB cannot cross loopback in one second here; if it ever does the
  // request is a success and its bytes are all counted.
  for (const probes::RequestResult& q : o.report.burst.requests) {
    if (q.result() == ResultClass::kSuccess) {
      EXPECT_EQ(q.bytes_received(), int64_t{2} << 30);
    } else {
      EXPECT_EQ(q.result(), ResultClass::kTimeout) << o.report.burst.error(q);
    }
    // No body_size_limit: counted past the 1 MiB the checks could see, not
    // kept.
    EXPECT_GT(q.bytes_received(), m.http.kept_body_limit());
  }
  EXPECT_LE(o.elapsed, kBudget + kSlack);
  RecordProperty("rss_growth_bytes", std::to_string(rss_after - rss_before));
  EXPECT_LT(rss_after - rss_before, int64_t{64} << 20);
}

TEST_F(HostileTest, TwoMegabyteHeaderIsProtocol) {
  auto server = StartOrDie(Hostile::kHugeHeader);
  ASSERT_NE(server, nullptr);
  ExpectClassified(RunProbe(server->Url("/")), ResultClass::kProtocol);
}

TEST_F(HostileTest, MalformedStatusLineIsProtocol) {
  auto server = StartOrDie(Hostile::kMalformedStatus);
  ASSERT_NE(server, nullptr);
  ExpectClassified(RunProbe(server->Url("/")), ResultClass::kProtocol);
}

TEST_F(HostileTest, GarbageInsteadOfHttpIsProtocol) {
  auto server = StartOrDie(Hostile::kGarbage);
  ASSERT_NE(server, nullptr);
  ExpectClassified(RunProbe(server->Url("/")), ResultClass::kProtocol);
}

TEST_F(HostileTest, BrokenChunkedEncodingIsProtocol) {
  auto server = StartOrDie(Hostile::kBrokenChunked);
  ASSERT_NE(server, nullptr);
  ExpectClassified(RunProbe(server->Url("/")), ResultClass::kProtocol);
}

TEST_F(HostileTest, RedirectLoopIsProtocolAfterMaxRedirects) {
  auto server = StartOrDie(Hostile::kRedirectLoop);
  ASSERT_NE(server, nullptr);
  config::Module m = HostileModule();
  m.http.max_redirects = 5;
  Outcome o = RunProbe(server->Url("/"), m);
  ExpectClassified(o, ResultClass::kProtocol);
  for (const probes::RequestResult& q : o.report.burst.requests) {
    EXPECT_THAT(o.report.burst.error(q), HasSubstr("redirect"));
  }
}

TEST_F(HostileTest, TlsHandshakeAlertIsTls) {
  auto server = StartOrDie(Hostile::kTlsAlert);
  ASSERT_NE(server, nullptr);
  // A one-certificate CA file: parsing the system bundle on a busy machine
  // can by itself outlast a 1 s connect timeout (a timeout, not this test).
  ASSERT_OK_AND_ASSIGN(TestCert ca, MakeSelfSignedCert(1));
  config::Module m = HostileModule();
  m.http.tls.ca_file = ca.cert_path;
  ExpectClassified(
      RunProbe(absl::StrCat("https://127.0.0.1:", server->port(), "/"), m),
      ResultClass::kTls);
}

TEST_F(HostileTest, ExpiredCertificateIsTls) {
  auto backend = StartOrDie(Hostile::kOk);
  ASSERT_NE(backend, nullptr);
  ASSERT_OK_AND_ASSIGN(TestCert cert, MakeExpiredCert());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TlsFront> front,
                       TlsFront::Start(cert.pem_path, backend->port()));
  const std::string url =
      absl::StrCat("https://127.0.0.1:", front->port(), "/");
  config::Module m = HostileModule();
  m.http.tls.ca_file = cert.cert_path;  // trusted, but expired
  Outcome o = RunProbe(url, m);
  ExpectClassified(o, ResultClass::kTls);
  for (const probes::RequestResult& q : o.report.burst.requests) {
    EXPECT_THAT(o.report.burst.error(q), HasSubstr("expired"));
  }
  // The same front without verification works: expiry alone failed it.
  m.http.tls.insecure_skip_verify = true;
  Outcome skip = RunProbe(url, m);
  EXPECT_TRUE(skip.report.success) << Describe(skip.report);
}

TEST_F(HostileTest, ServerErrorStormIsHttpStatus) {
  auto server = StartOrDie(Hostile::kServerErrors);
  ASSERT_NE(server, nullptr);
  config::Module m = HostileModule();
  m.burst.vus = 4;
  m.burst.requests = 200;
  Outcome o = RunProbe(server->Url("/"), m);
  ExpectClassified(o, ResultClass::kHttpStatus);
  EXPECT_EQ(o.report.burst.requests.size(), 200u);
  EXPECT_THAT(o.report.burst.requests,
              Each(Property(&probes::RequestResult::status_code, 503)));
  // Kept alive: four VUs, four connections, not two hundred.
  EXPECT_LE(server->Connections(), 4);
}

TEST_F(HostileTest, UnresolvableNameIsDns) {
  // RFC 6761: .invalid never resolves.
  ExpectClassified(RunProbe("http://canary-hostile-target.invalid/"),
                   ResultClass::kDns);
}

// Memory: every behaviour again, several rounds after a warm-up round; the
// resident set must not grow with the number of hostile probes.
TEST_F(HostileTest, MemoryStaysBoundedAcrossRepeatedHostileProbes) {
  const std::vector<Hostile> kinds = {
      Hostile::kNeverAnswer,  Hostile::kResetMidHeaders,
      Hostile::kResetMidBody, Hostile::kShortBody,
      Hostile::kHugeHeader,   Hostile::kMalformedStatus,
      Hostile::kGarbage,      Hostile::kBrokenChunked,
      Hostile::kRedirectLoop, Hostile::kTlsAlert,
      Hostile::kServerErrors};
  std::vector<std::unique_ptr<HostileServer>> servers;
  std::vector<std::string> urls;
  for (Hostile h : kinds) {
    servers.push_back(StartOrDie(h));
    ASSERT_NE(servers.back(), nullptr);
    urls.push_back(
        h == Hostile::kTlsAlert
            ? absl::StrCat("https://127.0.0.1:", servers.back()->port(), "/")
            : servers.back()->Url("/"));
  }
  config::Module m = HostileModule();
  m.timeout = absl::Milliseconds(300);
  m.burst.requests = 2;
  auto round = [&] {
    // All targets at once, as many scrapes would.
    std::vector<std::thread> threads;
    std::atomic<int> successes{0};
    for (const std::string& url : urls) {
      threads.emplace_back([&, url] {
        if (RunProbe(url, m).report.success) ++successes;
      });
    }
    for (std::thread& t : threads) t.join();
    return successes.load();
  };
  EXPECT_EQ(round(), 0);  // warm-up: libcurl, OpenSSL, thread stacks
  const int64_t before = ResidentBytes();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(round(), 0);
  const int64_t after = ResidentBytes();
  ASSERT_GT(before, 0);
  RecordProperty("rss_before_bytes", std::to_string(before));
  RecordProperty("rss_after_bytes", std::to_string(after));
  EXPECT_LT(after - before, canary::testing::kRssSlack * (int64_t{32} << 20))
      << "before " << before << " after " << after;
}

// The exporter itself, with the real prober, under hostile targets.
class HostileServerTest : public HostileTest {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), IsOk());
    logger_ = new exporter::Logger(&log_sink_, exporter::LogLevel::kError);
    metrics_ = new exporter::SelfMetrics;
    prober_ = probes::NewHttpProber().release();
    // No [security] table: the defaults (only loopback targets, once the
    // allowlist is in) apply.
    auto store = exporter::ConfigStore::Create(
        []() -> absl::StatusOr<config::Config> {
          return config::LoadConfig(
              "[modules.canary]\ntimeout = \"1s\"\n"
              "[modules.canary.burst]\nvus = 2\nrequests = 4\n",
              "hostile.toml");
        },
        "hostile.toml", metrics_);
    ASSERT_THAT(store, IsOk());
    store_ = store->release();
    auto server =
        exporter::Server::Start({.listen_address = "127.0.0.1:0",
                                 .timeout_offset = absl::Milliseconds(500),
                                 .num_threads = 16,
                                 .logger = logger_},
                                prober_, store_, metrics_);
    ASSERT_THAT(server, IsOk());
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete store_;
    delete prober_;
    delete metrics_;
    delete logger_;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static std::string Url(const std::string& path_and_query) {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path_and_query);
  }
  // A /probe with a 3 s scrape timeout (2.5 s budget after the offset).
  static absl::StatusOr<HttpResult> ProbeVia(const std::string& target) {
    return HttpGet(Url(absl::StrCat("/probe?module=canary&target=", target)),
                   {{"X-Prometheus-Scrape-Timeout-Seconds", "3"}},
                   absl::Seconds(10));
  }
  static bool Healthy(absl::Duration within) {
    const absl::Time start = absl::Now();
    absl::StatusOr<HttpResult> r =
        HttpGet(Url("/-/healthy"), {}, absl::Seconds(10));
    return r.ok() && r->status == 200 && absl::Now() - start <= within;
  }

  static inline std::ostringstream log_sink_;
  static inline exporter::Logger* logger_ = nullptr;
  static inline exporter::SelfMetrics* metrics_ = nullptr;
  static inline probes::Prober* prober_ = nullptr;
  static inline exporter::ConfigStore* store_ = nullptr;
  static inline exporter::Server* server_ = nullptr;
};

TEST_F(HostileServerTest, ConcurrentHostileProbesAnswerInBudgetAndStayHealthy) {
  const std::vector<Hostile> kinds = {
      Hostile::kNeverAnswer, Hostile::kSlowHeaders, Hostile::kHugeBody,
      Hostile::kGarbage,     Hostile::kHugeHeader,  Hostile::kRedirectLoop};
  std::vector<std::unique_ptr<HostileServer>> targets;
  for (Hostile h : kinds) {
    targets.push_back(StartOrDie(h));
    ASSERT_NE(targets.back(), nullptr);
  }
  ASSERT_TRUE(Healthy(absl::Seconds(2)));  // also runs curl_global_init
  const int64_t rss_before = ResidentBytes();
  std::vector<absl::StatusOr<HttpResult>> results(kinds.size());
  std::vector<absl::Duration> took(kinds.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kinds.size(); ++i) {
    threads.emplace_back([&, i] {
      const absl::Time start = absl::Now();
      results[i] = ProbeVia(targets[i]->Url("/"));
      took[i] = absl::Now() - start;
    });
  }
  // While every worker burst is stuck on a hostile target, the exporter
  // still answers its own endpoints.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_TRUE(Healthy(absl::Seconds(1)));
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < kinds.size(); ++i) {
    SCOPED_TRACE(HostileName(kinds[i]));
    ASSERT_THAT(results[i], IsOk());
    EXPECT_EQ(results[i]->status, 200);
    EXPECT_THAT(results[i]->body, HasSubstr("probe_success 0\n"));
    EXPECT_THAT(took[i], Le(absl::Seconds(3) + kSlack));
  }
  EXPECT_TRUE(Healthy(absl::Seconds(1)));
  absl::StatusOr<HttpResult> m = HttpGet(Url("/metrics"));
  ASSERT_THAT(m, IsOk());
  EXPECT_THAT(m->body,
              HasSubstr("canary_exporter_probes_total{module=\"canary\","
                        "result=\"failure\"} 6"));
  const int64_t rss_after = ResidentBytes();
  RecordProperty("rss_before_bytes", std::to_string(rss_before));
  RecordProperty("rss_after_bytes", std::to_string(rss_after));
  EXPECT_LT(rss_after - rss_before, int64_t{64} << 20);
}

TEST_F(HostileServerTest, FailureClassesShowInTheProbeAnswer) {
  auto garbage = StartOrDie(Hostile::kGarbage);
  auto storm = StartOrDie(Hostile::kServerErrors);
  ASSERT_NE(garbage, nullptr);
  ASSERT_NE(storm, nullptr);
  absl::StatusOr<HttpResult> g = ProbeVia(garbage->Url("/"));
  ASSERT_THAT(g, IsOk());
  EXPECT_THAT(g->body, HasSubstr("probe_http_requests{result=\"protocol\"} 4"));
  absl::StatusOr<HttpResult> s = ProbeVia(storm->Url("/"));
  ASSERT_THAT(s, IsOk());
  EXPECT_THAT(s->body,
              HasSubstr("probe_http_requests{result=\"http_status\"} 4"));
  EXPECT_THAT(s->body, HasSubstr("probe_http_responses{code=\"503\"} 4"));
  EXPECT_TRUE(Healthy(absl::Seconds(1)));
}

TEST_F(HostileServerTest, RedirectToDisallowedAddressIsRefused) {
  auto server = StartOrDie(Hostile::kRedirectAway);
  ASSERT_NE(server, nullptr);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResult> r = ProbeVia(server->Url("/"));
  ASSERT_THAT(r, IsOk());
  EXPECT_LE(absl::Now() - start, absl::Seconds(3) + kSlack);
  EXPECT_EQ(r->status, 200);  // the first hop was allowed
  EXPECT_THAT(r->body, HasSubstr("probe_success 0\n"));
  EXPECT_THAT(r->body, HasSubstr("probe_http_requests{result=\"success\"} 0"));
  EXPECT_TRUE(Healthy(absl::Seconds(1)));
}

}  // namespace
}  // namespace canary::testing
