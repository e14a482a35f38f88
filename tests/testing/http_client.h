// http_client.h: a small blocking HTTP client (libcurl) for tests, limited
// to loopback addresses.
//
//   ASSERT_OK_AND_ASSIGN(HttpResult r,
//                        HttpGet(absl::StrCat("http://127.0.0.1:", port,
//                        "/-/healthy")));
//   EXPECT_EQ(r.status, 200);
//   EXPECT_EQ(r.Header("content-type"), "text/plain; charset=utf-8");
//
// Thread-safety: each call is independent; safe from many threads once
// curl_global_init has run (the first call does it, so make one call before
// starting threads).
// Errors: InvalidArgument for a URL that is not http://127.0.0.1 or
// http://localhost; Unavailable when the transfer fails (refused, timeout).
#ifndef CANARY_TESTS_TESTING_HTTP_CLIENT_H_
#define CANARY_TESTS_TESTING_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace canary::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  long status = 0;
  HttpHeaders headers;  // in order; names as received
  std::string body;

  // The first header named `name` (case-insensitive), or "".
  std::string Header(absl::string_view name) const;
};

// libcurl callbacks shared with the HTTPS client (https_client.cc):
// append the body to a std::string*, collect headers into an HttpHeaders*
// (a new status line, after a 100 Continue or a redirect, starts over).
size_t AppendBody(char* data, size_t size, size_t n, void* body);
size_t CollectHeader(char* data, size_t size, size_t n, void* headers);

absl::StatusOr<HttpResult> HttpGet(const std::string& url,
                                   const HttpHeaders& headers = {},
                                   absl::Duration timeout = absl::Seconds(30));

absl::StatusOr<HttpResult> HttpPost(const std::string& url,
                                    const std::string& body = "",
                                    const HttpHeaders& headers = {},
                                    absl::Duration timeout = absl::Seconds(30));

// Any method, e.g. "DELETE" or "HEAD".
absl::StatusOr<HttpResult> HttpRequest(const std::string& method,
                                       const std::string& url,
                                       const std::string& body,
                                       const HttpHeaders& headers,
                                       absl::Duration timeout);

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_HTTP_CLIENT_H_
