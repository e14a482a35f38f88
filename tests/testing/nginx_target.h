// nginx_target.h: a real nginx (Debian's nginx-light) on loopback, for what
// the CivetWeb TargetServer cannot serve: HTTP/2 over TLS, IPv6, and
// bodies in gzip, deflate and br.
//
// Start() writes a config, a self-signed certificate (tests/testing/certs.h)
// and the body files into a fresh temporary directory and runs nginx in the
// foreground (one process, no master). Share one per test suite: it starts
// in ~0.1 s but a suite that starts one per test pays it every time.
//
//   ASSERT_OK_AND_ASSIGN(auto nginx, NginxTarget::Start());
//   nginx->HttpUrl("/body");         // http://127.0.0.1:P/body, HTTP/1.1
//   nginx->HttpsUrl("/body");        // https://127.0.0.1:Q/body, h2 or 1.1
//   module.http.tls.ca_file = nginx->ca_file();
//
// Paths served (the same on every listener):
//   /body          Body() as text/plain
//   /enc/NAME      Body() encoded as NAME (gzip, deflate, br, identity) with
//                  Content-Encoding: NAME; 406 unless the request's
//                  Accept-Encoding names NAME
//   /addr          the local address the request came to ("127.0.0.1",
//                  "::1")
//
// Listeners: HTTP/1.1 on 127.0.0.1:P and, when the machine has IPv6 on
// loopback, [::1]:P (has_ipv6()); TLS 1.3 only, HTTP/2 or HTTP/1.1 by ALPN,
// on 127.0.0.1:Q.
//
// Thread-safety: the accessors may be called from any thread. The
// destructor stops nginx (SIGTERM, then waits for it).
// Errors: Start returns FailedPreconditionError when nginx or brotli is not
// installed (scripts/setup.sh --test installs them), InternalError when a
// file cannot be made or nginx does not come up (its log in the message).
#ifndef CANARY_TESTS_TESTING_NGINX_TARGET_H_
#define CANARY_TESTS_TESTING_NGINX_TARGET_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::testing {

class NginxTarget {
 public:
  static absl::StatusOr<std::unique_ptr<NginxTarget>> Start();
  ~NginxTarget();

  NginxTarget(const NginxTarget&) = delete;
  NginxTarget& operator=(const NginxTarget&) = delete;

  // The plain text every body path serves (decoded), 3600 bytes.
  static const std::string& Body();

  std::string HttpUrl(absl::string_view path) const;   // 127.0.0.1
  std::string Http6Url(absl::string_view path) const;  // [::1]
  std::string HttpsUrl(absl::string_view path) const;  // 127.0.0.1, TLS
  int http_port() const { return http_port_; }
  bool has_ipv6() const { return has_ipv6_; }
  // The certificate nginx serves (SAN 127.0.0.1, localhost): a CA file.
  const std::string& ca_file() const { return ca_file_; }

 private:
  NginxTarget() = default;

  pid_t pid_ = -1;
  int http_port_ = 0;
  int https_port_ = 0;
  bool has_ipv6_ = false;
  std::string ca_file_;
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_NGINX_TARGET_H_
