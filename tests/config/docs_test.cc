// Keeps docs/configuration.md true to the code: its default config is the
// embedded one and its complete example loads.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "config/config.h"
#include "config/default_config.h"
#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::testing::HasSubstr;

std::string ReadDoc() {
  std::ifstream in(CANARY_TEST_SRCDIR "/../docs/configuration.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first ```toml block after `heading`, or "" when there is none.
std::string TomlBlockAfter(const std::string& doc, const std::string& heading) {
  size_t at = doc.find("\n" + heading + "\n");
  if (at == std::string::npos) return "";
  size_t start = doc.find("```toml\n", at);
  if (start == std::string::npos) return "";
  start += 8;
  size_t end = doc.find("```", start);
  if (end == std::string::npos) return "";
  return doc.substr(start, end - start);
}

TEST(DocsTest, EmbeddedDefaultIsShownVerbatim) {
  std::string block =
      TomlBlockAfter(ReadDoc(), "## Embedded default configuration");
  ASSERT_FALSE(block.empty());
  EXPECT_EQ(block, DefaultConfigToml());
}

TEST(DocsTest, CompleteExampleLoadsAndUsesEveryKey) {
  std::string block = TomlBlockAfter(ReadDoc(), "## Complete example");
  ASSERT_FALSE(block.empty());
  // TLS files must exist at load: point them at the test placeholders.
  std::string toml = absl::StrReplaceAll(
      block,
      {{"/etc/canary/tls/", CANARY_TEST_SRCDIR "/testdata/config/tls/"},
       {"/etc/canary/secrets/",
        CANARY_TEST_SRCDIR "/testdata/config/secrets/"}});
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(toml, "configuration.md"));
  const Module* checkout = config.FindModule("checkout");
  ASSERT_NE(checkout, nullptr);
  EXPECT_EQ(checkout->thresholds.size(), 4u);
  EXPECT_EQ(checkout->http.headers.size(), 2u);
  EXPECT_FALSE(checkout->http.tls.cert_file.empty());
  const Module* arrival = config.FindModule("arrival");
  ASSERT_NE(arrival, nullptr);
  EXPECT_TRUE(arrival->burst.open_model());
  EXPECT_FALSE(checkout->http.bearer_token.empty());
  ASSERT_TRUE(arrival->http.basic_auth.has_value());
  EXPECT_FALSE(arrival->http.basic_auth->password.empty());
  EXPECT_TRUE(config.web.tls_enabled());
  EXPECT_EQ(config.web.basic_auth_users.size(), 1u);
  ASSERT_TRUE(config.security.allowed_targets.has_value());
  EXPECT_EQ(config.security.allowed_targets->size(), 5u);

  for (const char* key : {"timeout",
                          "thresholds",
                          "buckets",
                          "vus",
                          "think_time",
                          "duration",
                          "requests",
                          "rate",
                          "method",
                          "headers",
                          "body",
                          "valid_status_codes",
                          "fail_if_body_matches_regexp",
                          "fail_if_body_not_matches_regexp",
                          "fail_if_header_matches",
                          "fail_if_header_not_matches",
                          "header",
                          "regexp",
                          "allow_missing",
                          "follow_redirects",
                          "max_redirects",
                          "http_version",
                          "reuse_connections",
                          "body_size_limit",
                          "proxy_url",
                          "tls",
                          "ca_file",
                          "cert_file",
                          "key_file",
                          "server_name",
                          "insecure_skip_verify",
                          "min_version",
                          "allowed_targets",
                          "max_concurrent_probes",
                          "max_inflight_requests",
                          "min_interval",
                          "bearer_token_file",
                          "basic_auth",
                          "username",
                          "password_file",
                          "tls_cert_file",
                          "tls_key_file",
                          "tls_client_ca_file",
                          "tls_min_version",
                          "basic_auth_users"}) {
    EXPECT_THAT(block, HasSubstr(key)) << "example lacks " << key;
  }
}

}  // namespace
}  // namespace canary::config
