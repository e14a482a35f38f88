#include "exporter/cli/healthcheck.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/exporter/fake_prober.h"
#include "tests/testing/hostile_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary::exporter {
namespace {

using ::canary::testing::Hostile;
using ::canary::testing::HostileServer;
using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::canary::testing::TargetServer;
using ::canary::testing::UnusedLoopbackPort;
using ::testing::HasSubstr;

int RunCommand(std::vector<std::string> args, std::string* out,
               std::string* err) {
  args.insert(args.begin(), "healthcheck");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::ostringstream o, e;
  int rc =
      RunHealthcheckCommand(static_cast<int>(argv.size()), argv.data(), o, e);
  *out = o.str();
  *err = e.str();
  return rc;
}

// The real server, as the image's HEALTHCHECK sees it.
TEST(HealthcheckTest, HealthyExporterPasses) {
  SelfMetrics metrics;
  FakeProber prober;
  std::ostringstream log_sink;
  Logger logger(&log_sink, LogLevel::kError);
  auto store = ConfigStore::Create(
      []() -> absl::StatusOr<config::Config> { return config::Config{}; },
      "test.toml", &metrics);
  ASSERT_THAT(store, IsOk());
  auto server = Server::Start(
      {.listen_address = "127.0.0.1:0", .num_threads = 2, .logger = &logger},
      &prober, store->get(), &metrics);
  ASSERT_THAT(server, IsOk());
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  EXPECT_THAT(CheckHealthy(address, absl::Seconds(5)), IsOk());

  std::string out, err;
  EXPECT_EQ(RunCommand({"--web.listen-address", address}, &out, &err), 0)
      << err;
  EXPECT_THAT(out, HasSubstr("healthy"));
}

TEST(HealthcheckTest, WildcardHostIsCheckedOnLoopback) {
  ASSERT_OK_AND_ASSIGN(auto target, TargetServer::Start());
  // ":PORT" is how --web.listen-address names all interfaces; the check
  // reaches the server on 127.0.0.1 (which answers 404 for /-/healthy).
  EXPECT_THAT(CheckHealthy(absl::StrCat(":", target->port()), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(" 404 Not Found\"")));
}

TEST(HealthcheckTest, NothingListeningIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(int port, UnusedLoopbackPort());
  EXPECT_THAT(CheckHealthy(absl::StrCat("127.0.0.1:", port), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect")));

  std::string out, err;
  EXPECT_EQ(RunCommand({absl::StrCat("--web.listen-address=127.0.0.1:", port)},
                       &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("unhealthy: http://127.0.0.1:"));
}

TEST(HealthcheckTest, NoAnswerInTimeIsDeadlineExceeded) {
  ASSERT_OK_AND_ASSIGN(auto server,
                       HostileServer::Start(Hostile::kNeverAnswer));
  EXPECT_THAT(CheckHealthy(absl::StrCat("127.0.0.1:", server->port()),
                           absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("no answer in time")));
}

TEST(HealthcheckTest, ServerErrorsAndNonHttpAnswersAreUnhealthy) {
  ASSERT_OK_AND_ASSIGN(auto errors,
                       HostileServer::Start(Hostile::kServerErrors));
  EXPECT_THAT(
      CheckHealthy(absl::StrCat("127.0.0.1:", errors->port()),
                   absl::Seconds(5)),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(" 503")));
  ASSERT_OK_AND_ASSIGN(auto garbage, HostileServer::Start(Hostile::kGarbage));
  EXPECT_THAT(CheckHealthy(absl::StrCat("127.0.0.1:", garbage->port()),
                           absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("not an HTTP answer")));
}

TEST(HealthcheckTest, BadAddressOrArgumentsAreUsageErrors) {
  EXPECT_THAT(CheckHealthy("9427", absl::Seconds(1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid listen address \"9427\"")));
  EXPECT_THAT(
      CheckHealthy("127.0.0.1:0", absl::Seconds(1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no fixed port")));
  std::string out, err;
  EXPECT_EQ(RunCommand({"--bogus"}, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("unexpected argument \"--bogus\""));
  EXPECT_EQ(RunCommand({"--help"}, &out, &err), 0);
  EXPECT_THAT(out, HasSubstr("usage: canary_exporter healthcheck"));
}

}  // namespace
}  // namespace canary::exporter
