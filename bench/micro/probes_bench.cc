// Google Benchmark microbenchmarks of the hot paths of one probe: recording
// requests (the burst engine over an instant transport), statistics and
// quantiles, building and serializing the exposition, the pacer, response
// checks, and - when CANARY_BENCH_URL names a loopback HTTP endpoint - the
// real libcurl transport per request.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "config/config.h"
#include "probes/burst.h"
#include "probes/curl_transport.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/result.h"
#include "probes/stats.h"
#include "probes/target.h"
#include "probes/threshold_check.h"
#include "probes/transport.h"
#include "probes/validate.h"
#include "re2/re2.h"

namespace canary::probes {
namespace {

// A burst of n successful requests with log-normal latencies around 20 ms,
// in completion order, as RunBurst would leave it.
BurstResult MakeBurst(int64_t n) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> ms(std::log(20.0), 0.3);
  BurstResult burst;
  burst.requests.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    RequestResult r;
    r.set_vu(static_cast<int>(i % 10));
    r.set_intended_start(absl::Milliseconds(i));
    r.set_actual_start(r.intended_start());
    r.set_latency(absl::Microseconds(static_cast<int64_t>(ms(rng) * 1000)));
    r.set_phase(Phase::kProcessing, r.latency());
    r.set_new_connection(i < 10);
    const int code = i % 97 == 0 ? 503 : 200;
    r.set_status_code(code);
    r.set_result(code == 200 ? ResultClass::kSuccess
                             : ResultClass::kHttpStatus);
    r.set_bytes_received(3);
    burst.requests.push_back(std::move(r));
  }
  burst.planned = n;
  burst.duration = absl::Seconds(5);
  burst.budget = absl::Seconds(10);
  return burst;
}

config::Module MakeModule() {
  config::Module m;
  m.name = "bench";
  config::Threshold p95;
  p95.source = "p(95)<200ms";
  p95.percentile = 95;
  p95.value = 0.2;
  config::Threshold err;
  err.source = "error_rate<0.01";
  err.stat = config::Threshold::Stat::kErrorRate;
  err.value = 0.01;
  m.thresholds = {p95, err};
  return m;
}

void BM_ComputeStats(benchmark::State& state) {
  const BurstResult burst = MakeBurst(state.range(0));
  for (auto _ : state) {
    BurstStats s = ComputeStats(burst);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ComputeStats)->Arg(1000)->Arg(10000);

void BM_Quantile(benchmark::State& state) {
  const BurstStats s = ComputeStats(MakeBurst(state.range(0)));
  for (auto _ : state) {
    for (double q : {0.5, 0.9, 0.95, 0.99, 1.0}) {
      benchmark::DoNotOptimize(Quantile(s.latencies, q));
    }
  }
}
BENCHMARK(BM_Quantile)->Arg(1000)->Arg(10000);

void BM_BuildProbeFamilies(benchmark::State& state) {
  const BurstResult burst = MakeBurst(state.range(0));
  const BurstStats stats = ComputeStats(burst);
  const config::Module module = MakeModule();
  const std::vector<bool> passed = EvaluateThresholds(module.thresholds, stats);
  const ProbeSummary summary{.success = true,
                             .probe_duration = absl::Seconds(5),
                             .budget = absl::Seconds(10)};
  for (auto _ : state) {
    auto families = BuildProbeFamilies(burst, stats, module, passed, summary);
    benchmark::DoNotOptimize(families);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildProbeFamilies)->Arg(1)->Arg(1000)->Arg(10000);

void BM_SerializeFamilies(benchmark::State& state) {
  const BurstResult burst = MakeBurst(1000);
  const BurstStats stats = ComputeStats(burst);
  const config::Module module = MakeModule();
  const auto families = BuildProbeFamilies(
      burst, stats, module, EvaluateThresholds(module.thresholds, stats),
      {.success = true,
       .probe_duration = absl::Seconds(5),
       .budget = absl::Seconds(10)});
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = SerializeFamilies(families);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_SerializeFamilies);

void BM_PlanBurst(benchmark::State& state) {
  config::BurstConfig burst;
  burst.rate = 200;
  burst.vus = 20;
  burst.duration = absl::Seconds(3);
  for (auto _ : state) {
    BurstPlan plan = PlanBurst(burst, absl::Seconds(2), absl::Seconds(10));
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanBurst);

void BM_ArrivalOffset(benchmark::State& state) {
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ArrivalOffset(i++, 200));
  }
}
BENCHMARK(BM_ArrivalOffset);

void BM_CheckResponse(benchmark::State& state) {
  config::HttpConfig http;
  const bool with_regexps = state.range(0) != 0;
  if (with_regexps) {
    http.fail_if_body_matches_regexp.push_back(
        {"\"error\"\\s*:", std::make_shared<RE2>("\"error\"\\s*:")});
    http.fail_if_header_not_matches.push_back(
        {"Content-Type",
         {"^application/json", std::make_shared<RE2>("^application/json")}});
  }
  const Headers headers = {{"Content-Type", "application/json"},
                           {"Content-Length", "64"}};
  const std::string body(64, 'x');
  std::string why;
  for (auto _ : state) {
    benchmark::DoNotOptimize(CheckResponse(200, headers, body, http, &why));
  }
  state.SetLabel(with_regexps ? "body+header regexps" : "status only");
}
BENCHMARK(BM_CheckResponse)->Arg(0)->Arg(1);

// A clock that only moves when the transport says time passed.
class StepClock : public Clock {
 public:
  absl::Time Now() override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::UnixEpoch();
};

// Completes every request at the next Wait(), 100 us after it started: the
// engine's own cost per request, without any I/O. With an `error`, every
// request fails with that text, as a refused connection does.
class InstantTransport : public Transport {
 public:
  explicit InstantTransport(StepClock* clock, std::string error = "")
      : clock_(clock), error_(std::move(error)) {}
  absl::Status Start(const StartRequest& req) override {
    pending_.push_back(req);
    return absl::OkStatus();
  }
  absl::Status Wait(absl::Time until, std::vector<Completion>* done) override {
    if (pending_.empty()) {
      clock_->Advance(std::max(until - clock_->Now(), absl::Nanoseconds(1)));
      return absl::OkStatus();
    }
    clock_->Advance(absl::Microseconds(100));
    for (const StartRequest& r : pending_) {
      Completion c;
      c.id = r.id;
      c.slot = r.slot;
      c.total = absl::Microseconds(100);
      if (error_.empty()) {
        c.status_code = 200;
        c.result = ResultClass::kSuccess;
        // A scenario step that extracts gets a header to extract from.
        if (r.spec != nullptr && r.spec->keep_response) {
          c.headers.emplace_back("X-Token", "token-value-0123456789");
        }
      } else {
        c.result = ResultClass::kConnect;
        c.error = error_;
      }
      done->push_back(std::move(c));
    }
    pending_.clear();
    return absl::OkStatus();
  }
  void CancelAll(const std::string&, std::vector<Completion>*) override {}
  int InFlight() const override { return static_cast<int>(pending_.size()); }

 private:
  StepClock* clock_;
  std::string error_;
  std::vector<StartRequest> pending_;
};

// Resident set size of this process, from /proc/self/status.
int64_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
    }
  }
  return -1;
}

// Bytes malloc has handed out and not taken back (heap and mmap chunks).
int64_t MallocBytes() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

// Memory a burst's records hold, per request: the growth of RSS and of
// malloc's bytes in use while the result of an n-request burst is kept
// (closed model, 10 VUs, no I/O). Arg 1 = 1: every request fails with the
// same libcurl-like error text (its cost per request shows up here too).
// Run alone for a clean RSS figure (bench/run.sh --micro does):
//   canary_microbench --benchmark_filter=BM_BurstMemoryPerRequest
void BM_BurstMemoryPerRequest(benchmark::State& state) {
  config::BurstConfig cfg;
  cfg.vus = 10;
  cfg.requests = state.range(0);
  const BurstPlan plan = PlanBurst(cfg, absl::Seconds(2), absl::Hours(1));
  const std::string error =
      state.range(1) != 0
          ? "Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't "
            "connect to server"
          : "";
  double rss_per_request = 0;
  double malloc_per_request = 0;
  for (auto _ : state) {
    StepClock clock;
    InstantTransport transport(&clock, error);
    const int64_t rss_before = RssBytes();
    const int64_t malloc_before = MallocBytes();
    auto r = RunBurst(plan, &transport, &clock);
    if (!r.ok() || static_cast<int64_t>(r->requests.size()) != state.range(0)) {
      state.SkipWithError("RunBurst did not record every request");
      return;
    }
    const double n = static_cast<double>(r->requests.size());
    rss_per_request = static_cast<double>(RssBytes() - rss_before) / n;
    malloc_per_request = static_cast<double>(MallocBytes() - malloc_before) / n;
    benchmark::DoNotOptimize(r);
  }
  state.counters["record_bytes"] = sizeof(RequestResult);
  state.counters["rss_bytes_per_request"] = rss_per_request;
  state.counters["malloc_bytes_per_request"] = malloc_per_request;
  state.SetLabel(state.range(1) != 0 ? "every request failed" : "all 200");
}
BENCHMARK(BM_BurstMemoryPerRequest)
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Recording: the closed-model engine, 10 VUs, n requests, no I/O.
void BM_RunBurstClosedNoIo(benchmark::State& state) {
  config::BurstConfig cfg;
  cfg.vus = 10;
  cfg.requests = state.range(0);
  const BurstPlan plan = PlanBurst(cfg, absl::Seconds(2), absl::Hours(1));
  for (auto _ : state) {
    StepClock clock;
    InstantTransport transport(&clock);
    auto r = RunBurst(plan, &transport, &clock);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RunBurstClosedNoIo)->Arg(10000);

// The pacer: the open-model engine at 1000/s, n arrivals, no I/O.
void BM_RunBurstOpenNoIo(benchmark::State& state) {
  config::BurstConfig cfg;
  cfg.vus = 10;
  cfg.rate = 1000;
  cfg.requests = state.range(0);
  const BurstPlan plan = PlanBurst(cfg, absl::Seconds(2), absl::Hours(1));
  for (auto _ : state) {
    StepClock clock;
    InstantTransport transport(&clock);
    auto r = RunBurst(plan, &transport, &clock);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RunBurstOpenNoIo)->Arg(10000);

// CANARY_BENCH_URL as a target (bench/micro.sh sets it), with libcurl
// initialised; nullopt after marking `state` skipped.
std::optional<Target> LoopbackTarget(benchmark::State& state) {
  const char* url = std::getenv("CANARY_BENCH_URL");
  if (url == nullptr || *url == '\0') {
    state.SkipWithError("CANARY_BENCH_URL is not set");
    return std::nullopt;
  }
  if (!GlobalInit().ok()) {
    state.SkipWithError("curl_global_init failed");
    return std::nullopt;
  }
  absl::StatusOr<Target> target = ParseTarget(url);
  if (!target.ok()) {
    state.SkipWithError("CANARY_BENCH_URL is not a valid target");
    return std::nullopt;
  }
  return *std::move(target);
}

// Runs `plan` with the real transport once per benchmark iteration; adds
// the requests made, and those that did not succeed, to the counts. False
// after marking `state` skipped.
bool RunCurlBursts(benchmark::State& state, const Target& target,
                   const config::Module& module, const BurstPlan& plan,
                   int64_t* requests, int64_t* failed) {
  for (auto _ : state) {
    auto transport =
        NewCurlTransport(target, module, plan.vus, RealClock::Get());
    if (!transport.ok()) {
      state.SkipWithError("NewCurlTransport failed");
      return false;
    }
    auto r = RunBurst(plan, transport->get(), RealClock::Get());
    if (!r.ok()) {
      state.SkipWithError("RunBurst failed");
      return false;
    }
    *requests += static_cast<int64_t>(r->requests.size());
    for (const RequestResult& q : r->requests) {
      if (q.result() != ResultClass::kSuccess) ++*failed;
    }
  }
  return true;
}

// The real transport and engine on loopback, without the exporter's server:
// CANARY_BENCH_URL=http://127.0.0.1:PORT/fast (bench/micro.sh sets it).
// Reports wall time per request and CPU per request of this thread.
void BM_CurlBurstLoopback(benchmark::State& state) {
  const std::optional<Target> target = LoopbackTarget(state);
  if (!target.has_value()) return;
  config::Module module;
  module.burst.vus = static_cast<int>(state.range(0));
  module.burst.requests = 2000;
  const BurstPlan plan =
      PlanBurst(module.burst, module.timeout, absl::Seconds(60));
  int64_t requests = 0;
  int64_t failed = 0;
  if (!RunCurlBursts(state, *target, module, plan, &requests, &failed)) return;
  state.SetItemsProcessed(requests);
}
BENCHMARK(BM_CurlBurstLoopback)
    ->Arg(1)
    ->Arg(10)
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A 3-step scenario shaped like login -> list -> checkout: the first step
// extracts a response header into ${token}, the two others send it in a
// header. Every step requests `path`.
config::Module ScenarioModule(const std::string& path, const char* header) {
  config::Module m;
  m.name = "bench";
  m.variables = {"token"};
  const char* names[] = {"login", "list", "checkout"};
  for (int i = 0; i < 3; ++i) {
    config::Step step;
    step.name = names[i];
    step.url.source = path;
    step.url.parts.push_back({path, -1});
    if (i == 0) {
      config::Extraction e;
      e.var = "token";
      e.from = config::Extraction::From::kHeader;
      e.header = header;
      step.extract.push_back(e);
    } else {
      config::Template value;
      value.source = "Bearer ${token}";
      value.parts = {{"Bearer ", -1}, {"", 0}};
      step.headers.emplace_back("Authorization", value);
    }
    m.steps.push_back(std::move(step));
  }
  return m;
}

// Scenario against single request, side by side (issue 13: a 3-step
// scenario costs no more CPU per request than a single-request burst,
// within 10 %): the engine alone, same VUs and request count, no I/O.
void BM_RunBurstScenarioNoIo(benchmark::State& state) {
  const bool scenario = state.range(1) != 0;
  config::Module m =
      scenario ? ScenarioModule("/", "X-Token") : config::Module();
  m.burst.vus = 10;
  const int64_t requests = state.range(0);
  m.burst.requests = scenario ? requests / 3 : requests;
  BurstPlan plan = PlanBurst(m.burst, absl::Seconds(2), absl::Hours(1));
  if (scenario) plan.scenario = &m;
  int64_t sent = 0;
  for (auto _ : state) {
    StepClock clock;
    InstantTransport transport(&clock);
    auto r = RunBurst(plan, &transport, &clock);
    if (!r.ok()) {
      state.SkipWithError("RunBurst failed");
      return;
    }
    sent += static_cast<int64_t>(r->requests.size());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(sent);
  state.SetLabel(scenario ? "3-step scenario" : "single request");
}
BENCHMARK(BM_RunBurstScenarioNoIo)->Args({9999, 0})->Args({9999, 1});

// The same comparison with the real transport on loopback
// (CANARY_BENCH_URL, as BM_CurlBurstLoopback): process CPU per request of a
// 3-step scenario (extracting nginx's Server header) and of single requests,
// 1998 requests a burst either way; cpu_us_per_request is the figure to
// compare.
void BM_CurlScenarioVsSingle(benchmark::State& state) {
  const bool scenario = state.range(1) != 0;
  const std::optional<Target> target = LoopbackTarget(state);
  if (!target.has_value()) return;
  config::Module module = scenario
                              ? ScenarioModule(target->path_and_query, "Server")
                              : config::Module();
  module.burst.vus = static_cast<int>(state.range(0));
  module.burst.requests = scenario ? 666 : 1998;
  BurstPlan plan = PlanBurst(module.burst, module.timeout, absl::Seconds(60));
  if (scenario) plan.scenario = &module;
  int64_t requests = 0;
  int64_t failed = 0;
  if (!RunCurlBursts(state, *target, module, plan, &requests, &failed)) return;
  if (failed > 0) {
    state.SkipWithError("requests failed: the comparison would be void");
    return;
  }
  state.SetItemsProcessed(requests);
  state.counters["cpu_us_per_request"] = benchmark::Counter(
      static_cast<double>(requests) / 1e6,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(scenario ? "3-step scenario" : "single request");
}
BENCHMARK(BM_CurlScenarioVsSingle)
    ->Args({10, 0})
    ->Args({10, 1})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace canary::probes

BENCHMARK_MAIN();
