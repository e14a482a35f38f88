#include "exporter/views/landing.h"

#include <string>

#include "config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace canary::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The landing page shows the effective configuration through the same
// renderer as debug=true and config renders: every kind of secret appears
// as <secret> (HTML-escaped), its value never.
TEST(LandingPageTest, ShowsTheConfigWithEverySecretAsPlaceholder) {
  config::Config c;
  config::Module& tok = c.modules["tok"];
  tok.name = "tok";
  tok.http.bearer_token = "BEARER-AAAA";
  tok.http.headers = {{"Cookie", "session=COOKIE-BBBB"},
                      {"X-Api-Key", "KEY-CCCC"},
                      {"X-Canary", "1"}};
  tok.http.proxy_url = "http://puser:PROXY-DDDD@127.0.0.1:3128";
  tok.http.method = "POST";
  tok.http.body = "password=BODY-EEEE";
  config::Module& basic = c.modules["basic"];
  basic.name = "basic";
  basic.http.basic_auth = config::BasicAuth{"alice", "BASIC-FFFF"};
  c.web.basic_auth_users = {{"admin", "$2y$10$HASH-GGGG"}};
  ProbeHistory history(0);
  const std::string html = RenderLandingPage(
      {.config = &c, .config_source = "t.toml", .history = &history});
  for (const char* secret :
       {"BEARER-AAAA", "COOKIE-BBBB", "KEY-CCCC", "PROXY-DDDD", "BODY-EEEE",
        "BASIC-FFFF", "HASH-GGGG", "puser"}) {
    EXPECT_THAT(html, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(html, HasSubstr("[modules.tok.http]"));
  EXPECT_THAT(html, HasSubstr("bearer_token = &quot;&lt;secret&gt;&quot;"));
  EXPECT_THAT(html,
              HasSubstr("&quot;Cookie&quot; = &quot;&lt;secret&gt;&quot;"));
  EXPECT_THAT(html,
              HasSubstr("&quot;X-Api-Key&quot; = &quot;&lt;secret&gt;&quot;"));
  EXPECT_THAT(html, HasSubstr("&quot;X-Canary&quot; = &quot;1&quot;"));
  EXPECT_THAT(html, HasSubstr("http://&lt;secret&gt;@127.0.0.1:3128"));
  EXPECT_THAT(html, HasSubstr("body = &quot;&lt;secret&gt;&quot;"));
  EXPECT_THAT(html, HasSubstr("username = &quot;alice&quot;, password = "
                              "&quot;&lt;secret&gt;&quot;"));
  EXPECT_THAT(html, HasSubstr("&quot;admin&quot; = &quot;&lt;secret&gt;"));
}

}  // namespace
}  // namespace canary::exporter
