// admission.h: the exporter's load limit. Decides, for each /probe call,
// whether it runs a new burst, shares a burst already running for the same
// target and module (single flight), reuses the last burst's result
// (min_interval), or is refused at once because the load limit is reached.
// ("Budget" is only ever a probe's time limit, exporter/service/budget.h.)
//
//   ProbeCoordinator coordinator;
//   ProbeOutcome out = coordinator.Probe(config, module, target, budget, [&] {
//     return prober->Probe({.target = target, .module = &module,
//                           .budget = budget});
//   });
//   if (out.kind == ProbeOutcome::Kind::kRefused) return 503 + out.message;
//
// The load limit ([server] in config.h): a probe that runs or waits for a
// burst holds one of `max_concurrent_probes` slots (it holds an HTTP
// worker); a probe that starts a burst also reserves the burst's in-flight cap
// (BurstConfig::max_in_flight()) from `max_inflight_requests`. Over either
// limit the probe is refused, never queued. A cached answer holds nothing.
// The limits are read from the Config of each call, so a reload applies to
// the next probe.
//
// Thread-safety: every method may be called from many threads at once.
// Locks are canary::Mutex (base/sync.h): visible to TSan and checked by
// clang's -Wthread-safety.
// Errors: none; a refusal is a ProbeOutcome with a one-line reason.
#ifndef CANARY_EXPORTER_SERVICE_ADMISSION_H_
#define CANARY_EXPORTER_SERVICE_ADMISSION_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/sync.h"
#include "config/config.h"
#include "probes/prober.h"
#include "prometheus/metric_family.h"

namespace canary::exporter {

// Values of the `reason` label of canary_exporter_probe_rejections_total
// for probes refused by the load limit (HTTP 503).
inline constexpr char kRejectMaxConcurrentProbes[] = "max_concurrent_probes";
inline constexpr char kRejectMaxInflightRequests[] = "max_inflight_requests";
// A probe that joined a running burst which outlasted its own budget.
inline constexpr char kRejectSharedBurstTimeout[] = "shared_burst_timeout";

// HTTP workers beyond max_concurrent_probes: /metrics, /-/healthy, the
// landing page and the immediate 503s keep answering while every probe
// slot runs a burst.
inline constexpr int kSpareWorkerThreads = 8;

// Most HTTP workers started, whatever the limit: each is a thread, and a
// container's pid limit is often a few thousand.
inline constexpr int kMaxWorkerThreads = 1024;

// The CivetWeb worker pool for `limits`: one worker per concurrent probe
// plus the spares, at most kMaxWorkerThreads. An idle worker costs memory
// (its stack), so the pool follows the limit instead of a fixed size. The
// pool is sized at start.
int WorkerThreadsFor(const config::ServerConfig& limits);

// At start and after a reload: a warning when `config` admits more
// concurrent probes
// than a pool of `worker_threads` can run (they would queue in CivetWeb
// instead of being refused at once); nullopt when it fits or the pool size
// is unknown (0).
std::optional<std::string> WorkerPoolWarning(const config::Config& config,
                                             int worker_threads);

// Most results kept for min_interval reuse; the oldest go first.
inline constexpr size_t kMaxCachedResults = 1024;

struct ProbeOutcome {
  enum class Kind {
    kRan,      // this call ran the burst
    kShared,   // joined a burst another call started for the same key
    kCached,   // reused the last burst's result (module min_interval)
    kRefused,  // over the load limit (or a shared burst outlasted this
               // probe's time budget): answer 503 with `message`
  };
  Kind kind = Kind::kRefused;
  // The burst's report; null only when refused. Shared between callers.
  std::shared_ptr<const probes::ProbeReport> report;
  std::string reason;   // refused: the rejection reason label
  std::string message;  // refused: one line for the HTTP answer
};

// The probe_cached gauge every /probe answer carries: 1 for kCached.
prometheus::MetricFamily ProbeCachedFamily(bool cached);

// What the load limit holds right now.
struct LoadUsage {
  int probes = 0;    // slots held by running or waiting probes
  int requests = 0;  // in-flight capacity reserved by running bursts
  int bursts = 0;    // bursts running
  size_t cached = 0;
};

class ProbeCoordinator {
 public:
  struct Options {
    Clock* clock = RealClock::Get();
    size_t max_cached = kMaxCachedResults;
    // Test hook: called (without locks) when a call starts waiting for a
    // burst another call runs.
    std::function<void()> on_join;
  };

  ProbeCoordinator() : ProbeCoordinator(Options()) {}
  explicit ProbeCoordinator(Options options);
  ProbeCoordinator(const ProbeCoordinator&) = delete;
  ProbeCoordinator& operator=(const ProbeCoordinator&) = delete;

  // Runs `run` for `target` with `module` (which belongs to `config`) under
  // the load limit of config->server, or shares/reuses a burst as above.
  // `budget` (the probe's time budget) bounds how long a joining call waits
  // for a shared burst.
  ProbeOutcome Probe(const std::shared_ptr<const config::Config>& config,
                     const config::Module& module, const std::string& target,
                     absl::Duration budget,
                     const std::function<probes::ProbeReport()>& run);

  LoadUsage Usage() const;

 private:
  // One running burst; callers that join it wait on its own mutex.
  struct Flight {
    canary::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    std::shared_ptr<const probes::ProbeReport> report ABSL_GUARDED_BY(mu);
  };
  struct Cached {
    std::shared_ptr<const probes::ProbeReport> report;
    // The config the burst ran with: a reload invalidates the entry
    // (a weak_ptr, so the entry does not keep an old config alive).
    std::weak_ptr<const config::Config> config;
    absl::Time started;
    absl::Time expires;
  };

  // Takes a probe slot and `requests` of in-flight capacity, or fills
  // `refusal` and returns false.
  bool AdmitLocked(const config::ServerConfig& limits, int requests,
                   ProbeOutcome* refusal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLocked(int requests) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StoreLocked(const std::string& key, Cached entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits (at most `budget`) for the burst `flight` another call runs, then
  // gives back the probe slot the caller took to wait.
  ProbeOutcome Join(const std::shared_ptr<Flight>& flight,
                    absl::Duration budget);

  const Options options_;
  mutable canary::Mutex mu_;
  int probes_ ABSL_GUARDED_BY(mu_) = 0;
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::shared_ptr<Flight>> flights_
      ABSL_GUARDED_BY(mu_);                                   // by key
  std::map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);  // by key
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_ADMISSION_H_
