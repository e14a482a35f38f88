#include "probes/validate.h"

#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace canary::probes {
namespace {

config::Regexp Re(const std::string& p) {
  return {p, std::make_shared<RE2>(p)};
}

TEST(CheckResponseTest, EmptyValidListMeansAny2xx) {
  config::HttpConfig http;
  std::string why;
  EXPECT_EQ(CheckResponse(200, {}, "", http, &why), ResultClass::kSuccess);
  EXPECT_EQ(CheckResponse(204, {}, "", http, &why), ResultClass::kSuccess);
  EXPECT_EQ(CheckResponse(301, {}, "", http, &why), ResultClass::kHttpStatus);
  EXPECT_EQ(why, "status 301 is not 2xx");
  EXPECT_EQ(CheckResponse(500, {}, "", http, &why), ResultClass::kHttpStatus);
}

TEST(CheckResponseTest, ExplicitValidList) {
  config::HttpConfig http;
  http.valid_status_codes = {200, 404};
  std::string why;
  EXPECT_EQ(CheckResponse(404, {}, "", http, &why), ResultClass::kSuccess);
  EXPECT_EQ(CheckResponse(201, {}, "", http, &why), ResultClass::kHttpStatus);
  EXPECT_EQ(why, "status 201 is not in valid_status_codes");
}

TEST(CheckResponseTest, BodyChecks) {
  config::HttpConfig http;
  http.fail_if_body_matches_regexp = {Re("error")};
  http.fail_if_body_not_matches_regexp = {Re("^ok")};
  std::string why;
  EXPECT_EQ(CheckResponse(200, {}, "ok fine", http, &why),
            ResultClass::kSuccess);
  EXPECT_EQ(CheckResponse(200, {}, "ok but error", http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why, "body matched /error/");
  EXPECT_EQ(CheckResponse(200, {}, "fine", http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why, "body did not match /^ok/");
  // The status check comes first.
  EXPECT_EQ(CheckResponse(500, {}, "error", http, &why),
            ResultClass::kHttpStatus);
}

TEST(CheckResponseTest, HeaderChecksAreCaseInsensitiveAndMissingFails) {
  config::HttpConfig http;
  http.fail_if_header_matches = {{"X-Debug", Re("on"), true}};
  http.fail_if_header_not_matches = {{"content-type", Re("json"), false}};
  std::string why;
  Headers good = {{"Content-Type", "application/json"}};
  EXPECT_EQ(CheckResponse(200, good, "", http, &why), ResultClass::kSuccess);
  Headers debug = {{"Content-Type", "application/json"}, {"x-debug", "on"}};
  EXPECT_EQ(CheckResponse(200, debug, "", http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why, "header X-Debug matched /on/");
  EXPECT_EQ(CheckResponse(200, {}, "", http, &why), ResultClass::kValidation);
  EXPECT_EQ(why, "header content-type is missing");
  Headers html = {{"Content-Type", "text/html"}};
  EXPECT_EQ(CheckResponse(200, html, "", http, &why), ResultClass::kValidation);
  EXPECT_EQ(why, "header content-type did not match /json/");
}

// A repeated header (two Set-Cookie lines) is judged as blackbox_exporter
// judges it: fail_if_header_not_matches passes when any value matches,
// fail_if_header_matches fails when any value matches.
TEST(CheckResponseTest, RepeatedHeaderNotMatchesPassesWhenAnyValueMatches) {
  config::HttpConfig http;
  http.fail_if_header_not_matches = {{"Set-Cookie", Re("^session="), false}};
  std::string why;
  Headers two = {{"Set-Cookie", "theme=dark"}, {"set-cookie", "session=1"}};
  EXPECT_EQ(CheckResponse(200, two, "", http, &why), ResultClass::kSuccess)
      << why;
  Headers none = {{"Set-Cookie", "theme=dark"}, {"Set-Cookie", "lang=en"}};
  EXPECT_EQ(CheckResponse(200, none, "", http, &why), ResultClass::kValidation);
  EXPECT_EQ(why, "header Set-Cookie did not match /^session=/ (2 values)");
}

TEST(CheckResponseTest, RepeatedHeaderMatchesFailsWhenAnyValueMatches) {
  config::HttpConfig http;
  http.fail_if_header_matches = {{"Set-Cookie", Re("^debug="), false}};
  std::string why;
  Headers two = {{"Set-Cookie", "session=1"}, {"Set-Cookie", "debug=on"}};
  EXPECT_EQ(CheckResponse(200, two, "", http, &why), ResultClass::kValidation);
  EXPECT_EQ(why, "header Set-Cookie matched /^debug=/");
  Headers clean = {{"Set-Cookie", "session=1"}, {"Set-Cookie", "lang=en"}};
  EXPECT_EQ(CheckResponse(200, clean, "", http, &why), ResultClass::kSuccess);
}

TEST(CheckResponseTest, NeedsBodyAndHeadersOnlyWithChecks) {
  config::HttpConfig http;
  EXPECT_FALSE(NeedsBody(http));
  EXPECT_FALSE(NeedsHeaders(http));
  http.fail_if_body_matches_regexp = {Re("x")};
  http.fail_if_header_not_matches = {{"a", Re("b"), false}};
  EXPECT_TRUE(NeedsBody(http));
  EXPECT_TRUE(NeedsHeaders(http));
}

TEST(CheckConnectionTest, EmptyVersionListAndNoSslFlagsPassAnything) {
  config::HttpConfig http;
  std::string why = "stale";
  for (std::optional<config::HttpVersion> v :
       {std::optional(config::HttpVersion::kHttp1_0),
        std::optional(config::HttpVersion::kHttp2),
        std::optional<config::HttpVersion>()}) {
    EXPECT_EQ(CheckConnection(v, true, http, &why), ResultClass::kSuccess);
    EXPECT_EQ(CheckConnection(v, false, http, &why), ResultClass::kSuccess);
  }
  EXPECT_EQ(why, "");
}

TEST(CheckConnectionTest, VersionOutsideTheListFails) {
  config::HttpConfig http;
  http.valid_http_versions = {config::HttpVersion::kHttp1_1,
                              config::HttpVersion::kHttp2};
  std::string why;
  EXPECT_EQ(CheckConnection(config::HttpVersion::kHttp2, false, http, &why),
            ResultClass::kSuccess);
  EXPECT_EQ(CheckConnection(config::HttpVersion::kHttp1_0, false, http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why, "response came in HTTP/1.0, not in valid_http_versions");
  EXPECT_EQ(CheckConnection(std::nullopt, false, http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why,
            "response came in an unknown version, not in valid_http_versions");
}

TEST(CheckConnectionTest, SslFlags) {
  config::HttpConfig http;
  std::string why;
  http.fail_if_ssl = true;
  EXPECT_EQ(CheckConnection(std::nullopt, false, http, &why),
            ResultClass::kSuccess);
  EXPECT_EQ(CheckConnection(std::nullopt, true, http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why, "response came over TLS (fail_if_ssl)");
  http.fail_if_ssl = false;
  http.fail_if_not_ssl = true;
  EXPECT_EQ(CheckConnection(std::nullopt, true, http, &why),
            ResultClass::kSuccess);
  EXPECT_EQ(CheckConnection(std::nullopt, false, http, &why),
            ResultClass::kValidation);
  EXPECT_EQ(why, "response came without TLS (fail_if_not_ssl)");
}

}  // namespace
}  // namespace canary::probes
