#include "tests/testing/certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "tests/testing/shell.h"

namespace canary::testing {
namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<TestCert> MakeSelfSignedCert(int days_valid) {
  if (days_valid < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("days_valid must be >= 1, got ", days_valid));
  }
  const char* tmpdir = getenv("TMPDIR");
  std::string templ =
      absl::StrCat((tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp",
                   "/canary_cert_XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp failed for ", templ));
  }
  TestCert cert;
  cert.dir = templ;
  cert.cert_path = cert.dir + "/cert.pem";
  cert.key_path = cert.dir + "/key.pem";
  cert.pem_path = cert.dir + "/server.pem";

  // An EC key keeps generation fast; the SAN is what clients verify.
  RETURN_IF_ERROR(
      RunShell(
          absl::StrCat("openssl req -x509 -newkey ec -pkeyopt "
                       "ec_paramgen_curve:prime256v1 -nodes -sha256 -days ",
                       days_valid, " -subj /CN=localhost -addext ",
                       "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout ",
                       ShellQuote(cert.key_path), " -out ",
                       ShellQuote(cert.cert_path)))
          .status());

  ASSIGN_OR_RETURN(std::string cert_pem, ReadWholeFile(cert.cert_path));
  ASSIGN_OR_RETURN(std::string key_pem, ReadWholeFile(cert.key_path));
  {
    std::ofstream out(cert.pem_path, std::ios::binary | std::ios::trunc);
    out << cert_pem << key_pem;
    if (!out.good()) {
      return absl::InternalError(absl::StrCat("cannot write ", cert.pem_path));
    }
  }

  ASSIGN_OR_RETURN(std::string enddate,
                   RunShell(absl::StrCat("openssl x509 -enddate -noout -in ",
                                         ShellQuote(cert.cert_path))));
  // "notAfter=Jun  1 12:00:00 2025 GMT"; a space in an absl format matches
  // any run of spaces, so the padded day parses with %d.
  absl::string_view value = absl::StripAsciiWhitespace(enddate);
  if (!absl::ConsumePrefix(&value, "notAfter=")) {
    return absl::DataLossError(
        absl::StrCat("unexpected openssl -enddate output: ", enddate));
  }
  std::string err;
  if (!absl::ParseTime("%b %d %H:%M:%S %Y GMT", value, absl::UTCTimeZone(),
                       &cert.not_after, &err)) {
    return absl::DataLossError(
        absl::StrCat("cannot parse notAfter '", value, "': ", err));
  }
  return cert;
}

}  // namespace canary::testing
