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

}  // namespace canary::probes
