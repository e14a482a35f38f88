// Limits on input over real sockets: an over-long request to the exporter is
// refused without harm, and a target's over-long response header is a
// `protocol` failure with a clear error.
#include "exporter/service/input_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "config/loader.h"
#include "exporter/service/config_store.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/prober.h"
#include "probes/target.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ||
      listen(fd, 8)) {
    return -1;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{.tv_sec = 20, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` raw (the server may stop reading half-way) and returns
// what came back.
std::string RawExchange(int port, const std::string& request) {
  int fd = Connect(port);
  if (fd < 0) return "";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed early: read its answer
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) answer.append(buf, n);
  close(fd);
  return answer;
}

class InputLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(probes::GlobalInit().ok());
    metrics_ = new SelfMetrics;
    logger_ = new Logger(&log_sink_, LogLevel::kError);
    auto store = ConfigStore::Create(
        [] {
          return config::LoadConfig(
              "[modules.canary]\ntimeout = \"2s\"\n"
              "[modules.canary.burst]\nrequests = 1\n",
              "test.toml");
        },
        "test.toml", metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    prober_ = probes::NewHttpProber().release();
    auto server = Server::Start(
        {.listen_address = "127.0.0.1:0", .num_threads = 4, .logger = logger_},
        prober_, store_, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete prober_;
    delete store_;
    delete logger_;
    delete metrics_;
  }

  static std::string Get(const std::string& path_and_query,
                         const std::string& extra_headers = "") {
    return RawExchange(
        server_->port(),
        absl::StrCat("GET ", path_and_query, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                     extra_headers, "\r\n"));
  }
  static void ExpectHealthy() {
    absl::StatusOr<HttpResult> r = HttpGet(
        absl::StrCat("http://127.0.0.1:", server_->port(), "/-/healthy"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
  }

  static inline std::ostringstream log_sink_;
  static inline SelfMetrics* metrics_ = nullptr;
  static inline Logger* logger_ = nullptr;
  static inline ConfigStore* store_ = nullptr;
  static inline probes::Prober* prober_ = nullptr;
  static inline Server* server_ = nullptr;
};

TEST_F(InputLimitsTest, HundredKilobyteTargetIsRefusedAndServerStaysUp) {
  const std::string answer = Get(absl::StrCat(
      "/probe?target=http://127.0.0.1:9/", std::string(100 * 1000, 'a')));
  // The front listener's fixed answer for a head over its bound
  // (exporter/http/request_head.h).
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 431"));
  ExpectHealthy();
}

TEST_F(InputLimitsTest, QueryBetweenOurLimitAndCivetWebsIs414) {
  // Fits CivetWeb's kMaxRequestHeadBytes, exceeds kMaxQueryStringBytes.
  const std::string answer =
      Get(absl::StrCat("/probe?target=http://127.0.0.1:9/&pad=",
                       std::string(kMaxQueryStringBytes, 'p')));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 414"));
  EXPECT_THAT(answer, HasSubstr("query string is"));
  ExpectHealthy();
}

TEST_F(InputLimitsTest, LongTargetIs414) {
  const std::string answer = Get(absl::StrCat(
      "/probe?target=http://127.0.0.1:9/", std::string(kMaxTargetBytes, 'a')));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 414"));
  EXPECT_THAT(answer, HasSubstr("at most 2048"));
}

TEST_F(InputLimitsTest, OversizedRequestHeaderIsRefused) {
  const std::string answer =
      Get("/-/healthy",
          absl::StrCat("X-Big: ", std::string(64 * 1024, 'h'), "\r\n"));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 431"));
  ExpectHealthy();
}

// A target whose response header is larger than libcurl accepts.
TEST(ResponseHeaderLimitTest, HugeResponseHeaderIsAProtocolFailure) {
  ASSERT_TRUE(probes::GlobalInit().ok());
  int port = 0;
  int listener = Listen(&port);
  ASSERT_GE(listener, 0);
  std::atomic<bool> stop{false};
  std::thread target([&] {
    while (!stop) {
      int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      char buf[4096];
      recv(fd, buf, sizeof(buf), 0);
      const std::string head =
          absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: ",
                       std::string(2 * 1024 * 1024, 'h'), "\r\n\r\nok");
      send(fd, head.data(), head.size(), MSG_NOSIGNAL);
      close(fd);
    }
  });
  ASSERT_OK_AND_ASSIGN(
      config::Config config,
      config::LoadConfig("[modules.m]\ntimeout = \"5s\"\n", "test.toml"));
  std::unique_ptr<probes::Prober> prober = probes::NewHttpProber();
  probes::ProbeReport report =
      prober->Probe({.target = absl::StrCat("http://127.0.0.1:", port, "/"),
                     .module = config.FindModule("m"),
                     .budget = absl::Seconds(10)});
  stop = true;
  shutdown(listener, SHUT_RDWR);
  close(listener);
  target.join();

  ASSERT_EQ(report.burst.requests.size(), 1u);
  const probes::RequestResult& r = report.burst.requests[0];
  EXPECT_EQ(r.result(), probes::ResultClass::kProtocol)
      << report.burst.error(r);
  EXPECT_THAT(report.burst.error(r), HasSubstr("header"));
  EXPECT_FALSE(report.success);
}

}  // namespace
}  // namespace canary::exporter
