// allowed_target.h: the entries of `[security] allowed_targets` — CIDRs and
// host patterns — parsed strictly, plus the IP address type they use.
// Deciding whether a target may be probed is probes/allowlist.h's job.
//
//   absl::StatusOr<AllowedTarget> e = ParseAllowedTarget("10.0.0.0/8");
//   std::optional<IpAddress> a = ParseIpAddress("10.1.2.3");
//   bool in = std::get<Cidr>(e->entry).Contains(*a);  // true
//
// Every address lives in the IPv6 space: an IPv4 address is stored
// IPv4-mapped (::ffff:a.b.c.d), so "127.0.0.1" and "::ffff:127.0.0.1" are
// the same address and an IPv4 /8 is a /104.
//
// Thread-safety: plain values and pure functions.
// Errors: ParseAllowedTarget returns InvalidArgumentError saying what is
// wrong with the entry (without a file position: the loader adds it).
#ifndef CANARY_CONFIG_ALLOWED_TARGET_H_
#define CANARY_CONFIG_ALLOWED_TARGET_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::config {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};

  // `host_order` is the address as a number, e.g. 0x7f000001.
  static IpAddress FromV4(uint32_t host_order);
  // True for IPv4-mapped addresses (every IPv4 address).
  bool is_v4() const;
  // Dotted quad for IPv4, RFC 5952 text for IPv6.
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// The standard text forms only: a dotted quad or an IPv6 address
// (inet_pton). No brackets, zone ids or odd IPv4 forms such as "127.1".
std::optional<IpAddress> ParseIpAddress(absl::string_view text);

// A network: address and prefix length in the 128-bit space.
struct Cidr {
  IpAddress network;  // host bits are zero
  int prefix = 0;     // 0..128; an IPv4 /N is 96 + N

  bool Contains(const IpAddress& address) const;
  // True when every address of this network is inside `outer`.
  bool Within(const Cidr& outer) const;
  // "10.0.0.0/8", "::1/128".
  std::string ToString() const;
};

// "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). Host bits must
// be zero. Returns InvalidArgumentError otherwise.
absl::StatusOr<Cidr> ParseCidr(absl::string_view text);

// A host name, optionally a wildcard and optionally with a port.
struct HostPattern {
  // Lower case, no trailing dot. For a wildcard the part after "*.".
  std::string name;
  // "*.svc.cluster.local": one or more labels before `name`.
  bool wildcard = false;
  int port = 0;  // 0: any port

  // `host` must be lower case without a trailing dot (see probes/allowlist.h).
  bool Matches(absl::string_view host, int port) const;
};

// One entry of `allowed_targets`.
struct AllowedTarget {
  std::string source;  // as written in the config
  std::variant<Cidr, HostPattern> entry;
};

// Parses one entry: a CIDR or bare IP address, or a host pattern
// ("api.example.com", "api.example.com:8443", "*.svc.cluster.local").
// Rejects odd numeric IPv4 forms ("127.1", "0x7f.1", "2130706433"), ports on
// addresses, a "*" anywhere but as the whole first label, and empty labels.
absl::StatusOr<AllowedTarget> ParseAllowedTarget(absl::string_view text);

// The `[security]` table.
struct SecurityConfig {
  // Absent (no [security] table or no allowed_targets key): only loopback
  // targets (127.0.0.0/8, ::1) may be probed.
  std::optional<std::vector<AllowedTarget>> allowed_targets;
};

}  // namespace canary::config

#endif  // CANARY_CONFIG_ALLOWED_TARGET_H_
