// /probe and the SSRF allowlist: a refused target answers 403 with a
// one-line reason, never reaches the prober, and is counted; an allowed one
// reaches the prober with the config's allowlist.
#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/sync.h"
#include "config/loader.h"
#include "exporter/service/handlers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/allowlist.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Records the targets it was asked to probe and checks an address against
// the allowlist each probe carried.
class RecordingProber : public probes::Prober {
 public:
  probes::ProbeReport Probe(const probes::ProbeSpec& spec) override {
    canary::MutexLock lock(&mu_);
    targets_.push_back(spec.target);
    had_allowlist_ = spec.allowlist != nullptr;
    if (spec.allowlist != nullptr) {
      ten_allowed_ = spec.allowlist
                         ->CheckAddress(*config::ParseIpAddress("10.0.0.1"),
                                        /*name_allowed=*/false)
                         .ok();
    }
    probes::ProbeReport r;
    r.success = true;
    return r;
  }
  std::vector<std::string> targets() const {
    canary::MutexLock lock(&mu_);
    return targets_;
  }
  bool had_allowlist() const {
    canary::MutexLock lock(&mu_);
    return had_allowlist_;
  }
  bool ten_allowed() const {
    canary::MutexLock lock(&mu_);
    return ten_allowed_;
  }

 private:
  mutable canary::Mutex mu_;
  std::vector<std::string> targets_ ABSL_GUARDED_BY(mu_);
  bool had_allowlist_ ABSL_GUARDED_BY(mu_) = false;
  bool ten_allowed_ ABSL_GUARDED_BY(mu_) = false;
};

class AllowlistHandlerTest : public ::testing::Test {
 protected:
  void Use(std::string security_toml) {
    toml_ = "[modules.canary]\n" + security_toml;
    auto store = ConfigStore::Create(
        [this] { return config::LoadConfig(toml_, "test.toml"); }, "test",
        &metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    handlers_ = std::make_unique<Handlers>(&prober_, store_.get(), &metrics_,
                                           HandlerOptions{}, &logger_);
  }

  HttpResponse Probe(std::string target) {
    return handlers_->Handle({.method = "GET",
                              .path = "/probe",
                              .query = {{"target", std::move(target)}}});
  }

  std::string Forbidden() {
    absl::StatusOr<std::string> text = metrics_.Serialize();
    EXPECT_TRUE(text.ok());
    const std::string key =
        "canary_exporter_probe_rejections_total{reason=\"forbidden\"} ";
    size_t at = text->find(key);
    if (at == std::string::npos) return "absent";
    return text->substr(at + key.size(),
                        text->find('\n', at) - at - key.size());
  }

  std::string toml_;
  std::ostringstream log_;
  Logger logger_{&log_, LogLevel::kDebug};
  SelfMetrics metrics_;
  RecordingProber prober_;
  std::unique_ptr<ConfigStore> store_;
  std::unique_ptr<Handlers> handlers_;
};

TEST_F(AllowlistHandlerTest, RefusedTargetIs403WithOneLineReasonAndCounted) {
  Use("[security]\nallowed_targets = [\"10.0.0.0/8\"]\n");
  EXPECT_EQ(Forbidden(), "0");  // present from the start
  HttpResponse r = Probe("http://127.0.0.1:9/ok");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body,
            "target host 127.0.0.1: address 127.0.0.1 is not allowed: it is "
            "in no CIDR of [security] allowed_targets and was not reached "
            "through a host name that a pattern there matches\n");
  EXPECT_TRUE(prober_.targets().empty());
  EXPECT_EQ(Forbidden(), "1");
  EXPECT_THAT(log_.str(), HasSubstr("msg=\"probe forbidden\""));
}

TEST_F(AllowlistHandlerTest, DefaultAllowsLoopbackOnlyAndSaysHowToWiden) {
  Use("");
  HttpResponse r = Probe("http://10.0.0.1/");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("only loopback targets"));
  EXPECT_THAT(r.body, HasSubstr("[security] allowed_targets"));
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 1);

  for (const char* ok : {"http://127.0.0.1:9/", "127.0.0.2:9", "[::1]:9",
                         "http://localhost:9/"}) {
    EXPECT_EQ(Probe(ok).status, 200) << ok;
  }
  EXPECT_EQ(prober_.targets().size(), 4u);
  EXPECT_TRUE(prober_.had_allowlist());
  EXPECT_FALSE(prober_.ten_allowed());
  EXPECT_EQ(Forbidden(), "1");
}

TEST_F(AllowlistHandlerTest, ProberGetsTheConfiguredAllowlist) {
  Use("[security]\nallowed_targets = [\"10.0.0.0/8\", \"127.0.0.1\"]\n");
  EXPECT_EQ(Probe("http://127.0.0.1:9/").status, 200);
  EXPECT_TRUE(prober_.had_allowlist());
  EXPECT_TRUE(prober_.ten_allowed());
}

TEST_F(AllowlistHandlerTest, OddAndMappedFormsOfARefusedAddressAreRefused) {
  Use("[security]\nallowed_targets = [\"10.0.0.0/8\"]\n");
  for (const char* target :
       {"http://2130706433:9/", "http://0x7f.1:9/", "http://0177.0.0.1:9/",
        "http://127.1:9/", "http://[::ffff:127.0.0.1]:9/",
        "http://[::ffff:7f00:1]:9/", "http://127.0.0.1.:9/"}) {
    HttpResponse r = Probe(target);
    EXPECT_EQ(r.status, 403) << target;
    EXPECT_THAT(r.body, HasSubstr("address 127.0.0.1 is not allowed"))
        << target;
  }
  EXPECT_TRUE(prober_.targets().empty());
  EXPECT_EQ(Forbidden(), "7");
}

TEST_F(AllowlistHandlerTest, MetadataNeedsAnExplicitCidr) {
  Use("[security]\nallowed_targets = [\"0.0.0.0/0\", \"::/0\"]\n");
  for (const char* target :
       {"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
        "http://[fe80::1%25eth0]/", "http://0.0.0.0:9/"}) {
    HttpResponse r = Probe(target);
    EXPECT_EQ(r.status, 403) << target;
    EXPECT_THAT(r.body, HasSubstr("names them explicitly")) << target;
  }
  EXPECT_TRUE(prober_.targets().empty());

  Use("[security]\nallowed_targets = [\"169.254.169.254/32\"]\n");
  EXPECT_EQ(Probe("http://169.254.169.254/").status, 200);
  EXPECT_EQ(prober_.targets().size(), 1u);
}

TEST_F(AllowlistHandlerTest, BadRequestsStay400NotForbidden) {
  Use("[security]\nallowed_targets = [\"10.0.0.0/8\"]\n");
  EXPECT_EQ(Probe("ftp://127.0.0.1/").status, 400);
  EXPECT_EQ(Forbidden(), "0");
  EXPECT_THAT(log_.str(), Not(HasSubstr("probe forbidden")));
}

}  // namespace
}  // namespace canary::exporter
