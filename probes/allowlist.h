// allowlist.h: which targets a probe may reach — the SSRF guard built from
// `[security] allowed_targets` (config/allowed_target.h). Pure decisions;
// resolving names is probes/target_guard.h, enforcing them on the sockets
// libcurl opens is probes/curl_transport.cc.
//
//   Allowlist allow(config.security);  // loopback only when absent
//   absl::StatusOr<Allowlist::HostDecision> d = allow.CheckHost("10.1.2.3",
//   80); absl::Status s = allow.CheckAddress(*NumericHost("169.254.169.254"),
//                                       /*name_allowed=*/true);  // denied
//
// Rules: an address is allowed when a CIDR entry contains it, or when it was
// reached through a host name that a host pattern matches. Link-local,
// cloud metadata and unspecified addresses (169.254.0.0/16, fe80::/10,
// fd00:ec2::254, 0.0.0.0, ::) are refused unless a CIDR entry inside those
// ranges names them ("0.0.0.0/0" does not). IPv4-mapped IPv6 addresses are
// IPv4 addresses; odd IPv4 forms ("2130706433", "0x7f.1", "0177.0.0.1",
// "127.1") are read as inet_aton reads them.
//
// Thread-safety: immutable after construction; safe from any thread.
// Errors: refusals are PermissionDeniedError with a one-line reason that
// starts "address X is not allowed" and says how to widen the list.
#ifndef CANARY_PROBES_ALLOWLIST_H_
#define CANARY_PROBES_ALLOWLIST_H_

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/allowed_target.h"

namespace canary::probes {

// The address a URL host denotes when it is numeric: "[::1]", "[fe80::1%25
// eth0]" (the zone is dropped), "127.0.0.1.", and every IPv4 form inet_aton
// accepts. nullopt for a host name.
std::optional<config::IpAddress> NumericHost(absl::string_view host);

// Lower case, without one trailing dot: the form host patterns match.
std::string CanonicalHostName(absl::string_view host);

// The address of an AF_INET or AF_INET6 socket address; nullopt otherwise.
std::optional<config::IpAddress> FromSockaddr(const sockaddr* addr,
                                              socklen_t len);

class Allowlist {
 public:
  // Loopback only (127.0.0.0/8, ::1): what a config without [security] gets.
  Allowlist();
  explicit Allowlist(const config::SecurityConfig& security);

  enum class HostDecision {
    kAllowedName,     // a host pattern matches the name (and port)
    kAllowedAddress,  // a numeric host whose address is allowed
    // A name no pattern matches: every address it resolves to (and the one
    // connected to) must pass CheckAddress(…, false).
    kCheckAddresses,
  };

  // Decides for the host and port of a URL, as libcurl's URL API returns
  // the host (IPv6 in brackets). PermissionDenied for a numeric host whose
  // address is not allowed.
  absl::StatusOr<HostDecision> CheckHost(absl::string_view host,
                                         int port) const;

  // Decides for an address about to be connected to. `name_allowed`: it was
  // reached through a name a host pattern matches (kAllowedName).
  absl::Status CheckAddress(const config::IpAddress& address,
                            bool name_allowed) const;

  // True when built from an explicit allowed_targets list.
  bool configured() const { return configured_; }

 private:
  absl::Status Deny(const config::IpAddress& address) const;

  bool configured_ = false;
  std::vector<config::Cidr> cidrs_;
  std::vector<config::HostPattern> patterns_;
};

}  // namespace canary::probes

#endif  // CANARY_PROBES_ALLOWLIST_H_
