#include "probes/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/time/time.h"

namespace canary::probes {

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty() || std::isnan(q)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  // Written as a + frac * (b - a) so that q = 1 and equal neighbours return
  // a sample exactly, without rounding.
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

BurstStats ComputeStats(const BurstResult& burst) {
  BurstStats s;
  s.requests = static_cast<int64_t>(burst.requests.size());
  s.latencies.reserve(burst.requests.size());
  for (const RequestResult& r : burst.requests) {
    if (r.result() != ResultClass::kSuccess) ++s.errors;
    const int c = static_cast<int>(r.result());
    // An out-of-range value would be a bug upstream; count it as "other"
    // rather than write out of bounds.
    ++s.by_class[c >= 0 && c < kNumResultClasses
                     ? c
                     : static_cast<int>(ResultClass::kOther)];
    if (r.status_code() > 0) ++s.by_code[r.status_code()];
    // A latency without a response (timeout, refused) measures the failure,
    // not the target; mixing them in would hide an outage as "fast".
    if (r.status_code() > 0) {
      s.latencies.push_back(absl::ToDoubleSeconds(r.latency()));
    }
  }
  if (s.requests > 0) {
    s.error_rate =
        static_cast<double>(s.errors) / static_cast<double>(s.requests);
  }
  std::sort(s.latencies.begin(), s.latencies.end());
  if (!s.latencies.empty()) {
    for (double v : s.latencies) s.sum += v;
    s.min = s.latencies.front();
    s.max = s.latencies.back();
    s.avg = s.sum / static_cast<double>(s.latencies.size());
  }
  return s;
}

ScenarioStats ComputeScenarioStats(const BurstResult& burst, int steps) {
  ScenarioStats out;
  std::vector<BurstResult> by_step(steps);
  for (const RequestResult& r : burst.requests) {
    if (r.step() < steps) by_step[r.step()].requests.push_back(r);
  }
  out.steps.reserve(steps);
  for (const BurstResult& b : by_step) out.steps.push_back(ComputeStats(b));
  out.failed_at.assign(steps, 0);
  BurstStats& it = out.iterations;
  for (const IterationResult& i : burst.iterations) {
    const double d = absl::ToDoubleSeconds(i.duration);
    it.latencies.push_back(d);
    it.sum += d;
    if (i.failed_step >= 0) {
      ++out.failed;
      if (i.failed_step < steps) ++out.failed_at[i.failed_step];
    } else {
      ++out.completed;
    }
  }
  std::sort(it.latencies.begin(), it.latencies.end());
  it.requests = static_cast<int64_t>(burst.iterations.size());
  it.errors = out.failed;
  it.error_rate = it.requests == 0 ? 0
                                   : static_cast<double>(it.errors) /
                                         static_cast<double>(it.requests);
  if (!it.latencies.empty()) {
    it.min = it.latencies.front();
    it.max = it.latencies.back();
    it.avg = it.sum / static_cast<double>(it.latencies.size());
  }
  out.dropped = burst.dropped;
  return out;
}

}  // namespace canary::probes
