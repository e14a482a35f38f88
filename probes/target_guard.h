// target_guard.h: the allowlist check a /probe call makes before any request
// is sent — the target's host, or for a name every address it resolves to.
//
//   Allowlist allow(config->security);
//   absl::Status s = CheckTarget(allow,
//   *ParseTarget("http://db.internal:5432/")); if (absl::IsPermissionDenied(s))
//   ...  // answer 403 with s.message()
//
// A name that does not resolve passes: nothing can be sent to it, and the
// connect-time check in the transport still guards the address libcurl
// finally connects to (a DNS answer may change between the two).
//
// Thread-safety: safe from any thread; ResolveHost blocks on DNS.
// Errors: PermissionDeniedError with a one-line reason naming the target
// and the refused address.
#ifndef CANARY_PROBES_TARGET_GUARD_H_
#define CANARY_PROBES_TARGET_GUARD_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/allowed_target.h"
#include "probes/allowlist.h"
#include "probes/target.h"

namespace canary::probes {

// Every address `host` resolves to (getaddrinfo, TCP, IPv4 and IPv6);
// NotFoundError when it does not resolve.
using Resolver = std::function<absl::StatusOr<std::vector<config::IpAddress>>(
    const std::string& host)>;
absl::StatusOr<std::vector<config::IpAddress>> ResolveHost(
    const std::string& host);

// Checks `target` against `allowlist`, resolving a name that no host
// pattern matches with `resolve`.
absl::Status CheckTarget(const Allowlist& allowlist, const Target& target,
                         const Resolver& resolve = ResolveHost);

}  // namespace canary::probes

#endif  // CANARY_PROBES_TARGET_GUARD_H_
