// The exporter's own port under idle, slow and malformed clients (issue 14
// items 1 and 5), against the BUILT binary: real processes, real sockets,
// loopback only. Flood sources are other loopback addresses (127.0.0.2 and
// up), so the per-client limit applies to them and not to the fresh client
// on 127.0.0.1, as it would for an attacker and Prometheus in a cluster.
//
// The one timed bound, "answered within 1 s", is the functional bound the
// issue names (before the front listener, 24 idle sockets made the exporter
// answer nothing for 30 s); speed goals live in bench/edge.sh.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certs.h"
#include "tests/testing/http_client.h"
#include "tests/testing/https_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::canary::testing::HttpsGet;
using ::canary::testing::TargetServer;
using ::canary::testing::TestCert;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kIdle = 2000;
constexpr int kSlow = 200;
constexpr int kIdleSources = 8;  // 127.0.0.2..9: 250 each
constexpr absl::Duration kHold = absl::Seconds(20);
constexpr absl::Duration kAnswerBound = absl::Seconds(1);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The built exporter, started with `toml` on 127.0.0.1:0.
class Exporter {
 public:
  static std::unique_ptr<Exporter> Start(const std::string& dir,
                                         const std::string& toml) {
    auto e = std::unique_ptr<Exporter>(new Exporter);
    const std::string config = dir + "/config.toml";
    e->log_ = dir + "/exporter.log";
    std::ofstream(config) << toml;
    e->pid_ = fork();
    if (e->pid_ == 0) {
      const int fd = open(e->log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 2);
      dup2(fd, 1);
      const std::string config_flag = "--config.file=" + config;
      execl(CANARY_EXPORTER_BINARY, CANARY_EXPORTER_BINARY, config_flag.c_str(),
            "--web.listen-address=127.0.0.1:0", static_cast<char*>(nullptr));
      _exit(127);
    }
    static const std::string kListening = "msg=listening address=127.0.0.1:";
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (absl::Now() < until) {
      const std::string log = ReadFile(e->log_);
      const size_t at = log.find(kListening);
      if (at != std::string::npos) {
        const size_t start = at + kListening.size();
        const size_t end = log.find_first_not_of("0123456789", start);
        if (end != std::string::npos &&
            absl::SimpleAtoi(log.substr(start, end - start), &e->port_)) {
          return e;
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << "the exporter did not start: " << ReadFile(e->log_);
    return nullptr;
  }

  ~Exporter() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  int port() const { return port_; }
  std::string log() const { return ReadFile(log_); }

 private:
  Exporter() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
};

// A TCP connection from `source` (a loopback address) to 127.0.0.1:port.
int Connect(int port, const std::string& source) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Whatever arrives within `wait` until the peer closes; "" on timeout.
struct Received {
  std::string bytes;
  bool closed = false;
};
Received ReadUntilClosed(int fd, absl::Duration wait) {
  Received r;
  const absl::Time until = absl::Now() + wait;
  char buf[4096];
  while (absl::Now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1,
             static_cast<int>(
                 absl::ToInt64Milliseconds(until - absl::Now()))) <= 0) {
      break;
    }
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      r.closed = true;
      break;
    }
    r.bytes.append(buf, static_cast<size_t>(n));
  }
  return r;
}

// A value of the exporter's /metrics, e.g.
// `canary_exporter_http_connections_shed_total{reason="per_client"}`; -1
// when absent.
double MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  const size_t start = at + series.size() + 2;
  double v = -1;
  (void)absl::SimpleAtod(text.substr(start, text.find('\n', start) - start),
                         &v);
  return v;
}

class EdgeFloodTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // 2 × 2200 flood sockets plus the exporters' own: raise the soft limit.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    signal(SIGPIPE, SIG_IGN);
    (void)HttpGet("http://127.0.0.1:1/");  // curl_global_init before threads
  }

  void SetUp() override {
    char tmpl[] = "/tmp/edge_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_OK_AND_ASSIGN(target_, TargetServer::Start());
    ASSERT_OK_AND_ASSIGN(cert_, testing::MakeSelfSignedCert(1));
  }

  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  static std::string Module() { return "[modules.canary]\ntimeout = \"1s\"\n"; }

  std::string dir_;
  std::unique_ptr<TargetServer> target_;
  TestCert cert_;
};

// Fresh requests on 127.0.0.1, timed; https when `ca_file` is set.
struct Fresh {
  int port = 0;
  std::string ca_file;
  std::string target;  // the /probe target

  absl::StatusOr<HttpResult> Get(const std::string& path) const {
    const std::string scheme = ca_file.empty() ? "http" : "https";
    const std::string url = absl::StrCat(scheme, "://127.0.0.1:", port, path);
    if (ca_file.empty()) return HttpGet(url, {}, absl::Seconds(5));
    testing::TlsClientOptions options;
    options.ca_file = ca_file;
    options.timeout = absl::Seconds(5);
    return HttpsGet(url, options);
  }
};

TEST_F(EdgeFloodTest,
       IdleAndSlowlorisFloodsDoNotDelayFreshRequestsOnPlainAndTls) {
  // The head timeout is raised above the hold so that the flood really is
  // held for all of it: what keeps the port answering is the design, not
  // the timeout.
  const std::string limits = "request_head_timeout = \"60s\"\n";
  const std::string plain_dir = dir_ + "/plain";
  const std::string tls_dir = dir_ + "/tls";
  mkdir(plain_dir.c_str(), 0700);
  mkdir(tls_dir.c_str(), 0700);
  auto plain = Exporter::Start(plain_dir, "[web]\n" + limits + Module());
  auto tls = Exporter::Start(
      tls_dir, absl::StrCat("[web]\ntls_cert_file = \"", cert_.cert_path,
                            "\"\ntls_key_file = \"", cert_.key_path, "\"\n",
                            limits, Module()));
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(tls, nullptr);

  std::vector<int> fds;
  // Idle: connect and send nothing (over TLS: not even a ClientHello).
  for (Exporter* e : {plain.get(), tls.get()}) {
    for (int i = 0; i < kIdle; ++i) {
      const int fd =
          Connect(e->port(), absl::StrCat("127.0.0.", 2 + i % kIdleSources));
      ASSERT_GE(fd, 0) << "idle connection " << i << ": " << strerror(errno);
      fds.push_back(fd);
    }
  }
  // Slowloris: the start of a request head, then a header byte a second.
  const std::string start = "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  std::vector<int> slow_plain;
  for (int i = 0; i < kSlow; ++i) {
    const int fd = Connect(plain->port(), "127.0.0.10");
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, start.data(), start.size()),
              static_cast<ssize_t>(start.size()));
    slow_plain.push_back(fd);
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  std::vector<SSL*> slow_tls;
  for (int i = 0; i < kSlow; ++i) {
    const int fd = Connect(tls->port(), "127.0.0.10");
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ASSERT_EQ(SSL_connect(ssl), 1) << "slowloris TLS handshake " << i;
    ASSERT_EQ(SSL_write(ssl, start.data(), static_cast<int>(start.size())),
              static_cast<int>(start.size()));
    slow_tls.push_back(ssl);
  }
  std::atomic<bool> done{false};
  std::thread dribble([&] {
    while (!done.load()) {
      for (int fd : slow_plain) (void)!write(fd, "a", 1);
      for (SSL* ssl : slow_tls) SSL_write(ssl, "a", 1);
      for (int i = 0; i < 10 && !done.load(); ++i) {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
  });

  const Fresh fresh_plain{
      .port = plain->port(), .ca_file = "", .target = target_->Url("/ok")};
  const Fresh fresh_tls{.port = tls->port(),
                        .ca_file = cert_.cert_path,
                        .target = target_->Url("/ok")};
  int rounds = 0;
  absl::Duration slowest;
  std::string slowest_what;
  const absl::Time until = absl::Now() + kHold;
  while (absl::Now() < until) {
    for (const Fresh* f : {&fresh_plain, &fresh_tls}) {
      for (const std::string& path :
           {std::string("/-/healthy"), std::string("/metrics"),
            absl::StrCat("/probe?module=canary&target=", f->target)}) {
        const std::string what =
            absl::StrCat(f->ca_file.empty() ? "http " : "https ", path);
        const absl::Time t0 = absl::Now();
        absl::StatusOr<HttpResult> r = f->Get(path);
        const absl::Duration took = absl::Now() - t0;
        ASSERT_TRUE(r.ok())
            << what << " round " << rounds << ": " << r.status();
        EXPECT_EQ(r->status, 200) << what << ": " << r->body;
        EXPECT_LT(took, kAnswerBound) << what << " round " << rounds;
        if (path.rfind("/probe", 0) == 0) {
          EXPECT_THAT(r->body, HasSubstr("\nprobe_success 1")) << what;
        }
        if (took > slowest) {
          slowest = took;
          slowest_what = what;
        }
      }
    }
    ++rounds;
    absl::SleepFor(absl::Milliseconds(500));
  }
  // The flood was held, not shed: every connection still waits for its head.
  for (const Fresh* f : {&fresh_plain, &fresh_tls}) {
    ASSERT_OK_AND_ASSIGN(HttpResult m, f->Get("/metrics"));
    EXPECT_GE(
        MetricValue(m.body, "canary_exporter_http_connections_awaiting_head"),
        kIdle + kSlow)
        << (f->ca_file.empty() ? "http" : "https");
    for (const char* reason :
         {"per_client", "max_connections", "head_timeout", "bad_request"}) {
      EXPECT_EQ(MetricValue(m.body, absl::StrCat("canary_exporter_http_"
                                                 "connections_shed_total{"
                                                 "reason=\"",
                                                 reason, "\"}")),
                0)
          << reason;
    }
  }
  done.store(true);
  dribble.join();
  std::cout << "[ figures ] " << rounds << " rounds of 6 fresh requests during "
            << kHold << " of " << kIdle << " idle + " << kSlow
            << " slowloris connections per port; slowest " << slowest_what
            << " " << slowest << "\n";
  EXPECT_GE(rounds, 5);
  for (SSL* ssl : slow_tls) SSL_free(ssl);
  SSL_CTX_free(ctx);
  for (int fd : slow_plain) close(fd);
  for (int fd : fds) close(fd);
}

// Small limits, to see each one act and be counted.
class EdgeLimitsTest : public EdgeFloodTest {
 protected:
  void StartExporter(const std::string& web) {
    exporter_ = Exporter::Start(dir_, "[web]\n" + web + Module());
    ASSERT_NE(exporter_, nullptr);
  }
  double Shed(const std::string& reason) {
    absl::StatusOr<HttpResult> m = HttpGet(
        absl::StrCat("http://127.0.0.1:", exporter_->port(), "/metrics"));
    if (!m.ok()) return -2;
    return MetricValue(
        m->body,
        absl::StrCat("canary_exporter_http_connections_shed_total{reason=\"",
                     reason, "\"}"));
  }
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(EdgeLimitsTest, OverThePerClientLimitTheClientsOldestIdleIsClosed) {
  StartExporter("max_connections_per_client = 4\n");
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i)
    fds.push_back(Connect(exporter_->port(), "127.0.0.2"));
  // The first is closed to make room for the fifth; the others stay.
  EXPECT_TRUE(ReadUntilClosed(fds[0], absl::Seconds(5)).closed);
  EXPECT_FALSE(ReadUntilClosed(fds[4], absl::Milliseconds(200)).closed);
  // A client with nothing to shed from another address is unaffected.
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpGet(absl::StrCat("http://127.0.0.1:", exporter_->port(),
                                         "/-/healthy")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Shed("per_client"), 1);
  for (int fd : fds) close(fd);
}

TEST_F(EdgeLimitsTest, OverMaxConnectionsTheOldestIdleIsClosedNotTheNewcomer) {
  StartExporter("max_connections = 6\n");
  std::vector<int> fds;
  for (int i = 0; i < 6; ++i) {
    fds.push_back(Connect(exporter_->port(), absl::StrCat("127.0.0.", 2 + i)));
  }
  // A seventh connection (a fresh request) is served; the oldest idle goes.
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpGet(absl::StrCat("http://127.0.0.1:", exporter_->port(),
                                         "/-/healthy")));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(ReadUntilClosed(fds[0], absl::Seconds(5)).closed);
  EXPECT_GE(Shed("max_connections"), 1);
  for (int fd : fds) close(fd);
}

TEST_F(EdgeLimitsTest, AHeadNotCompleteInTimeIsClosedAndCounted) {
  StartExporter("request_head_timeout = \"1s\"\n");
  const int idle = Connect(exporter_->port(), "127.0.0.2");
  const int slow = Connect(exporter_->port(), "127.0.0.3");
  ASSERT_EQ(write(slow, "GET / HTTP/1.1\r\nHost", 20), 20);
  // Closed after about 1 s; 10 s is the bound of this test, not a speed goal.
  EXPECT_TRUE(ReadUntilClosed(idle, absl::Seconds(10)).closed);
  const Received r = ReadUntilClosed(slow, absl::Seconds(10));
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.bytes, "");
  EXPECT_EQ(Shed("head_timeout"), 2);
  close(idle);
  close(slow);
}

// Raw request heads and what comes back.
Received Exchange(int port, const std::string& bytes) {
  const int fd = Connect(port, "127.0.0.2");
  if (fd < 0) return {};
  (void)!write(fd, bytes.data(), bytes.size());
  Received r = ReadUntilClosed(fd, absl::Seconds(5));
  close(fd);
  return r;
}

TEST_F(EdgeLimitsTest, BareHttp09LineIsAnsweredAtOnceNotHeld) {
  StartExporter("");
  // CivetWeb held this line 30 s waiting for headers that never come.
  const Received r = Exchange(exporter_->port(), "GET /-/healthy\r\n");
  EXPECT_TRUE(r.closed) << "still open after 5 s";
  EXPECT_THAT(r.bytes, ::testing::StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_EQ(Shed("bad_request"), 1);
}

TEST_F(EdgeLimitsTest, MalformedRequestLinesAndHeadersGetOurOwn400) {
  StartExporter("");
  const std::string marker = "<script>evil()</script>";
  for (const std::string& head : {
           marker + " / HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1" + marker + "\r\n\r\n",
           "GET /\x01" + marker + " HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1\r\n" + marker + "\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\x01" + marker + "\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\n folded" + marker + "\r\n\r\n",
       }) {
    const Received r = Exchange(exporter_->port(), head);
    EXPECT_TRUE(r.closed) << head;
    EXPECT_EQ(r.bytes,
              "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
              "Content-Length: 12\r\nConnection: close\r\n\r\nbad request\n")
        << head;
    EXPECT_THAT(r.bytes, Not(HasSubstr("evil"))) << head;
  }
  EXPECT_EQ(Shed("bad_request"), 6);
  // An over-long head is 431, also without echo.
  const Received big = Exchange(
      exporter_->port(),
      "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + marker + "\r\n\r\n");
  EXPECT_THAT(big.bytes,
              ::testing::StartsWith("HTTP/1.1 431 Request Header Fields"));
  EXPECT_THAT(big.bytes, Not(HasSubstr("evil")));
  EXPECT_EQ(Shed("head_too_large"), 1);
  // And a well-formed request still works, also sent a byte at a time.
  const int fd = Connect(exporter_->port(), "127.0.0.2");
  for (char c : std::string("GET /-/healthy HTTP/1.0\r\nHost: x\r\n\r\n")) {
    ASSERT_EQ(write(fd, &c, 1), 1);
  }
  const Received ok = ReadUntilClosed(fd, absl::Seconds(5));
  close(fd);
  EXPECT_THAT(ok.bytes, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace canary
