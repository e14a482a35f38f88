// tls_front.h: a TLS-terminating TCP relay on 127.0.0.1, used by
// TargetServer for https targets.
//
// Debian's CivetWeb 1.15 cannot serve TLS with OpenSSL 3: it resolves
// libssl by name at run time, does not find SSL_get_peer_certificate (an
// OpenSSL 1.1 name) and calls it through a null pointer after every
// handshake. So TargetServer serves plain HTTP with CivetWeb and puts this
// relay in front: one TLS connection in, one plain connection to the backend
// out, bytes copied both ways, so keep-alive and connection counts are
// preserved. libssl is itself resolved at run time (dlopen), so nothing new
// is linked.
//
//   ASSIGN_OR_RETURN(auto front, TlsFront::Start(pem_path, backend_port));
//   // https://127.0.0.1:front->port()/ok reaches http://127.0.0.1:backend/ok
//
// Thread-safety: port() from any thread; the destructor stops the relay and
// joins its threads (closing connections still open).
// Errors: Start returns UnavailableError when libssl cannot be loaded or the
// socket cannot be bound, InvalidArgumentError when the PEM is unusable.
#ifndef CANARY_TESTS_TESTING_TLS_FRONT_H_
#define CANARY_TESTS_TESTING_TLS_FRONT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace canary::testing {

class TlsFront {
 public:
  static absl::StatusOr<std::unique_ptr<TlsFront>> Start(
      const std::string& pem_path, int backend_port);
  virtual ~TlsFront() = default;
  virtual int port() const = 0;
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_TLS_FRONT_H_
