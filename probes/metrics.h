// metrics.h: the Prometheus exposition of one probe: every family of a
// /probe answer, built directly as prometheus::MetricFamily values (no
// Registry) so the summary carries exact per-burst quantiles.
//
//   BurstStats stats = ComputeStats(burst);
//   std::vector<bool> passed = EvaluateThresholds(module.thresholds, stats);
//   auto families = BuildProbeFamilies(burst, stats, module, passed,
//                                      {.success = ok, .probe_duration = d,
//                                       .budget = budget});
//   std::string text = SerializeFamilies(families);  // probes/exposition.h
//
// Names are in probes/metric_names.h and documented in docs/metrics.md.
// Thread-safety: pure functions of their arguments. They cannot fail (short
// of running out of memory).
#ifndef CANARY_PROBES_METRICS_H_
#define CANARY_PROBES_METRICS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "config/config.h"
#include "probes/result.h"
#include "probes/stats.h"
#include "prometheus/metric_family.h"

namespace canary::probes {

// ProbeSummary is what the prober decided about the probe as a whole.
struct ProbeSummary {
  bool success = false;
  absl::Duration probe_duration;  // wall time of the whole probe
  absl::Duration budget;          // the deadline used
};

// BuildProbeFamilies returns every family of the /probe answer for `burst`,
// probe_success first. `stats` must be ComputeStats(burst); entry i of
// `thresholds_passed` is the outcome of module.thresholds[i] (a missing entry
// counts as failed). `scenario`, for a module with steps, is
// ComputeScenarioStats(burst, steps): it adds the per-step and iteration
// families (probe_scenario_*). Families without any series (no responses by
// code, no thresholds, no certificate) are left out.
std::vector<prometheus::MetricFamily> BuildProbeFamilies(
    const BurstResult& burst, const BurstStats& stats,
    const config::Module& module, const std::vector<bool>& thresholds_passed,
    const ProbeSummary& summary, const ScenarioStats* scenario = nullptr);

}  // namespace canary::probes

#endif  // CANARY_PROBES_METRICS_H_
