#include "exporter/service/admission.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "probes/metric_names.h"

namespace canary::exporter {

int WorkerThreadsFor(const config::ServerConfig& limits) {
  return std::min(limits.max_concurrent_probes + kSpareWorkerThreads,
                  kMaxWorkerThreads);
}

std::optional<std::string> WorkerPoolWarning(const config::Config& config,
                                             int worker_threads) {
  const int wanted = config.server.max_concurrent_probes + kSpareWorkerThreads;
  if (worker_threads <= 0 || wanted <= worker_threads) return std::nullopt;
  return absl::StrCat(
      "server.max_concurrent_probes = ", config.server.max_concurrent_probes,
      " needs ", wanted, " HTTP workers but the pool started with ",
      worker_threads,
      worker_threads >= kMaxWorkerThreads
          ? absl::StrCat(" (the most it starts is ", kMaxWorkerThreads,
                         "); probes beyond it wait for a worker instead of "
                         "getting 503 at once")
          : std::string("; probes beyond it wait for a worker instead of "
                        "getting 503 at once until the exporter restarts"));
}
namespace {

// Module names are [A-Za-z0-9_-]+, so a NUL cannot occur inside one.
std::string Key(const config::Module& module, const std::string& target) {
  return absl::StrCat(module.name, std::string(1, '\0'), target);
}

bool SameConfig(const std::weak_ptr<const config::Config>& a,
                const std::shared_ptr<const config::Config>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

}  // namespace

prometheus::MetricFamily ProbeCachedFamily(bool cached) {
  prometheus::ClientMetric m;
  m.gauge.value = cached ? 1 : 0;
  return prometheus::MetricFamily{
      probes::kProbeCached,
      "1 if this answer repeats the previous burst's result (the module's "
      "min_interval had not passed), else 0.",
      prometheus::MetricType::Gauge,
      {m}};
}

ProbeCoordinator::ProbeCoordinator(Options options)
    : options_(std::move(options)) {}

bool ProbeCoordinator::AdmitLocked(const config::ServerConfig& limits,
                                   int requests, ProbeOutcome* refusal) {
  if (probes_ >= limits.max_concurrent_probes) {
    refusal->reason = kRejectMaxConcurrentProbes;
    refusal->message =
        absl::StrCat("probe refused: ", probes_,
                     " probes are already running or waiting "
                     "(server.max_concurrent_probes = ",
                     limits.max_concurrent_probes, "); retry later");
    return false;
  }
  if (requests_ + requests > limits.max_inflight_requests) {
    refusal->reason = kRejectMaxInflightRequests;
    refusal->message =
        absl::StrCat("probe refused: its burst needs ", requests,
                     " requests in flight but running bursts hold ", requests_,
                     " of ", limits.max_inflight_requests,
                     " (server.max_inflight_requests); retry later");
    return false;
  }
  ++probes_;
  requests_ += requests;
  return true;
}

void ProbeCoordinator::ReleaseLocked(int requests) {
  --probes_;
  requests_ -= requests;
}

void ProbeCoordinator::StoreLocked(const std::string& key, Cached entry) {
  const absl::Time now = options_.clock->Now();
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
  }
  cache_.erase(key);
  while (!cache_.empty() && cache_.size() >= options_.max_cached) {
    auto oldest = cache_.begin();
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    cache_.erase(oldest);
  }
  if (options_.max_cached > 0) cache_.emplace(key, std::move(entry));
}

ProbeOutcome ProbeCoordinator::Join(const std::shared_ptr<Flight>& flight,
                                    absl::Duration budget) {
  if (options_.on_join) options_.on_join();
  bool done = false;
  std::shared_ptr<const probes::ProbeReport> report;
  {
    canary::MutexLock lock(&flight->mu);
    done = flight->mu.AwaitWithTimeout(
        [&flight]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return flight->done; },
        budget);
    report = flight->report;
  }
  {
    canary::MutexLock lock(&mu_);
    ReleaseLocked(0);
  }
  ProbeOutcome out;
  if (!done || report == nullptr) {
    out.reason = kRejectSharedBurstTimeout;
    out.message =
        done ? "probe refused: the burst it shares with a concurrent probe "
               "of the same target and module failed"
             : absl::StrCat(
                   "probe refused: the burst it shares with a "
                   "concurrent probe of the same target and module "
                   "did not end within this probe's budget (",
                   absl::FormatDuration(budget), ")");
    return out;
  }
  out.kind = ProbeOutcome::Kind::kShared;
  out.report = std::move(report);
  return out;
}

ProbeOutcome ProbeCoordinator::Probe(
    const std::shared_ptr<const config::Config>& config,
    const config::Module& module, const std::string& target,
    absl::Duration budget, const std::function<probes::ProbeReport()>& run) {
  const std::string key = Key(module, target);
  const config::ServerConfig& limits = config->server;
  const int requests = module.burst.max_in_flight();
  ProbeOutcome out;
  std::shared_ptr<Flight> flight;
  bool joining = false;
  absl::Time started;
  {
    canary::MutexLock lock(&mu_);
    if (module.min_interval > absl::ZeroDuration()) {
      auto it = cache_.find(key);
      if (it != cache_.end() && SameConfig(it->second.config, config) &&
          options_.clock->Now() - it->second.started < module.min_interval) {
        out.kind = ProbeOutcome::Kind::kCached;
        out.report = it->second.report;
        return out;
      }
    }
    if (auto it = flights_.find(key); it != flights_.end()) {
      // Joining holds a probe slot (an HTTP worker waits) but no requests.
      if (!AdmitLocked(limits, 0, &out)) return out;
      flight = it->second;
      joining = true;
    } else {
      if (!AdmitLocked(limits, requests, &out)) return out;
      flight = std::make_shared<Flight>();
      flights_.emplace(key, flight);
      started = options_.clock->Now();
    }
  }
  if (joining) return Join(flight, budget);

  std::shared_ptr<const probes::ProbeReport> report;
  auto finish = [&] {
    {
      canary::MutexLock lock(&mu_);
      ReleaseLocked(requests);
      flights_.erase(key);
      if (report != nullptr && module.min_interval > absl::ZeroDuration()) {
        StoreLocked(key, Cached{.report = report,
                                .config = config,
                                .started = started,
                                .expires = started + module.min_interval});
      }
    }
    canary::MutexLock lock(&flight->mu);
    flight->report = report;
    flight->done = true;  // the unlock wakes the joined callers
  };
  try {
    report = std::make_shared<const probes::ProbeReport>(run());
  } catch (...) {
    // The server turns the exception into a 500; the load limit and the
    // waiting callers must not be left holding this burst.
    finish();
    throw;
  }
  finish();
  out.kind = ProbeOutcome::Kind::kRan;
  out.report = std::move(report);
  return out;
}

LoadUsage ProbeCoordinator::Usage() const {
  canary::MutexLock lock(&mu_);
  return LoadUsage{.probes = probes_,
                   .requests = requests_,
                   .bursts = static_cast<int>(flights_.size()),
                   .cached = cache_.size()};
}

}  // namespace canary::exporter
