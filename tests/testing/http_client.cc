#include "tests/testing/http_client.h"

#include <curl/curl.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace canary::testing {
namespace {

bool IsLoopback(absl::string_view url) {
  return absl::StartsWith(url, "http://127.0.0.1:") ||
         absl::StartsWith(url, "http://127.0.0.1/") ||
         absl::StartsWith(url, "http://localhost:") ||
         absl::StartsWith(url, "http://localhost/");
}

}  // namespace

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  absl::string_view line(data, size * n);
  // A new status line (after a 100 Continue or a redirect) starts over.
  if (absl::StartsWith(line, "HTTP/")) headers->clear();
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    headers->emplace_back(
        std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * n;
}

std::string HttpResult::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

absl::StatusOr<HttpResult> HttpRequest(const std::string& method,
                                       const std::string& url,
                                       const std::string& body,
                                       const HttpHeaders& headers,
                                       absl::Duration timeout) {
  if (!IsLoopback(url)) {
    return absl::InvalidArgumentError(
        absl::StrCat("test client only talks to loopback: ", url));
  }
  static const CURLcode init = curl_global_init(CURL_GLOBAL_ALL);
  if (init != CURLE_OK) {
    return absl::InternalError(curl_easy_strerror(init));
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  HttpResult result;
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) {
    list = curl_slist_append(list, absl::StrCat(k, ": ", v).c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list_owner(
      list, curl_slist_free_all);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &result.headers);
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!body.empty()) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                       static_cast<long>(body.size()));
    }
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(method, " ", url, ": ", curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

absl::StatusOr<HttpResult> HttpGet(const std::string& url,
                                   const HttpHeaders& headers,
                                   absl::Duration timeout) {
  return HttpRequest("GET", url, "", headers, timeout);
}

absl::StatusOr<HttpResult> HttpPost(const std::string& url,
                                    const std::string& body,
                                    const HttpHeaders& headers,
                                    absl::Duration timeout) {
  return HttpRequest("POST", url, body, headers, timeout);
}

}  // namespace canary::testing
