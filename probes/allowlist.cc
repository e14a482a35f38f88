#include "probes/allowlist.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace canary::probes {
namespace {

struct Restricted {
  config::Cidr range;
  const char* what;
};

// Ranges that reach the host itself or a cloud's metadata service: a broad
// entry such as "0.0.0.0/0" must not open them by accident.
const std::vector<Restricted>& RestrictedRanges() {
  static const std::vector<Restricted>* const kRanges = [] {
    auto* r = new std::vector<Restricted>;
    for (auto [cidr, what] : {
             std::pair{"169.254.0.0/16", "link-local (cloud metadata)"},
             std::pair{"fe80::/10", "link-local"},
             std::pair{"fd00:ec2::254/128", "cloud metadata"},
             // connect() to the unspecified address reaches the local host.
             std::pair{"0.0.0.0/32", "unspecified"},
             std::pair{"::/128", "unspecified"},
         }) {
      r->push_back({*config::ParseCidr(cidr), what});
    }
    return r;
  }();
  return *kRanges;
}

}  // namespace

std::optional<config::IpAddress> NumericHost(absl::string_view host) {
  if (absl::ConsumePrefix(&host, "[")) {
    if (!absl::ConsumeSuffix(&host, "]")) return std::nullopt;
    host = host.substr(0, host.find('%'));  // the zone id names no address
    config::IpAddress a;
    const std::string text(host);
    if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) != 1) {
      return std::nullopt;
    }
    return a;
  }
  host = absl::StripSuffix(host, ".");
  if (host.empty() || !absl::ascii_isdigit(host[0]) ||
      !std::all_of(host.begin(), host.end(), [](char c) {
        return absl::ascii_isxdigit(c) || c == 'x' || c == 'X' || c == '.';
      })) {
    return std::nullopt;
  }
  // inet_aton reads every form the resolver does: "127.1", "0x7f.1",
  // "0177.0.0.1", "2130706433".
  const std::string text(host);
  in_addr v4;
  if (inet_aton(text.c_str(), &v4) == 0) return std::nullopt;
  return config::IpAddress::FromV4(ntohl(v4.s_addr));
}

std::string CanonicalHostName(absl::string_view host) {
  return absl::AsciiStrToLower(absl::StripSuffix(host, "."));
}

std::optional<config::IpAddress> FromSockaddr(const sockaddr* addr,
                                              socklen_t len) {
  if (addr == nullptr) return std::nullopt;
  if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof(in));
    return config::IpAddress::FromV4(ntohl(in.sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof(in6));
    config::IpAddress a;
    std::memcpy(a.bytes.data(), &in6.sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

Allowlist::Allowlist() {
  // Parsed once: an Allowlist is built for every /probe.
  static const std::vector<config::Cidr>* const kLoopback =
      new std::vector<config::Cidr>{*config::ParseCidr("127.0.0.0/8"),
                                    *config::ParseCidr("::1/128")};
  cidrs_ = *kLoopback;
}

Allowlist::Allowlist(const config::SecurityConfig& security) : Allowlist() {
  if (!security.allowed_targets.has_value()) return;
  configured_ = true;
  cidrs_.clear();
  for (const config::AllowedTarget& t : *security.allowed_targets) {
    if (const auto* cidr = std::get_if<config::Cidr>(&t.entry)) {
      cidrs_.push_back(*cidr);
    } else {
      patterns_.push_back(std::get<config::HostPattern>(t.entry));
    }
  }
}

absl::StatusOr<Allowlist::HostDecision> Allowlist::CheckHost(
    absl::string_view host, int port) const {
  if (std::optional<config::IpAddress> a = NumericHost(host)) {
    if (absl::Status s = CheckAddress(*a, false); !s.ok()) return s;
    return HostDecision::kAllowedAddress;
  }
  const std::string name = CanonicalHostName(host);
  for (const config::HostPattern& p : patterns_) {
    if (p.Matches(name, port)) return HostDecision::kAllowedName;
  }
  return HostDecision::kCheckAddresses;
}

absl::Status Allowlist::CheckAddress(const config::IpAddress& address,
                                     bool name_allowed) const {
  for (const Restricted& r : RestrictedRanges()) {
    if (!r.range.Contains(address)) continue;
    for (const config::Cidr& c : cidrs_) {
      if (c.Within(r.range) && c.Contains(address)) return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "address ", address.ToString(), " is not allowed: ", r.what,
        " addresses are refused unless a CIDR in [security] allowed_targets "
        "names them explicitly (e.g. \"",
        config::Cidr{address, 128}.ToString(), "\")"));
  }
  if (name_allowed) return absl::OkStatus();
  for (const config::Cidr& c : cidrs_) {
    if (c.Contains(address)) return absl::OkStatus();
  }
  return Deny(address);
}

absl::Status Allowlist::Deny(const config::IpAddress& address) const {
  if (!configured_) {
    return absl::PermissionDeniedError(absl::StrCat(
        "address ", address.ToString(),
        " is not allowed: without [security] allowed_targets only loopback "
        "targets (127.0.0.0/8, ::1) may be probed; add a CIDR or host "
        "pattern to [security] allowed_targets in the config to widen it"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("address ", address.ToString(),
                   " is not allowed: it is in no CIDR of [security] "
                   "allowed_targets and was not reached through a host name "
                   "that a pattern there matches"));
}

}  // namespace canary::probes
