// The HTTP edge on its own: HttpServer serves whatever handler it is handed
// (exporter/http/http_server.h), with no probe service behind it.
#include "exporter/http/http_server.h"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;

TEST(HttpServerTest, PassesTheDecodedRequestToTheHandlerAndWritesItsAnswer) {
  HttpRequest seen;
  std::atomic<int> after_send_runs{0};
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<HttpServer> server,
      HttpServer::Start({.listen_address = "127.0.0.1:0", .num_threads = 2},
                        [&](const HttpRequest& request) {
                          seen = request;
                          HttpResponse r;
                          r.status = 418;
                          r.content_type = "text/x-test";
                          r.headers.emplace_back("X-Extra", "yes");
                          r.body = "teapot\n";
                          r.after_send = [&] { ++after_send_runs; };
                          return r;
                        }));
  ASSERT_OK_AND_ASSIGN(HttpResult r,
                       HttpGet(absl::StrCat("http://127.0.0.1:", server->port(),
                                            "/some/path?a=1%202&b=x&a=3"),
                               {{kScrapeTimeoutHeader, "7.5"}}));
  server->Stop();
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "teapot\n");
  EXPECT_EQ(r.Header("content-type"), "text/x-test");
  EXPECT_EQ(r.Header("x-extra"), "yes");
  EXPECT_EQ(after_send_runs.load(), 1);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/some/path");
  EXPECT_EQ(seen.query.at("a"), "1 2");  // the first of repeated names
  EXPECT_EQ(seen.query.at("b"), "x");
  EXPECT_EQ(seen.query_bytes, std::string("a=1%202&b=x&a=3").size());
  EXPECT_EQ(seen.scrape_timeout, "7.5");
  EXPECT_EQ(seen.host, absl::StrCat("127.0.0.1:", server->port()));
}

TEST(HttpServerTest, AHandlerThatThrowsIsA500NotALostWorker) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<HttpServer> server,
      HttpServer::Start({.listen_address = "127.0.0.1:0", .num_threads = 1},
                        [](const HttpRequest& request) -> HttpResponse {
                          if (request.path == "/throw") {
                            throw std::runtime_error("boom");
                          }
                          return HttpResponse{.body = "ok\n"};
                        }));
  const std::string base = absl::StrCat("http://127.0.0.1:", server->port());
  ASSERT_OK_AND_ASSIGN(HttpResult thrown, HttpGet(base + "/throw"));
  EXPECT_EQ(thrown.status, 500);
  // The single worker survived and serves the next request.
  ASSERT_OK_AND_ASSIGN(HttpResult ok, HttpGet(base + "/"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
}

}  // namespace
}  // namespace canary::exporter
