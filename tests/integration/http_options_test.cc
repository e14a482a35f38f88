// The blackbox-style http options (valid_http_versions, compression,
// fail_if_ssl / fail_if_not_ssl, ip_protocol, tls.max_version,
// body_size_limit) end to end: NewHttpProber() with libcurl against one real
// nginx on loopback (tests/testing/nginx_target.h), shared by every test.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/prober.h"
#include "probes/result.h"
#include "re2/re2.h"
#include "tests/testing/nginx_target.h"
#include "tests/testing/status_matchers.h"

namespace canary::testing {
namespace {

using ::canary::config::Compression;
using ::canary::config::HttpVersion;
using ::canary::config::IpProtocol;
using ::canary::probes::ProbeReport;
using ::canary::probes::ResultClass;
using ::testing::HasSubstr;

class HttpOptionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<NginxTarget>> started = NginxTarget::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    nginx_ = started->release();
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(nginx_, nullptr); }

  // One request; https targets trust nginx's certificate.
  static config::Module OneRequest() {
    config::Module m;
    m.name = "test";
    m.burst.requests = 1;
    m.http.tls.ca_file = nginx_->ca_file();
    return m;
  }

  static void ExpectBody(config::Module& m, const std::string& pattern) {
    m.http.fail_if_body_not_matches_regexp.push_back(
        {.pattern = pattern, .re = std::make_shared<RE2>(pattern)});
  }

  // The one request's result, with its error text as the failure message.
  struct Outcome {
    ResultClass result;
    std::string error;
    int64_t bytes;
  };
  static Outcome Run(const std::string& url, const config::Module& m) {
    ProbeReport r = probes::NewHttpProber()->Probe(
        {.target = url, .module = &m, .budget = absl::Seconds(10)});
    EXPECT_EQ(r.burst.requests.size(), 1u);
    if (r.burst.requests.empty()) return {ResultClass::kOther, "no request", 0};
    const probes::RequestResult& q = r.burst.requests[0];
    return {q.result(), r.burst.error(q), q.bytes_received()};
  }

  static NginxTarget* nginx_;
};

NginxTarget* HttpOptionsTest::nginx_ = nullptr;

// The whole decoded body: 200 lines "canary-plain-body".
constexpr char kWholeBody[] = "^(canary-plain-body\n){200}$";

TEST_F(HttpOptionsTest, ValidHttpVersionsSeesHttp2OverTls) {
  config::Module m = OneRequest();
  m.http.http_version = HttpVersion::kHttp2;
  m.http.valid_http_versions = {HttpVersion::kHttp2};
  Outcome o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;

  m.http.valid_http_versions = {HttpVersion::kHttp1_1};
  o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kValidation);
  EXPECT_THAT(o.error, HasSubstr("came in HTTP/2.0"));
}

TEST_F(HttpOptionsTest, ValidHttpVersionsSeesHttp11OverTls) {
  config::Module m = OneRequest();
  m.http.http_version = HttpVersion::kHttp1_1;
  m.http.valid_http_versions = {HttpVersion::kHttp1_1};
  Outcome o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;

  m.http.valid_http_versions = {HttpVersion::kHttp1_0, HttpVersion::kHttp2};
  o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kValidation);
  EXPECT_THAT(o.error, HasSubstr("came in HTTP/1.1"));
}

// Asking for HTTP/2 in the clear is not getting it: this listener has no h2c.
TEST_F(HttpOptionsTest, ValidHttpVersionsChecksWhatCameNotWhatWasAsked) {
  config::Module m = OneRequest();
  m.http.http_version = HttpVersion::kHttp2;
  m.http.valid_http_versions = {HttpVersion::kHttp2};
  Outcome o = Run(nginx_->HttpUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kValidation);
  EXPECT_THAT(o.error, HasSubstr("came in HTTP/1.1"));
}

TEST_F(HttpOptionsTest, EachCompressionIsAskedForAndDecodedForTheChecks) {
  for (auto [compression, name] :
       {std::pair{Compression::kGzip, "gzip"},
        std::pair{Compression::kDeflate, "deflate"},
        std::pair{Compression::kBr, "br"},
        std::pair{Compression::kIdentity, "identity"}}) {
    SCOPED_TRACE(name);
    config::Module m = OneRequest();
    m.http.compression = compression;
    ExpectBody(m, kWholeBody);
    const std::string path = absl::StrCat("/enc/", name);
    Outcome o = Run(nginx_->HttpUrl(path), m);
    EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;
    // Counted decoded.
    EXPECT_EQ(o.bytes, static_cast<int64_t>(NginxTarget::Body().size()));
    o = Run(nginx_->HttpsUrl(path), m);
    EXPECT_EQ(o.result, ResultClass::kSuccess) << "https: " << o.error;
  }
}

// The target answers 406 unless Accept-Encoding names its coding: without
// `compression` none is sent.
TEST_F(HttpOptionsTest, WithoutCompressionNoAcceptEncodingIsSent) {
  config::Module m = OneRequest();
  Outcome o = Run(nginx_->HttpUrl("/enc/gzip"), m);
  EXPECT_EQ(o.result, ResultClass::kHttpStatus);
  EXPECT_THAT(o.error, HasSubstr("406"));
  m.http.compression = Compression::kBr;  // another coding than served
  o = Run(nginx_->HttpUrl("/enc/gzip"), m);
  EXPECT_EQ(o.result, ResultClass::kHttpStatus);
}

TEST_F(HttpOptionsTest, FailIfSslAndFailIfNotSsl) {
  config::Module m = OneRequest();
  m.http.fail_if_ssl = true;
  Outcome o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kValidation);
  EXPECT_THAT(o.error, HasSubstr("fail_if_ssl"));
  o = Run(nginx_->HttpUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;

  m.http.fail_if_ssl = false;
  m.http.fail_if_not_ssl = true;
  o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;
  o = Run(nginx_->HttpUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kValidation);
  EXPECT_THAT(o.error, HasSubstr("fail_if_not_ssl"));
}

// nginx speaks TLS 1.3 only.
TEST_F(HttpOptionsTest, TlsMaxVersionBelowTheServersFailsTheHandshake) {
  config::Module m = OneRequest();
  m.http.tls.max_version = config::TlsConfig::Version::kTls13;
  Outcome o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;
  m.http.tls.max_version = config::TlsConfig::Version::kTls12;
  o = Run(nginx_->HttpsUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kTls) << o.error;
}

TEST_F(HttpOptionsTest, BodySizeLimitFailsALargerDecodedBody) {
  const int64_t size = static_cast<int64_t>(NginxTarget::Body().size());
  config::Module m = OneRequest();
  m.http.body_size_limit = size;  // exactly the body: passes
  ExpectBody(m, kWholeBody);
  Outcome o = Run(nginx_->HttpUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;

  m.http.body_size_limit = size - 1;
  o = Run(nginx_->HttpUrl("/body"), m);
  EXPECT_EQ(o.result, ResultClass::kBodyTooLarge);
  EXPECT_THAT(o.error, HasSubstr("body_size_limit"));

  // The gzip body on the wire is far smaller than the limit; decoded it is
  // not.
  m.http.compression = Compression::kGzip;
  m.http.body_size_limit = 1000;
  o = Run(nginx_->HttpUrl("/enc/gzip"), m);
  EXPECT_EQ(o.result, ResultClass::kBodyTooLarge) << o.error;
}

TEST_F(HttpOptionsTest, IpProtocolChoosesTheFamilyOfANameWithBoth) {
  if (!nginx_->has_ipv6()) GTEST_SKIP() << "no IPv6 on loopback here";
  // libcurl resolves "localhost" itself, to 127.0.0.1 and ::1.
  config::Module m = OneRequest();
  m.http.ip_protocol = IpProtocol::kIp4;
  ExpectBody(m, "^127\\.0\\.0\\.1$");
  const std::string url =
      absl::StrCat("http://localhost:", nginx_->http_port(), "/addr");
  Outcome o = Run(url, m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;

  m = OneRequest();
  m.http.ip_protocol = IpProtocol::kIp6;
  ExpectBody(m, "^::1$");
  o = Run(url, m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;
}

TEST_F(HttpOptionsTest, IpProtocolFallbackTakesTheOtherFamily) {
  if (!nginx_->has_ipv6()) GTEST_SKIP() << "no IPv6 on loopback here";
  config::Module m = OneRequest();
  m.http.ip_protocol = IpProtocol::kIp4;
  ExpectBody(m, "^::1$");
  Outcome o = Run(nginx_->Http6Url("/addr"), m);
  EXPECT_EQ(o.result, ResultClass::kSuccess) << o.error;

  m.http.ip_protocol_fallback = false;
  o = Run(nginx_->Http6Url("/addr"), m);
  EXPECT_EQ(o.result, ResultClass::kDns) << o.error;

  m = OneRequest();
  m.http.ip_protocol = IpProtocol::kIp6;
  m.http.ip_protocol_fallback = false;
  o = Run(nginx_->HttpUrl("/addr"), m);
  EXPECT_EQ(o.result, ResultClass::kDns) << o.error;
}

}  // namespace
}  // namespace canary::testing
