// healthcheck.h: `canary_exporter healthcheck`, the container image's
// HEALTHCHECK. The runtime image has no curl or wget, so the binary checks
// its own server: one plain-HTTP GET of /-/healthy on loopback.
//
//   canary_exporter healthcheck [--web.listen-address=ADDR]
//
//   absl::Status s = CheckHealthy(":9427", absl::Seconds(5));
//   // OK when 127.0.0.1:9427 answered /-/healthy with 200.
//
// ADDR is the server's --web.listen-address (default ":9427"); a wildcard
// host (empty, 0.0.0.0) is checked on 127.0.0.1. Plain HTTP only: an
// exporter serving [web] TLS or basic auth needs its own health command.
//
// Thread-safety: pure functions apart from the socket they open.
// Errors: CheckHealthy returns InvalidArgument for a malformed address,
// Unavailable when nothing accepts or the connection breaks,
// DeadlineExceeded when no answer comes within `timeout`, and
// FailedPrecondition naming the status line when the answer is not 200.
#ifndef CANARY_EXPORTER_HEALTHCHECK_H_
#define CANARY_EXPORTER_HEALTHCHECK_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace canary::exporter {

absl::Status CheckHealthy(const std::string& listen_address,
                          absl::Duration timeout);

// Runs `canary_exporter healthcheck ...` (argv[0] is "healthcheck"); returns
// 0 when healthy, 1 when not (Docker's "unhealthy"), 2 for usage errors.
int RunHealthcheckCommand(int argc, char** argv, std::ostream& out,
                          std::ostream& err);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HEALTHCHECK_H_
