// Tables for the SSRF allowlist: numeric host forms, the loopback default,
// CIDRs, host patterns, restricted ranges and the target check with a fake
// resolver.
#include "probes/allowlist.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/target.h"
#include "probes/target_guard.h"
#include "tests/testing/status_matchers.h"

namespace canary::probes {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;
using HostDecision = Allowlist::HostDecision;

config::IpAddress Ip(const char* text) {
  std::optional<config::IpAddress> a = config::ParseIpAddress(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(config::IpAddress{});
}

Allowlist Configured(std::initializer_list<const char*> entries) {
  config::SecurityConfig security;
  security.allowed_targets.emplace();
  for (const char* e : entries) {
    absl::StatusOr<config::AllowedTarget> t = config::ParseAllowedTarget(e);
    EXPECT_TRUE(t.ok()) << e << ": " << t.status();
    if (t.ok()) security.allowed_targets->push_back(*t);
  }
  return Allowlist(security);
}

struct NumericCase {
  const char* host;
  const char* address;  // nullptr: a name
};

class NumericHostTest : public ::testing::TestWithParam<NumericCase> {};

TEST_P(NumericHostTest, ReadsEveryFormTheResolverDoes) {
  const NumericCase& c = GetParam();
  std::optional<config::IpAddress> a = NumericHost(c.host);
  if (c.address == nullptr) {
    EXPECT_FALSE(a.has_value()) << c.host << " -> " << a->ToString();
  } else {
    ASSERT_TRUE(a.has_value()) << c.host;
    EXPECT_EQ(a->ToString(), c.address) << c.host;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NumericHostTest,
    ::testing::Values(
        NumericCase{"127.0.0.1", "127.0.0.1"},
        NumericCase{"2130706433", "127.0.0.1"},
        NumericCase{"0x7f.1", "127.0.0.1"},
        NumericCase{"0X7F.0.0.1", "127.0.0.1"},
        NumericCase{"0177.0.0.1", "127.0.0.1"},
        NumericCase{"127.1", "127.0.0.1"},
        NumericCase{"0x7f000001", "127.0.0.1"},
        NumericCase{"017700000001", "127.0.0.1"},
        NumericCase{"169.254.43518", "169.254.169.254"},
        NumericCase{"127.0.0.1.", "127.0.0.1"}, NumericCase{"0", "0.0.0.0"},
        NumericCase{"[::1]", "::1"},
        NumericCase{"[::ffff:127.0.0.1]", "127.0.0.1"},
        NumericCase{"[::ffff:7f00:1]", "127.0.0.1"},
        NumericCase{"[fe80::1%25eth0]", "fe80::1"},
        NumericCase{"[FD00:EC2::254]", "fd00:ec2::254"},
        NumericCase{"localhost", nullptr}, NumericCase{"1.2.3.4.5", nullptr},
        NumericCase{"999.1.1.1", nullptr}, NumericCase{"1e3", nullptr},
        NumericCase{"deadbeef", nullptr}, NumericCase{"[::1", nullptr},
        NumericCase{"[not-an-ip]", nullptr}, NumericCase{"", nullptr}));

TEST(NumericHostTest, CanonicalNameIsLowerCaseWithoutTrailingDot) {
  EXPECT_EQ(CanonicalHostName("API.Example.COM."), "api.example.com");
  EXPECT_EQ(CanonicalHostName("localhost"), "localhost");
}

TEST(FromSockaddrTest, ReadsBothFamiliesAndFoldsMappedIPv4) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(0x0a000001);
  auto a = FromSockaddr(reinterpret_cast<sockaddr*>(&in), sizeof(in));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.0.0.1");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr), 1);
  auto b = FromSockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, *a);

  EXPECT_FALSE(FromSockaddr(reinterpret_cast<sockaddr*>(&in), 4).has_value());
  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_FALSE(FromSockaddr(&other, sizeof(other)).has_value());
}

struct AddressCase {
  const char* address;
  bool allowed;
};

class DefaultAllowlistTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(DefaultAllowlistTest, OnlyLoopback) {
  const Allowlist allow;
  EXPECT_FALSE(allow.configured());
  absl::Status s = allow.CheckAddress(Ip(GetParam().address), false);
  EXPECT_EQ(s.ok(), GetParam().allowed) << GetParam().address << ": " << s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DefaultAllowlistTest,
    ::testing::Values(
        AddressCase{"127.0.0.1", true}, AddressCase{"127.255.0.9", true},
        AddressCase{"::1", true}, AddressCase{"::ffff:127.0.0.1", true},
        AddressCase{"10.0.0.1", false}, AddressCase{"128.0.0.1", false},
        AddressCase{"::2", false}, AddressCase{"0.0.0.0", false},
        AddressCase{"::", false}, AddressCase{"169.254.169.254", false}));

TEST(DefaultAllowlistTest, RefusalSaysHowToWidenIt) {
  EXPECT_THAT(
      Allowlist().CheckAddress(Ip("10.1.2.3"), false),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("address 10.1.2.3 is not allowed: without [security] "
                         "allowed_targets only loopback targets")));
  EXPECT_THAT(Allowlist().CheckAddress(Ip("10.1.2.3"), false),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("[security] allowed_targets in the config")));
}

struct ConfiguredCase {
  std::vector<const char*> entries;
  const char* address;
  bool name_allowed;
  bool allowed;
};

class ConfiguredAllowlistTest
    : public ::testing::TestWithParam<ConfiguredCase> {};

TEST_P(ConfiguredAllowlistTest, CheckAddress) {
  const ConfiguredCase& c = GetParam();
  config::SecurityConfig security;
  security.allowed_targets.emplace();
  for (const char* e : c.entries) {
    ASSERT_OK_AND_ASSIGN(config::AllowedTarget t,
                         config::ParseAllowedTarget(e));
    security.allowed_targets->push_back(t);
  }
  const Allowlist allow(security);
  EXPECT_TRUE(allow.configured());
  absl::Status s = allow.CheckAddress(Ip(c.address), c.name_allowed);
  EXPECT_EQ(s.ok(), c.allowed) << c.address << ": " << s;
  if (!s.ok()) {
    EXPECT_THAT(
        s, StatusIs(absl::StatusCode::kPermissionDenied,
                    HasSubstr(absl::StrCat("address ", Ip(c.address).ToString(),
                                           " is not allowed"))));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfiguredAllowlistTest,
    ::testing::Values(
        // A configured list replaces the loopback default.
        ConfiguredCase{{"10.0.0.0/8"}, "10.9.8.7", false, true},
        ConfiguredCase{{"10.0.0.0/8"}, "127.0.0.1", false, false},
        ConfiguredCase{{"10.0.0.0/8"}, "::ffff:10.0.0.1", false, true},
        ConfiguredCase{{"127.0.0.1/32"}, "127.0.0.2", false, false},
        ConfiguredCase{{"::1/128"}, "::1", false, true},
        ConfiguredCase{{"::1/128"}, "127.0.0.1", false, false},
        ConfiguredCase{{"fd00::/8"}, "fd12:3456::1", false, true},
        // A name that a pattern matched may reach any ordinary address...
        ConfiguredCase{{"api.example.com"}, "203.0.113.7", true, true},
        ConfiguredCase{{"api.example.com"}, "203.0.113.7", false, false},
        // ...but never link-local, metadata or unspecified ones.
        ConfiguredCase{{"api.example.com"}, "169.254.169.254", true, false},
        ConfiguredCase{{"api.example.com"}, "fe80::1", true, false},
        ConfiguredCase{{"api.example.com"}, "fd00:ec2::254", true, false},
        ConfiguredCase{{"api.example.com"}, "0.0.0.0", true, false},
        // "Allow everything" does not open the restricted ranges...
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "8.8.8.8", false, true},
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "2001:db8::1", false, true},
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "169.254.169.254", false, false},
        ConfiguredCase{
            {"0.0.0.0/0", "::/0"}, "::ffff:169.254.169.254", false, false},
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "fd00:ec2::254", false, false},
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "fe80::1", false, false},
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "0.0.0.0", false, false},
        ConfiguredCase{{"0.0.0.0/0", "::/0"}, "::", false, false},
        ConfiguredCase{{"fd00::/8"}, "fd00:ec2::254", false, false},
        // ...a CIDR inside them does, for exactly what it names.
        ConfiguredCase{{"169.254.169.254/32"}, "169.254.169.254", false, true},
        ConfiguredCase{{"169.254.169.254"}, "169.254.169.253", false, false},
        ConfiguredCase{{"169.254.0.0/16"}, "169.254.1.1", false, true},
        ConfiguredCase{{"fd00:ec2::254/128"}, "fd00:ec2::254", false, true},
        ConfiguredCase{{"fe80::/64"}, "fe80::1", false, true},
        ConfiguredCase{{"0.0.0.0/32"}, "0.0.0.0", false, true}));

TEST(ConfiguredAllowlistTest, RestrictedRefusalNamesTheExplicitEntry) {
  EXPECT_THAT(
      Configured({"0.0.0.0/0"}).CheckAddress(Ip("169.254.169.254"), false),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("address 169.254.169.254 is not allowed: link-local "
                         "(cloud metadata) addresses are refused unless a "
                         "CIDR in [security] allowed_targets names them "
                         "explicitly (e.g. \"169.254.169.254/32\")")));
}

struct HostCase {
  const char* host;
  int port;
  // -1: refused; otherwise a HostDecision.
  int decision;
};

class CheckHostTest : public ::testing::TestWithParam<HostCase> {};

TEST_P(CheckHostTest, Decides) {
  const Allowlist allow =
      Configured({"10.0.0.0/8", "*.svc.cluster.local", "api.example.com:8443"});
  const HostCase& c = GetParam();
  absl::StatusOr<HostDecision> d = allow.CheckHost(c.host, c.port);
  if (c.decision < 0) {
    EXPECT_THAT(d, StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_))
        << c.host << ":" << c.port;
  } else {
    ASSERT_TRUE(d.ok()) << c.host << ": " << d.status();
    EXPECT_EQ(static_cast<int>(*d), c.decision) << c.host << ":" << c.port;
  }
}

constexpr int kName = static_cast<int>(HostDecision::kAllowedName);
constexpr int kAddress = static_cast<int>(HostDecision::kAllowedAddress);
constexpr int kResolve = static_cast<int>(HostDecision::kCheckAddresses);

INSTANTIATE_TEST_SUITE_P(
    Table, CheckHostTest,
    ::testing::Values(HostCase{"10.1.2.3", 80, kAddress},
                      HostCase{"012.1.2.3", 80, kAddress},  // octal 10
                      HostCase{"167772161", 80, kAddress},  // 10.0.0.1
                      HostCase{"[::ffff:10.0.0.1]", 80, kAddress},
                      HostCase{"127.0.0.1", 80, -1},
                      HostCase{"2130706433", 80, -1},
                      HostCase{"0x7f.1", 80, -1}, HostCase{"[::1]", 80, -1},
                      HostCase{"169.254.169.254", 80, -1},
                      HostCase{"web.ns.svc.cluster.local", 80, kName},
                      HostCase{"WEB.NS.SVC.CLUSTER.LOCAL.", 80, kName},
                      HostCase{"api.example.com", 8443, kName},
                      HostCase{"api.example.com", 443, kResolve},
                      HostCase{"localhost", 80, kResolve}));

// ---- CheckTarget: the handler's check, with a fake resolver ----

Resolver FakeDns(std::vector<const char*> addresses, int* calls = nullptr) {
  return [addresses, calls](const std::string&)
             -> absl::StatusOr<std::vector<config::IpAddress>> {
    if (calls != nullptr) ++*calls;
    if (addresses.empty()) return absl::NotFoundError("no such host");
    std::vector<config::IpAddress> out;
    for (const char* a : addresses) out.push_back(Ip(a));
    return out;
  };
}

// The handler parses a target once and checks the parsed value.
Target Parsed(const char* url) {
  absl::StatusOr<Target> t = ParseTarget(url);
  EXPECT_TRUE(t.ok()) << url << ": " << t.status();
  return t.value_or(Target());
}

TEST(CheckTargetTest, LiteralsNeedNoResolution) {
  int calls = 0;
  EXPECT_THAT(CheckTarget(Allowlist(), Parsed("http://127.0.0.1:8080/x"),
                          FakeDns({}, &calls)),
              IsOk());
  EXPECT_THAT(CheckTarget(Allowlist(), Parsed("http://10.0.0.1/"),
                          FakeDns({"127.0.0.1"}, &calls)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("target host 10.0.0.1: address 10.0.0.1 is "
                                 "not allowed")));
  EXPECT_EQ(calls, 0);
}

TEST(CheckTargetTest, EveryResolvedAddressMustBeAllowed) {
  const Allowlist allow = Configured({"10.0.0.0/8"});
  EXPECT_THAT(
      CheckTarget(allow, Parsed("http://db.internal/"), FakeDns({"10.0.0.5"})),
      IsOk());
  EXPECT_THAT(CheckTarget(allow, Parsed("http://db.internal:5432/"),
                          FakeDns({"10.0.0.5", "192.168.1.1"})),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("target host db.internal resolves to "
                                 "192.168.1.1: address 192.168.1.1 is not "
                                 "allowed")));
}

TEST(CheckTargetTest, PatternMatchedNamesAreNotResolved) {
  int calls = 0;
  EXPECT_THAT(CheckTarget(Configured({"*.svc.cluster.local"}),
                          Parsed("https://web.ns.svc.cluster.local/"),
                          FakeDns({"8.8.8.8"}, &calls)),
              IsOk());
  EXPECT_EQ(calls, 0);
}

TEST(CheckTargetTest, UnresolvableNamePassesForTheProbeToReportDns) {
  EXPECT_THAT(
      CheckTarget(Allowlist(), Parsed("http://nx.invalid/"), FakeDns({})),
      IsOk());
}

TEST(CheckTargetTest, RealResolverSeesLocalhostAsLoopback) {
  EXPECT_THAT(CheckTarget(Allowlist(), Parsed("http://localhost:1/")), IsOk());
  EXPECT_THAT(
      CheckTarget(Configured({"10.0.0.0/8"}), Parsed("http://localhost:1/")),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr("resolves to 127.0.0.1")));
}

TEST(ParseTargetTest, HostAndDefaultPorts) {
  ASSERT_OK_AND_ASSIGN(Target a, ParseTarget("http://Example.com/x"));
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.port_text, "");
  ASSERT_OK_AND_ASSIGN(Target b, ParseTarget("https://example.com/x"));
  EXPECT_EQ(b.port, 443);
  ASSERT_OK_AND_ASSIGN(Target c, ParseTarget("http://[::1]:9427/"));
  EXPECT_EQ(c.host, "[::1]");
  EXPECT_EQ(c.port, 9427);
  EXPECT_EQ(c.port_text, "9427");
  EXPECT_THAT(ParseTarget("::"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST(ParseTargetTest, KeepsTheNormalizedUrlAndItsParts) {
  ASSERT_OK_AND_ASSIGN(Target t,
                       ParseTarget("HTTPS://u:p@Example.com:8443/a/b?x=1#f"));
  EXPECT_EQ(t.scheme, "https");
  EXPECT_EQ(t.host, "Example.com");
  EXPECT_EQ(t.port, 8443);
  EXPECT_EQ(t.path_and_query, "/a/b?x=1");
  ASSERT_OK_AND_ASSIGN(
      std::string url,
      NormalizeTarget("HTTPS://u:p@Example.com:8443/a/b?x=1#f"));
  EXPECT_EQ(t.url, url);
  ASSERT_OK_AND_ASSIGN(Target bare, ParseTarget("localhost:8080"));
  EXPECT_EQ(bare.url, "http://localhost:8080/");
  EXPECT_EQ(bare.path_and_query, "/");
}

// Prometheus and Alloy percent-encode the target parameter; encoded once
// more (e.g. by a relabelling that already encoded it), the ':' before the
// port arrives as %3A. blackbox_exporter decodes it; so do we, in host:port
// only: escapes in userinfo, path and query keep their meaning.
TEST(ParseTargetTest, DecodesAPercentEncodedColonInHostPort) {
  ASSERT_OK_AND_ASSIGN(Target a, ParseTarget("127.0.0.1%3A8080"));
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.url, "http://127.0.0.1:8080/");
  ASSERT_OK_AND_ASSIGN(Target b,
                       ParseTarget("https://example.com%3a8443/a%2Fb?q=x%26y"));
  EXPECT_EQ(b.host, "example.com");
  EXPECT_EQ(b.port, 8443);
  EXPECT_EQ(b.path_and_query, "/a%2Fb?q=x%26y");
  ASSERT_OK_AND_ASSIGN(Target c, ParseTarget("http://u:p%40ss@h%3A81/"));
  EXPECT_EQ(c.host, "h");
  EXPECT_EQ(c.port, 81);
  EXPECT_EQ(c.url, "http://u:p%40ss@h:81/");
  // A whole URL encoded once more, as blackbox's own tests send it.
  ASSERT_OK_AND_ASSIGN(Target d, ParseTarget("http%3A%2F%2F127.0.0.1%3A9%2Fx"));
  EXPECT_EQ(d.url, "http://127.0.0.1:9/x");
  // A decoded control byte is refused, never sent; the error hides the
  // credentials.
  EXPECT_THAT(
      ParseTarget("http://u:PW@h%0A%3A80/"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr("control byte"),
                                HasSubstr("\"http://<secret>@h%0A%3A80/\""))));
}

TEST(ParseTargetTest, SaysWhatIsWrong) {
  EXPECT_THAT(ParseTarget(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("target is empty")));
  EXPECT_THAT(ParseTarget("ftp://h/"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has scheme \"ftp\"; only http and https")));
}

// libcurl's URL parser already rewrites odd IPv4 forms: the host the
// handler checks is the dotted quad libcurl will connect to.
TEST(ParseTargetTest, DotsOddIPv4Forms) {
  for (const char* odd : {"2130706433", "0x7f.1", "0177.0.0.1", "127.1"}) {
    ASSERT_OK_AND_ASSIGN(Target t, ParseTarget(odd));
    EXPECT_EQ(t.host, "127.0.0.1") << odd;
  }
  // IPv4-mapped IPv6 is left as written: NumericHost folds it.
  ASSERT_OK_AND_ASSIGN(Target t, ParseTarget("http://[::ffff:10.0.0.1]/"));
  EXPECT_THAT(Configured({"10.0.0.0/8"}).CheckHost(t.host, t.port), IsOk());
}

}  // namespace
}  // namespace canary::probes
