#include "probes/target_guard.h"

#include <netdb.h>
#include <sys/socket.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "probes/target.h"

namespace canary::probes {
namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

}  // namespace

absl::StatusOr<std::vector<config::IpAddress>> ResolveHost(
    const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  if (rc != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot resolve \"", host, "\": ", gai_strerror(rc)));
  }
  std::vector<config::IpAddress> out;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    if (auto a = FromSockaddr(ai->ai_addr, ai->ai_addrlen)) out.push_back(*a);
  }
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrCat("\"", host, "\" has no IPv4 or IPv6 address"));
  }
  return out;
}

absl::Status CheckTarget(const Allowlist& allowlist, const Target& target,
                         const Resolver& resolve) {
  absl::StatusOr<Allowlist::HostDecision> decision =
      allowlist.CheckHost(target.host, target.port);
  if (!decision.ok()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "target host ", target.host, ": ", decision.status().message()));
  }
  if (*decision != Allowlist::HostDecision::kCheckAddresses) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<config::IpAddress>> addresses =
      resolve(CanonicalHostName(target.host));
  // Unresolvable: the probe fails as a dns error and sends nothing.
  if (!addresses.ok()) return absl::OkStatus();
  for (const config::IpAddress& a : *addresses) {
    if (absl::Status s = allowlist.CheckAddress(a, false); !s.ok()) {
      return absl::PermissionDeniedError(
          absl::StrCat("target host ", target.host, " resolves to ",
                       a.ToString(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace canary::probes
