#include "probes/threshold_check.h"

#include <cmath>
#include <limits>
#include <vector>

namespace canary::probes {

double ThresholdValue(const config::Threshold& t, const BurstStats& s) {
  using Stat = config::Threshold::Stat;
  switch (t.stat) {
    case Stat::kPercentile:
      return Quantile(s.latencies, t.percentile / 100.0);
    case Stat::kAvg:
      return s.avg;
    case Stat::kMin:
      return s.min;
    case Stat::kMed:
      return Quantile(s.latencies, 0.5);
    case Stat::kMax:
      return s.max;
    case Stat::kErrorRate:
      // With no request the rate is unknown, not zero: a burst that sent
      // nothing must not pass "error_rate<0.01".
      if (s.requests == 0) return std::numeric_limits<double>::quiet_NaN();
      return s.error_rate;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

bool EvaluateThreshold(const config::Threshold& t, const BurstStats& s) {
  using Op = config::Threshold::Op;
  const double v = ThresholdValue(t, s);
  if (std::isnan(v)) return false;
  switch (t.op) {
    case Op::kLess:
      return v < t.value;
    case Op::kLessEqual:
      return v <= t.value;
    case Op::kGreater:
      return v > t.value;
    case Op::kGreaterEqual:
      return v >= t.value;
    case Op::kEqual:
      return v == t.value;
    case Op::kNotEqual:
      return v != t.value;  // never reached with NaN (no samples): fails
  }
  return false;
}

std::vector<bool> EvaluateThresholds(const std::vector<config::Threshold>& ts,
                                     const BurstStats& s) {
  std::vector<bool> passed;
  passed.reserve(ts.size());
  for (const config::Threshold& t : ts)
    passed.push_back(EvaluateThreshold(t, s));
  return passed;
}

std::vector<bool> EvaluateThresholds(const std::vector<config::Threshold>& ts,
                                     const BurstStats& s,
                                     const ScenarioStats* scenario) {
  std::vector<bool> passed;
  passed.reserve(ts.size());
  for (const config::Threshold& t : ts) {
    const BurstStats* on = &s;
    if (t.iteration || t.step_index >= 0) {
      on = nullptr;
      if (scenario != nullptr && t.iteration) on = &scenario->iterations;
      if (scenario != nullptr && t.step_index >= 0 &&
          t.step_index < static_cast<int>(scenario->steps.size())) {
        on = &scenario->steps[t.step_index];
      }
    }
    passed.push_back(on != nullptr && EvaluateThreshold(t, *on));
  }
  return passed;
}

}  // namespace canary::probes
