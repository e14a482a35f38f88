#include "config/loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/default_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::string kTestData = CANARY_TEST_SRCDIR "/testdata/config";

// Loads `toml` and returns module "m".
absl::StatusOr<Module> LoadModule(const std::string& toml) {
  absl::StatusOr<Config> config = LoadConfig(toml, "test.toml");
  if (!config.ok()) return config.status();
  const Module* m = config->FindModule("m");
  if (m == nullptr) return absl::NotFoundError("no module m");
  return *m;
}

TEST(LoaderTest, MinimalModuleGetsCodeDefaults) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule("[modules.m]\n"));
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.timeout, absl::Seconds(2));
  EXPECT_TRUE(m.thresholds.empty());
  EXPECT_EQ(m.buckets, DefaultBuckets());
  EXPECT_FALSE(m.burst.open_model());
  EXPECT_EQ(m.burst.vus, 1);
  EXPECT_EQ(m.burst.think_time, absl::ZeroDuration());
  EXPECT_FALSE(m.burst.duration.has_value());
  EXPECT_EQ(m.burst.requests, 1);
  EXPECT_EQ(m.http.method, "GET");
  EXPECT_TRUE(m.http.headers.empty());
  EXPECT_TRUE(m.http.valid_status_codes.empty());
  EXPECT_TRUE(m.http.follow_redirects);
  EXPECT_EQ(m.http.max_redirects, 10);
  EXPECT_EQ(m.http.http_version, HttpVersion::kHttp1_1);
  EXPECT_TRUE(m.http.reuse_connections);
  EXPECT_FALSE(m.http.body_size_limit.has_value());
  EXPECT_EQ(m.http.kept_body_limit(), 1 << 20);
  EXPECT_TRUE(m.http.valid_http_versions.empty());
  EXPECT_EQ(m.http.compression, Compression::kNone);
  EXPECT_FALSE(m.http.fail_if_ssl);
  EXPECT_FALSE(m.http.fail_if_not_ssl);
  EXPECT_EQ(m.http.ip_protocol, IpProtocol::kAny);
  EXPECT_TRUE(m.http.ip_protocol_fallback);
  EXPECT_EQ(m.http.tls.min_version, TlsConfig::Version::kTls12);
  EXPECT_FALSE(m.http.tls.max_version.has_value());
  EXPECT_FALSE(m.http.tls.insecure_skip_verify);
}

TEST(LoaderTest, ClosedModelWithDurationHasNoRequestCap) {
  ASSERT_OK_AND_ASSIGN(
      Module m, LoadModule("[modules.m.burst]\nvus = 3\nduration = \"5s\"\n"));
  EXPECT_EQ(m.burst.vus, 3);
  EXPECT_EQ(m.burst.duration, absl::Seconds(5));
  EXPECT_FALSE(m.burst.requests.has_value());
}

TEST(LoaderTest, OmittedThinkTimeIsZero) {
  ASSERT_OK_AND_ASSIGN(Module m,
                       LoadModule("[modules.m.burst]\nrequests = 4\n"));
  EXPECT_EQ(m.burst.think_time, absl::ZeroDuration());
  EXPECT_EQ(m.burst.requests, 4);
}

TEST(LoaderTest, ThinkTimeZeroIsAllowedInClosedModel) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule("[modules.m.burst]\nthink_time = "
                                            "\"0s\"\nrequests = 2\n"));
  EXPECT_EQ(m.burst.think_time, absl::ZeroDuration());
}

TEST(LoaderTest, OpenModelDefaultsToTenVus) {
  ASSERT_OK_AND_ASSIGN(
      Module m,
      LoadModule("[modules.m.burst]\nrate = 20\nduration = \"3s\"\n"));
  EXPECT_TRUE(m.burst.open_model());
  EXPECT_DOUBLE_EQ(m.burst.rate, 20);
  EXPECT_EQ(m.burst.vus, 10);
  EXPECT_EQ(m.burst.duration, absl::Seconds(3));
}

TEST(LoaderTest, OpenModelKeepsExplicitVus) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule("[modules.m.burst]\nrate = 2.5\n"
                                            "requests = 10\nvus = 2\n"));
  EXPECT_DOUBLE_EQ(m.burst.rate, 2.5);
  EXPECT_EQ(m.burst.vus, 2);
  EXPECT_EQ(m.burst.requests, 10);
}

TEST(LoaderTest, DurationAndRequestsMayBothBeSet) {
  ASSERT_OK_AND_ASSIGN(Module m,
                       LoadModule("[modules.m.burst]\nrate = 5\n"
                                  "duration = \"2s\"\nrequests = 7\n"));
  EXPECT_EQ(m.burst.duration, absl::Seconds(2));
  EXPECT_EQ(m.burst.requests, 7);
}

TEST(LoaderTest, OpenModelWithoutEndIsRejected) {
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrate = 5\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs \"duration\" or \"requests\"")));
}

TEST(LoaderTest, ThinkTimeWithRateIsRejected) {
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrate = 5\nrequests = 5\n"
                         "think_time = \"1s\"\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("applies to the closed model only")));
}

TEST(LoaderTest, BurstCapsAreEnforcedAtTheLimits) {
  EXPECT_THAT(LoadModule("[server]\nmax_inflight_requests = 1000\n"
                         "[modules.m.burst]\nvus = 1000\n"),
              IsOk());
  EXPECT_THAT(LoadModule("[modules.m.burst]\nvus = 1001\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be between 1 and 1000, got 1001")));
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrequests = 1000000\n"), IsOk());
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrequests = 1000001\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be between 1 and 1000000")));
  EXPECT_THAT(LoadModule("[modules.m.burst]\nduration = \"10m\"\n"), IsOk());
  EXPECT_THAT(LoadModule("[modules.m.burst]\nduration = \"10m1s\"\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be at most 10m")));
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrate = 10000\nrequests = 1\n"),
              IsOk());
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrate = 0\nrequests = 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be greater than 0")));
  EXPECT_THAT(LoadModule("[modules.m.burst]\nrate = nan\nrequests = 1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be finite")));
}

TEST(LoaderTest, TimeoutMustBePositiveAndCapped) {
  EXPECT_THAT(LoadModule("[modules.m]\ntimeout = \"0s\"\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be greater than 0")));
  EXPECT_THAT(LoadModule("[modules.m]\ntimeout = \"5m\"\n"), IsOk());
  EXPECT_THAT(LoadModule("[modules.m]\ntimeout = \"301s\"\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be at most 5m")));
}

TEST(LoaderTest, HeadersKeepFileOrder) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule(R"toml(
[modules.m.http.headers]
X-Zeta = "z"
Authorization = "Bearer t"
"Accept" = "application/json"
b-lower = "b"
)toml"));
  EXPECT_THAT(
      m.http.headers,
      ElementsAre(Pair("X-Zeta", "z"), Pair("Authorization", "Bearer t"),
                  Pair("Accept", "application/json"), Pair("b-lower", "b")));
}

TEST(LoaderTest, InlineHeadersKeepFileOrder) {
  ASSERT_OK_AND_ASSIGN(
      Module m,
      LoadModule("[modules.m.http]\nheaders = { Z = \"1\", A = \"2\" }\n"));
  EXPECT_THAT(m.http.headers, ElementsAre(Pair("Z", "1"), Pair("A", "2")));
}

TEST(LoaderTest, HeaderValueWithNewlineIsRejected) {
  EXPECT_THAT(
      LoadModule("[modules.m.http]\nheaders = { X = \"a\\r\\nEvil: 1\" }\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("must not contain line breaks")));
}

TEST(LoaderTest, RegexpsAreCompiled) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule(R"toml(
[modules.m.http]
fail_if_body_matches_regexp = ["error \\d+"]
fail_if_body_not_matches_regexp = ["^ok$"]
fail_if_header_matches = [{ header = "Server", regexp = "nginx/1\\." }]
fail_if_header_not_matches = [
  { header = "Content-Type", regexp = "json", allow_missing = true },
]
)toml"));
  ASSERT_EQ(m.http.fail_if_body_matches_regexp.size(), 1u);
  const Regexp& body = m.http.fail_if_body_matches_regexp[0];
  EXPECT_EQ(body.pattern, "error \\d+");
  ASSERT_NE(body.re, nullptr);
  EXPECT_TRUE(RE2::PartialMatch("an error 42 here", *body.re));
  EXPECT_FALSE(RE2::PartialMatch("an error here", *body.re));

  ASSERT_EQ(m.http.fail_if_body_not_matches_regexp.size(), 1u);
  EXPECT_TRUE(
      RE2::FullMatch("ok", *m.http.fail_if_body_not_matches_regexp[0].re));

  ASSERT_EQ(m.http.fail_if_header_matches.size(), 1u);
  const HeaderMatch& hm = m.http.fail_if_header_matches[0];
  EXPECT_EQ(hm.header, "Server");
  EXPECT_FALSE(hm.allow_missing);
  EXPECT_TRUE(RE2::PartialMatch("nginx/1.25", *hm.regexp.re));

  ASSERT_EQ(m.http.fail_if_header_not_matches.size(), 1u);
  const HeaderMatch& hn = m.http.fail_if_header_not_matches[0];
  EXPECT_EQ(hn.header, "Content-Type");
  EXPECT_TRUE(hn.allow_missing);
  EXPECT_EQ(hn.regexp.pattern, "json");
}

TEST(LoaderTest, ThresholdsAndBucketsAreParsed) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule(R"toml(
[modules.m]
thresholds = ["p(99) < 1s", "error_rate<0.05"]
buckets = [0.01, 1, 2.5]
)toml"));
  ASSERT_EQ(m.thresholds.size(), 2u);
  EXPECT_EQ(m.thresholds[0].source, "p(99) < 1s");
  EXPECT_EQ(m.thresholds[0].stat, Threshold::Stat::kPercentile);
  EXPECT_DOUBLE_EQ(m.thresholds[0].value, 1.0);
  EXPECT_EQ(m.thresholds[1].stat, Threshold::Stat::kErrorRate);
  EXPECT_EQ(m.buckets, (std::vector<double>{0.01, 1, 2.5}));
}

TEST(LoaderTest, BucketsAreLimitedToSixtyFour) {
  std::string many = "[modules.m]\nbuckets = [";
  for (int i = 1; i <= 65; ++i) absl::StrAppend(&many, i, i < 65 ? "," : "]\n");
  EXPECT_THAT(LoadModule(many),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at most 64 buckets, got 65")));
  EXPECT_THAT(LoadModule("[modules.m]\nbuckets = []\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least one bucket")));
  EXPECT_THAT(LoadModule("[modules.m]\nbuckets = [1, inf]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be finite")));
}

TEST(LoaderTest, HttpScalarsAreParsed) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule(R"toml(
[modules.m.http]
method = "POST"
body = '{"ping": true}'
valid_status_codes = [200, 204, 301]
follow_redirects = false
max_redirects = 0
http_version = "2"
reuse_connections = false
body_size_limit = "512KiB"
proxy_url = "socks5h://127.0.0.1:1080"
)toml"));
  EXPECT_EQ(m.http.method, "POST");
  EXPECT_EQ(m.http.body, "{\"ping\": true}");
  EXPECT_THAT(m.http.valid_status_codes, ElementsAre(200, 204, 301));
  EXPECT_FALSE(m.http.follow_redirects);
  EXPECT_EQ(m.http.max_redirects, 0);
  EXPECT_EQ(m.http.http_version, HttpVersion::kHttp2);
  EXPECT_FALSE(m.http.reuse_connections);
  EXPECT_EQ(m.http.body_size_limit, 512 * 1024);
  EXPECT_EQ(m.http.proxy_url, "socks5h://127.0.0.1:1080");
}

TEST(LoaderTest, BlackboxStyleHttpOptionsAreParsed) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule(R"toml(
[modules.m.http]
valid_http_versions = ["HTTP/1.0", "HTTP/2.0"]
compression = "br"
headers = { Accept-Encoding = "br;q=1.0, gzip;q=0.5" }
fail_if_ssl = true
ip_protocol = "ip4"
ip_protocol_fallback = false
[modules.m.http.tls]
min_version = "TLS11"
max_version = "TLS12"
)toml"));
  EXPECT_THAT(m.http.valid_http_versions,
              ElementsAre(HttpVersion::kHttp1_0, HttpVersion::kHttp2));
  EXPECT_EQ(m.http.compression, Compression::kBr);
  EXPECT_TRUE(m.http.fail_if_ssl);
  EXPECT_EQ(m.http.ip_protocol, IpProtocol::kIp4);
  EXPECT_FALSE(m.http.ip_protocol_fallback);
  EXPECT_EQ(m.http.tls.min_version, TlsConfig::Version::kTls11);
  EXPECT_EQ(m.http.tls.max_version, TlsConfig::Version::kTls12);
  // Equal bounds leave one version.
  EXPECT_THAT(LoadModule("[modules.m.http.tls]\nmin_version = \"TLS13\"\n"
                         "max_version = \"TLS13\"\n"),
              IsOk());
}

TEST(LoaderTest, BodyFileIsReadAtLoadVerbatim) {
  const std::string path = kTestData + "/bodies/arrival.json";
  ASSERT_OK_AND_ASSIGN(
      Module m, LoadModule(absl::StrCat("[modules.m.http]\nmethod = \"POST\"\n"
                                        "body_file = \"",
                                        path, "\"\n")));
  // Unlike a secret file, the trailing newline is part of the body.
  EXPECT_EQ(m.http.body, "{\"sku\": \"canary\", \"qty\": 20}\n");
  EXPECT_EQ(m.http.body_file, path);
  EXPECT_THAT(LoadModule(absl::StrCat("[modules.m.http]\nbody_file = \"",
                                      kTestData, "/bodies\"\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is a directory, expected a file")));
}

TEST(LoaderTest, BodySizeLimitAcceptsIntegerBytes) {
  ASSERT_OK_AND_ASSIGN(
      Module m, LoadModule("[modules.m.http]\nbody_size_limit = 4096\n"));
  EXPECT_EQ(m.http.body_size_limit, 4096);
  EXPECT_THAT(LoadModule("[modules.m.http]\nbody_size_limit = 0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("between 1 byte and 1GiB")));
  EXPECT_THAT(LoadModule("[modules.m.http]\nbody_size_limit = \"1GiB\"\n"),
              IsOk());
}

TEST(LoaderTest, TlsFilesMustBeReadableAndAreKept) {
  const std::string ca = kTestData + "/tls/ca.pem";
  const std::string cert = kTestData + "/tls/client.pem";
  const std::string key = kTestData + "/tls/client.key";
  ASSERT_OK_AND_ASSIGN(Module m,
                       LoadModule(absl::StrCat(
                           "[modules.m.http.tls]\nca_file = \"", ca,
                           "\"\ncert_file = \"", cert, "\"\nkey_file = \"", key,
                           "\"\nserver_name = \"canary.internal\"\n"
                           "insecure_skip_verify = true\n"
                           "min_version = \"TLS13\"\n")));
  EXPECT_EQ(m.http.tls.ca_file, ca);
  EXPECT_EQ(m.http.tls.cert_file, cert);
  EXPECT_EQ(m.http.tls.key_file, key);
  EXPECT_EQ(m.http.tls.server_name, "canary.internal");
  EXPECT_TRUE(m.http.tls.insecure_skip_verify);
  EXPECT_EQ(m.http.tls.min_version, TlsConfig::Version::kTls13);
}

TEST(LoaderTest, TlsFileThatIsADirectoryIsRejected) {
  EXPECT_THAT(LoadModule(absl::StrCat("[modules.m.http.tls]\nca_file = \"",
                                      kTestData, "/tls\"\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is a directory")));
}

TEST(LoaderTest, KeyWithoutCertIsRejected) {
  EXPECT_THAT(LoadModule("[modules.m.http.tls]\nkey_file = \"k.pem\"\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tls.key_file: requires \"cert_file\"")));
}

TEST(LoaderTest, SeveralModulesLoad) {
  ASSERT_OK_AND_ASSIGN(
      Config config,
      LoadConfig("[modules.a]\n[modules.b-2]\n[modules.C_3]\n", "x.toml"));
  EXPECT_EQ(config.modules.size(), 3u);
  EXPECT_NE(config.FindModule("b-2"), nullptr);
  EXPECT_EQ(config.FindModule("C_3")->name, "C_3");
  EXPECT_EQ(config.FindModule("missing"), nullptr);
}

TEST(LoaderTest, ErrorNamesTheGivenFilename) {
  EXPECT_THAT(LoadConfig("[modules.m]\ntimeout = 1\n", "etc/canary.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("etc/canary.toml:2:11: modules.m.timeout:")));
}

TEST(LoaderTest, UnknownKeyFarFromAllKnownKeysHasNoSuggestion) {
  absl::StatusOr<Config> config =
      LoadConfig("[modules.m]\ncompletely_wrong = 1\n", "x.toml");
  EXPECT_THAT(config, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("completely_wrong: unknown key")));
  EXPECT_THAT(config.status().message(),
              ::testing::Not(HasSubstr("did you mean")));
}

TEST(LoaderTest, FirstErrorInFileOrderIsReported) {
  EXPECT_THAT(LoadConfig("[modules.m]\nzzz = 1\naaa = 2\n", "x.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("x.toml:2:1: modules.m.zzz")));
}

TEST(DefaultConfigTest, LoadsWithDocumentedValues) {
  ASSERT_OK_AND_ASSIGN(Config config, LoadDefaultConfig());
  EXPECT_EQ(config.modules.size(), 2u);

  const Module* canary = config.FindModule("canary");
  ASSERT_NE(canary, nullptr);
  EXPECT_EQ(canary->timeout, absl::Seconds(2));
  ASSERT_EQ(canary->thresholds.size(), 2u);
  EXPECT_EQ(canary->thresholds[0].source, "p(95)<200ms");
  EXPECT_EQ(canary->thresholds[0].stat, Threshold::Stat::kPercentile);
  EXPECT_DOUBLE_EQ(canary->thresholds[0].percentile, 95);
  EXPECT_DOUBLE_EQ(canary->thresholds[0].value, 0.2);
  EXPECT_EQ(canary->thresholds[1].source, "error_rate<0.01");
  EXPECT_DOUBLE_EQ(canary->thresholds[1].value, 0.01);
  EXPECT_FALSE(canary->burst.open_model());
  EXPECT_EQ(canary->burst.vus, 10);
  EXPECT_EQ(canary->burst.think_time, absl::Seconds(1));
  EXPECT_EQ(canary->burst.duration, absl::Seconds(5));
  EXPECT_FALSE(canary->burst.requests.has_value());
  EXPECT_EQ(canary->http.method, "GET");
  EXPECT_THAT(canary->http.headers, ElementsAre(Pair("X-Canary", "1")));

  const Module* http_2xx = config.FindModule("http_2xx");
  ASSERT_NE(http_2xx, nullptr);
  EXPECT_EQ(http_2xx->timeout, absl::Seconds(5));
  EXPECT_EQ(http_2xx->burst.vus, 1);
  EXPECT_EQ(http_2xx->burst.requests, 1);
  EXPECT_FALSE(http_2xx->burst.duration.has_value());
  EXPECT_TRUE(http_2xx->http.valid_status_codes.empty());
}

TEST(DefaultConfigTest, TextIsCommented) {
  EXPECT_THAT(std::string(DefaultConfigToml()), HasSubstr("# "));
}

TEST(LoadConfigFileTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = kTestData + "/does-not-exist.toml";
  EXPECT_THAT(LoadConfigFile(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
}

TEST(LoadConfigFileTest, DirectoryIsRejectedNamingThePath) {
  EXPECT_THAT(
      LoadConfigFile(kTestData),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(kTestData)));
}

TEST(LoadConfigFileTest, UnreadableFileIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  std::string path = ::testing::TempDir() + "canary_unreadable.toml";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("[modules.m]\n", f);
  std::fclose(f);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  EXPECT_THAT(LoadConfigFile(path),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(path)));
  std::remove(path.c_str());
}

TEST(LoadConfigFileTest, GoodFilesLoadAndErrorsNameThePath) {
  ASSERT_OK_AND_ASSIGN(Config config,
                       LoadConfigFile(kTestData + "/good/full.toml"));
  EXPECT_NE(config.FindModule("checkout"), nullptr);
  const std::string bad = kTestData + "/bad/vus_zero.toml";
  EXPECT_THAT(LoadConfigFile(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(bad + ":7:7: modules.canary.burst.vus")));
}

}  // namespace
}  // namespace canary::config

namespace canary::config {
namespace {

TEST(LoaderStepsTest, StepsKeepOrderTemplatesAndVariables) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule(R"(
[modules.m.http]
headers = { X-Canary = "1" }
[[modules.m.steps]]
name = "login"
method = "POST"
url = "/login"
body = 'user=canary'
valid_status_codes = [200]
extract = [{ var = "token", json_pointer = "/token" },
           { var = "csrf", regex = 'csrf=(\w+)' },
           { var = "all", regex = 'id=\d+' }]
[[modules.m.steps]]
name = "list"
url = "http://127.0.0.1:1/items/${csrf}?t=${token}"
headers = { Authorization = "Bearer ${token}" }
think_time = "50ms"
optional = true
)"));
  ASSERT_EQ(m.steps.size(), 2u);
  EXPECT_EQ(m.steps[0].name, "login");
  EXPECT_EQ(m.steps[0].checks.method, "POST");
  EXPECT_THAT(m.steps[0].checks.valid_status_codes, ElementsAre(200));
  EXPECT_FALSE(m.steps[0].url.has_vars());
  EXPECT_THAT(m.variables, ElementsAre("token", "csrf", "all"));
  ASSERT_EQ(m.steps[0].extract.size(), 3u);
  EXPECT_EQ(m.steps[0].extract[0].from, Extraction::From::kJsonPointer);
  EXPECT_EQ(m.steps[0].extract[1].group, 1);
  EXPECT_EQ(m.steps[0].extract[2].group, 0);  // no group: the whole match
  const Template& url = m.steps[1].url;
  ASSERT_EQ(url.parts.size(), 4u);
  EXPECT_EQ(url.parts[0].text, "http://127.0.0.1:1/items/");
  EXPECT_EQ(url.parts[1].var, 1);
  EXPECT_EQ(url.parts[2].text, "?t=");
  EXPECT_EQ(url.parts[3].var, 0);
  ASSERT_EQ(m.steps[1].headers.size(), 1u);
  EXPECT_EQ(m.steps[1].headers[0].first, "Authorization");
  EXPECT_TRUE(m.steps[1].headers[0].second.has_vars());
  EXPECT_EQ(m.steps[1].think_time, absl::Milliseconds(50));
  EXPECT_TRUE(m.steps[1].optional);
  EXPECT_EQ(m.steps[1].checks.method, "GET");
  // The module's own request settings stay as they were.
  EXPECT_EQ(m.http.headers.size(), 1u);
}

TEST(LoaderStepsTest, ModuleWithoutStepsHasNone) {
  ASSERT_OK_AND_ASSIGN(Module m, LoadModule("[modules.m]\n"));
  EXPECT_TRUE(m.steps.empty());
  EXPECT_TRUE(m.variables.empty());
}

TEST(LoaderStepsTest, StepMayNotUseWhatItExtractsItself) {
  EXPECT_THAT(LoadModule(R"(
[[modules.m.steps]]
name = "a"
url = "/${x}"
extract = [{ var = "x", header = "X" }]
)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("variable \"x\" is used before it is "
                                 "defined")));
}

TEST(LoaderStepsTest, UnterminatedReferenceIsAnError) {
  EXPECT_THAT(LoadModule(R"(
[[modules.m.steps]]
name = "a"
url = "/x"
extract = [{ var = "x", header = "X" }]
[[modules.m.steps]]
name = "b"
url = "/y"
body = "v=${x"
)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test.toml:9:8: modules.m.steps[1].body: "
                                 "unterminated \"${\"")));
}

}  // namespace
}  // namespace canary::config
