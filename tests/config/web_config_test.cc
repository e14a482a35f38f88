// [web] and target secrets: parsing, *_file reading, and that no error
// message or rendered config ever carries a secret.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "config/loader.h"
#include "config/redact.h"
#include "config/secrets.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

namespace fs = std::filesystem;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHash[] =
    "$2y$04$n23Dp63E8ixmMpOvmlS5QuuDF17DDDtL8/SZQdyUSzMhUq7cVoCdq";
constexpr char kTlsDir[] = CANARY_TEST_SRCDIR "/testdata/config/tls/";

// A file in a fresh temporary directory, removed with the fixture.
class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat(
               "canary_web_", ::getpid(), "_",
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(WebConfigTest, WebTableLoadsEveryKey) {
  ASSERT_OK_AND_ASSIGN(
      Config c,
      LoadConfig(absl::StrCat("[web]\ntls_cert_file = \"", kTlsDir,
                              "client.pem\"\ntls_key_file = \"", kTlsDir,
                              "client.key\"\ntls_client_ca_file = \"", kTlsDir,
                              "ca.pem\"\ntls_min_version = \"TLS13\"\n"
                              "basic_auth_users = { alice = \"",
                              kHash, "\" }\n[modules.canary]\n"),
                 "t.toml"));
  EXPECT_TRUE(c.web.tls_enabled());
  EXPECT_EQ(c.web.tls_key_file, absl::StrCat(kTlsDir, "client.key"));
  EXPECT_EQ(c.web.tls_client_ca_file, absl::StrCat(kTlsDir, "ca.pem"));
  EXPECT_EQ(c.web.tls_min_version, TlsConfig::Version::kTls13);
  ASSERT_EQ(c.web.basic_auth_users.size(), 1u);
  EXPECT_EQ(c.web.basic_auth_users.at("alice"), kHash);
}

TEST_F(WebConfigTest, NoWebTableMeansPlainHttpWithoutAuth) {
  ASSERT_OK_AND_ASSIGN(Config c, LoadConfig("[modules.canary]\n", "t.toml"));
  EXPECT_FALSE(c.web.tls_enabled());
  EXPECT_TRUE(c.web.basic_auth_users.empty());
  EXPECT_EQ(c.web.tls_min_version, TlsConfig::Version::kTls12);
}

TEST_F(WebConfigTest, BearerTokenFileIsReadAndTrailingNewlineTrimmed) {
  const std::string path = Write("token", "s3cr3t-t0ken\n");
  ASSERT_OK_AND_ASSIGN(Config c,
                       LoadConfig(absl::StrCat("[modules.canary.http]\n"
                                               "bearer_token_file = \"",
                                               path, "\"\n"),
                                  "t.toml"));
  EXPECT_EQ(c.FindModule("canary")->http.bearer_token, "s3cr3t-t0ken");
}

TEST_F(WebConfigTest, BasicAuthPasswordFileWithCrlfIsTrimmed) {
  const std::string path = Write("pw", "pa ss\r\n");
  ASSERT_OK_AND_ASSIGN(
      Config c, LoadConfig(absl::StrCat("[modules.canary.http]\n"
                                        "basic_auth = { username = \"bob\", "
                                        "password_file = \"",
                                        path, "\" }\n"),
                           "t.toml"));
  const HttpConfig& h = c.FindModule("canary")->http;
  ASSERT_TRUE(h.basic_auth.has_value());
  EXPECT_EQ(h.basic_auth->username, "bob");
  EXPECT_EQ(h.basic_auth->password, "pa ss");
}

TEST_F(WebConfigTest, SecretFileErrorsNameThePathNeverTheContent) {
  const std::string two_lines = Write("two", "line-one-SECRET\nline-two\n");
  absl::StatusOr<Config> c =
      LoadConfig(absl::StrCat("[modules.canary.http]\nbearer_token_file = \"",
                              two_lines, "\"\n"),
                 "t.toml");
  EXPECT_THAT(
      c, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(two_lines)));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("SECRET")));

  const std::string empty = Write("empty", "\n");
  EXPECT_THAT(
      LoadConfig(absl::StrCat("[modules.canary.http]\n"
                              "bearer_token_file = \"",
                              empty, "\"\n"),
                 "t.toml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is empty")));
}

TEST_F(WebConfigTest, InlineTokenWithLineBreakIsRejectedWithoutQuotingIt) {
  absl::StatusOr<Config> c = LoadConfig(
      "[modules.canary.http]\nbearer_token = \"abc-SECRET\\nX-Evil: 1\"\n",
      "t.toml");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("must not contain line breaks")));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("SECRET")));
}

TEST_F(WebConfigTest, BadHashIsNotQuotedInTheError) {
  absl::StatusOr<Config> c = LoadConfig(
      "[web]\nbasic_auth_users = { a = \"plainS3CRETvalue\" }\n"
      "[modules.canary]\n",
      "t.toml");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("must be a bcrypt hash")));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("S3CRET")));
}

TEST_F(WebConfigTest, ReadSecretFileRefusesDirectoriesAndHugeFiles) {
  EXPECT_THAT(ReadSecretFile(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is a directory")));
  EXPECT_THAT(ReadSecretFile((dir_ / "absent").string()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent")));
  const std::string big =
      Write("big", std::string(kMaxSecretFileBytes + 1, 'x'));
  EXPECT_THAT(ReadSecretFile(big), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("too large")));
  const std::string exact =
      Write("exact", std::string(kMaxSecretFileBytes, 'x'));
  ASSERT_OK_AND_ASSIGN(std::string s, ReadSecretFile(exact));
  EXPECT_EQ(s.size(), static_cast<size_t>(kMaxSecretFileBytes));
}

TEST(SecretHeaderTest, CredentialHeadersAreSecretsCaseInsensitively) {
  EXPECT_TRUE(IsSecretHeader("Authorization"));
  EXPECT_TRUE(IsSecretHeader("proxy-authorization"));
  EXPECT_TRUE(IsSecretHeader("COOKIE"));
  EXPECT_FALSE(IsSecretHeader("X-Canary"));
}

// One rule for every render: any header whose name says it carries a
// credential is a secret, not only the three standard ones.
TEST(SecretHeaderTest, NamesThatSayCredentialAreSecrets) {
  for (const char* name :
       {"X-Auth-Token", "X-API-Key", "Api_Key", "X-Session-Id",
        "X-Client-Secret", "X-Password", "Authorization-Hint"}) {
    EXPECT_TRUE(IsSecretHeader(name)) << name;
  }
  for (const char* name :
       {"X-Canary", "Accept", "Content-Type", "User-Agent", "Host"}) {
    EXPECT_FALSE(IsSecretHeader(name)) << name;
  }
}

TEST_F(WebConfigTest, RenderedConfigRedactsEverySecretAndLoadsBack) {
  const std::string pw = Write("pw", "PW-FROM-FILE\n");
  const std::string toml = absl::StrCat(
      "[web]\nbasic_auth_users = { alice = \"", kHash,
      "\" }\n"
      "[modules.tok.http]\n"
      "bearer_token = \"TOKEN-INLINE\"\n"
      "headers = { Cookie = \"session=COOKIE-VALUE\", X-Canary = \"1\", "
      "Proxy-Authorization = \"Basic PROXY-CRED\", "
      "X-Api-Key = \"API-KEY-VALUE\" }\n"
      "method = \"POST\"\nbody = \"user=u&password=BODY-VALUE\"\n"
      "proxy_url = \"http://proxyuser:PROXY-PASS@127.0.0.1:3128\"\n"
      "[modules.basic.http]\n"
      "basic_auth = { username = \"bob\", password_file = \"",
      pw, "\" }\n");
  ASSERT_OK_AND_ASSIGN(Config c, LoadConfig(toml, "t.toml"));
  const std::string out = RenderConfig(c);
  for (const char* secret :
       {"TOKEN-INLINE", "COOKIE-VALUE", "PROXY-CRED", "PROXY-PASS",
        "PW-FROM-FILE", "n23Dp63E8ixmMpOvmlS5Qu", "API-KEY-VALUE",
        "BODY-VALUE"}) {
    EXPECT_THAT(out, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(out, HasSubstr("bearer_token = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("\"Cookie\" = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("\"X-Canary\" = \"1\""));
  EXPECT_THAT(out, HasSubstr("\"X-Api-Key\" = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("body = \"<secret>\"  # 26 bytes"));
  EXPECT_THAT(out, HasSubstr("username = \"bob\", password = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("\"alice\" = \"<secret>\""));
  EXPECT_THAT(out, HasSubstr("127.0.0.1:3128"));

  // Without [web] (a placeholder is no bcrypt hash) it loads back as the
  // same effective module.
  Config no_web = c;
  no_web.web = WebConfig();
  ASSERT_OK_AND_ASSIGN(Config back, LoadConfig(RenderConfig(no_web), "r.toml"));
  ASSERT_NE(back.FindModule("tok"), nullptr);
  EXPECT_EQ(back.FindModule("tok")->http.bearer_token, "<secret>");
  EXPECT_EQ(back.FindModule("tok")->http.headers.size(), 4u);
  EXPECT_EQ(back.FindModule("tok")->burst.requests,
            c.FindModule("tok")->burst.requests);
  EXPECT_EQ(RenderModule(*back.FindModule("basic")),
            RenderModule(*c.FindModule("basic")));
}

}  // namespace
}  // namespace canary::config
