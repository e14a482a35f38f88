// The /probe handler with the load limit, single flight, min_interval and
// input limits (exporter/service/admission.h, exporter/service/input_limits.h).
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "exporter/service/admission.h"
#include "exporter/service/handlers.h"
#include "exporter/service/input_limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/exporter/fake_prober.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LoadLimitTest : public ::testing::Test {
 protected:
  void Start(config::ServerConfig server,
             absl::Duration min_interval = absl::ZeroDuration()) {
    auto store = ConfigStore::Create(
        [server, min_interval]() -> absl::StatusOr<config::Config> {
          config::Config c;
          c.server = server;
          config::Module& m = c.modules["canary"];
          m.name = "canary";
          m.burst.vus = 10;
          m.burst.duration = absl::Seconds(1);
          m.min_interval = min_interval;
          return c;
        },
        "test", &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    handlers_ = std::make_unique<Handlers>(&prober_, store_.get(), &metrics_,
                                           HandlerOptions{}, &logger_);
  }

  HttpResponse Probe(std::string target, size_t query_bytes = 0) {
    return handlers_->Handle({.method = "GET",
                              .path = "/probe",
                              .query = {{"target", std::move(target)}},
                              .query_bytes = query_bytes});
  }

  std::string SelfMetricsText() {
    absl::StatusOr<std::string> text = metrics_.Serialize();
    return text.ok() ? *text : "";
  }

  std::ostringstream log_;
  Logger logger_{&log_, LogLevel::kDebug};
  SelfMetrics metrics_;
  FakeProber prober_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<Handlers> handlers_;
};

TEST_F(LoadLimitTest, ProbeOverMaxConcurrentProbesIs503AtOnceAndCounted) {
  Start({.max_concurrent_probes = 1, .max_inflight_requests = 100});
  prober_.Close();
  HttpResponse held;
  std::thread first([&] { held = Probe("http://127.0.0.1:9/a"); });
  ASSERT_TRUE(prober_.AwaitSeen(1, absl::Seconds(60)));

  HttpResponse refused = Probe("http://127.0.0.1:9/b");
  prober_.Open();
  first.join();

  EXPECT_EQ(held.status, 200);
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body, HasSubstr("server.max_concurrent_probes = 1"));
  EXPECT_EQ(refused.body.find('\n'), refused.body.size() - 1);  // one line
  EXPECT_EQ(prober_.Seen().size(), 1u);  // never queued, never probed
  EXPECT_THAT(SelfMetricsText(),
              HasSubstr("canary_exporter_probe_rejections_total{reason=\"max_"
                        "concurrent_probes\"} 1\n"));
}

TEST_F(LoadLimitTest, ProbeOverMaxInflightRequestsIs503) {
  Start({.max_concurrent_probes = 10, .max_inflight_requests = 15});
  prober_.Close();
  std::thread first([&] { Probe("http://127.0.0.1:9/a"); });
  ASSERT_TRUE(prober_.AwaitSeen(1, absl::Seconds(60)));
  HttpResponse refused = Probe("http://127.0.0.1:9/b");
  prober_.Open();
  first.join();
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body, HasSubstr("server.max_inflight_requests"));
  EXPECT_THAT(SelfMetricsText(),
              HasSubstr("canary_exporter_probe_rejections_total{reason=\"max_"
                        "inflight_requests\"} 1\n"));
  // Both budget reasons exist from the start, so alerts see zeros.
  EXPECT_THAT(SelfMetricsText(),
              HasSubstr("canary_exporter_probe_rejections_total{reason=\"max_"
                        "concurrent_probes\"} 0\n"));
}

TEST_F(LoadLimitTest, MinIntervalAnswersTheLastResultAndSaysSo) {
  Start({}, absl::Hours(1));
  HttpResponse first = Probe("http://127.0.0.1:9/");
  HttpResponse second = Probe("http://127.0.0.1:9/");
  EXPECT_EQ(prober_.Seen().size(), 1u);
  EXPECT_THAT(first.body, HasSubstr("\nprobe_cached 0\n"));
  EXPECT_THAT(second.body, HasSubstr("\nprobe_cached 1\n"));
  EXPECT_THAT(second.body, HasSubstr("probe_success 1\n"));
  const std::string text = SelfMetricsText();
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_cached_total{module="
                              "\"canary\"} 1\n"));
  // The requests were sent once, so they are counted once.
  EXPECT_THAT(text, HasSubstr("canary_exporter_probe_requests_total{module="
                              "\"canary\",result=\"success\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("canary_exporter_probes_total{module=\"canary\","
                              "result=\"success\"} 1\n"));
}

TEST_F(LoadLimitTest, WithoutMinIntervalEveryProbeRunsABurst) {
  Start({});
  EXPECT_THAT(Probe("http://127.0.0.1:9/").body, HasSubstr("probe_cached 0"));
  EXPECT_THAT(Probe("http://127.0.0.1:9/").body, HasSubstr("probe_cached 0"));
  EXPECT_EQ(prober_.Seen().size(), 2u);
}

TEST_F(LoadLimitTest, OverlongTargetIs414WithoutEchoingIt) {
  Start({});
  const std::string target =
      absl::StrCat("http://127.0.0.1:9/", std::string(kMaxTargetBytes, 'a'));
  HttpResponse r = Probe(target);
  EXPECT_EQ(r.status, 414);
  EXPECT_THAT(r.body, HasSubstr("at most 2048"));
  EXPECT_THAT(r.body, Not(HasSubstr("aaaa")));
  EXPECT_TRUE(prober_.Seen().empty());
  EXPECT_THAT(SelfMetricsText(),
              HasSubstr("canary_exporter_probe_rejections_total{reason=\"bad_"
                        "request\"} 1\n"));
}

TEST_F(LoadLimitTest, TargetAtTheLimitIsProbed) {
  Start({});
  std::string target = "http://127.0.0.1:9/";
  target.append(kMaxTargetBytes - target.size(), 'a');
  EXPECT_EQ(Probe(target).status, 200);
}

TEST_F(LoadLimitTest, OverlongQueryStringIs414) {
  Start({});
  HttpResponse r = Probe("http://127.0.0.1:9/", kMaxQueryStringBytes + 1);
  EXPECT_EQ(r.status, 414);
  EXPECT_THAT(r.body, HasSubstr("query string is 8193 bytes long"));
}

TEST_F(LoadLimitTest, OverlongModuleNameIs400) {
  Start({});
  HttpResponse r = handlers_->Handle(
      {.method = "GET",
       .path = "/probe",
       .query = {{"target", "http://127.0.0.1:9/"},
                 {"module", std::string(kMaxModuleNameBytes + 1, 'm')}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("module name is 129 bytes long"));
}

TEST(InputLimitsTest, MapsOutOfRangeTo414AndTheRestTo400) {
  EXPECT_EQ(InputErrorHttpStatus(absl::OutOfRangeError("x")), 414);
  EXPECT_EQ(InputErrorHttpStatus(absl::InvalidArgumentError("x")), 400);
  EXPECT_TRUE(CheckProbeInput(10, {{"target", "http://x"}}).ok());
}

}  // namespace
}  // namespace canary::exporter
