// stats.h: exact statistics of one burst, computed from every request it
// made (no sampling, no estimation). The prober computes them once per probe
// and hands them on in ProbeReport::stats (prober.h): the exposition, the
// thresholds, the views, the CLI and the self-metrics all read that one
// result, tallies by result class and status code included.
//
//   BurstStats s = ComputeStats(burst);
//   double p95 = Quantile(s.latencies, 0.95);  // seconds, NaN if none
//   if (s.error_rate > 0.01) ...
//
// Thread-safety: pure functions of their arguments. Errors: none; a burst
// without responses has NaN latency statistics.
#ifndef CANARY_PROBES_STATS_H_
#define CANARY_PROBES_STATS_H_

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "probes/result.h"

namespace canary::probes {

// Quantile returns the exact q-quantile of `sorted` (ascending) with linear
// interpolation between the closest ranks, rank = q * (n - 1): the method of
// k6 and numpy's default. q is clamped to [0, 1]. NaN for empty input or a
// NaN q.
double Quantile(const std::vector<double>& sorted, double q);

// BurstStats summarises one burst.
struct BurstStats {
  int64_t requests = 0;   // completed requests of the burst (all results)
  int64_t errors = 0;     // requests whose result != kSuccess
  double error_rate = 0;  // errors / requests; 0 when requests == 0
  // Seconds, ascending; only requests that got an HTTP response
  // (status_code > 0): success, http_status, validation.
  std::vector<double> latencies;
  double min = std::numeric_limits<double>::quiet_NaN();  // over latencies
  double avg = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  // Requests by result class (index by ResultClass); a value outside the
  // enum counts as kOther.
  std::array<int64_t, kNumResultClasses> by_class{};
  // HTTP responses by status code (requests with status_code > 0).
  std::map<int, int64_t> by_code;
};

// ComputeStats returns the statistics of `burst`.
BurstStats ComputeStats(const BurstResult& burst);

// ScenarioStats summarises a scenario burst (config::Module::steps) per
// step and per iteration.
struct ScenarioStats {
  // By step index: ComputeStats over that step's requests.
  std::vector<BurstStats> steps;
  // Iterations as if each were one request: `latencies` are their
  // durations, `errors` the failed ones, `error_rate` their share.
  BurstStats iterations;
  int64_t completed = 0;  // iterations whose required steps all passed
  int64_t failed = 0;     // iterations a failed step ended
  int64_t dropped = 0;    // iterations planned but never started
  // By step index: iterations that step ended by failing.
  std::vector<int64_t> failed_at;
};

// ComputeScenarioStats returns the statistics of a burst of `steps` steps.
ScenarioStats ComputeScenarioStats(const BurstResult& burst, int steps);

}  // namespace canary::probes

#endif  // CANARY_PROBES_STATS_H_
