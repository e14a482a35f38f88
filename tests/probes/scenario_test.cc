#include "probes/scenario.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "config/loader.h"
#include "config/threshold_syntax.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/burst.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/stats.h"
#include "probes/threshold_check.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/status_matchers.h"

namespace canary::probes {
namespace {

using ::canary::testing::FakeClock;
using ::canary::testing::FakeTransport;
using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(JsonPointerTest, FindsScalarsByPath) {
  const std::string json = R"( {"a": {"b": [10, {"c": "x\"y\u00e9"}, true]},
      "skip": {"deep": [[], {}, "}"]}, "n": -1.5e3, "z": null,
      "a/b": 1, "m~n": 2, "": "empty"} )";
  struct Case {
    const char* pointer;
    const char* want;
  } cases[] = {
      {"/a/b/0", "10"},   {"/a/b/1/c", "x\"y\xc3\xa9"},
      {"/a/b/2", "true"}, {"/n", "-1.5e3"},
      {"/z", "null"},     {"/a~1b", "1"},
      {"/m~0n", "2"},     {"/", "empty"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> got = JsonPointerLookup(json, c.pointer);
    ASSERT_THAT(got.status(), IsOk()) << c.pointer;
    EXPECT_EQ(*got, c.want) << c.pointer;
  }
}

TEST(JsonPointerTest, MissingMalformedAndNonScalarAreErrors) {
  EXPECT_THAT(JsonPointerLookup(R"({"a": 1})", "/b"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(JsonPointerLookup(R"([1, 2])", "/2"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(JsonPointerLookup(R"([1, 2])", "/01"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(JsonPointerLookup(R"({"a": {"b": 1}})", "/a"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("object or array")));
  EXPECT_THAT(JsonPointerLookup(R"({"a": )", "/a"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(JsonPointerLookup("<html>", "/a"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  // Nesting beyond the bound is refused, not recursed into.
  std::string deep = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_THAT(JsonPointerLookup("{\"x\": " + deep + ", \"y\": 1}", "/y"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

config::Module LoadShop(const std::string& extra = "") {
  absl::StatusOr<config::Config> c = config::LoadConfig(R"(
[modules.shop]
timeout = "1s"
burst = { vus = 2, requests = 3 }
[[modules.shop.steps]]
name = "login"
method = "POST"
url = "/login"
body = "user=canary"
extract = [{ var = "token", json_pointer = "/token" }]
[[modules.shop.steps]]
name = "list"
url = "/items"
headers = { Authorization = "Bearer ${token}" }
think_time = "100ms"
extract = [{ var = "item", regex = 'id=(\w+)' }]
[[modules.shop.steps]]
name = "checkout"
method = "POST"
url = "/checkout/${item}"
body = "t=${token}"
)" + extra,
                                                        "shop.toml");
  EXPECT_THAT(c.status(), IsOk());
  return c->modules.at("shop");
}

Completion Answer(absl::Duration total, int status, std::string body) {
  Completion c = FakeTransport::Ok(total);
  c.status_code = status;
  c.result = status == 200 ? ResultClass::kSuccess : ResultClass::kHttpStatus;
  c.body = std::move(body);
  return c;
}

BurstPlan ScenarioPlan(const config::Module& m) {
  BurstPlan plan = PlanBurst(m.burst, m.timeout, absl::Seconds(30));
  plan.scenario = &m;
  return plan;
}

TEST(ScenarioBurstTest, StepsRunInOrderOnOneVuCarryingVariables) {
  const config::Module m = LoadShop();
  FakeClock clock;
  FakeTransport* tp = nullptr;
  FakeTransport t(&clock, [&](int64_t seq, int) {
    const std::string& url = tp->starts()[seq].url;
    if (url == "/login") {
      return Answer(absl::Milliseconds(10), 200,
                    absl::StrCat(R"({"token": "tok)", seq, R"("})"));
    }
    if (url == "/items") return Answer(absl::Milliseconds(20), 200, "id=42");
    return Answer(absl::Milliseconds(30), 200, "");
  });
  tp = &t;
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(ScenarioPlan(m), &t, &clock));
  ASSERT_EQ(r.requests.size(), 9u);  // 3 iterations x 3 steps
  ASSERT_EQ(r.iterations.size(), 3u);
  for (const IterationResult& it : r.iterations) {
    EXPECT_EQ(it.failed_step, -1);
    // 10 + 20 + 30 ms of requests and 100 ms think time after "list".
    EXPECT_EQ(it.duration, absl::Milliseconds(160));
  }
  // Per VU: login, list, checkout, in order; a new session only at login.
  for (int vu = 0; vu < 2; ++vu) {
    std::vector<std::string> urls;
    for (const auto& s : t.starts()) {
      if (s.slot != vu) continue;
      urls.push_back(s.url);
      EXPECT_EQ(s.new_iteration, s.url == "/login") << s.url;
    }
    ASSERT_GE(urls.size(), 3u);
    EXPECT_THAT(std::vector<std::string>(urls.begin(), urls.begin() + 3),
                ElementsAre("/login", "/items", "/checkout/42"));
  }
  // The token of the VU's own login goes into its next steps.
  const auto& starts = t.starts();
  for (size_t i = 0; i < starts.size(); ++i) {
    if (starts[i].url != "/login") continue;
    for (size_t j = i + 1; j < starts.size(); ++j) {
      if (starts[j].slot != starts[i].slot) continue;
      EXPECT_THAT(starts[j].headers,
                  ElementsAre(absl::StrCat("Authorization: Bearer tok", i)));
      break;
    }
  }
  // The think time sits between list and checkout.
  for (const RequestResult& q : r.requests) EXPECT_LE(q.step(), 2);
  EXPECT_EQ(r.requests[0].step(), 0);
}

TEST(ScenarioBurstTest, FailedStepEndsIterationAndOptionalDoesNot) {
  const config::Module m = LoadShop();
  FakeClock clock;
  FakeTransport* tp = nullptr;
  FakeTransport t(&clock, [&](int64_t seq, int) {
    const std::string& url = tp->starts()[seq].url;
    if (url == "/login") {
      return Answer(absl::Milliseconds(10), 200, R"({"token": "t"})");
    }
    return Answer(absl::Milliseconds(10), 503, "");  // list fails
  });
  tp = &t;
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(ScenarioPlan(m), &t, &clock));
  ASSERT_EQ(r.iterations.size(), 3u);
  for (const IterationResult& it : r.iterations) EXPECT_EQ(it.failed_step, 1);
  EXPECT_EQ(r.requests.size(), 6u);  // checkout never sent
  for (const auto& s : t.starts()) EXPECT_NE(s.url.substr(0, 9), "/checkout");
  for (const RequestResult& q : r.requests) {
    if (q.step() == 1) {
      EXPECT_EQ(q.result(), ResultClass::kHttpStatus);
      EXPECT_THAT(r.error(q), HasSubstr("step \"list\""));
    }
  }
}

TEST(ScenarioBurstTest, OptionalFailureGoesOnAndUnsetVariableFailsUnsent) {
  absl::StatusOr<config::Config> c = config::LoadConfig(R"(
[modules.m]
[[modules.m.steps]]
name = "a"
url = "/a"
optional = true
extract = [{ var = "x", header = "X-Val" }]
[[modules.m.steps]]
name = "b"
url = "/b/${x}"
)",
                                                        "m.toml");
  ASSERT_THAT(c.status(), IsOk());
  const config::Module& m = c->modules.at("m");
  FakeClock clock;
  FakeTransport t(&clock, [](int64_t, int) {
    return Answer(absl::Milliseconds(5), 200, "");  // no X-Val header
  });
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(ScenarioPlan(m), &t, &clock));
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].result(), ResultClass::kValidation);
  EXPECT_THAT(r.error(r.requests[0]),
              HasSubstr("step \"a\": extract \"x\": no header \"X-Val\""));
  EXPECT_EQ(r.requests[1].step(), 1);
  EXPECT_EQ(r.requests[1].status_code(), 0);
  EXPECT_THAT(r.error(r.requests[1]),
              HasSubstr("step \"b\": variable \"x\" is not set"));
  EXPECT_EQ(t.starts().size(), 1u);  // b was never sent
  ASSERT_EQ(r.iterations.size(), 1u);
  EXPECT_EQ(r.iterations[0].failed_step, 1);
}

TEST(ScenarioBurstTest, OpenModelSchedulesIterationsAndDropsWhenVusBusy) {
  absl::StatusOr<config::Config> c = config::LoadConfig(R"(
[modules.m]
burst = { rate = 10, requests = 10, vus = 1 }
[[modules.m.steps]]
name = "a"
url = "/a"
[[modules.m.steps]]
name = "b"
url = "/b"
)",
                                                        "m.toml");
  ASSERT_THAT(c.status(), IsOk());
  const config::Module& m = c->modules.at("m");
  FakeClock clock;
  // Each iteration takes 2 x 80 ms on the one VU: the arrival 100 ms later
  // finds it busy and is dropped, the one after runs.
  FakeTransport t(&clock, [](int64_t, int) {
    return Answer(absl::Milliseconds(80), 200, "");
  });
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(ScenarioPlan(m), &t, &clock));
  EXPECT_EQ(r.planned, 10);
  EXPECT_EQ(r.dropped, 5);
  EXPECT_EQ(r.iterations.size(), 5u);
  EXPECT_EQ(r.requests.size(), 10u);
  EXPECT_EQ(t.max_in_flight(), 1);
}

TEST(ScenarioTest, HeaderValueWithLineBreakFailsAndNamesNoValue) {
  const config::Module m = LoadShop();
  Variables vars(m.variables.size());
  vars[0] = "secret\r\nX-Evil: 1";
  RequestSpec spec;
  absl::Status s = BuildRequest(m, m.steps[1], vars, &spec);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("header \"Authorization\"")));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("secret")));
}

TEST(ScenarioMetricsTest, PerStepSeriesAndScopedThresholds) {
  const config::Module m = LoadShop(R"(
[modules.other]
)");
  config::Module mod = m;
  absl::StatusOr<config::Threshold> fast =
      config::ParseThreshold("http_req_duration{step:login}: p(95)<50ms");
  absl::StatusOr<config::Threshold> slow =
      config::ParseThreshold("http_req_duration{step:list}: p(95)<50ms");
  absl::StatusOr<config::Threshold> iters =
      config::ParseThreshold("iteration_duration: max<1s");
  ASSERT_TRUE(fast.ok() && slow.ok() && iters.ok());
  fast->step_index = 0;
  slow->step_index = 1;
  mod.thresholds = {*fast, *slow, *iters};
  FakeClock clock;
  FakeTransport* tp = nullptr;
  FakeTransport t(&clock, [&](int64_t seq, int) {
    const std::string& url = tp->starts()[seq].url;
    if (url == "/login") {
      return Answer(absl::Milliseconds(10), 200, R"({"token": "t"})");
    }
    if (url == "/items") return Answer(absl::Milliseconds(90), 200, "id=1");
    return Answer(absl::Milliseconds(10), 500, "");  // checkout fails
  });
  tp = &t;
  ASSERT_OK_AND_ASSIGN(BurstResult r, RunBurst(ScenarioPlan(mod), &t, &clock));
  const BurstStats stats = ComputeStats(r);
  const ScenarioStats sc = ComputeScenarioStats(r, 3);
  EXPECT_EQ(sc.failed, 3);
  EXPECT_EQ(sc.completed, 0);
  EXPECT_THAT(sc.failed_at, ElementsAre(0, 0, 3));
  EXPECT_THAT(EvaluateThresholds(mod.thresholds, stats, &sc),
              ElementsAre(true, false, true));
  // Without the scenario's statistics a scoped threshold cannot hold.
  EXPECT_THAT(EvaluateThresholds(mod.thresholds, stats, nullptr),
              ElementsAre(false, false, false));
  const std::string text = SerializeFamilies(BuildProbeFamilies(
      r, stats, mod, {true, false, true}, {.success = false}, &sc));
  EXPECT_THAT(text, HasSubstr("probe_scenario_step_requests{step=\"checkout\","
                              "result=\"http_status\"} 3"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "probe_scenario_step_responses{step=\"login\",code=\"200\"} 3"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "probe_scenario_iterations_failed_by_step{step=\"checkout\"} 3"));
  EXPECT_THAT(text,
              HasSubstr("probe_scenario_iterations{outcome=\"failed\"} 3"));
  EXPECT_THAT(text,
              HasSubstr("probe_scenario_iterations{outcome=\"dropped\"} 0"));
  EXPECT_THAT(
      text,
      HasSubstr("probe_scenario_step_duration_seconds_count{step=\"list\"} 3"));
  EXPECT_THAT(text,
              HasSubstr("probe_scenario_iteration_duration_seconds_count 3"));
  EXPECT_THAT(text, HasSubstr("probe_http_requests_planned 9"));
  // A module without steps gets none of them.
  const std::string plain = SerializeFamilies(BuildProbeFamilies(
      r, stats, config::Module(), {}, {.success = true}, nullptr));
  EXPECT_THAT(plain, Not(HasSubstr("probe_scenario_")));
}

}  // namespace
}  // namespace canary::probes
