// The burst end to end on loopback: NewHttpProber() (libcurl transport, burst
// engine, statistics, exposition) against a real CivetWeb TargetServer.
// Bounds on counts and times are generous on purpose: the machine is a
// shared two-core box.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/curl_transport.h"
#include "probes/metric_names.h"
#include "probes/prober.h"
#include "probes/result.h"
#include "probes/stats.h"
#include "probes/target.h"
#include "re2/re2.h"
#include "tests/testing/certs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary::testing {
namespace {

using ::canary::probes::ProbeReport;
using ::canary::probes::ResultClass;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::Le;
using ::testing::Optional;
using ::testing::Property;

// A module sending `requests` requests from `vus` VUs, closed model.
config::Module RequestsModule(int64_t requests, int vus = 1) {
  config::Module m;
  m.name = "test";
  m.burst.vus = vus;
  m.burst.requests = requests;
  return m;
}

ProbeReport RunProbe(const std::string& url, const config::Module& module,
                     absl::Duration budget = absl::Seconds(10)) {
  return probes::NewHttpProber()->Probe(
      {.target = url, .module = &module, .budget = budget});
}

int64_t CountResult(const ProbeReport& r, ResultClass c) {
  return std::count_if(
      r.burst.requests.begin(), r.burst.requests.end(),
      [c](const probes::RequestResult& q) { return q.result() == c; });
}

int64_t CountNewConnections(const ProbeReport& r) {
  return std::count_if(
      r.burst.requests.begin(), r.burst.requests.end(),
      [](const probes::RequestResult& q) { return q.new_connection(); });
}

// The value of the gauge `name`{label="value"}, if the report has it.
std::optional<double> Gauge(const ProbeReport& r, const std::string& name,
                            const std::string& label,
                            const std::string& value) {
  for (const prometheus::MetricFamily& f : r.families) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      for (const prometheus::ClientMetric::Label& l : m.label) {
        if (l.name == label && l.value == value) return m.gauge.value;
      }
    }
  }
  return std::nullopt;
}

// The value of the unlabelled gauge `name`, if the report has it.
std::optional<double> Gauge(const ProbeReport& r, const std::string& name) {
  for (const prometheus::MetricFamily& f : r.families) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      if (m.label.empty()) return m.gauge.value;
    }
  }
  return std::nullopt;
}

// A loopback port nothing listens on: bound, read back, closed.
int RefusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class BurstTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), IsOk());
    auto target = TargetServer::Start();
    ASSERT_THAT(target, IsOk());
    target_ = std::move(target).value().release();
  }
  static void TearDownTestSuite() {
    delete target_;
    target_ = nullptr;
  }
  void SetUp() override { target_->ResetHits(); }

  static TargetServer* target_;
};
TargetServer* BurstTest::target_ = nullptr;

TEST_F(BurstTest, ClosedModelTenVusWithOneSecondThinkMakesAboutThirty) {
  config::Module m;
  m.burst.vus = 10;
  m.burst.think_time = absl::Seconds(1);
  m.burst.duration = absl::Seconds(3);
  const absl::Time start = absl::Now();
  ProbeReport r = RunProbe(target_->Url("/ok"), m);
  const absl::Duration took = absl::Now() - start;

  EXPECT_TRUE(r.success);
  EXPECT_THAT(static_cast<int64_t>(r.burst.requests.size()),
              AllOf(Ge(25), Le(35)));
  EXPECT_EQ(CountResult(r, ResultClass::kSuccess),
            static_cast<int64_t>(r.burst.requests.size()));
  EXPECT_EQ(target_->Hits("/ok"),
            static_cast<int64_t>(r.burst.requests.size()));
  EXPECT_FALSE(r.burst.truncated);
  EXPECT_LT(took, absl::Milliseconds(4500));
  EXPECT_THAT(Gauge(r, probes::kProbeHttpResponses, probes::kLabelCode, "200"),
              Optional(static_cast<double>(r.burst.requests.size())));
}

TEST_F(BurstTest, OpenModelFiftyPerSecondForTwoSecondsPlansOneHundred) {
  config::Module m;
  m.burst.vus = 10;
  m.burst.rate = 50;
  m.burst.duration = absl::Seconds(2);
  ProbeReport r = RunProbe(target_->Url("/ok"), m);

  EXPECT_EQ(r.burst.planned, 100);
  const int64_t sent = static_cast<int64_t>(r.burst.requests.size());
  EXPECT_EQ(sent + r.burst.dropped, 100);
  EXPECT_GE(sent, 95);
  EXPECT_EQ(target_->Hits("/ok"), sent);
  EXPECT_EQ(CountResult(r, ResultClass::kSuccess), sent);
  // Arrivals are paced, not bunched: the last one is due at 1.98 s.
  absl::Duration last_intended;
  for (const auto& q : r.burst.requests) {
    last_intended = std::max(last_intended, q.intended_start());
  }
  EXPECT_GE(last_intended, absl::Milliseconds(1900));
  EXPECT_LT(last_intended, absl::Seconds(2));
}

TEST_F(BurstTest, MedianLatencyOfTwentyMsDelayIsWithinOneMs) {
  ProbeReport r = RunProbe(target_->Url("/delay?ms=20"),
                           RequestsModule(/*requests=*/30, /*vus=*/3));
  ASSERT_EQ(CountResult(r, ResultClass::kSuccess), 30);
  const probes::BurstStats stats = probes::ComputeStats(r.burst);
  ASSERT_EQ(stats.latencies.size(), 30u);
  const double median = probes::Quantile(stats.latencies, 0.5);
  EXPECT_NEAR(median, 0.020, 0.001);
  EXPECT_GE(stats.min, 0.020);  // the target never answers early
}

TEST_F(BurstTest, RefusedPortIsClassifiedConnect) {
  config::Module m = RequestsModule(2);
  ProbeReport r =
      RunProbe(absl::StrCat("http://127.0.0.1:", RefusedPort(), "/ok"), m);
  EXPECT_FALSE(r.success);
  ASSERT_EQ(r.burst.requests.size(), 2u);
  EXPECT_THAT(r.burst.requests, Each(Property(&probes::RequestResult::result,
                                              ResultClass::kConnect)));
  EXPECT_THAT(r.burst.requests,
              Each(Property(&probes::RequestResult::status_code, 0)));
  EXPECT_THAT(
      Gauge(r, probes::kProbeHttpRequests, probes::kLabelResult, "connect"),
      Optional(2.0));
}

TEST_F(BurstTest, BudgetBoundsALongerBurst) {
  config::Module m;
  m.burst.vus = 2;
  m.burst.think_time = absl::Milliseconds(100);
  m.burst.duration = absl::Seconds(3);
  const absl::Time start = absl::Now();
  ProbeReport r = RunProbe(target_->Url("/ok"), m, absl::Milliseconds(1500));
  const absl::Duration took = absl::Now() - start;

  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_LE(r.burst.duration, absl::Milliseconds(1500));
  EXPECT_TRUE(r.burst.truncated);
  // Uncut, 2 VUs pacing at ~100 ms would make ~60 requests in 3 s.
  EXPECT_LT(r.burst.requests.size(), 40u);
  EXPECT_GT(r.burst.requests.size(), 0u);
  EXPECT_THAT(Gauge(r, probes::kProbeBurstTruncated), Optional(1.0));
}

TEST_F(BurstTest, Status500IsHttpStatusAndCountedByCode) {
  ProbeReport r = RunProbe(target_->Url("/status?code=500"), RequestsModule(3));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(CountResult(r, ResultClass::kHttpStatus), 3);
  EXPECT_THAT(r.burst.requests,
              Each(Property(&probes::RequestResult::status_code, 500)));
  EXPECT_THAT(Gauge(r, probes::kProbeHttpResponses, probes::kLabelCode, "500"),
              Optional(3.0));
  EXPECT_THAT(
      Gauge(r, probes::kProbeHttpRequests, probes::kLabelResult, "http_status"),
      Optional(3.0));
}

TEST_F(BurstTest, ValidStatusCodesMakeA500ASuccess) {
  config::Module m = RequestsModule(2);
  m.http.valid_status_codes = {500};
  ProbeReport r = RunProbe(target_->Url("/status?code=500"), m);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(CountResult(r, ResultClass::kSuccess), 2);
}

// libcurl reports a connection closed before any response byte as
// CURLE_GOT_NOTHING ("Empty reply from server"), which the transport calls a
// protocol error: the server accepted the connection, so it is not `connect`.
TEST_F(BurstTest, ConnectionClosedWithoutResponseIsProtocolEmptyReply) {
  ProbeReport r = RunProbe(target_->Url("/close"), RequestsModule(3));
  EXPECT_FALSE(r.success);
  ASSERT_EQ(r.burst.requests.size(), 3u);
  EXPECT_THAT(r.burst.requests, Each(Property(&probes::RequestResult::result,
                                              ResultClass::kProtocol)));
  EXPECT_THAT(r.burst.error(r.burst.requests[0]),
              ::testing::HasSubstr("Empty reply"));
  EXPECT_EQ(target_->Hits("/close"), 3);
}

TEST_F(BurstTest, SlowTargetTimesOutAtTheModuleTimeout) {
  config::Module m = RequestsModule(1);
  m.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  ProbeReport r = RunProbe(target_->Url("/delay?ms=3000"), m);
  const absl::Duration took = absl::Now() - start;

  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kTimeout);
  EXPECT_FALSE(r.success);
  EXPECT_GE(took, absl::Milliseconds(200));
  EXPECT_LT(took, absl::Seconds(1));
}

TEST_F(BurstTest, SlowBodyTimesOutAfterTheHeadersArrived) {
  config::Module m = RequestsModule(1);
  m.timeout = absl::Milliseconds(200);
  ProbeReport r = RunProbe(target_->Url("/slowbody?ms=3000"), m);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kTimeout);
  EXPECT_EQ(r.burst.requests[0].status_code(), 200);  // headers were read
}

TEST_F(BurstTest, ReusedConnectionsOpenAtMostOnePerVu) {
  config::Module m = RequestsModule(/*requests=*/30, /*vus=*/3);
  m.http.reuse_connections = true;
  ProbeReport r = RunProbe(target_->Url("/ok"), m);
  ASSERT_EQ(CountResult(r, ResultClass::kSuccess), 30);
  EXPECT_GE(CountNewConnections(r), 1);
  EXPECT_LE(CountNewConnections(r), 3);
}

TEST_F(BurstTest, WithoutReuseEveryRequestOpensAConnection) {
  config::Module m = RequestsModule(/*requests=*/30, /*vus=*/3);
  m.http.reuse_connections = false;
  ProbeReport r = RunProbe(target_->Url("/ok"), m);
  ASSERT_EQ(CountResult(r, ResultClass::kSuccess), 30);
  EXPECT_EQ(CountNewConnections(r), 30);
  // A fresh connection has a connect phase; a reused one has none.
  for (const auto& q : r.burst.requests) {
    EXPECT_GT(q.phases()[static_cast<int>(probes::Phase::kConnect)],
              absl::ZeroDuration());
  }
}

// body_size_limit fails a larger body (blackbox_exporter's meaning) and
// stops the transfer there rather than reading the rest.
TEST_F(BurstTest, BodyBeyondTheLimitFailsAsBodyTooLarge) {
  config::Module m = RequestsModule(1);
  m.http.body_size_limit = 1000;
  ProbeReport r = RunProbe(target_->Url("/body?bytes=2000000"), m);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kBodyTooLarge);
  EXPECT_GT(r.burst.requests[0].bytes_received(), 1000);
  EXPECT_LT(r.burst.requests[0].bytes_received(), 2000000);
  EXPECT_EQ(r.burst.requests[0].status_code(), 200);
}

// Without body_size_limit no body is too large: the transport counts every
// byte and keeps the first MiB for the checks.
TEST_F(BurstTest, WithoutALimitALargeBodyIsCountedAndChecked) {
  config::Module m = RequestsModule(1);
  const std::string pattern = "^x{1000}";
  m.http.fail_if_body_not_matches_regexp.push_back(
      {.pattern = pattern, .re = std::make_shared<RE2>(pattern)});
  ProbeReport r = RunProbe(target_->Url("/body?bytes=2097152"), m);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kSuccess)
      << r.burst.error(r.burst.requests[0]);
  EXPECT_EQ(r.burst.requests[0].bytes_received(), 2097152);
}

TEST_F(BurstTest, RedirectChainIsFollowedToTheEnd) {
  ProbeReport r = RunProbe(target_->Url("/redirect?n=3"), RequestsModule(1));
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kSuccess);
  EXPECT_EQ(r.burst.requests[0].status_code(), 200);
  EXPECT_EQ(target_->Hits("/redirect"), 4);
  EXPECT_EQ(target_->Hits("/ok"), 1);
}

TEST_F(BurstTest, RedirectLoopIsAProtocolError) {
  config::Module m = RequestsModule(1);
  m.http.max_redirects = 5;
  ProbeReport r = RunProbe(target_->Url("/loop"), m);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kProtocol);
  EXPECT_EQ(target_->Hits("/loop"), 6);  // the first request + 5 redirects
}

TEST_F(BurstTest, HeaderCheckFailsAsValidation) {
  config::Module m = RequestsModule(1);
  const std::string pattern = "^bad$";
  m.http.fail_if_header_matches.push_back(
      {.header = "x-canary",
       .regexp = {.pattern = pattern, .re = std::make_shared<RE2>(pattern)}});
  ProbeReport r = RunProbe(target_->Url("/header?name=X-Canary&value=bad"), m);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kValidation);
  r = RunProbe(target_->Url("/header?name=X-Canary&value=good"), m);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kSuccess);
}

// The per-VU cookie jar, on the target's /login -> /members flow: a cookie
// set on a redirect is sent on the redirected request, and a new iteration
// (every request of a single-request module) starts without the cookies of
// the previous one.
TEST_F(BurstTest, CookieSetOnARedirectIsSentOnTheRedirectedRequest) {
  ProbeReport r = RunProbe(target_->Url("/login"), RequestsModule(1));
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kSuccess)
      << r.burst.error(r.burst.requests[0]);
  EXPECT_EQ(r.burst.requests[0].status_code(), 200);
  EXPECT_EQ(target_->Hits("/members"), 1);
  EXPECT_TRUE(r.success);
}

// Closed model, 2 VUs x 3 iterations each: every iteration logs in afresh;
// a cookie kept from the VU's previous iteration would make /login say 400.
TEST_F(BurstTest, CookiesDoNotLeakIntoTheNextIterationOfAVu) {
  ProbeReport r = RunProbe(target_->Url("/login"),
                           RequestsModule(/*requests=*/6, /*vus=*/2));
  std::vector<int> statuses;
  for (const probes::RequestResult& q : r.burst.requests) {
    statuses.push_back(q.status_code());
  }
  EXPECT_THAT(statuses, ElementsAre(200, 200, 200, 200, 200, 200));
  EXPECT_EQ(target_->Hits("/login"), 6);
  EXPECT_EQ(target_->Hits("/members"), 6);
}

// The transport's side of the seam scenarios use: without new_iteration the
// slot's jar is kept (the second /login carries the session and is
// refused); with it the jar is emptied again.
TEST_F(BurstTest, TransportKeepsTheCookieJarUntilANewIteration) {
  const config::Module m = RequestsModule(3);
  ASSERT_OK_AND_ASSIGN(probes::Target t,
                       probes::ParseTarget(target_->Url("/login")));
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<probes::Transport> transport,
      probes::NewCurlTransport(t, m, /*slots=*/1, RealClock::Get()));
  auto run = [&](uint64_t id, bool new_iteration) {
    EXPECT_THAT(transport->Start({.slot = 0,
                                  .id = id,
                                  .timeout = absl::Seconds(5),
                                  .new_iteration = new_iteration}),
                IsOk());
    std::vector<probes::Completion> done;
    const absl::Time until = absl::Now() + absl::Seconds(6);
    while (done.empty() && absl::Now() < until) {
      EXPECT_THAT(transport->Wait(until, &done), IsOk());
    }
    return done.empty() ? 0 : done[0].status_code;
  };
  EXPECT_EQ(run(1, true), 200);
  EXPECT_EQ(run(2, false), 400);  // same session: /login refuses the cookie
  EXPECT_EQ(run(3, true), 200);
}

class TlsBurstTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), IsOk());
    auto cert = MakeSelfSignedCert(/*days_valid=*/7);
    ASSERT_THAT(cert, IsOk());
    cert_ = new TestCert(*std::move(cert));
    auto target =
        TargetServer::Start({.tls = true, .cert_pem_path = cert_->pem_path});
    ASSERT_THAT(target, IsOk());
    target_ = std::move(target).value().release();
  }
  static void TearDownTestSuite() {
    delete target_;
    target_ = nullptr;
    delete cert_;
    cert_ = nullptr;
  }

  void SetUp() override { target_->ResetHits(); }

  static TestCert* cert_;
  static TargetServer* target_;
};
TestCert* TlsBurstTest::cert_ = nullptr;
TargetServer* TlsBurstTest::target_ = nullptr;

TEST_F(TlsBurstTest, TrustedByCaFileSucceedsAndReportsTheCertExpiry) {
  config::Module m = RequestsModule(2);
  m.http.tls.ca_file = cert_->cert_path;
  ProbeReport r = RunProbe(target_->Url("/ok"), m);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(CountResult(r, ResultClass::kSuccess), 2);
  ASSERT_TRUE(r.burst.earliest_cert_expiry.has_value());
  EXPECT_EQ(absl::ToUnixSeconds(*r.burst.earliest_cert_expiry),
            absl::ToUnixSeconds(cert_->not_after));
  EXPECT_THAT(
      Gauge(r, probes::kProbeSslEarliestCertExpiry),
      Optional(static_cast<double>(absl::ToUnixSeconds(cert_->not_after))));
  // The handshake shows up as a tls phase on the new connection.
  EXPECT_GT(
      r.burst.requests[0].phases()[static_cast<int>(probes::Phase::kTls)] +
          r.burst.requests[1].phases()[static_cast<int>(probes::Phase::kTls)],
      absl::ZeroDuration());
}

TEST_F(TlsBurstTest, InsecureSkipVerifySucceeds) {
  config::Module m = RequestsModule(1);
  m.http.tls.insecure_skip_verify = true;
  ProbeReport r = RunProbe(target_->Url("/ok"), m);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(CountResult(r, ResultClass::kSuccess), 1);
}

// tls.server_name: the transport addresses the server by that name (SNI and
// certificate check) and maps it to the target's own host and port.
TEST_F(TlsBurstTest, ServerNameIsVerifiedAndConnectsToTheTargetsAddress) {
  config::Module m = RequestsModule(2);
  m.http.tls.ca_file = cert_->cert_path;
  m.http.tls.server_name = "localhost";  // in the certificate's SANs
  ProbeReport r = RunProbe(target_->Url("/ok"), m);
  EXPECT_TRUE(r.success) << r.burst.error(r.burst.requests[0]);
  EXPECT_EQ(CountResult(r, ResultClass::kSuccess), 2);
  EXPECT_EQ(target_->Hits("/ok"), 2);

  target_->ResetHits();
  m.http.tls.server_name = "not-in-the-cert.test";  // mapped, never resolved
  r = RunProbe(target_->Url("/ok"), m);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(CountResult(r, ResultClass::kTls), 2)
      << r.burst.error(r.burst.requests[0]);
  EXPECT_EQ(target_->Hits("/ok"), 0);
}

TEST_F(TlsBurstTest, UntrustedCertificateIsTls) {
  ProbeReport r = RunProbe(target_->Url("/ok"), RequestsModule(1));
  EXPECT_FALSE(r.success);
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), ResultClass::kTls)
      << r.burst.error(r.burst.requests[0]);
  EXPECT_EQ(target_->Hits("/ok"), 0);
}

}  // namespace
}  // namespace canary::testing
