// threshold_check.h: evaluation of k6-style thresholds ("p(95)<200ms",
// "error_rate<0.01") against the statistics of one burst.
//
//   BurstStats s = ComputeStats(burst);
//   std::vector<bool> passed = EvaluateThresholds(module.thresholds, s);
//   bool all = std::ranges::all_of(passed, std::identity());
//
// A statistic that cannot be computed fails its threshold: NaN latency
// statistics (no responses) fail every latency threshold, and error_rate
// with 0 requests fails. Thread-safety: pure functions. Errors: none.
#ifndef CANARY_PROBES_THRESHOLD_CHECK_H_
#define CANARY_PROBES_THRESHOLD_CHECK_H_

#include <vector>

#include "config/config.h"
#include "probes/stats.h"

namespace canary::probes {

// ThresholdValue returns the statistic `t` compares, in seconds for latency
// statistics or as a ratio for error_rate; NaN when it cannot be computed.
double ThresholdValue(const config::Threshold& t, const BurstStats& s);

// EvaluateThreshold returns whether `s` satisfies `t`.
bool EvaluateThreshold(const config::Threshold& t, const BurstStats& s);

// EvaluateThresholds evaluates each of `ts`; the result is parallel to `ts`.
std::vector<bool> EvaluateThresholds(const std::vector<config::Threshold>& ts,
                                     const BurstStats& s);

// As above, a scenario's scoped thresholds (config::Threshold::step_index,
// ::iteration) judged on `scenario`'s step or iteration statistics; without
// `scenario` they fail.
std::vector<bool> EvaluateThresholds(const std::vector<config::Threshold>& ts,
                                     const BurstStats& s,
                                     const ScenarioStats* scenario);

}  // namespace canary::probes

#endif  // CANARY_PROBES_THRESHOLD_CHECK_H_
