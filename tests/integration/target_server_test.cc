// Self-tests of the CivetWeb test target and the test certificates, with a
// plain POSIX socket client so they depend on nothing else of ours.
#include "tests/testing/target_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certs.h"
#include "tests/testing/status_matchers.h"

namespace canary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers, lower-cased names kept as sent
  std::string body;
};

// A blocking loopback connection with a 5 s receive timeout, so a server that
// never answers fails the test instead of hanging it.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { close(fd_); }

  bool connected() const { return connected_; }

  bool Send(absl::string_view path_and_query) {
    const std::string req = absl::StrCat(
        "GET ", path_and_query, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    return write(fd_, req.data(), req.size()) ==
           static_cast<ssize_t>(req.size());
  }

  // Reads one response framed by Content-Length. Returns FailedPrecondition
  // when the peer closed before sending anything, DeadlineExceeded when it
  // sent nothing for 5 s, DataLoss on a truncated or malformed response.
  absl::StatusOr<RawResponse> Read() {
    RawResponse r;
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      absl::Status s = Fill();
      if (!s.ok()) {
        if (buf_.empty() && s.code() == absl::StatusCode::kOutOfRange) {
          return absl::FailedPreconditionError("closed without a response");
        }
        return s;
      }
    }
    r.head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    std::vector<std::string> status_line =
        absl::StrSplit(r.head.substr(0, r.head.find("\r\n")), ' ');
    if (status_line.size() < 2 ||
        !absl::SimpleAtoi(status_line[1], &r.status)) {
      return absl::DataLossError(absl::StrCat("bad status line: ", r.head));
    }
    int64_t length = 0;
    const std::string lower = absl::AsciiStrToLower(r.head);
    const size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
      const size_t eol = lower.find("\r\n", cl + 2);
      const std::string value(absl::StripAsciiWhitespace(
          lower.substr(cl + 17, eol == std::string::npos ? std::string::npos
                                                         : eol - cl - 17)));
      if (!absl::SimpleAtoi(value, &length)) {
        return absl::DataLossError(absl::StrCat("bad length: ", value));
      }
    }
    while (static_cast<int64_t>(buf_.size()) < length) {
      absl::Status s = Fill();
      if (!s.ok()) return s;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

 private:
  absl::Status Fill() {
    char chunk[65536];
    const ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n == 0) return absl::OutOfRangeError("peer closed");
    if (n < 0) {
      return (errno == EAGAIN || errno == EWOULDBLOCK)
                 ? absl::DeadlineExceededError("no data for 5 s")
                 : absl::DataLossError(absl::StrCat("read errno ", errno));
    }
    buf_.append(chunk, n);
    return absl::OkStatus();
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// One request on a fresh connection.
absl::StatusOr<RawResponse> Get(const TargetServer& target,
                                absl::string_view path_and_query) {
  RawConnection c(target.port());
  if (!c.connected()) return absl::UnavailableError("connect failed");
  if (!c.Send(path_and_query)) return absl::UnavailableError("send failed");
  return c.Read();
}

class TargetServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
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
TargetServer* TargetServerTest::target_ = nullptr;

TEST_F(TargetServerTest, UrlIsHttpLoopbackWithBoundPort) {
  EXPECT_GT(target_->port(), 0);
  EXPECT_EQ(target_->Url("/ok?x=1"),
            absl::StrCat("http://127.0.0.1:", target_->port(), "/ok?x=1"));
}

TEST_F(TargetServerTest, OkAnswers200WithBodyOk) {
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/ok"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST_F(TargetServerTest, HitsAreCountedPerPathWithoutQuery) {
  ASSERT_THAT(Get(*target_, "/ok"), IsOk());
  ASSERT_THAT(Get(*target_, "/ok?a=b"), IsOk());
  ASSERT_THAT(Get(*target_, "/status?code=201"), IsOk());
  EXPECT_EQ(target_->Hits("/ok"), 2);
  EXPECT_EQ(target_->Hits("/status"), 1);
  EXPECT_EQ(target_->Hits("/delay"), 0);
  target_->ResetHits();
  EXPECT_EQ(target_->Hits("/ok"), 0);
}

TEST_F(TargetServerTest, HitsAreCountedUnderConcurrentRequests) {
  constexpr int kThreads = 8, kEach = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < kEach; ++i) EXPECT_THAT(Get(*target_, "/ok"), IsOk());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(target_->Hits("/ok"), kThreads * kEach);
}

TEST_F(TargetServerTest, StatusAnswersTheRequestedCode) {
  for (int code : {201, 404, 500, 503}) {
    ASSERT_OK_AND_ASSIGN(RawResponse r,
                         Get(*target_, absl::StrCat("/status?code=", code)));
    EXPECT_EQ(r.status, code);
    EXPECT_EQ(r.body, absl::StrCat("status ", code));
  }
}

TEST_F(TargetServerTest, BadParameterIsA400) {
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/status?code=abc"));
  EXPECT_EQ(r.status, 400);
  ASSERT_OK_AND_ASSIGN(r, Get(*target_, "/delay"));
  EXPECT_EQ(r.status, 400);
}

TEST_F(TargetServerTest, UnknownPathIs404) {
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/nope"));
  EXPECT_EQ(r.status, 404);
}

TEST_F(TargetServerTest, BodySendsExactlyTheRequestedBytes) {
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/body?bytes=300000"));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(r.body.size(), 300000u);
  EXPECT_EQ(r.body, std::string(300000, 'x'));
}

TEST_F(TargetServerTest, RedirectStepsDownToOk) {
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/redirect?n=2"));
  EXPECT_EQ(r.status, 302);
  EXPECT_THAT(r.head, HasSubstr("Location: /redirect?n=1"));
  ASSERT_OK_AND_ASSIGN(r, Get(*target_, "/redirect?n=0"));
  EXPECT_EQ(r.status, 302);
  EXPECT_THAT(r.head, HasSubstr("Location: /ok"));
}

TEST_F(TargetServerTest, LoopRedirectsToItself) {
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/loop"));
  EXPECT_EQ(r.status, 302);
  EXPECT_THAT(r.head, HasSubstr("Location: /loop"));
}

TEST_F(TargetServerTest, HeaderAddsTheRequestedResponseHeader) {
  ASSERT_OK_AND_ASSIGN(RawResponse r,
                       Get(*target_, "/header?name=X-Canary&value=yes"));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.head, HasSubstr("\r\nX-Canary: yes"));
}

TEST_F(TargetServerTest, CloseDropsTheConnectionWithoutAResponse) {
  const absl::Time start = absl::Now();
  EXPECT_THAT(Get(*target_, "/close"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("closed without a response")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));  // EOF, not a hang
  EXPECT_EQ(target_->Hits("/close"), 1);
  // The server survives it.
  EXPECT_THAT(Get(*target_, "/ok"), IsOk());
}

TEST_F(TargetServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  RawConnection c(target_->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send("/ok"));
    ASSERT_OK_AND_ASSIGN(RawResponse r, c.Read());
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_EQ(target_->Hits("/ok"), 3);
}

TEST_F(TargetServerTest, DelayWaitsAtLeastTheRequestedTime) {
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(RawResponse r, Get(*target_, "/delay?ms=150"));
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST_F(TargetServerTest, SlowBodySendsHeadersBeforeTheBody) {
  RawConnection c(target_->port());
  ASSERT_TRUE(c.connected());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c.Send("/slowbody?ms=150"));
  ASSERT_OK_AND_ASSIGN(RawResponse r, c.Read());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST(TargetServerLifecycleTest, StopIsFastEvenWithARequestStillWaiting) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TargetServer> target,
                       TargetServer::Start({.threads = 4}));
  std::thread client([port = target->port()] {
    RawConnection c(port);
    if (c.connected() && c.Send("/delay?ms=20000")) c.Read().IgnoreError();
  });
  while (target->Hits("/delay") == 0) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time start = absl::Now();
  target.reset();
  // CivetWeb alone takes ~2 s; the delay alone 20 s.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
  client.join();
}

TEST(TargetServerLifecycleTest, RejectsBadOptions) {
  EXPECT_THAT(
      TargetServer::Start({.threads = 0}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("threads")));
  EXPECT_THAT(
      TargetServer::Start({.tls = true}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cert_pem_path")));
}

TEST(TargetServerLifecycleTest, UnusablePemIsInvalidArgumentNamingIt) {
  EXPECT_THAT(
      TargetServer::Start({.tls = true, .cert_pem_path = "/nonexistent.pem"}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("/nonexistent.pem")));
}

TEST(TargetServerLifecycleTest, TlsTargetStartsWithATestCert) {
  ASSERT_OK_AND_ASSIGN(TestCert cert, MakeSelfSignedCert(2));
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<TargetServer> target,
      TargetServer::Start({.tls = true, .cert_pem_path = cert.pem_path}));
  EXPECT_THAT(target->Url("/ok"),
              StartsWith(absl::StrCat("https://127.0.0.1:", target->port())));
  // A plain-text request is not answered as HTTP by a TLS port.
  RawConnection c(target->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("/ok"));
  auto r = c.Read();
  EXPECT_FALSE(r.ok() && r->status == 200);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CertsTest, SelfSignedCertExpiresAfterTheRequestedDays) {
  const absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(TestCert cert, MakeSelfSignedCert(30));
  // openssl truncates to whole seconds: allow a little slack either side.
  EXPECT_GE(cert.not_after, before + absl::Hours(24 * 30) - absl::Seconds(2));
  EXPECT_LE(cert.not_after,
            absl::Now() + absl::Hours(24 * 30) + absl::Seconds(2));
  EXPECT_EQ(cert.not_after,
            absl::FromUnixSeconds(absl::ToUnixSeconds(cert.not_after)));
}

TEST(CertsTest, WritesCertKeyAndCombinedPem) {
  ASSERT_OK_AND_ASSIGN(TestCert cert, MakeSelfSignedCert(1));
  const std::string c = Slurp(cert.cert_path), k = Slurp(cert.key_path),
                    p = Slurp(cert.pem_path);
  EXPECT_THAT(c, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(k, HasSubstr("PRIVATE KEY"));
  EXPECT_EQ(p, c + k);
  EXPECT_THAT(cert.cert_path, StartsWith(cert.dir));
}

TEST(CertsTest, EachCallUsesAFreshDirectory) {
  ASSERT_OK_AND_ASSIGN(TestCert a, MakeSelfSignedCert(1));
  ASSERT_OK_AND_ASSIGN(TestCert b, MakeSelfSignedCert(1));
  EXPECT_NE(a.dir, b.dir);
  EXPECT_NE(Slurp(a.cert_path), Slurp(b.cert_path));
}

TEST(CertsTest, RejectsNonPositiveValidity) {
  EXPECT_THAT(
      MakeSelfSignedCert(0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("days_valid")));
}

}  // namespace
}  // namespace canary::testing
