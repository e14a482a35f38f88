// target.h: validation of the `target` of a /probe call, and libcurl's
// process-wide set-up. Both are implemented in curl_transport.cc, the one
// file that includes libcurl.
//
//   absl::StatusOr<std::string> url = NormalizeTarget("localhost:8080/x");
//   // *url == "http://localhost:8080/x"
#ifndef CANARY_PROBES_TARGET_H_
#define CANARY_PROBES_TARGET_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::probes {

// Parses `target` with libcurl's URL API. A target without a scheme gets
// "http://" (as blackbox_exporter does). Returns the normalized URL, or
// InvalidArgumentError naming what is wrong (empty, unsupported scheme, no
// host, unparsable).
absl::StatusOr<std::string> NormalizeTarget(absl::string_view target);

// The host of a URL as libcurl's URL API gives it (IPv6 in brackets, odd
// IPv4 forms already dotted) and its port (the scheme's default when the URL
// has none). InvalidArgumentError when `url` does not parse.
struct HostPort {
  std::string host;
  int port = 0;
};
absl::StatusOr<HostPort> SplitTarget(absl::string_view url);

// Calls curl_global_init once; call from main before any thread starts.
absl::Status GlobalInit();

}  // namespace canary::probes

#endif  // CANARY_PROBES_TARGET_H_
