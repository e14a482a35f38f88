// curl_transport.h: the real Transport, on libcurl's multi interface.
//
// One easy handle per slot (VU), configured once from the module and reused
// for every request of the burst; the multi handle keeps up to one idle
// connection per slot alive between requests unless the module says
// reuse_connections = false. All I/O of a burst runs on the caller's thread
// inside Wait().
//
//   ASSIGN_OR_RETURN(auto t, NewCurlTransport(target, module, 10, clock));
//   RETURN_IF_ERROR(t->Start({.slot = 0, .id = 0, .timeout = timeout}));
//
// Thread-safety: one instance per burst, used from one thread. Call
// GlobalInit() (probes/target.h) once before creating any.
// Errors: NewCurlTransport returns InternalError when libcurl cannot make a
// handle or rejects an option, InvalidArgumentError for an unusable target.
#ifndef CANARY_PROBES_CURL_TRANSPORT_H_
#define CANARY_PROBES_CURL_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "config/config.h"
#include "probes/allowlist.h"
#include "probes/target.h"
#include "probes/transport.h"

namespace canary::probes {

// `target` comes from ParseTarget. `module` must outlive the transport.
// Every connection, redirects included, is checked against `allowlist`
// (copied; null: loopback only): a refused request completes as kConnect
// with the error "address X is not allowed: ...", and nothing is sent to X.
// PermissionDeniedError when the target's own host is a refused address.
absl::StatusOr<std::unique_ptr<Transport>> NewCurlTransport(
    const Target& target, const config::Module& module, int slots, Clock* clock,
    const Allowlist* allowlist = nullptr);

}  // namespace canary::probes

#endif  // CANARY_PROBES_CURL_TRANSPORT_H_
