#include "config/blackbox_yaml.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::string kExample =
    CANARY_TEST_SRCDIR "/testdata/config/blackbox/example.yml";

TEST(BlackboxYamlTest, ExampleConvertsAndLoads) {
  ASSERT_OK_AND_ASSIGN(BlackboxConversion c, ConvertBlackboxYamlFile(kExample));
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(c.toml, "converted.toml"));
  std::vector<std::string> names;
  for (const auto& [name, m] : config.modules) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("http_2xx_example",
                                 "http_2xx_oauth_client_credentials",
                                 "http_basic_auth_example", "http_post_2xx",
                                 "http_with_proxy"));

  const Module& ex = *config.FindModule("http_2xx_example");
  EXPECT_EQ(ex.timeout, absl::Seconds(5));
  EXPECT_FALSE(ex.burst.duration.has_value());
  EXPECT_EQ(*ex.burst.request_limit(), 1);  // one request, as blackbox
  EXPECT_EQ(ex.http.method, "GET");
  EXPECT_THAT(ex.http.headers, ElementsAre(Pair("Host", "vhost.example.com"),
                                           Pair("Accept-Language", "en-US"),
                                           Pair("Origin", "example.com")));
  EXPECT_TRUE(ex.http.valid_status_codes.empty());
  EXPECT_TRUE(ex.http.follow_redirects);
  ASSERT_EQ(ex.http.fail_if_body_matches_regexp.size(), 1u);
  EXPECT_EQ(ex.http.fail_if_body_matches_regexp[0].pattern,
            "Could not connect to database");
  ASSERT_EQ(ex.http.fail_if_body_not_matches_regexp.size(), 1u);
  ASSERT_EQ(ex.http.fail_if_header_matches.size(), 1u);
  EXPECT_EQ(ex.http.fail_if_header_matches[0].header, "Set-Cookie");
  EXPECT_EQ(ex.http.fail_if_header_matches[0].regexp.pattern, ".*");
  EXPECT_TRUE(ex.http.fail_if_header_matches[0].allow_missing);
  ASSERT_EQ(ex.http.fail_if_header_not_matches.size(), 1u);
  EXPECT_EQ(ex.http.fail_if_header_not_matches[0].regexp.pattern,
            "(\\*|example\\.com)");
  EXPECT_FALSE(ex.http.fail_if_header_not_matches[0].allow_missing);
  EXPECT_FALSE(ex.http.tls.insecure_skip_verify);

  const Module& post = *config.FindModule("http_post_2xx");
  EXPECT_EQ(post.http.method, "POST");
  EXPECT_EQ(post.http.body, "{\"text\": \"a \\\"quoted\\\" value\"}");
  EXPECT_THAT(post.http.valid_status_codes, ElementsAre(200, 201));
  EXPECT_FALSE(post.http.follow_redirects);  // no_follow_redirects: true

  const Module& auth = *config.FindModule("http_basic_auth_example");
  EXPECT_EQ(auth.http.method, "POST");  // "post" in the YAML
  ASSERT_TRUE(auth.http.basic_auth.has_value());
  EXPECT_EQ(auth.http.basic_auth->username, "username");
  EXPECT_EQ(auth.http.basic_auth->password, "mysecret");

  const Module& oauth = *config.FindModule("http_2xx_oauth_client_credentials");
  EXPECT_EQ(oauth.http.bearer_token, "t0ken");
  EXPECT_EQ(oauth.http.http_version, HttpVersion::kHttp2);  // enable_http2
  EXPECT_EQ(oauth.http.body_size_limit, 512 * 1024);        // Go's "512KB"

  EXPECT_EQ(config.FindModule("http_with_proxy")->http.proxy_url,
            "http://127.0.0.1:3128");
  EXPECT_EQ(config.FindModule("http_with_proxy")->timeout,
            Module().timeout);  // no timeout in the YAML: our default
}

TEST(BlackboxYamlTest, ExampleNamesEveryOptionNotCarriedOver) {
  ASSERT_OK_AND_ASSIGN(BlackboxConversion c,
                       ConvertBlackboxYaml(
                           [] {
                             absl::StatusOr<std::string> t =
                                 ReadConfigText(kExample);
                             return t.ok() ? *t : std::string();
                           }(),
                           "blackbox.yml"));
  EXPECT_THAT(
      c.notes,
      ElementsAre(
          "blackbox.yml:34: modules.http_with_proxy.http."
          "skip_resolve_phase_with_proxy: the resolve phase is always "
          "libcurl's own",
          "blackbox.yml:30: modules.http_with_proxy: no timeout: blackbox "
          "derives it from the scrape timeout; here each request gets the "
          "default 2s",
          "blackbox.yml:62: modules.http_2xx_oauth_client_credentials.http."
          "oauth2: OAuth 2.0 client credentials are not supported",
          "blackbox.yml:68: module tls_connect skipped: prober tcp "
          "(canary_exporter probes HTTP only)",
          "blackbox.yml:73: module icmp_example skipped: prober icmp "
          "(canary_exporter probes HTTP only)",
          "blackbox.yml:78: module dns_udp_example skipped: prober dns "
          "(canary_exporter probes HTTP only)",
          "blackbox.yml:83: module grpc skipped: prober grpc "
          "(canary_exporter probes HTTP only)"));
  // The same lines are comments in the TOML, where they belong.
  EXPECT_THAT(c.toml, HasSubstr("[modules.http_2xx_oauth_client_credentials]\n"
                                "# not carried over (line 62): "
                                "modules.http_2xx_oauth_client_credentials."
                                "http.oauth2: OAuth 2.0 client credentials "
                                "are not supported\n"));
  EXPECT_THAT(c.toml, HasSubstr("# skipped (line 83): module grpc, prober "
                                "grpc (canary_exporter probes HTTP only)\n"));
}

// The options helper bbopts adds ([modules.NAME.http] valid_http_versions,
// compression, fail_if_ssl, fail_if_not_ssl, body_file, ip_protocol,
// ip_protocol_fallback, [http.tls] max_version): the exact text emitted.
constexpr char kNewOptionsYaml[] = R"(modules:
  http_2xx:
    prober: http
    timeout: 3s
    http:
      valid_http_versions: ["HTTP/1.1", "HTTP/2.0"]
      compression: gzip
      fail_if_ssl: false
      fail_if_not_ssl: true
      body_file: BODY_FILE
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      tls_config:
        min_version: TLS12
        max_version: TLS13
)";

std::string NewOptionsYaml() {
  std::string yaml = kNewOptionsYaml;
  yaml.replace(yaml.find("BODY_FILE"), 9,
               CANARY_TEST_SRCDIR "/testdata/config/blackbox/body.json");
  return yaml;
}

TEST(BlackboxYamlTest, NewHttpOptionsMapToTheAgreedKeys) {
  ASSERT_OK_AND_ASSIGN(BlackboxConversion c,
                       ConvertBlackboxYaml(NewOptionsYaml(), "b.yml"));
  EXPECT_THAT(c.notes, ::testing::IsEmpty());
  EXPECT_THAT(c.toml, HasSubstr(absl::StrCat(
                          "\n[modules.http_2xx]\n"
                          "timeout = \"3s\"\n"
                          "\n[modules.http_2xx.http]\n"
                          "valid_http_versions = [\"HTTP/1.1\", \"HTTP/2.0\"]\n"
                          "compression = \"gzip\"\n"
                          "fail_if_ssl = false\n"
                          "fail_if_not_ssl = true\n"
                          "body_file = \"",
                          CANARY_TEST_SRCDIR,
                          "/testdata/config/blackbox/body.json\"\n"
                          "ip_protocol = \"ip4\"\n"
                          "ip_protocol_fallback = false\n"
                          "\n[modules.http_2xx.http.tls]\n"
                          "min_version = \"TLS12\"\n"
                          "max_version = \"TLS13\"\n")));
}

// Loads once the loader knows the new keys (branch h/bbopts). Until then
// the only accepted failure is the loader naming one of those keys as
// unknown; anything else fails the test.
TEST(BlackboxYamlTest, NewHttpOptionsLoadOnceTheLoaderHasThem) {
  ASSERT_OK_AND_ASSIGN(BlackboxConversion c,
                       ConvertBlackboxYaml(NewOptionsYaml(), "b.yml"));
  absl::StatusOr<Config> config = LoadConfig(c.toml, "converted.toml");
  if (!config.ok() && absl::StrContains(config.status().message(),
                                        "valid_http_versions: unknown key")) {
    GTEST_SKIP() << "loader without the new http options yet: "
                 << config.status().message();
  }
  ASSERT_THAT(config.status(), IsOk());
  EXPECT_EQ(config->FindModule("http_2xx")->timeout, absl::Seconds(3));
}

struct BadCase {
  std::string name;
  std::string yaml;
  absl::StatusCode code;
  std::string message;
};

class BlackboxYamlBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BlackboxYamlBadTest, FailsWithExactMessage) {
  EXPECT_THAT(ConvertBlackboxYaml(GetParam().yaml, "b.yml"),
              StatusIs(GetParam().code, Eq(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BlackboxYamlBadTest,
    ::testing::Values(
        BadCase{"Empty", "", absl::StatusCode::kInvalidArgument,
                "b.yml:1:1: <top level>: not a blackbox_exporter "
                "configuration: expected a map with \"modules\", got nothing"},
        BadCase{"PrometheusYml",
                "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:1:1: global: not a blackbox_exporter configuration: "
                "unknown top-level key (blackbox.yml has only \"modules\")"},
        BadCase{"EmptyMap", "{}\n", absl::StatusCode::kInvalidArgument,
                "b.yml:1:1: modules: not a blackbox_exporter configuration: "
                "no \"modules\""},
        BadCase{"YamlSyntax", "modules:\n  a: [1, 2\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:3:1: end of sequence flow not found"},
        BadCase{"ModulesNotAMap", "modules: [http_2xx]\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:1:10: modules: expected a map of module names to "
                "modules, got a list"},
        BadCase{"NoProber", "modules:\n  a:\n    timeout: 5s\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:3:5: modules.a: no prober (http, tcp, icmp, dns, "
                "grpc)"},
        BadCase{"UnknownProber", "modules:\n  a:\n    prober: ftp\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:3:13: modules.a.prober: unknown prober \"ftp\" (want "
                "http, tcp, icmp, dns or grpc)"},
        BadCase{"StatusCodeNotAnInteger",
                "modules:\n  a:\n    prober: http\n    http:\n"
                "      valid_status_codes: [200, ok]\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:5:33: modules.a.http.valid_status_codes[1]: expected "
                "an integer, got \"ok\""},
        BadCase{"HeadersNotAMap",
                "modules:\n  a:\n    prober: http\n    http:\n"
                "      headers: [Host]\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:5:16: modules.a.http.headers: expected a map of header "
                "names to values, got a list"},
        BadCase{"UnsupportedCompression",
                "modules:\n  a:\n    prober: http\n    http:\n"
                "      compression: zstd\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:5:20: modules.a.http.compression: unsupported "
                "compression \"zstd\" (gzip, deflate, br, identity)"},
        BadCase{"TypoInHttpKey",
                "modules:\n  a:\n    prober: http\n    http:\n"
                "      valid_status_code: [200]\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:5:7: modules.a.http.valid_status_code: unknown key of "
                "blackbox's http prober"},
        BadCase{"BadTimeout",
                "modules:\n  a:\n    prober: http\n    timeout: soon\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:4:14: modules.a.timeout: expected a duration such as "
                "\"5s\", got \"soon\""},
        BadCase{"BadBool",
                "modules:\n  a:\n    prober: http\n    http:\n"
                "      no_follow_redirects: maybe\n",
                absl::StatusCode::kInvalidArgument,
                "b.yml:5:28: modules.a.http.no_follow_redirects: expected "
                "true or false, got \"maybe\""},
        BadCase{"OnlyTcp", "modules:\n  t:\n    prober: tcp\n",
                absl::StatusCode::kFailedPrecondition,
                "b.yml: no http module to convert (b.yml:2: module t "
                "skipped: prober tcp (canary_exporter probes HTTP only))"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

TEST(BlackboxYamlTest, MissingFileNamesThePath) {
  EXPECT_THAT(ConvertBlackboxYamlFile("/nonexistent/blackbox.yml"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("\"/nonexistent/blackbox.yml\"")));
}

TEST(BlackboxYamlTest, TomlStringsAreEscaped) {
  ASSERT_OK_AND_ASSIGN(
      BlackboxConversion c,
      ConvertBlackboxYaml("modules:\n  a:\n    prober: http\n    timeout: 1s\n"
                          "    http:\n      fail_if_body_matches_regexp:\n"
                          "        - 'a\\d+\"\\\\'\n"
                          "      body: \"line1\\nline2\\t\\u0001\"\n",
                          "b.yml"));
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(c.toml, "c.toml"));
  const Module& m = *config.FindModule("a");
  EXPECT_EQ(m.http.fail_if_body_matches_regexp[0].pattern, "a\\d+\"\\\\");
  EXPECT_EQ(m.http.body, "line1\nline2\t\x01");
}

}  // namespace
}  // namespace canary::config
