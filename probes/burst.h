// burst.h: the burst engine. Runs one module's load shape against a
// Transport under a deadline, on the calling thread, and records every
// request.
//
//   BurstPlan plan = PlanBurst(module.burst, module.timeout, budget);
//   absl::StatusOr<BurstResult> r = RunBurst(plan, transport.get(), clock);
//
// Closed model (rate == 0): every VU starts at once and loops request →
// think_time. Open model (rate > 0): request i is due at start + i/rate; it
// runs on a free VU, its latency is measured from the due time (no
// coordinated omission), and when no VU is free at the due time it is
// counted as dropped, never started late.
//
// The deadline: the burst stops starting requests at
// min(duration, budget - grace), grace = min(timeout, budget/4), so requests
// in flight can finish; each request's timeout is also capped by what is
// left of the budget, and whatever is still running when the budget ends is
// cut and counted as a timeout.
//
// Thread-safety: RunBurst uses only its arguments; a Transport and Clock
// must not be shared with a concurrent burst unless they are thread-safe.
// Errors: only a Transport error (not a failing target) is returned.
#ifndef CANARY_PROBES_BURST_H_
#define CANARY_PROBES_BURST_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "config/config.h"
#include "probes/result.h"
#include "probes/transport.h"

namespace canary::probes {

// What a burst will do, derived from the config and the budget. Pure data,
// so the derivation is tested from tables.
struct BurstPlan {
  int vus = 1;
  double rate = 0;  // 0 = closed model
  absl::Duration think_time;
  std::optional<int64_t> requests;  // stop after this many
  // Never more than this many in one burst, whatever bounds it: a closed
  // burst with only a duration against a fast target would otherwise keep
  // a result per request without limit (48 bytes each, plus its
  // error text when it has one of its own).
  int64_t max_requests = config::kMaxRequests;
  // Stop starting requests this long after the start.
  absl::Duration start_window;
  // The configured duration could not be honoured within the budget (or
  // the budget is shorter than the window requests would need).
  bool window_cut_by_budget = false;
  absl::Duration request_timeout;
  absl::Duration budget;
  // Open model: arrivals planned; closed model: `requests`, or 0 when only
  // a duration bounds the burst (the count is known only afterwards).
  int64_t planned = 0;
  // A module with steps (config::Module::steps; must outlive the burst):
  // every start is an iteration, the steps in order on one VU, and
  // requests, planned and max_requests count iterations. Null: one request.
  const config::Module* scenario = nullptr;
};

// Derives the plan from a burst as LoadConfig validates it (vus >= 1).
// `budget` must be > 0.
BurstPlan PlanBurst(const config::BurstConfig& burst, absl::Duration timeout,
                    absl::Duration budget);

// The due time of arrival `i` (0-based) in the open model, from the start.
absl::Duration ArrivalOffset(int64_t i, double rate);

// Called on the burst's thread as each request completes (including those
// cut by the budget), in completion order; it must be quick.
using RequestObserver = std::function<void(const RequestResult&)>;

// How often a burst with a stop flag looks at it while it waits.
inline constexpr absl::Duration kStopPoll = absl::Milliseconds(50);

// Runs the plan. `transport` must have at least plan.vus slots.
// `on_request`, when set, sees every request as it is recorded.
// `stop`, when set, may turn true at any time from any thread or a signal
// handler (the CLI's Ctrl-C): from then on (within kStopPoll) the burst
// starts no request, lets those in flight finish (each within its timeout)
// and returns what ran; arrivals not started are not counted as dropped.
absl::StatusOr<BurstResult> RunBurst(const BurstPlan& plan,
                                     Transport* transport, Clock* clock,
                                     const RequestObserver& on_request = {},
                                     const std::atomic<bool>* stop = nullptr);

}  // namespace canary::probes

#endif  // CANARY_PROBES_BURST_H_
