// [web] security of the exporter's own endpoints: basic auth with bcrypt on
// every endpoint, the HTTPS listener (TLS, minimum version, mTLS) and its
// refusal of connections that bypass it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "exporter/http/edge_listener.h"
#include "exporter/http/web_auth.h"
#include "exporter/service/handlers.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/exporter/fake_prober.h"
#include "tests/testing/certs.h"
#include "tests/testing/http_client.h"
#include "tests/testing/https_client.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::canary::testing::HttpsGet;
using ::canary::testing::MakeSelfSignedCert;
using ::canary::testing::StatusIs;
using ::canary::testing::TestCert;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::Pair;

// Cost-4 hashes (fast for tests) of "hunter2" ($2y$, htpasswd's prefix) and
// "correct horse" ($2b$).
constexpr char kAliceHash[] =
    "$2y$04$n23Dp63E8ixmMpOvmlS5QuuDF17DDDtL8/SZQdyUSzMhUq7cVoCdq";
constexpr char kBobHash[] =
    "$2b$04$rD27FPtYFhAlzxU7sQGJkOCZJ7Zvi8LrZF/rACZ8nX6nwieItRJiy";

std::string Basic(absl::string_view user, absl::string_view password) {
  return absl::StrCat("Basic ",
                      absl::Base64Escape(absl::StrCat(user, ":", password)));
}

std::map<std::string, std::string> Users() {
  return {{"alice", kAliceHash}, {"bob", kBobHash}};
}

TEST(ParseBasicAuthorizationTest, DecodesUserAndPasswordWithColons) {
  EXPECT_THAT(ParseBasicAuthorization(Basic("alice", "a:b c")),
              Optional(Pair("alice", "a:b c")));
  EXPECT_THAT(ParseBasicAuthorization("basic " + absl::Base64Escape("u:")),
              Optional(Pair("u", "")));
  EXPECT_EQ(ParseBasicAuthorization(""), std::nullopt);
  EXPECT_EQ(ParseBasicAuthorization("Bearer abc"), std::nullopt);
  EXPECT_EQ(ParseBasicAuthorization("Basic !!!notbase64"), std::nullopt);
  EXPECT_EQ(ParseBasicAuthorization("Basic " + absl::Base64Escape("no-colon")),
            std::nullopt);
}

TEST(VerifyPasswordTest, AcceptsRightPasswordForEachBcryptPrefix) {
  EXPECT_TRUE(VerifyPassword("hunter2", kAliceHash));
  EXPECT_FALSE(VerifyPassword("hunter3", kAliceHash));
  EXPECT_FALSE(VerifyPassword("", kAliceHash));
  EXPECT_TRUE(VerifyPassword("correct horse", kBobHash));
  EXPECT_FALSE(VerifyPassword("hunter2", "not a hash"));
}

TEST(BasicAuthenticatorTest, NoUsersMeansNoAuth) {
  BasicAuthenticator auth;
  EXPECT_TRUE(auth.Allow({}, ""));
  EXPECT_EQ(auth.hash_runs(), 0);
}

TEST(BasicAuthenticatorTest, RefusesMissingWrongAndUnknownCredentials) {
  BasicAuthenticator auth;
  EXPECT_FALSE(auth.Allow(Users(), ""));
  EXPECT_FALSE(auth.Allow(Users(), Basic("alice", "wrong")));
  EXPECT_FALSE(auth.Allow(Users(), Basic("alice", "correct horse")));
  EXPECT_FALSE(auth.Allow(Users(), Basic("mallory", "hunter2")));
  EXPECT_TRUE(auth.Allow(Users(), Basic("alice", "hunter2")));
  EXPECT_TRUE(auth.Allow(Users(), Basic("bob", "correct horse")));
}

TEST(BasicAuthenticatorTest, UnknownUserCostsOneHashRunLikeAKnownOne) {
  BasicAuthenticator auth;
  EXPECT_FALSE(auth.Allow(Users(), Basic("mallory", "x")));
  EXPECT_EQ(auth.hash_runs(), 1);
}

TEST(BasicAuthenticatorTest, SuccessIsCachedFailureIsNot) {
  BasicAuthenticator auth;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(auth.Allow(Users(), Basic("alice", "hunter2")));
  }
  EXPECT_EQ(auth.hash_runs(), 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(auth.Allow(Users(), Basic("alice", "nope")));
  }
  EXPECT_EQ(auth.hash_runs(), 4);
}

TEST(BasicAuthenticatorTest, ChangedHashDoesNotAcceptTheOldPassword) {
  BasicAuthenticator auth;
  ASSERT_TRUE(auth.Allow(Users(), Basic("alice", "hunter2")));
  // A reload gives alice bob's hash: the cached success must not apply.
  std::map<std::string, std::string> rotated = {{"alice", kBobHash}};
  EXPECT_FALSE(auth.Allow(rotated, Basic("alice", "hunter2")));
  EXPECT_TRUE(auth.Allow(rotated, Basic("alice", "correct horse")));
}

TEST(BasicAuthenticatorTest, CacheStaysBounded) {
  BasicAuthenticator auth(/*cache_capacity=*/1);
  EXPECT_TRUE(auth.Allow(Users(), Basic("alice", "hunter2")));
  EXPECT_TRUE(auth.Allow(Users(), Basic("bob", "correct horse")));
  // Capacity 1: bob's entry evicted alice's, so she is hashed again.
  EXPECT_TRUE(auth.Allow(Users(), Basic("alice", "hunter2")));
  EXPECT_EQ(auth.hash_runs(), 3);
}

TEST(BasicAuthenticatorTest, ManyThreadsAgree) {
  BasicAuthenticator auth;
  std::vector<std::thread> threads;
  std::atomic<int> allowed{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (auth.Allow(Users(), Basic("alice", i % 2 ? "hunter2" : "bad"))) {
        ++allowed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 4);
}

// Handlers with [web] basic_auth_users: every path is guarded.
class HandlersAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ConfigStore::Create(
        []() -> absl::StatusOr<config::Config> {
          config::Config c;
          c.modules["canary"].name = "canary";
          c.web.basic_auth_users = Users();
          return c;
        },
        "test", &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    handlers_ = std::make_unique<Handlers>(&prober_, store_.get(), &metrics_,
                                           HandlerOptions{}, &logger_);
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& authorization) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.authorization = authorization;
    if (path == "/probe") r.query = {{"target", "http://127.0.0.1:9/"}};
    if (path == "/debug") r.query = {{"id", "1"}};
    return handlers_->Handle(r);
  }

  std::ostringstream log_;
  Logger logger_{&log_, LogLevel::kDebug};
  SelfMetrics metrics_;
  FakeProber prober_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<Handlers> handlers_;
};

struct Endpoint {
  const char* method;
  const char* path;
};
constexpr Endpoint kEndpoints[] = {
    {"GET", "/probe"},    {"GET", "/metrics"}, {"GET", "/-/healthy"},
    {"GET", "/-/ready"},  {"GET", "/"},        {"POST", "/-/reload"},
    {"GET", "/debug"},    {"GET", "/nope"},    {"HEAD", "/metrics"},
    {"DELETE", "/probe"},
};

TEST_F(HandlersAuthTest, EveryEndpointIs401WithChallengeWithoutCredentials) {
  for (const Endpoint& e : kEndpoints) {
    for (const std::string& auth :
         {std::string(), Basic("alice", "wrong"), Basic("eve", "hunter2"),
          std::string("Bearer hunter2")}) {
      HttpResponse r = Call(e.method, e.path, auth);
      EXPECT_EQ(r.status, 401) << e.method << " " << e.path << " " << auth;
      EXPECT_THAT(r.headers,
                  ::testing::Contains(Pair("WWW-Authenticate",
                                           "Basic realm=\"canary_exporter\"")))
          << e.path;
    }
  }
  EXPECT_TRUE(prober_.Seen().empty());  // nothing ran
  EXPECT_THAT(log_.str(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(log_.str(), Not(HasSubstr("wrong")));
}

TEST_F(HandlersAuthTest, ValidCredentialsReachEveryEndpoint) {
  for (const Endpoint& e : kEndpoints) {
    HttpResponse r = Call(e.method, e.path, Basic("bob", "correct horse"));
    EXPECT_NE(r.status, 401) << e.method << " " << e.path;
  }
  EXPECT_EQ(Call("GET", "/metrics", Basic("alice", "hunter2")).status, 200);
  EXPECT_EQ(Call("GET", "/-/healthy", Basic("alice", "hunter2")).status, 200);
  EXPECT_EQ(Call("GET", "/probe", Basic("alice", "hunter2")).status, 200);
  EXPECT_EQ(prober_.Seen().size(), 2u);  // the loop's /probe and this one
}

// A backend standing in for CivetWeb: accepts one connection at a time,
// records whether the listener vouched for it once the request arrived,
// answers 200.
class FakeBackend {
 public:
  FakeBackend() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~FakeBackend() { close(fd_); }
  int port() const { return port_; }

  // Serves one connection; returns its peer port.
  int ServeOne(const EdgeListener* listener, bool* relayed) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    const int c = accept(fd_, reinterpret_cast<sockaddr*>(&peer), &len);
    char buf[4096];
    (void)!read(c, buf, sizeof(buf));
    // Asked once the request arrived, as CivetWeb does: the listener records
    // its port after connect() returns, which can be after our accept().
    *relayed = listener->IsRelayed(ntohs(peer.sin_port));
    static constexpr char kOk[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)!write(c, kOk, sizeof(kOk) - 1);
    close(c);
    return ntohs(peer.sin_port);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(EdgeListenerTest, OnlyItsOwnBackendConnectionsAreRelayed) {
  ASSERT_OK_AND_ASSIGN(TestCert cert, MakeSelfSignedCert(1));
  FakeBackend backend;
  ASSERT_OK_AND_ASSIGN(
      auto listener,
      EdgeListener::Start({.listen_address = "127.0.0.1:0",
                           .tls = EdgeTlsOptions{.cert_file = cert.cert_path,
                                                 .key_file = cert.key_path},
                           .backend_port = backend.port()}));
  bool relayed = false;
  std::thread server([&] { backend.ServeOne(listener.get(), &relayed); });
  ASSERT_OK_AND_ASSIGN(
      HttpResult r,
      HttpsGet(absl::StrCat("https://127.0.0.1:", listener->port(), "/x"),
               {.ca_file = cert.cert_path}));
  server.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_TRUE(relayed);

  // A plain connection straight to the backend is not vouched for.
  std::thread direct_server(
      [&] { backend.ServeOne(listener.get(), &relayed); });
  ASSERT_OK_AND_ASSIGN(
      HttpResult direct,
      HttpGet(absl::StrCat("http://127.0.0.1:", backend.port(), "/x")));
  direct_server.join();
  EXPECT_EQ(direct.status, 200);
  EXPECT_FALSE(relayed);
}

TEST(EdgeListenerTest, BadKeyIsInvalidArgumentNamingTheFile) {
  ASSERT_OK_AND_ASSIGN(TestCert cert, MakeSelfSignedCert(1));
  ASSERT_OK_AND_ASSIGN(TestCert other, MakeSelfSignedCert(1));
  EXPECT_THAT(
      EdgeListener::Start({.listen_address = "127.0.0.1:0",
                           .tls = EdgeTlsOptions{.cert_file = cert.cert_path,
                                                 .key_file = other.key_path},
                           .backend_port = 1}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(other.key_path)));
  EXPECT_THAT(
      EdgeListener::Start({.listen_address = "nope",
                           .tls = EdgeTlsOptions{.cert_file = cert.cert_path,
                                                 .key_file = cert.key_path},
                           .backend_port = 1}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("invalid listen address")));
}

// A whole Server with [web] settings, over real sockets.
class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cert_, MakeSelfSignedCert(1));
    ASSERT_OK_AND_ASSIGN(client_, MakeSelfSignedCert(1));
  }

  void Start(config::WebConfig web) {
    auto store = ConfigStore::Create(
        [web]() -> absl::StatusOr<config::Config> {
          config::Config c;
          c.modules["canary"].name = "canary";
          c.web = web;
          return c;
        },
        "test", &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto server = Server::Start(
        {.listen_address = "127.0.0.1:0", .num_threads = 4, .logger = &logger_},
        &prober_, store_.get(), &metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  config::WebConfig Tls() const {
    config::WebConfig web;
    web.tls_cert_file = cert_.cert_path;
    web.tls_key_file = cert_.key_path;
    return web;
  }

  std::string Url(absl::string_view path) const {
    return absl::StrCat("https://127.0.0.1:", server_->port(), path);
  }

  TestCert cert_;
  TestCert client_;
  std::ostringstream log_;
  Logger logger_{&log_, LogLevel::kDebug};
  SelfMetrics metrics_;
  FakeProber prober_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebServerTest, HttpsServesEveryEndpointAndPlainHttpGetsNothing) {
  Start(Tls());
  for (const char* path : {"/-/healthy", "/metrics", "/"}) {
    ASSERT_OK_AND_ASSIGN(HttpResult r,
                         HttpsGet(Url(path), {.ca_file = cert_.cert_path}));
    EXPECT_EQ(r.status, 200) << path;
  }
  ASSERT_OK_AND_ASSIGN(HttpResult probe,
                       HttpsGet(Url("/probe?target=http://127.0.0.1:9/"),
                                {.ca_file = cert_.cert_path}));
  EXPECT_EQ(probe.status, 200);
  EXPECT_THAT(probe.body, HasSubstr("probe_success 1"));
  // Plain HTTP on the TLS port is no HTTP answer.
  absl::StatusOr<HttpResult> plain =
      HttpGet(absl::StrCat("http://127.0.0.1:", server_->port(), "/-/healthy"),
              {}, absl::Seconds(5));
  EXPECT_FALSE(plain.ok() && plain->status == 200);
  // An untrusted certificate fails verification on the client.
  EXPECT_THAT(HttpsGet(Url("/-/healthy"), {}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
}

TEST_F(WebServerTest, MinVersionTls13RefusesTls12Clients) {
  config::WebConfig web = Tls();
  web.tls_min_version = config::TlsConfig::Version::kTls13;
  Start(web);
  EXPECT_THAT(HttpsGet(Url("/-/healthy"),
                       {.ca_file = cert_.cert_path, .tls12_max = true}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("SSL")));
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpsGet(Url("/-/healthy"),
                             {.ca_file = cert_.cert_path, .tls13_only = true}));
  EXPECT_EQ(r.status, 200);
}

TEST_F(WebServerTest, DefaultMinVersionAcceptsTls12) {
  Start(Tls());
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpsGet(Url("/-/healthy"),
                             {.ca_file = cert_.cert_path, .tls12_max = true}));
  EXPECT_EQ(r.status, 200);
}

TEST_F(WebServerTest, MutualTlsRefusesClientsWithoutATrustedCert) {
  config::WebConfig web = Tls();
  web.tls_client_ca_file = client_.cert_path;
  Start(web);
  EXPECT_FALSE(HttpsGet(Url("/-/healthy"), {.ca_file = cert_.cert_path}).ok());
  // A certificate the client CA did not sign: the server's own.
  EXPECT_FALSE(HttpsGet(Url("/-/healthy"), {.ca_file = cert_.cert_path,
                                            .cert_file = cert_.cert_path,
                                            .key_file = cert_.key_path})
                   .ok());
  ASSERT_OK_AND_ASSIGN(HttpResult r, HttpsGet(Url("/-/healthy"),
                                              {.ca_file = cert_.cert_path,
                                               .cert_file = client_.cert_path,
                                               .key_file = client_.key_path}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK\n");
}

TEST_F(WebServerTest, BasicAuthOverHttps) {
  config::WebConfig web = Tls();
  web.basic_auth_users = Users();
  Start(web);
  ASSERT_OK_AND_ASSIGN(HttpResult anon,
                       HttpsGet(Url("/metrics"), {.ca_file = cert_.cert_path}));
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.Header("WWW-Authenticate"), "Basic realm=\"canary_exporter\"");
  ASSERT_OK_AND_ASSIGN(
      HttpResult wrong,
      HttpsGet(Url("/metrics"),
               {.ca_file = cert_.cert_path,
                .headers = {{"Authorization", Basic("alice", "nope")}}}));
  EXPECT_EQ(wrong.status, 401);
  ASSERT_OK_AND_ASSIGN(
      HttpResult ok,
      HttpsGet(Url("/metrics"),
               {.ca_file = cert_.cert_path,
                .headers = {{"Authorization", Basic("alice", "hunter2")}}}));
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(log_.str(), Not(HasSubstr("hunter2")));
}

TEST_F(WebServerTest, BasicAuthOverPlainHttpOnEveryEndpoint) {
  config::WebConfig web;
  web.basic_auth_users = Users();
  Start(web);
  const std::string base = absl::StrCat("http://127.0.0.1:", server_->port());
  for (const char* path : {"/probe?target=http://127.0.0.1:9/", "/metrics",
                           "/-/healthy", "/-/ready", "/"}) {
    ASSERT_OK_AND_ASSIGN(HttpResult anon, HttpGet(base + path));
    EXPECT_EQ(anon.status, 401) << path;
    ASSERT_OK_AND_ASSIGN(
        HttpResult ok, HttpGet(base + path, {{"Authorization",
                                              Basic("bob", "correct horse")}}));
    EXPECT_EQ(ok.status, 200) << path;
  }
  ASSERT_OK_AND_ASSIGN(HttpResult reload,
                       canary::testing::HttpPost(base + "/-/reload", "", {}));
  EXPECT_EQ(reload.status, 401);
}

}  // namespace
}  // namespace canary::exporter
