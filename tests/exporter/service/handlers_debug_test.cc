// /probe?debug=true, /debug?id=N and the landing page's recent probes.
#include <memory>
#include <sstream>
#include <string>

#include "exporter/service/handlers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/exporter/fake_prober.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class HandlersDebugTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(/*history_limit=*/2); }

  void Make(size_t history_limit) {
    auto store = ConfigStore::Create(
        []() -> absl::StatusOr<config::Config> {
          config::Config c;
          config::Module& m = c.modules["canary"];
          m.name = "canary";
          m.http.headers = {{"Authorization", "Bearer HDR-SECRET"},
                            {"X-Canary", "1"}};
          return c;
        },
        "test", &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    handlers_ = std::make_unique<Handlers>(
        &prober_, store_.get(), &metrics_,
        HandlerOptions{.timeout_offset = absl::Seconds(1),
                       .history_limit = history_limit},
        &logger_);
  }

  HttpResponse Get(std::string path,
                   std::map<std::string, std::string> query = {},
                   std::optional<std::string> timeout = std::nullopt) {
    HttpResponse r = handlers_->Handle({.method = "GET",
                                        .path = std::move(path),
                                        .query = std::move(query),
                                        .scrape_timeout = std::move(timeout)});
    // As the server does once the answer is written.
    if (r.after_send) r.after_send();
    return r;
  }

  std::ostringstream log_;
  Logger logger_{&log_, LogLevel::kDebug};
  SelfMetrics metrics_;
  FakeProber prober_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<Handlers> handlers_;
};

TEST_F(HandlersDebugTest, DebugTrueAnswersPlainTextWithConfigBudgetAndMetrics) {
  HttpResponse r =
      Get("/probe",
          {{"target", "http://u:URL-SECRET@127.0.0.1:9/"}, {"debug", "true"}},
          "10");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, StartsWith("text/plain"));
  EXPECT_THAT(r.body, HasSubstr("--- module config"));
  EXPECT_THAT(r.body, HasSubstr("\"X-Canary\" = \"1\""));
  EXPECT_THAT(r.body, HasSubstr("\"Authorization\" = \"<secret>\""));
  EXPECT_THAT(r.body, HasSubstr("budget:   9s (X-Prometheus-Scrape-Timeout-"
                                "Seconds 10 minus --timeout-offset 1s)"));
  EXPECT_THAT(r.body, HasSubstr("--- requests"));
  EXPECT_THAT(r.body, HasSubstr("probe_success 1"));
  EXPECT_THAT(r.body, Not(HasSubstr("HDR-SECRET")));
  EXPECT_THAT(r.body, Not(HasSubstr("URL-SECRET")));
  EXPECT_THAT(log_.str(), Not(HasSubstr("SECRET")));
}

TEST_F(HandlersDebugTest, WithoutDebugTheAnswerIsTheExposition) {
  HttpResponse r = Get("/probe", {{"target", "http://127.0.0.1:9/"}});
  EXPECT_EQ(r.content_type, kMetricsContentType);
  EXPECT_THAT(r.body, Not(HasSubstr("--- module config")));
}

TEST_F(HandlersDebugTest, RecentProbesLinkToTheirStoredDebugOutput) {
  Get("/probe", {{"target", "http://127.0.0.1:9/a"}});
  Get("/probe", {{"target", "http://127.0.0.1:9/b"}});
  Get("/probe", {{"target", "http://127.0.0.1:9/c"}});
  HttpResponse page = Get("/");
  EXPECT_THAT(page.body, HasSubstr("<h2>Recent probes</h2>"));
  EXPECT_THAT(page.body, HasSubstr("href=\"/debug?id=3\""));
  EXPECT_THAT(page.body, HasSubstr("href=\"/debug?id=2\""));
  EXPECT_THAT(page.body, Not(HasSubstr("href=\"/debug?id=1\"")));  // limit 2
  EXPECT_THAT(page.body, HasSubstr("<svg class=\"chart timeline\""));

  HttpResponse debug = Get("/debug", {{"id", "3"}});
  EXPECT_EQ(debug.status, 200);
  EXPECT_THAT(debug.body, HasSubstr("target:   http://127.0.0.1:9/c"));
  EXPECT_EQ(Get("/debug", {{"id", "1"}}).status, 404);
  EXPECT_EQ(Get("/debug", {{"id", "x"}}).status, 400);
  EXPECT_EQ(Get("/debug").status, 400);
}

TEST_F(HandlersDebugTest, HistoryLimitZeroShowsNoProbes) {
  Make(0);
  Get("/probe", {{"target", "http://127.0.0.1:9/a"}});
  HttpResponse page = Get("/");
  EXPECT_THAT(page.body, HasSubstr("None yet."));
  EXPECT_EQ(Get("/debug", {{"id", "1"}}).status, 404);
}

// The record is rendered after the answer: until the server runs
// after_send, the probe is reserved and a reader waits for it (here the
// reservation is dropped unfilled, which releases the reader at once).
TEST_F(HandlersDebugTest, ProbeRecordIsAddedAfterTheAnswerIsWritten) {
  HttpResponse probe = handlers_->Handle(
      {.method = "GET",
       .path = "/probe",
       .query = {{"target", "http://127.0.0.1:9/"}, {"module", "canary"}}});
  ASSERT_EQ(probe.status, 200) << probe.body;
  ASSERT_TRUE(probe.after_send);
  probe.after_send();
  HttpResponse page = Get("/");
  EXPECT_THAT(page.body, HasSubstr("id=\"probe-1\""));
  HttpResponse unanswered = handlers_->Handle(
      {.method = "GET",
       .path = "/probe",
       .query = {{"target", "http://127.0.0.1:9/"}, {"module", "canary"}}});
  ASSERT_TRUE(unanswered.after_send);
  unanswered = HttpResponse{};  // dropped: never written, never recorded
  const absl::Time t0 = absl::Now();
  page = Get("/");
  EXPECT_LT(absl::Now() - t0, kHistoryReadWait);
  EXPECT_THAT(page.body, Not(HasSubstr("id=\"probe-2\"")));
}

}  // namespace
}  // namespace canary::exporter
