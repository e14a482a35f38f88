// Scenarios (issue 13) against a real CivetWeb target that enforces the
// flow: /shop/items answers 401 without the token /shop/login returned,
// /shop/cart 403 without its session cookie, /shop/checkout needs the CSRF
// value /shop/items printed and fails every third time
// (tests/testing/target_server.h). One server for the whole file; each
// burst is a handful of requests.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/allowed_target.h"
#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/allowlist.h"
#include "probes/exposition.h"
#include "probes/prober.h"
#include "probes/target.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary::testing {
namespace {

using ::canary::probes::ProbeReport;
using ::canary::probes::ResultClass;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kShop[] = R"toml(
[modules.shop]
timeout = "2s"
burst = { vus = 2, requests = 6 }

[[modules.shop.steps]]
name = "login"
method = "POST"
url = "/shop/login"
body = "user=canary"
valid_status_codes = [200]
extract = [{ var = "token", json_pointer = "/token" },
           { var = "uid", json_pointer = "/user/id" }]

[[modules.shop.steps]]
name = "list"
url = "/shop/items?user=${uid}"
headers = { Authorization = "Bearer ${token}" }
extract = [{ var = "csrf", regex = 'name="csrf" value="([^"]+)"' }]

[[modules.shop.steps]]
name = "cart"
url = "/shop/cart"

[[modules.shop.steps]]
name = "checkout"
method = "POST"
url = "/shop/checkout"
headers = { Authorization = "Bearer ${token}" }
body = "csrf=${csrf}"
fail_if_body_not_matches_regexp = ["order_id"]
)toml";

class ScenarioTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), IsOk());
    absl::StatusOr<std::unique_ptr<TargetServer>> t = TargetServer::Start();
    ASSERT_THAT(t.status(), IsOk());
    target_ = t->release();
  }
  static void TearDownTestSuite() {
    delete target_;
    target_ = nullptr;
  }
  void SetUp() override { target_->ResetHits(); }

  static config::Config Load(const std::string& toml) {
    absl::StatusOr<config::Config> c = config::LoadConfig(toml, "shop.toml");
    EXPECT_THAT(c.status(), IsOk());
    return c.ok() ? *std::move(c) : config::Config();
  }

  static ProbeReport Probe(const config::Module& m,
                           const probes::Allowlist* allowlist = nullptr) {
    return probes::NewHttpProber()->Probe({.target = target_->Url("/"),
                                           .module = &m,
                                           .budget = absl::Seconds(20),
                                           .allowlist = allowlist});
  }

  static int64_t Count(const ProbeReport& r, int step, ResultClass c) {
    int64_t n = 0;
    for (const probes::RequestResult& q : r.burst.requests) {
      if (q.step() == step && q.result() == c) ++n;
    }
    return n;
  }

  static TargetServer* target_;
};
TargetServer* ScenarioTest::target_ = nullptr;

TEST_F(ScenarioTest, FullFlowCarriesTokenCookieAndCsrfPerIteration) {
  const config::Config c = Load(kShop);
  const config::Module& m = c.modules.at("shop");
  const ProbeReport r = Probe(m);
  ASSERT_TRUE(r.scenario.has_value());
  EXPECT_EQ(r.burst.iterations.size(), 6u);
  // Every login, list and cart passed: the token, the cookie and the CSRF
  // value of the iteration's own login were sent.
  EXPECT_EQ(Count(r, 0, ResultClass::kSuccess), 6);
  EXPECT_EQ(Count(r, 1, ResultClass::kSuccess), 6);
  EXPECT_EQ(Count(r, 2, ResultClass::kSuccess), 6);
  // Checkout fails every third time (503): 2 of 6 on a fresh server count.
  EXPECT_EQ(Count(r, 3, ResultClass::kSuccess) +
                Count(r, 3, ResultClass::kHttpStatus),
            6);
  EXPECT_GE(Count(r, 3, ResultClass::kHttpStatus), 1);
  EXPECT_EQ(r.scenario->failed, Count(r, 3, ResultClass::kHttpStatus));
  EXPECT_EQ(r.scenario->failed_at[3], r.scenario->failed);
  EXPECT_FALSE(r.success);  // a failed iteration, no error_rate threshold
  const std::string text = probes::SerializeFamilies(r.families);
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "probe_scenario_iterations_failed_by_step{step="
                        "\"checkout\"} ",
                        r.scenario->failed)));
  EXPECT_THAT(text, HasSubstr("probe_scenario_step_requests{step=\"cart\","
                              "result=\"success\"} 6"));
  EXPECT_EQ(target_->Hits("/shop/checkout"), 6);
}

TEST_F(ScenarioTest, ErrorRateThresholdToleratesTheFlakyCheckout) {
  const config::Config c = Load(absl::StrCat(
      kShop,
      "\n[modules.lenient]\nthresholds = [\"iteration_duration: "
      "error_rate<0.5\", \"http_req_duration{step:login}: "
      "p(95)<2s\"]\n",
      "[[modules.lenient.steps]]\nname = \"login\"\nmethod = \"POST\"\n",
      "url = \"/shop/login\"\n"));
  const ProbeReport r = Probe(c.modules.at("lenient"));
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.burst.iterations.size(), 1u);
}

TEST_F(ScenarioTest, WithoutTheTokenListIs401AndTheIterationEndsThere) {
  const config::Config c = Load(R"(
[modules.notoken]
burst = { requests = 2 }
[[modules.notoken.steps]]
name = "login"
method = "POST"
url = "/shop/login"
[[modules.notoken.steps]]
name = "list"
url = "/shop/items"
[[modules.notoken.steps]]
name = "cart"
url = "/shop/cart"
)");
  const ProbeReport r = Probe(c.modules.at("notoken"));
  EXPECT_EQ(Count(r, 1, ResultClass::kHttpStatus), 2);
  EXPECT_EQ(target_->Hits("/shop/cart"), 0);  // never sent
  ASSERT_TRUE(r.scenario.has_value());
  EXPECT_EQ(r.scenario->failed_at[1], 2);
  EXPECT_FALSE(r.success);
  EXPECT_THAT(r.burst.error(r.burst.requests[1]),
              HasSubstr("step \"list\": status 401"));
}

TEST_F(ScenarioTest, CookiesLiveForOneIterationOnly) {
  // cart first: each iteration starts with an empty jar, so the cookie the
  // previous iteration's login set is not sent and cart gets 403; within
  // the iteration, the login's cookie opens the second cart.
  const config::Config c = Load(R"(
[modules.jar]
burst = { vus = 1, requests = 2 }
[[modules.jar.steps]]
name = "cart_before"
url = "/shop/cart"
optional = true
[[modules.jar.steps]]
name = "login"
method = "POST"
url = "/shop/login"
[[modules.jar.steps]]
name = "cart_after"
url = "/shop/cart"
)");
  const ProbeReport r = Probe(c.modules.at("jar"));
  EXPECT_EQ(Count(r, 0, ResultClass::kHttpStatus), 2);
  EXPECT_EQ(Count(r, 2, ResultClass::kSuccess), 2);
  ASSERT_TRUE(r.scenario.has_value());
  EXPECT_EQ(r.scenario->completed, 2);  // the optional failure is tolerated
  EXPECT_TRUE(r.success);
}

TEST_F(ScenarioTest, StepOutsideTheAllowlistIsNeverSent) {
  const int port = target_->port();
  const config::Config c = Load(absl::StrCat(R"(
[modules.escape]
[[modules.escape.steps]]
name = "login"
method = "POST"
url = "/shop/login"
extract = [{ var = "uid", json_pointer = "/user/id" }]
[[modules.escape.steps]]
name = "elsewhere"
url = "http://127.0.0.2:)",
                                             port, R"(/ok?u=${uid}"
)"));
  config::SecurityConfig security;
  security.allowed_targets.emplace();
  security.allowed_targets->push_back(
      *config::ParseAllowedTarget("127.0.0.1/32"));
  const probes::Allowlist allowlist(security);
  const ProbeReport r = Probe(c.modules.at("escape"), &allowlist);
  ASSERT_EQ(r.burst.requests.size(), 2u);
  EXPECT_EQ(r.burst.requests[1].result(), ResultClass::kConnect);
  const std::string error = r.burst.error(r.burst.requests[1]);
  EXPECT_THAT(error, HasSubstr("not allowed"));
  // Built from a variable: the URL is not quoted.
  EXPECT_THAT(error, Not(HasSubstr("127.0.0.2")));
  EXPECT_EQ(target_->Hits("/ok"), 0);
  EXPECT_FALSE(r.success);
}

}  // namespace
}  // namespace canary::testing
