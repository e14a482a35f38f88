// result.h: what one burst saw, request by request.
//
// The burst engine (probes/burst.h) fills a BurstResult; statistics
// (probes/stats.h), thresholds and the exposition (probes/metrics.h) are pure
// functions of it.
//
// Thread-safety: plain values.
#ifndef CANARY_PROBES_RESULT_H_
#define CANARY_PROBES_RESULT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace canary::probes {

// The fixed set of outcomes of one request. Their names are the values of
// the `result` label (ResultClassName).
enum class ResultClass {
  kSuccess,     // valid status, checks passed
  kHttpStatus,  // a response whose status code is not valid
  kValidation,  // a body or header check failed
  kTimeout,     // the per-request timeout or the probe budget ran out
  kConnect,     // refused, reset, unreachable
  kDns,         // the name did not resolve
  kTls,         // handshake or certificate failure
  kProtocol,    // malformed response, too many redirects, ...
  kOther,
};
inline constexpr int kNumResultClasses = 9;

// "success", "http_status", "validation", "timeout", "connect", "dns", "tls",
// "protocol", "other".
const char* ResultClassName(ResultClass c);

// Phases of one request, from libcurl's *_TIME_T values.
enum class Phase { kResolve, kConnect, kTls, kProcessing, kTransfer };
inline constexpr int kNumPhases = 5;

// "resolve", "connect", "tls", "processing", "transfer".
const char* PhaseName(Phase p);

struct RequestResult {
  int vu = 0;  // which virtual user sent it
  // Offsets from the burst start. In the open model `intended_start` is
  // start + i/rate; in the closed model it equals `actual_start`.
  absl::Duration intended_start;
  absl::Duration actual_start;
  // Latency: from the intended start to the end of the response (so a late
  // send in the open model is part of the latency).
  absl::Duration latency;
  // Durations of each phase (index by Phase); zero when a phase did not
  // happen (e.g. tls on http, resolve/connect on a reused connection).
  std::array<absl::Duration, kNumPhases> phases{};
  bool new_connection = false;  // this request opened a connection
  int status_code = 0;          // 0 when no response
  int64_t bytes_received = 0;   // body bytes, including any beyond the limit
  ResultClass result = ResultClass::kOther;
  std::string error;  // human-readable reason when result != kSuccess
};

struct BurstResult {
  std::vector<RequestResult> requests;  // in order of completion
  int64_t planned = 0;                  // requests the load shape planned
  int64_t dropped = 0;      // planned but not started (VUs busy or budget)
  absl::Duration duration;  // wall time from burst start to last completion
  absl::Duration budget;    // the deadline the burst ran under
  bool truncated = false;   // the budget cut the burst short
  // Earliest NotAfter of the certificates seen, when TLS was used.
  std::optional<absl::Time> earliest_cert_expiry;
};

}  // namespace canary::probes

#endif  // CANARY_PROBES_RESULT_H_
