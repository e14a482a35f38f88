// validate.h: judging one HTTP response against a module's checks — status
// code, body and header regexes. Pure, so it is tested from tables.
//
//   std::string why;
//   ResultClass c = CheckResponse(503, headers, body, module.http, &why);
//   // c == ResultClass::kHttpStatus, why == "status 503 is not valid ..."
//
// Thread-safety: pure function over its arguments.
#ifndef CANARY_PROBES_VALIDATE_H_
#define CANARY_PROBES_VALIDATE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/config.h"
#include "probes/result.h"

namespace canary::probes {

// Response headers of the final response, names as received.
using Headers = std::vector<std::pair<std::string, std::string>>;

// True when the module's checks need the response body / headers kept.
bool NeedsBody(const config::HttpConfig& http);
bool NeedsHeaders(const config::HttpConfig& http);

// Returns kSuccess, kHttpStatus (status not in valid_status_codes, or not
// 2xx when that list is empty) or kValidation (a body or header check
// failed), with the reason in *error for the latter two. `body` is what was
// kept of the body (at most body_size_limit bytes).
ResultClass CheckResponse(int status, const Headers& headers,
                          absl::string_view body,
                          const config::HttpConfig& http, std::string* error);

// The checks of how the final response came: its HTTP version against
// valid_http_versions (nullopt: a version outside them, e.g. HTTP/0.9 or
// HTTP/3), and fail_if_ssl / fail_if_not_ssl against `tls`. Returns
// kSuccess, or kValidation with the reason in *error.
ResultClass CheckConnection(std::optional<config::HttpVersion> version,
                            bool tls, const config::HttpConfig& http,
                            std::string* error);

}  // namespace canary::probes

#endif  // CANARY_PROBES_VALIDATE_H_
