// certs.h: throw-away TLS material for tests.
//
// MakeSelfSignedCert writes a fresh self-signed certificate (SAN
// IP:127.0.0.1 and DNS:localhost) and its key into a new temporary
// directory, using the `openssl` command-line tool.
//
//   ASSERT_OK_AND_ASSIGN(TestCert cert, MakeSelfSignedCert(30));
//   auto server = TargetServer::Start({.tls = true,
//                                      .cert_pem_path = cert.pem_path});
//   module.http.tls.ca_file = cert.cert_path;  // trust it
//
// Thread-safety: MakeSelfSignedCert may be called from any thread; each call
// uses its own directory. The files are left behind for the OS to reap
// (they live under $TMPDIR or /tmp).
// Errors: InvalidArgumentError for days_valid < 1; InternalError when the
// directory cannot be made or openssl fails (its output is in the message);
// DataLossError when the notAfter read back cannot be parsed.
#ifndef CANARY_TESTS_TESTING_CERTS_H_
#define CANARY_TESTS_TESTING_CERTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace canary::testing {

struct TestCert {
  std::string dir;        // the temporary directory holding the files
  std::string cert_path;  // the certificate alone (PEM): a CA file for clients
  std::string key_path;   // the private key alone (PEM)
  std::string pem_path;   // certificate followed by key, for CivetWeb
  absl::Time not_after;   // exactly as the certificate says (whole seconds)
};

// Creates a self-signed certificate valid for `days_valid` days from now.
absl::StatusOr<TestCert> MakeSelfSignedCert(int days_valid);

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_CERTS_H_
