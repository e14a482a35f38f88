// Tables for the [security] allowed_targets entry parser.
#include "config/allowed_target.h"

#include <string>
#include <variant>

#include "absl/status/status.h"
#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::canary::testing::StatusIs;
using ::testing::HasSubstr;

IpAddress Ip(const char* text) {
  std::optional<IpAddress> a = ParseIpAddress(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

TEST(IpAddressTest, IPv4IsStoredMappedSoBothSpellingsAreEqual) {
  EXPECT_EQ(Ip("127.0.0.1"), Ip("::ffff:127.0.0.1"));
  EXPECT_EQ(Ip("127.0.0.1"), IpAddress::FromV4(0x7f000001));
  EXPECT_TRUE(Ip("10.1.2.3").is_v4());
  EXPECT_FALSE(Ip("::1").is_v4());
  EXPECT_EQ(Ip("::ffff:7f00:1").ToString(), "127.0.0.1");
  EXPECT_EQ(Ip("FD00:EC2::254").ToString(), "fd00:ec2::254");
}

TEST(IpAddressTest, OnlyStandardFormsParse) {
  for (const char* text : {"127.1", "0x7f.1", "2130706433", "0177.0.0.1",
                           "[::1]", "fe80::1%eth0", "1.2.3.4.5", "", "host"}) {
    EXPECT_FALSE(ParseIpAddress(text).has_value()) << text;
  }
}

struct CidrCase {
  const char* text;
  const char* canonical;
  const char* inside;
  const char* outside;
};

class CidrTest : public ::testing::TestWithParam<CidrCase> {};

TEST_P(CidrTest, ParsesAndContains) {
  const CidrCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(Cidr cidr, ParseCidr(c.text));
  EXPECT_EQ(cidr.ToString(), c.canonical);
  EXPECT_TRUE(cidr.Contains(Ip(c.inside))) << c.inside;
  EXPECT_FALSE(cidr.Contains(Ip(c.outside))) << c.outside;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CidrTest,
    ::testing::Values(
        CidrCase{"10.0.0.0/8", "10.0.0.0/8", "10.255.1.2", "11.0.0.1"},
        CidrCase{"127.0.0.1", "127.0.0.1/32", "127.0.0.1", "127.0.0.2"},
        CidrCase{"::1/128", "::1/128", "::1", "::2"},
        CidrCase{"::1", "::1/128", "::1", "127.0.0.1"},
        CidrCase{"fd00::/8", "fd00::/8", "fd12::1", "fe80::1"},
        CidrCase{"172.16.0.0/12", "172.16.0.0/12", "172.31.255.255",
                 "172.32.0.0"},
        // An IPv4 network also holds the IPv4-mapped spelling.
        CidrCase{"192.168.0.0/16", "192.168.0.0/16", "::ffff:192.168.9.9",
                 "192.169.0.0"},
        // 0.0.0.0/0 is every IPv4 address, and no IPv6 one.
        CidrCase{"0.0.0.0/0", "0.0.0.0/0", "8.8.8.8", "2001:db8::1"},
        CidrCase{"2001:db8::/32", "2001:db8::/32", "2001:db8:ffff::1",
                 "2001:db9::1"}));

TEST(CidrTest, WithinComparesNetworks) {
  ASSERT_OK_AND_ASSIGN(Cidr link_local, ParseCidr("169.254.0.0/16"));
  ASSERT_OK_AND_ASSIGN(Cidr metadata, ParseCidr("169.254.169.254/32"));
  ASSERT_OK_AND_ASSIGN(Cidr all, ParseCidr("0.0.0.0/0"));
  EXPECT_TRUE(metadata.Within(link_local));
  EXPECT_TRUE(link_local.Within(link_local));
  EXPECT_FALSE(all.Within(link_local));
  EXPECT_TRUE(link_local.Within(all));
}

struct EntryCase {
  const char* text;
  const char* host;  // matched host, or nullptr for a CIDR
  int port;
  bool matches;
};

class HostPatternTest : public ::testing::TestWithParam<EntryCase> {};

TEST_P(HostPatternTest, Matches) {
  const EntryCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(AllowedTarget t, ParseAllowedTarget(c.text));
  EXPECT_EQ(t.source, c.text);
  ASSERT_TRUE(std::holds_alternative<HostPattern>(t.entry));
  EXPECT_EQ(std::get<HostPattern>(t.entry).Matches(c.host, c.port), c.matches)
      << c.text << " vs " << c.host << ":" << c.port;
}

INSTANTIATE_TEST_SUITE_P(
    Table, HostPatternTest,
    ::testing::Values(
        EntryCase{"api.example.com", "api.example.com", 80, true},
        EntryCase{"api.example.com", "api.example.com", 8443, true},
        EntryCase{"API.Example.com.", "api.example.com", 443, true},
        EntryCase{"api.example.com", "x.api.example.com", 80, false},
        EntryCase{"api.example.com", "example.com", 80, false},
        EntryCase{"api.example.com:8443", "api.example.com", 8443, true},
        EntryCase{"api.example.com:8443", "api.example.com", 443, false},
        // A wildcard stands for one or more leading labels.
        EntryCase{"*.svc.cluster.local", "web.ns.svc.cluster.local", 80, true},
        EntryCase{"*.svc.cluster.local", "a.svc.cluster.local", 8080, true},
        EntryCase{"*.svc.cluster.local", "svc.cluster.local", 80, false},
        EntryCase{"*.svc.cluster.local", "evilsvc.cluster.local", 80, false},
        EntryCase{"*.svc.cluster.local", "svc.cluster.local.evil.com", 80,
                  false},
        EntryCase{"*.example.com:443", "www.example.com", 443, true},
        EntryCase{"*.example.com:443", "www.example.com", 80, false},
        EntryCase{"localhost", "localhost", 9427, true}));

struct BadCase {
  const char* text;
  const char* message;
};

class BadEntryTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadEntryTest, IsInvalidWithReason) {
  EXPECT_THAT(ParseAllowedTarget(GetParam().text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(GetParam().message)))
      << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadEntryTest,
    ::testing::Values(
        BadCase{"", "empty"},
        BadCase{"10.1.2.3/8", "host bits set (did you mean \"10.0.0.0/8\"?)"},
        BadCase{"::1/64", "host bits set (did you mean \"::/64\"?)"},
        BadCase{"10.0.0.0/33", "invalid prefix length (expected 0 to 32)"},
        BadCase{"::/129", "invalid prefix length (expected 0 to 128)"},
        BadCase{"10.0.0.0/", "invalid prefix length"},
        BadCase{"10.0.0.0/+8", "invalid prefix length"},
        BadCase{"10.0.0/8", "is not a CIDR"},
        BadCase{"host/8", "is not a CIDR"},
        BadCase{"127.1", "not one in standard form"},
        BadCase{"0x7f.1", "not one in standard form"},
        BadCase{"2130706433", "not one in standard form"},
        BadCase{"0177.0.0.1", "not one in standard form"},
        BadCase{"10.0.0.1:8080", "not one in standard form"},
        BadCase{"[::1]:8080", "brackets"},
        BadCase{"fe80::1%eth0", "not a valid IPv6"},
        BadCase{"*", "is not a host pattern"},
        BadCase{"*.", "is not a host pattern"},
        BadCase{"api.*.example.com", "wildcard that is not the whole first"},
        BadCase{"*api.example.com", "wildcard that is not the whole first"},
        BadCase{"**.example.com", "wildcard that is not the whole first"},
        BadCase{"api..example.com", "neither a CIDR nor a host name"},
        BadCase{"api example.com", "neither a CIDR nor a host name"},
        BadCase{"http://api.example.com", "is a URL; write the host name only"},
        BadCase{"api.example.com:0", "invalid port"},
        BadCase{"api.example.com:65536", "invalid port"},
        BadCase{"api.example.com:", "invalid port"}));

TEST(SecurityLoadTest, AbsentTableLeavesTheLoopbackDefault) {
  ASSERT_OK_AND_ASSIGN(Config c, LoadConfig("[modules.canary]\n", "t.toml"));
  EXPECT_FALSE(c.security.allowed_targets.has_value());
  ASSERT_OK_AND_ASSIGN(Config empty,
                       LoadConfig("[modules.canary]\n[security]\n", "t.toml"));
  EXPECT_FALSE(empty.security.allowed_targets.has_value());
}

TEST(SecurityLoadTest, EntriesKeepTheirOrderAndKind) {
  ASSERT_OK_AND_ASSIGN(Config c, LoadConfig(R"(
[modules.canary]
[security]
allowed_targets = ["10.0.0.0/8", "*.svc.cluster.local", "::1"]
)",
                                            "t.toml"));
  ASSERT_TRUE(c.security.allowed_targets.has_value());
  const std::vector<AllowedTarget>& e = *c.security.allowed_targets;
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].source, "10.0.0.0/8");
  EXPECT_TRUE(std::holds_alternative<Cidr>(e[0].entry));
  EXPECT_TRUE(std::holds_alternative<HostPattern>(e[1].entry));
  EXPECT_EQ(std::get<Cidr>(e[2].entry).ToString(), "::1/128");
}

TEST(SecurityLoadTest, BadEntryNamesFileLineColumnAndIndex) {
  EXPECT_THAT(LoadConfig(R"([modules.canary]
[security]
allowed_targets = ["10.0.0.0/8",
  "127.1"]
)",
                         "t.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.toml:4:3: security.allowed_targets[1]: "
                                 "\"127.1\" looks like an IP address")));
}

}  // namespace
}  // namespace canary::config
