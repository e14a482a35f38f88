// Target credentials end to end: a token or password read from a file at
// config load is sent to a real loopback target by the real prober, and
// never shows in the exporter's logs, /probe output, landing page or
// rendered config.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/sync.h"
#include "config/loader.h"
#include "config/redact.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/prober.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"

namespace canary {
namespace {

namespace fs = std::filesystem;
using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Not;

// A loopback HTTP/1.1 target that records each request's Authorization
// header and answers 200 "ok" (TargetServer has no header echo).
class AuthRecorder {
 public:
  AuthRecorder() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 64);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~AuthRecorder() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }
  std::string Url() const {
    return absl::StrCat("http://127.0.0.1:", port_, "/");
  }
  std::vector<std::string> Seen() const {
    canary::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  void Loop() {
    while (!stop_.load()) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      std::string auth = "<none>";
      for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
        if (absl::StartsWithIgnoreCase(line, "authorization:")) {
          auth = std::string(absl::StripAsciiWhitespace(line.substr(14)));
        }
      }
      {
        canary::MutexLock lock(&mu_);
        seen_.push_back(auth);
      }
      static constexpr char kOk[] =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
          "ok";
      (void)!write(c, kOk, sizeof(kOk) - 1);
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable canary::Mutex mu_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

constexpr char kToken[] = "tok-7f3a9c-SECRET";
constexpr char kPassword[] = "pw-41b2-SECRET";

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / absl::StrCat("canary_secrets_", ::getpid());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "token") << kToken << "\n";
    std::ofstream(dir_ / "password") << kPassword << "\n";
    const std::string toml = absl::StrCat(
        "[modules.bearer]\nburst = { vus = 2, requests = 4 }\n"
        "[modules.bearer.http]\nbearer_token_file = \"",
        (dir_ / "token").string(),
        "\"\n"
        "[modules.basic.http]\n"
        "basic_auth = { username = \"canary\", password_file = \"",
        (dir_ / "password").string(),
        "\" }\n"
        "headers = { Cookie = \"session=cookie-SECRET\" }\n");
    std::ofstream(dir_ / "canary.toml") << toml;

    auto store = exporter::ConfigStore::ForFile((dir_ / "canary.toml").string(),
                                                &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    prober_ = probes::NewHttpProber();
    auto server = exporter::Server::Start(
        {.listen_address = "127.0.0.1:0", .num_threads = 4, .logger = &logger_},
        prober_.get(), store_.get(), &metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string Base() const {
    return absl::StrCat("http://127.0.0.1:", server_->port());
  }

  // Everything the exporter showed anyone: log lines and every page.
  void ExpectNoSecretIn(const std::string& text, const std::string& what) {
    for (const char* secret : {kToken, kPassword, "cookie-SECRET"}) {
      EXPECT_THAT(text, Not(HasSubstr(secret))) << what << " leaks " << secret;
    }
    const std::string basic =
        absl::Base64Escape(absl::StrCat("canary:", kPassword));
    EXPECT_THAT(text, Not(HasSubstr(basic))) << what;
  }

  fs::path dir_;
  std::ostringstream log_;
  exporter::Logger logger_{&log_, exporter::LogLevel::kDebug};
  exporter::SelfMetrics metrics_;
  std::unique_ptr<exporter::ConfigStore> store_;
  std::unique_ptr<probes::Prober> prober_;
  std::unique_ptr<exporter::Server> server_;
};

TEST_F(SecretsTest, TokenFromFileIsSentAsBearerAndNeverShown) {
  AuthRecorder target;
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpGet(absl::StrCat(
                        Base(), "/probe?module=bearer&target=", target.Url())));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("probe_success 1"));
  ASSERT_EQ(target.Seen().size(), 4u);
  EXPECT_THAT(target.Seen(), Each(absl::StrCat("Bearer ", kToken)));

  ASSERT_OK_AND_ASSIGN(
      HttpResult debug,
      HttpGet(absl::StrCat(
          Base(), "/probe?module=bearer&debug=true&target=", target.Url())));
  EXPECT_EQ(debug.status, 200);
  ASSERT_OK_AND_ASSIGN(HttpResult landing, HttpGet(Base() + "/"));
  ASSERT_OK_AND_ASSIGN(HttpResult metrics, HttpGet(Base() + "/metrics"));
  ExpectNoSecretIn(r.body, "/probe");
  ExpectNoSecretIn(debug.body, "/probe?debug=true");
  ExpectNoSecretIn(landing.body, "landing page");
  ExpectNoSecretIn(metrics.body, "/metrics");
  ExpectNoSecretIn(log_.str(), "log");
  ExpectNoSecretIn(config::RenderConfig(*store_->Get()), "rendered config");
}

TEST_F(SecretsTest, PasswordFromFileIsSentAsBasicAuth) {
  AuthRecorder target;
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpGet(absl::StrCat(
                        Base(), "/probe?module=basic&target=", target.Url())));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(target.Seen().size(), 1u);
  EXPECT_EQ(target.Seen()[0],
            absl::StrCat("Basic ", absl::Base64Escape(
                                       absl::StrCat("canary:", kPassword))));
  ExpectNoSecretIn(r.body, "/probe");
  ExpectNoSecretIn(log_.str(), "log");
}

TEST_F(SecretsTest, RotatedTokenFileIsPickedUpOnReload) {
  std::ofstream(dir_ / "token") << "rotated-token\n";
  ASSERT_OK_AND_ASSIGN(HttpResult reload,
                       canary::testing::HttpPost(Base() + "/-/reload"));
  EXPECT_EQ(reload.status, 200);
  AuthRecorder target;
  ASSERT_OK_AND_ASSIGN(
      HttpResult r, HttpGet(absl::StrCat(
                        Base(), "/probe?module=bearer&target=", target.Url())));
  ASSERT_FALSE(target.Seen().empty());
  EXPECT_THAT(target.Seen(), Each(std::string("Bearer rotated-token")));
}

TEST_F(SecretsTest, FailedReloadErrorDoesNotQuoteTheSecret) {
  std::ofstream(dir_ / "token") << "line1-" << kToken << "\nline2\n";
  ASSERT_OK_AND_ASSIGN(HttpResult reload,
                       canary::testing::HttpPost(Base() + "/-/reload"));
  EXPECT_EQ(reload.status, 500);
  EXPECT_THAT(reload.body, HasSubstr("bearer_token_file"));
  ExpectNoSecretIn(reload.body, "reload error");
  ExpectNoSecretIn(log_.str(), "log");
}

}  // namespace
}  // namespace canary
