#include "config/allowed_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace canary::config {
namespace {

constexpr int kV4Offset = 96;  // bits of the ::ffff:0:0/96 prefix

bool IsLabelChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_';
}

// Zeroes every bit after the first `prefix`.
IpAddress Mask(const IpAddress& a, int prefix) {
  IpAddress out = a;
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(prefix - 8 * i, 0, 8);
    out.bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return out;
}

absl::Status Invalid(absl::string_view text, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" ", what));
}

absl::StatusOr<HostPattern> ParseHostPattern(absl::string_view text) {
  HostPattern p;
  absl::string_view host = text;
  if (size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    absl::string_view port = host.substr(colon + 1);
    int n = 0;
    if (port.empty() ||
        !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(port, &n) || n < 1 || n > 65535) {
      return Invalid(text, "has an invalid port (expected 1 to 65535)");
    }
    p.port = n;
    host = host.substr(0, colon);
  }
  if (absl::ConsumePrefix(&host, "*.")) p.wildcard = true;
  host = absl::StripSuffix(host, ".");
  if (host.empty() || host == "*") {
    return Invalid(text,
                   "is not a host pattern (use \"0.0.0.0/0\" and \"::/0\" to "
                   "allow every address)");
  }
  if (absl::StrContains(host, '*')) {
    return Invalid(text,
                   "has a wildcard that is not the whole first label (write "
                   "it as in \"*.svc.cluster.local\")");
  }
  std::vector<absl::string_view> labels = absl::StrSplit(host, '.');
  for (absl::string_view label : labels) {
    if (label.empty() || label.size() > 63 ||
        !std::all_of(label.begin(), label.end(), IsLabelChar)) {
      return Invalid(text,
                     "is neither a CIDR nor a host name (labels of letters, "
                     "digits, '-' and '_', separated by single dots)");
    }
  }
  if (std::all_of(labels.back().begin(), labels.back().end(),
                  absl::ascii_isdigit)) {
    return Invalid(text,
                   "looks like an IP address but is not one in standard form "
                   "(write IPv4 as a dotted quad such as \"127.0.0.1\", "
                   "without a port)");
  }
  p.name = absl::AsciiStrToLower(host);
  return p;
}

}  // namespace

IpAddress IpAddress::FromV4(uint32_t host_order) {
  IpAddress a;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  a.bytes[12] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[13] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[14] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[15] = static_cast<uint8_t>(host_order);
  return a;
}

bool IpAddress::is_v4() const {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes.data(), kMapped, sizeof(kMapped)) == 0;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

std::optional<IpAddress> ParseIpAddress(absl::string_view text) {
  const std::string s(text);
  IpAddress a;
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    return IpAddress::FromV4(ntohl(v4.s_addr));
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

bool Cidr::Contains(const IpAddress& address) const {
  return Mask(address, prefix) == network;
}

bool Cidr::Within(const Cidr& outer) const {
  return prefix >= outer.prefix && outer.Contains(network);
}

std::string Cidr::ToString() const {
  const bool v4 = network.is_v4() && prefix >= kV4Offset;
  return absl::StrCat(network.ToString(), "/",
                      v4 ? prefix - kV4Offset : prefix);
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view text) {
  absl::string_view address_text = text;
  absl::string_view prefix_text;
  const size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    address_text = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
  }
  std::optional<IpAddress> address = ParseIpAddress(address_text);
  if (!address.has_value()) {
    return Invalid(text,
                   "is not a CIDR: expected an IPv4 dotted quad or an IPv6 "
                   "address before the \"/\", as in \"10.0.0.0/8\" or "
                   "\"fd00::/8\"");
  }
  // An IPv6 text of a mapped address ("::ffff:10.0.0.0/104") counts bits in
  // the IPv6 space; a dotted quad counts them in the IPv4 space.
  const bool v4_text = absl::StrContains(address_text, '.') &&
                       !absl::StrContains(address_text, ':');
  const int max = v4_text ? 32 : 128;
  int prefix = max;
  if (slash != absl::string_view::npos) {
    if (prefix_text.empty() ||
        !std::all_of(prefix_text.begin(), prefix_text.end(),
                     absl::ascii_isdigit) ||
        !absl::SimpleAtoi(prefix_text, &prefix) || prefix > max) {
      return Invalid(text, absl::StrCat("has an invalid prefix length "
                                        "(expected 0 to ",
                                        max, ")"));
    }
  }
  Cidr cidr;
  cidr.prefix = v4_text ? prefix + kV4Offset : prefix;
  cidr.network = Mask(*address, cidr.prefix);
  if (!(cidr.network == *address)) {
    return Invalid(text, absl::StrCat("has host bits set (did you mean \"",
                                      cidr.ToString(), "\"?)"));
  }
  return cidr;
}

bool HostPattern::Matches(absl::string_view host, int host_port) const {
  if (port != 0 && port != host_port) return false;
  if (!wildcard) return host == name;
  return host.size() > name.size() + 1 && absl::EndsWith(host, name) &&
         host[host.size() - name.size() - 1] == '.';
}

absl::StatusOr<AllowedTarget> ParseAllowedTarget(absl::string_view text) {
  AllowedTarget target;
  target.source = std::string(text);
  if (text.empty()) return absl::InvalidArgumentError("entry is empty");
  if (absl::StartsWith(text, "[")) {
    return Invalid(text,
                   "has brackets: write IPv6 networks without them, as in "
                   "\"::1/128\" (ports are supported on host names only)");
  }
  if (absl::StrContains(text, "://")) {
    return Invalid(text,
                   "is a URL; write the host name only, as in "
                   "\"api.example.com\" or \"api.example.com:8443\"");
  }
  // Anything with a "/" or that parses as an address is a network.
  if (absl::StrContains(text, '/') || ParseIpAddress(text).has_value()) {
    absl::StatusOr<Cidr> cidr = ParseCidr(text);
    if (!cidr.ok()) return cidr.status();
    target.entry = *cidr;
    return target;
  }
  if (absl::StrContains(text, "::") ||
      std::count(text.begin(), text.end(), ':') > 1) {
    return Invalid(text, "is not a valid IPv6 address or CIDR");
  }
  absl::StatusOr<HostPattern> pattern = ParseHostPattern(text);
  if (!pattern.ok()) return pattern.status();
  target.entry = *std::move(pattern);
  return target;
}

}  // namespace canary::config
