// prober.h: the probe contract. One call runs one burst against one target
// under one deadline and returns everything the /probe answer shows.
//
//   std::unique_ptr<Prober> prober = NewHttpProber();
//   ProbeReport r = prober->Probe({.target = url, .module = &module,
//                                  .budget = absl::Seconds(9.5)});
//   std::string text = SerializeFamilies(r.families);
//
// A failing target is data (success == false, with the reason in the
// metrics), never an error. Thread-safety: Probe() may be called from many
// threads at once; each call runs its own event loop.
#ifndef CANARY_PROBES_PROBER_H_
#define CANARY_PROBES_PROBER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "config/config.h"
#include "probes/allowlist.h"
#include "probes/result.h"
#include "probes/stats.h"
#include "probes/target.h"
#include "probes/transport.h"
#include "prometheus/metric_family.h"

namespace canary::probes {

struct ProbeSpec {
  std::string target;  // an http(s) URL, already validated
  // `target` as ParseTarget gave it, so it is not parsed again; when unset,
  // Probe() parses `target` itself.
  std::optional<Target> parsed_target;
  const config::Module* module = nullptr;  // never null
  absl::Duration budget;                   // the whole probe must end inside it
  // Which addresses the burst may connect to (redirects included); null:
  // loopback only. Must outlive the call.
  const Allowlist* allowlist = nullptr;
  // Optional: sees each request as it completes, on the probing thread
  // (progress display); must be quick and must not throw.
  std::function<void(const RequestResult&)> on_request;
  // Optional: when it turns true the burst stops starting requests and the
  // probe reports what ran (RunBurst's `stop`; the CLI's Ctrl-C).
  const std::atomic<bool>* stop = nullptr;
};

struct ProbeReport {
  bool success = false;
  BurstResult burst;
  // ComputeStats(burst), computed once by the prober; read it, never
  // compute it again.
  BurstStats stats;
  // A module with steps only: ComputeScenarioStats(burst, steps).
  std::optional<ScenarioStats> scenario;
  std::vector<bool> thresholds_passed;  // parallel to module->thresholds
  // Every family of the /probe answer, probe_success included.
  std::vector<prometheus::MetricFamily> families;
  // Not OK when the probe could not run at all (the transport could not be
  // set up, the engine failed): the exporter's failure, not the target's.
  // The burst then holds one "other" request with this message.
  absl::Status run_status;
};

class Prober {
 public:
  virtual ~Prober() = default;
  virtual ProbeReport Probe(const ProbeSpec& spec) = 0;
};

// The real prober: libcurl transport, steady clock.
std::unique_ptr<Prober> NewHttpProber();

// A prober over the given transport factory and clock, for tests.
// The factory is called once per probe with the parsed target, the number
// of slots (VUs) and the probe's allowlist.
using TransportFactory =
    std::function<absl::StatusOr<std::unique_ptr<Transport>>(
        const Target& target, const config::Module& module, int slots,
        const Allowlist& allowlist)>;
std::unique_ptr<Prober> NewProber(TransportFactory factory, Clock* clock);

}  // namespace canary::probes

#endif  // CANARY_PROBES_PROBER_H_
