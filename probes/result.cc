#include "probes/result.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "config/config.h"

namespace canary::probes {

static_assert(config::kMaxVus - 1 <= RequestResult::kMaxVu,
              "every VU number fits a RequestResult");
// One text per request at most, plus the prober's own failure.
static_assert(config::kMaxRequests + 1 <= RequestResult::kMaxErrorId,
              "every error id of a burst fits a RequestResult");
static_assert(config::kMaxTimeout <= absl::Minutes(35),
              "every phase of a request fits a RequestResult");

const char* ResultClassName(ResultClass c) {
  switch (c) {
    case ResultClass::kSuccess:
      return "success";
    case ResultClass::kHttpStatus:
      return "http_status";
    case ResultClass::kValidation:
      return "validation";
    case ResultClass::kTimeout:
      return "timeout";
    case ResultClass::kConnect:
      return "connect";
    case ResultClass::kDns:
      return "dns";
    case ResultClass::kTls:
      return "tls";
    case ResultClass::kProtocol:
      return "protocol";
    case ResultClass::kOther:
      return "other";
    case ResultClass::kBodyTooLarge:
      return "body_too_large";
  }
  return "other";
}

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kResolve:
      return "resolve";
    case Phase::kConnect:
      return "connect";
    case Phase::kTls:
      return "tls";
    case Phase::kProcessing:
      return "processing";
    case Phase::kTransfer:
      return "transfer";
  }
  return "other";
}

std::array<absl::Duration, kNumPhases> RequestResult::phases() const {
  std::array<absl::Duration, kNumPhases> out;
  for (int p = 0; p < kNumPhases; ++p) out[p] = phase(static_cast<Phase>(p));
  return out;
}

void RequestResult::set_vu(int vu) { vu_ = std::clamp(vu, 0, kMaxVu); }

void RequestResult::set_phase(Phase p, absl::Duration d) {
  phase_us_[static_cast<int>(p)] = static_cast<int32_t>(std::clamp<int64_t>(
      absl::ToInt64Microseconds(d), std::numeric_limits<int32_t>::min(),
      std::numeric_limits<int32_t>::max()));
}

void RequestResult::set_phases(
    const std::array<absl::Duration, kNumPhases>& phases) {
  for (int p = 0; p < kNumPhases; ++p)
    set_phase(static_cast<Phase>(p), phases[p]);
}

void RequestResult::set_status_code(int code) {
  status_code_ = static_cast<uint64_t>(std::clamp(code, 0, kMaxStatus));
}

void RequestResult::set_bytes_received(int64_t n) {
  const uint64_t b =
      static_cast<uint64_t>(std::clamp<int64_t>(n, 0, kMaxBytes));
  bytes_lo_ = static_cast<uint32_t>(b);
  bytes_hi_ = b >> 32;
}

uint64_t RequestResult::ToNanos(absl::Duration d) {
  return static_cast<uint64_t>(
      std::clamp<int64_t>(absl::ToInt64Nanoseconds(d), 0, kMaxNanos));
}

const std::string& BurstResult::error(const RequestResult& r) const {
  static const std::string* const kNone = new std::string();
  const uint32_t id = r.error_id();
  if (id == 0 || id > errors.size()) return *kNone;
  return errors[id - 1];
}

uint32_t BurstResult::AddError(std::string text) {
  if (text.empty()) return 0;
  if (errors.size() >= RequestResult::kMaxErrorId) {
    return RequestResult::kMaxErrorId;  // full: shares the last text
  }
  errors.push_back(std::move(text));
  return static_cast<uint32_t>(errors.size());
}

}  // namespace canary::probes
