// result.h: what one burst saw, request by request.
//
// The burst engine (probes/burst.h) fills a BurstResult; statistics
// (probes/stats.h), thresholds and the exposition (probes/metrics.h) are pure
// functions of it.
//
// Thread-safety: plain values.
#ifndef CANARY_PROBES_RESULT_H_
#define CANARY_PROBES_RESULT_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
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
  kBodyTooLarge,  // the body exceeded body_size_limit (the transfer stops)
};
inline constexpr int kNumResultClasses = 10;

// "success", "http_status", "validation", "timeout", "connect", "dns", "tls",
// "protocol", "other", "body_too_large".
const char* ResultClassName(ResultClass c);

// Phases of one request, from libcurl's *_TIME_T values.
enum class Phase { kResolve, kConnect, kTls, kProcessing, kTransfer };
inline constexpr int kNumPhases = 5;

// "resolve", "connect", "tls", "processing", "transfer".
const char* PhaseName(Phase p);

// What one request did: a compact record (48 bytes), since a burst keeps one
// per request (up to config::kMaxRequests). Read it through the accessors;
// its error text lives in the burst (BurstResult::error), not here.
//
//   for (const RequestResult& r : burst.requests) {
//     if (r.status_code() > 0) Observe(absl::ToDoubleSeconds(r.latency()));
//     if (r.result() != ResultClass::kSuccess) Log(burst.error(r));
//   }
//
// Resolution and range, all exact for what the engine measures: offsets and
// latency in nanoseconds up to 2^44 - 1 ns (4.8 hours); phases in whole
// microseconds (libcurl's resolution; a finer value is truncated) up to
// ±2^31 µs (35 minutes; a request's timeout is at most 5); body bytes up to
// 2^40 - 1 (1 TiB); status codes up to 1023 (HTTP's are three digits); VUs
// up to 1023 (config::kMaxVus is 1000); scenario steps up to 63
// (config::kMaxSteps is 32). A value beyond a range is stored as its limit,
// a negative offset, latency, byte count or status as 0.
class RequestResult {
 public:
  static constexpr int64_t kMaxNanos = (int64_t{1} << 44) - 1;
  static constexpr int64_t kMaxBytes = (int64_t{1} << 40) - 1;
  static constexpr int kMaxVu = (1 << 10) - 1;
  static constexpr int kMaxStep = (1 << 6) - 1;
  static constexpr int kMaxStatus = (1 << 10) - 1;
  static constexpr uint32_t kMaxErrorId = (1u << 20) - 1;

  // Which virtual user sent it.
  int vu() const { return static_cast<int>(vu_); }
  // Which step of the module's scenario (config::Module::steps); 0 for a
  // module without steps.
  int step() const { return static_cast<int>(step_); }
  // Offsets from the burst start. In the open model `intended_start` is
  // start + i/rate; in the closed model it equals `actual_start`.
  absl::Duration intended_start() const { return Nanos(intended_ns_); }
  absl::Duration actual_start() const { return Nanos(actual_ns_); }
  // From the intended start to the end of the response (so a late send in
  // the open model is part of the latency).
  absl::Duration latency() const { return Nanos(latency_ns_); }
  // The duration of phase `p`; zero when it did not happen (e.g. tls on
  // http, resolve/connect on a reused connection).
  absl::Duration phase(Phase p) const {
    return absl::Microseconds(phase_us_[static_cast<int>(p)]);
  }
  // Every phase, indexed by Phase.
  std::array<absl::Duration, kNumPhases> phases() const;
  // This request opened a connection.
  bool new_connection() const { return new_connection_ != 0; }
  // 0 when no response.
  int status_code() const { return static_cast<int>(status_code_); }
  // Body bytes, including any beyond the limit.
  int64_t bytes_received() const {
    return static_cast<int64_t>((uint64_t{bytes_hi_} << 32) | bytes_lo_);
  }
  ResultClass result() const { return static_cast<ResultClass>(result_); }
  // 0: no error text; else the id BurstResult::AddError returned for it.
  uint32_t error_id() const { return error_id_; }

  void set_vu(int vu);
  void set_step(int step) { step_ = std::clamp(step, 0, kMaxStep); }
  void set_intended_start(absl::Duration d) { intended_ns_ = ToNanos(d); }
  void set_actual_start(absl::Duration d) { actual_ns_ = ToNanos(d); }
  void set_latency(absl::Duration d) { latency_ns_ = ToNanos(d); }
  void set_phase(Phase p, absl::Duration d);
  void set_phases(const std::array<absl::Duration, kNumPhases>& phases);
  void set_new_connection(bool b) { new_connection_ = b ? 1 : 0; }
  void set_status_code(int code);
  void set_bytes_received(int64_t n);
  void set_result(ResultClass c) { result_ = static_cast<uint8_t>(c); }
  void set_error_id(uint32_t id) { error_id_ = std::min(id, kMaxErrorId); }

 private:
  static absl::Duration Nanos(uint64_t ns) {
    return absl::Nanoseconds(static_cast<int64_t>(ns));
  }
  static uint64_t ToNanos(absl::Duration d);

  // Three 64-bit words of bit-fields (none straddles a word), then the
  // phases and the low half of the byte count.
  uint64_t intended_ns_ : 44 = 0;
  uint64_t error_id_ : 20 = 0;
  uint64_t actual_ns_ : 44 = 0;
  uint64_t status_code_ : 10 = 0;
  uint64_t step_ : 6 = 0;
  uint64_t result_ : 4 = static_cast<uint8_t>(ResultClass::kOther);
  uint64_t latency_ns_ : 44 = 0;
  uint64_t vu_ : 10 = 0;
  uint64_t bytes_hi_ : 8 = 0;
  uint64_t new_connection_ : 1 = 0;
  int32_t phase_us_[kNumPhases] = {};
  uint32_t bytes_lo_ = 0;
};
static_assert(sizeof(RequestResult) <= 48,
              "a burst keeps one RequestResult per request (issue 10)");

// The TLS session of a response, as blackbox_exporter reports it: the
// protocol version and the leaf certificate. One per connection (shared by
// the requests that reuse it), not one per request.
struct TlsFacts {
  std::string version;  // "TLS 1.2", "TLS 1.3" (blackbox's strings)
  // The leaf certificate: SHA-256 of its DER form (lower-case hex), subject
  // and issuer (RFC 2253, as Go prints them), DNS names of the subject
  // alternative name joined with ",", serial number (lower-case hex).
  std::string fingerprint_sha256;
  std::string subject;
  std::string issuer;
  std::string subject_alternative;
  std::string serial_number;
  // Earliest NotAfter of the chain the verification built (leaf to trust
  // anchor); absent when the certificate was not verified.
  std::optional<absl::Time> verified_chain_expiry;
};

// What blackbox_exporter's http metrics need of a burst, folded request by
// request as they complete (probes/burst.cc), so the per-request record stays
// 48 bytes. docs/metrics.md says which request each value comes from.
struct CompatFacts {
  int lowest_http_version = 0;  // 10, 11, 20, 30 (x10); 0: no response
  int last_http_version = 0;
  int max_redirects = 0;  // most redirects any request followed
  // Content-Length of the last response; -1 when it had none (chunked);
  // 0 when no request got a response (as blackbox).
  int64_t last_content_length = 0;
  int64_t responses = 0;      // requests that got an HTTP response
  int64_t tls_responses = 0;  // of which the final response came over TLS
  std::string last_address;   // IP of the last connection opened
  std::shared_ptr<const TlsFacts> last_tls;  // of the last TLS response
  // Earliest verified_chain_expiry of every TLS session of the burst.
  std::optional<absl::Time> earliest_verified_chain_expiry;
};

// One iteration of a scenario: its steps in order on one VU.
struct IterationResult {
  // From the iteration's intended start to the end of its last step.
  absl::Duration duration;
  int vu = 0;
  // The step that ended it by failing; -1 when every required step passed.
  int failed_step = -1;
};

struct BurstResult {
  std::vector<RequestResult> requests;  // in order of completion
  int64_t planned = 0;                  // requests the load shape planned
  int64_t dropped = 0;      // planned but not started (VUs busy or budget)
  absl::Duration duration;  // wall time from burst start to last completion
  absl::Duration budget;    // the deadline the burst ran under
  bool truncated = false;   // the budget cut the burst short
  // Scenarios only (config::Module::steps): `planned` and `dropped` above
  // count iterations, and each finished iteration is here, in order of
  // completion (cut ones too, failed at the step they were in).
  std::vector<IterationResult> iterations;
  // Earliest NotAfter of the certificates seen, when TLS was used.
  std::optional<absl::Time> earliest_cert_expiry;
  CompatFacts compat;
  // The error texts the requests refer to (RequestResult::error_id), each
  // stored once however many requests share it when the engine recorded
  // them. A deque, so a text stays where it is while the table grows.
  std::deque<std::string> errors;

  // The human-readable reason why `r` failed; "" when it has none.
  const std::string& error(const RequestResult& r) const;
  // Stores `text` and returns its id for RequestResult::set_error_id; 0 (no
  // text) for an empty one. Does not look for an equal text already stored.
  uint32_t AddError(std::string text);
};

}  // namespace canary::probes

#endif  // CANARY_PROBES_RESULT_H_
