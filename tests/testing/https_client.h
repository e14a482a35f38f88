// https_client.h: a blocking HTTPS GET (libcurl) for tests of the
// exporter's TLS listener, limited to https://127.0.0.1 and localhost.
//
//   ASSERT_OK_AND_ASSIGN(HttpResult r,
//       HttpsGet(absl::StrCat("https://127.0.0.1:", port, "/-/healthy"),
//                {.ca_file = cert.cert_path}));
//
// Thread-safety: as http_client.h.
// Errors: InvalidArgument for a non-loopback or non-https URL; Unavailable
// when the transfer fails (refused, handshake failure, timeout), with
// libcurl's reason.
#ifndef CANARY_TESTS_TESTING_HTTPS_CLIENT_H_
#define CANARY_TESTS_TESTING_HTTPS_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/http_client.h"

namespace canary::testing {

struct TlsClientOptions {
  std::string ca_file;    // trust this CA (or self-signed certificate)
  std::string cert_file;  // client certificate for mTLS, with key_file
  std::string key_file;
  bool tls13_only = false;  // or max TLS 1.2 when `tls12_max`
  bool tls12_max = false;
  HttpHeaders headers = {};
  absl::Duration timeout = absl::Seconds(10);
};

absl::StatusOr<HttpResult> HttpsGet(const std::string& url,
                                    const TlsClientOptions& options);

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_HTTPS_CLIENT_H_
