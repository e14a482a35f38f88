#include "exporter/service/handlers.h"

#include <memory>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/exporter/fake_prober.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Handlers without an HTTP server: the pure request → response mapping.
class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ConfigStore::Create(
        []() -> absl::StatusOr<config::Config> {
          config::Config c;
          c.modules["canary"].name = "canary";
          return c;
        },
        "test", &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    handlers_ = std::make_unique<Handlers>(
        &prober_, store_.get(), &metrics_,
        HandlerOptions{.timeout_offset = absl::Seconds(1)}, &logger_);
  }

  HttpResponse Probe(std::string target,
                     std::optional<std::string> timeout = std::nullopt) {
    return handlers_->Handle({.method = "GET",
                              .path = "/probe",
                              .query = {{"target", std::move(target)}},
                              .scrape_timeout = std::move(timeout)});
  }

  std::ostringstream log_;
  Logger logger_{&log_, LogLevel::kDebug};
  SelfMetrics metrics_;
  FakeProber prober_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<Handlers> handlers_;
};

TEST_F(HandlersTest, OffsetOptionIsSubtractedFromScrapeTimeout) {
  EXPECT_EQ(Probe("http://127.0.0.1:9/", "4").status, 200);
  ASSERT_EQ(prober_.Seen().size(), 1u);
  EXPECT_EQ(prober_.Seen()[0].budget, absl::Seconds(3));
}

TEST_F(HandlersTest, ProbeLogRedactsCredentialsInTarget) {
  EXPECT_EQ(Probe("http://user:s3cret@127.0.0.1:9/path").status, 200);
  ASSERT_EQ(prober_.Seen().size(), 1u);
  EXPECT_THAT(prober_.Seen()[0].target, HasSubstr("s3cret"));  // prober gets it
  EXPECT_THAT(log_.str(), HasSubstr("msg=\"probe finished\""));
  EXPECT_THAT(log_.str(), HasSubstr("target=http://<secret>@127.0.0.1:9/path"));
  EXPECT_THAT(log_.str(), Not(HasSubstr("s3cret")));
}

TEST_F(HandlersTest, RejectedProbeIsCounted) {
  EXPECT_EQ(Probe("").status, 400);
  absl::StatusOr<std::string> text = metrics_.Serialize();
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("canary_exporter_probe_rejections_total{"
                               "reason=\"bad_request\"} 1\n"));
}

TEST_F(HandlersTest, WrongMethodOnGetEndpointsIs405) {
  for (const char* path : {"/metrics", "/-/healthy", "/-/ready", "/"}) {
    HttpResponse r = handlers_->Handle({.method = "DELETE", .path = path});
    EXPECT_EQ(r.status, 405) << path;
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "Allow");
  }
}

TEST_F(HandlersTest, BeginShutdownTurnsReadyAndNewProbesInto503) {
  EXPECT_EQ(handlers_->Handle({.method = "GET", .path = "/-/ready"}).status,
            200);
  handlers_->BeginShutdown();
  HttpResponse ready = handlers_->Handle({.method = "GET", .path = "/-/ready"});
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "shutting down\n");
  HttpResponse probe = Probe("http://127.0.0.1:9/");
  EXPECT_EQ(probe.status, 503);
  EXPECT_EQ(probe.body, "probe refused: the exporter is shutting down\n");
  EXPECT_TRUE(prober_.Seen().empty());
  // Liveness and scrapes go on while the exporter drains.
  EXPECT_EQ(handlers_->Handle({.method = "GET", .path = "/-/healthy"}).status,
            200);
  EXPECT_EQ(handlers_->Handle({.method = "GET", .path = "/metrics"}).status,
            200);
  absl::StatusOr<std::string> text = metrics_.Serialize();
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("canary_exporter_probe_rejections_total{"
                               "reason=\"shutting_down\"} 1\n"));
}

TEST_F(HandlersTest, InvalidTargetAnswerAndLogShowNoPassword) {
  for (const char* target :
       {"http://user:s3cret@127.0.0.1:99999/", "ftp://user:s3cret@127.0.0.1/",
        "http://user:s3cret@127.0.0.1/ok%00", "user:s3cret@127.0.0.1/\x01"}) {
    HttpResponse r = Probe(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_THAT(r.body, HasSubstr("<secret>@127.0.0.1")) << target;
    EXPECT_THAT(r.body, Not(HasSubstr("s3cret"))) << target;
  }
  EXPECT_TRUE(prober_.Seen().empty());
  EXPECT_THAT(log_.str(), HasSubstr("msg=\"probe rejected\""));
  EXPECT_THAT(log_.str(), Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace canary::exporter
