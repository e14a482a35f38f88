// input_limits.h: bounds on what a request to the exporter may carry, so a
// hostile or broken client costs a bounded amount of memory and work.
//
//   absl::Status s = CheckProbeInput(request.query_bytes, request.query);
//   if (!s.ok()) return Text(InputErrorHttpStatus(s), s.message());
//
// The layers, outermost first:
//   - CivetWeb reads at most kMaxRequestHeadBytes (exporter/http/
//     http_server.h) of request line plus headers; a longer request is
//     answered "400 Bad Request" by CivetWeb itself and never reaches a
//     handler.
//   - /probe: the raw query string is at most kMaxQueryStringBytes, the
//     target at most kMaxTargetBytes, the module name at most
//     kMaxModuleNameBytes (414 for the first two, 400 for the module).
// Responses from targets are bounded in probes/ (body_size_limit,
// max_redirects, libcurl's own header size cap).
//
// Thread-safety: pure functions.
// Errors: CheckProbeInput returns OutOfRange (answer 414 URI Too Long) or
// InvalidArgument (answer 400), each with a one-line reason.
#ifndef CANARY_EXPORTER_SERVICE_INPUT_LIMITS_H_
#define CANARY_EXPORTER_SERVICE_INPUT_LIMITS_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace canary::exporter {

inline constexpr size_t kMaxQueryStringBytes = 8 * 1024;
inline constexpr size_t kMaxTargetBytes = 2048;
inline constexpr size_t kMaxModuleNameBytes = 128;

// `query_bytes` is the length of the raw (still encoded) query string;
// `query` the decoded parameters.
absl::Status CheckProbeInput(size_t query_bytes,
                             const std::map<std::string, std::string>& query);

// 414 for OutOfRange, else 400.
int InputErrorHttpStatus(const absl::Status& status);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_INPUT_LIMITS_H_
