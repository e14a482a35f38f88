#include "tests/testing/https_client.h"

#include <curl/curl.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace canary::testing {
absl::StatusOr<HttpResult> HttpsGet(const std::string& url,
                                    const TlsClientOptions& o) {
  if (!absl::StartsWith(url, "https://127.0.0.1:") &&
      !absl::StartsWith(url, "https://localhost:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("test client only talks https to loopback: ", url));
  }
  static const CURLcode init = curl_global_init(CURL_GLOBAL_ALL);
  if (init != CURLE_OK) return absl::InternalError(curl_easy_strerror(init));
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  curl_slist* list = nullptr;
  for (const auto& [k, v] : o.headers) {
    list = curl_slist_append(list, absl::StrCat(k, ": ", v).c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list_owner(
      list, curl_slist_free_all);
  HttpResult result;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(o.timeout)));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &result.headers);
  if (!o.ca_file.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, o.cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, o.key_file.c_str());
  }
  if (o.tls13_only) {
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_3);
  } else if (o.tls12_max) {
    curl_easy_setopt(c, CURLOPT_SSLVERSION,
                     static_cast<long>(CURL_SSLVERSION_TLSv1_2) |
                         static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc), ": ", error));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

}  // namespace canary::testing
