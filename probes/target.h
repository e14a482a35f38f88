// target.h: the target of a probe, parsed once into a value that travels
// with it (handler check, allowlist, transport), and libcurl's process-wide
// set-up. Both are implemented in curl_transport.cc, the one file that
// includes libcurl; Target itself holds no libcurl type.
//
//   absl::StatusOr<Target> t = ParseTarget("localhost:8080/x");
//   // t->url == "http://localhost:8080/x", t->host == "localhost",
//   // t->port == 8080
//   prober->Probe({.target = t->url, .parsed_target = *t, ...});
//
// Thread-safety: ParseTarget is safe from any thread once GlobalInit() ran
// (libcurl's URL API needs no more). Errors: see ParseTarget.
#ifndef CANARY_PROBES_TARGET_H_
#define CANARY_PROBES_TARGET_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::probes {

// A parsed http(s) target, as libcurl's URL API reads it.
struct Target {
  std::string url;  // normalized (what the transport requests)
  // `url` without its user:password@ (RedactUrlUserinfo): the form every
  // log line, answer and page shows.
  std::string redacted_url;
  std::string scheme;  // "http" or "https"
  // As libcurl's URL API gives it: IPv6 in brackets, odd IPv4 forms
  // (0x7f.1, 2130706433) already dotted.
  std::string host;
  int port = 0;                // the URL's port, or the scheme's default
  std::string port_text;       // the URL's own port; "" when it has none
  std::string path_and_query;  // "/x?y=1"; "/" when the URL has no path
};

// Parses `target` with libcurl's URL API. A target without a scheme gets
// "http://" (as blackbox_exporter does). InvalidArgumentError naming what is
// wrong (empty, a control byte raw or percent-encoded (target_text.h),
// unsupported scheme, no host, unparsable); the message shows the target
// redacted (RedactTargetText), never a password it carries.
absl::StatusOr<Target> ParseTarget(absl::string_view target);

// ParseTarget(target)->url.
absl::StatusOr<std::string> NormalizeTarget(absl::string_view target);

// Calls curl_global_init once; call from main before any thread starts.
absl::Status GlobalInit();

}  // namespace canary::probes

#endif  // CANARY_PROBES_TARGET_H_
