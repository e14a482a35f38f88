// The SSRF allowlist end to end on loopback: the exporter's server, the
// libcurl prober and real targets. A refused target is never sent a byte, a
// redirect to a refused address is stopped, and libcurl's connect-time check
// holds after DNS.
#include "probes/allowlist.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/clock.h"
#include "base/sync.h"
#include "config/loader.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/curl_transport.h"
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
using ::testing::AnyOf;
using ::testing::HasSubstr;

// A TCP listener on any loopback address that counts the connections it
// accepts and answers each with `response` (empty: closes at once).
class Listener {
 public:
  static std::unique_ptr<Listener> Start(const char* ip, std::string response) {
    auto l = std::unique_ptr<Listener>(new Listener(std::move(response)));
    l->fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &addr.sin_addr);
    socklen_t len = sizeof(addr);
    if (l->fd_ < 0 ||
        bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(l->fd_, 16) != 0 ||
        getsockname(l->fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return nullptr;
    }
    l->port_ = ntohs(addr.sin_port);
    l->thread_ = std::thread([p = l.get()] { p->Serve(); });
    return l;
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  explicit Listener(std::string response) : response_(std::move(response)) {}

  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      ++accepted_;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd c{conn, POLLIN, 0};
        if (poll(&c, 1, 2000) <= 0) break;
        ssize_t n = read(conn, buf, sizeof(buf));
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      if (!response_.empty()) {
        (void)!write(conn, response_.data(), response_.size());
      }
      close(conn);
    }
  }

  const std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

std::string Redirect(const std::string& location) {
  return absl::StrCat("HTTP/1.1 302 Found\r\nLocation: ", location,
                      "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

// The value of the sample whose line starts with `series` + " ", or -1.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series + " ")) continue;
    double v;
    if (absl::SimpleAtod(line, &v)) return v;
  }
  return -1;
}

// What a module with one request makes of `url` over the real transport,
// bypassing the handler's check: only the connect-time guard is left.
probes::ProbeReport ProbeDirect(const std::string& url,
                                const probes::Allowlist& allowlist) {
  static const config::Module* const kModule = [] {
    auto* m = new config::Module;
    m->name = "direct";
    m->burst.requests = 1;
    return m;
  }();
  return probes::NewHttpProber()->Probe({.target = url,
                                         .module = kModule,
                                         .budget = absl::Seconds(5),
                                         .allowlist = &allowlist});
}

probes::Allowlist Only(const char* entry) {
  config::SecurityConfig security;
  security.allowed_targets.emplace();
  security.allowed_targets->push_back(*config::ParseAllowedTarget(entry));
  return probes::Allowlist(security);
}

class AllowlistTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), canary::testing::IsOk());
    auto target = TargetServer::Start();
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = target->release();
    logger_ = new exporter::Logger(&log_sink_, exporter::LogLevel::kError);
    metrics_ = new exporter::SelfMetrics;
    auto store = exporter::ConfigStore::Create(
        [] {
          canary::MutexLock lock(&toml_mu_);
          return config::LoadConfig(toml_, "test.toml");
        },
        "test.toml", metrics_);
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

  // Loads a config with one request per probe and `security`.
  static void UseSecurity(const std::string& security) {
    {
      canary::MutexLock lock(&toml_mu_);
      toml_ = absl::StrCat(
          "[modules.canary]\ntimeout = \"2s\"\n[modules.canary.burst]\n"
          "requests = 1\n",
          security);
    }
    ASSERT_THAT(store_->Reload(), canary::testing::IsOk());
  }

  static HttpResult Probe(const std::string& target) {
    absl::StatusOr<HttpResult> r =
        HttpGet(absl::StrCat("http://127.0.0.1:", server_->port(),
                             "/probe?module=canary&target=", target),
                {}, absl::Seconds(10));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(HttpResult{});
  }

  static inline canary::Mutex toml_mu_;
  static inline std::string toml_ ABSL_GUARDED_BY(toml_mu_) =
      "[modules.canary]\n";
  static inline TargetServer* target_ = nullptr;
  static inline std::ostringstream log_sink_;
  static inline exporter::Logger* logger_ = nullptr;
  static inline exporter::SelfMetrics* metrics_ = nullptr;
  static inline exporter::ConfigStore* store_ = nullptr;
  static inline probes::Prober* prober_ = nullptr;
  static inline exporter::Server* server_ = nullptr;
};

TEST_F(AllowlistTest, LoopbackIsAllowedWithoutASecurityTable) {
  UseSecurity("");
  target_->ResetHits();
  HttpResult r = Probe(target_->Url("/ok"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Sample(r.body, "probe_success"), 1) << r.body;
  EXPECT_EQ(target_->Hits("/ok"), 1);
}

TEST_F(AllowlistTest, TargetOutsideTheListIs403AndSentNothing) {
  UseSecurity("[security]\nallowed_targets = [\"10.0.0.0/8\"]\n");
  target_->ResetHits();
  HttpResult r = Probe(target_->Url("/ok"));
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("address 127.0.0.1 is not allowed"));
  EXPECT_EQ(target_->Hits("/ok"), 0);

  absl::StatusOr<HttpResult> m =
      HttpGet(absl::StrCat("http://127.0.0.1:", server_->port(), "/metrics"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GE(Sample(m->body,
                   "canary_exporter_probe_rejections_total{reason="
                   "\"forbidden\"}"),
            1);
}

TEST_F(AllowlistTest, RedirectToARefusedAddressIsStoppedBeforeConnecting) {
  // Both loopback: 127.0.0.1 is allowed, 127.0.0.2 is not.
  std::unique_ptr<Listener> refused = Listener::Start(
      "127.0.0.2", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_NE(refused, nullptr);
  std::unique_ptr<Listener> redirector = Listener::Start(
      "127.0.0.1",
      Redirect(absl::StrCat("http://127.0.0.2:", refused->port(), "/ok")));
  ASSERT_NE(redirector, nullptr);
  UseSecurity("[security]\nallowed_targets = [\"127.0.0.1/32\"]\n");

  HttpResult r =
      Probe(absl::StrCat("http://127.0.0.1:", redirector->port(), "/"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Sample(r.body, "probe_success"), 0);
  EXPECT_EQ(Sample(r.body, "probe_http_requests{result=\"connect\"}"), 1)
      << r.body;
  EXPECT_EQ(redirector->accepted(), 1);
  EXPECT_EQ(refused->accepted(), 0);

  // The Location itself is refused, before libcurl resolves or connects.
  probes::ProbeReport direct =
      ProbeDirect(absl::StrCat("http://127.0.0.1:", redirector->port(), "/"),
                  Only("127.0.0.1/32"));
  ASSERT_EQ(direct.burst.requests.size(), 1u);
  EXPECT_EQ(direct.burst.requests[0].result(), probes::ResultClass::kConnect);
  EXPECT_THAT(direct.burst.error(direct.burst.requests[0]),
              HasSubstr("address 127.0.0.2 is not allowed"));
  EXPECT_THAT(direct.burst.error(direct.burst.requests[0]),
              HasSubstr("(redirect to 127.0.0.2)"));
  EXPECT_EQ(redirector->accepted(), 2);
  EXPECT_EQ(refused->accepted(), 0);
}

TEST_F(AllowlistTest, ConnectTimeCheckRefusesTheResolvedAddress) {
  target_->ResetHits();
  // "localhost" passes as a name; the address libcurl connects to does not.
  probes::ProbeReport r =
      ProbeDirect(absl::StrCat("http://localhost:", target_->port(), "/ok"),
                  Only("10.0.0.0/8"));
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), probes::ResultClass::kConnect);
  // libcurl resolves "localhost" to 127.0.0.1 and ::1 and tries both.
  EXPECT_THAT(r.burst.error(r.burst.requests[0]),
              AnyOf(HasSubstr("address 127.0.0.1 is not allowed"),
                    HasSubstr("address ::1 is not allowed")));
  EXPECT_EQ(target_->Hits("/ok"), 0);

  // The same name under the default list connects.
  r = ProbeDirect(absl::StrCat("http://localhost:", target_->port(), "/ok"),
                  probes::Allowlist());
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), probes::ResultClass::kSuccess)
      << r.burst.error(r.burst.requests[0]);
  EXPECT_EQ(target_->Hits("/ok"), 1);
}

TEST_F(AllowlistTest, RedirectToANameIsCheckedOnTheAddressAfterDns) {
  target_->ResetHits();
  // Allowed: 127.0.0.2 only. The redirect names "localhost" (no pattern), so
  // the Location passes and the connect to 127.0.0.1 is refused.
  std::unique_ptr<Listener> redirector = Listener::Start(
      "127.0.0.2",
      Redirect(absl::StrCat("http://localhost:", target_->port(), "/ok")));
  ASSERT_NE(redirector, nullptr);
  probes::ProbeReport r =
      ProbeDirect(absl::StrCat("http://127.0.0.2:", redirector->port(), "/"),
                  Only("127.0.0.2/32"));
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), probes::ResultClass::kConnect);
  // libcurl resolves "localhost" to 127.0.0.1 and ::1 and tries both.
  EXPECT_THAT(r.burst.error(r.burst.requests[0]),
              AnyOf(HasSubstr("address 127.0.0.1 is not allowed"),
                    HasSubstr("address ::1 is not allowed")));
  EXPECT_EQ(redirector->accepted(), 1);
  EXPECT_EQ(target_->Hits("/ok"), 0);
}

TEST_F(AllowlistTest, RedirectWithinTheSameHostStillWorks) {
  UseSecurity("[security]\nallowed_targets = [\"127.0.0.1/32\"]\n");
  target_->ResetHits();
  HttpResult r = Probe(target_->Url("/redirect?n=2"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Sample(r.body, "probe_success"), 1) << r.body;
  EXPECT_EQ(target_->Hits("/ok"), 1);
}

TEST_F(AllowlistTest, HostPatternAllowsTheNameOnItsPort) {
  target_->ResetHits();
  const std::string url =
      absl::StrCat("http://localhost:", target_->port(), "/ok");
  probes::ProbeReport r = ProbeDirect(
      url, Only(absl::StrCat("localhost:", target_->port()).c_str()));
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), probes::ResultClass::kSuccess)
      << r.burst.error(r.burst.requests[0]);
  r = ProbeDirect(url, Only("localhost:1"));
  ASSERT_EQ(r.burst.requests.size(), 1u);
  EXPECT_EQ(r.burst.requests[0].result(), probes::ResultClass::kConnect);
  EXPECT_EQ(target_->Hits("/ok"), 1);
}

}  // namespace
}  // namespace canary
