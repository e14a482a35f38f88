// tls_listener.h: the exporter's HTTPS listener. It terminates TLS with
// OpenSSL and relays each connection, as plain bytes, to CivetWeb on an
// internal loopback port.
//
// Why not CivetWeb's own TLS: Debian's CivetWeb 1.15 loads libssl by name at
// run time, looks up SSL_get_peer_certificate (an OpenSSL 1.1 name that
// OpenSSL 3 lacks) and calls it through a null pointer after every
// handshake. Terminating TLS here also lets us enforce the minimum version
// and client certificates (mTLS) with OpenSSL directly.
//
//   ASSIGN_OR_RETURN(auto tls, TlsListener::Start({
//       .listen_address = ":9427", .cert_file = "c.pem", .key_file = "k.pem",
//       .backend_port = civet_port}));
//   // https://host:tls->port()/metrics reaches http://127.0.0.1:civet_port/
//
// The backend port is reachable by local users without TLS; the server
// closes backend connections that IsRelayed() does not know (server.cc), so
// mTLS cannot be bypassed from the same host.
// Certificate rotation: the cert, key and client CA files are checked (by
// mtime and size) at each new connection and reloaded when changed; a
// broken new file is logged and the previous ones stay in use.
//
// Thread-safety: port() and IsRelayed() from any thread; Stop() (or the
// destructor) from one thread; it closes open connections and joins all
// threads.
// Errors: Start returns InvalidArgument for a bad address or unusable
// cert/key/CA (OpenSSL's reason in the message), Unavailable when it cannot
// bind.
#ifndef CANARY_EXPORTER_HTTP_TLS_LISTENER_H_
#define CANARY_EXPORTER_HTTP_TLS_LISTENER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "exporter/process/log.h"

namespace canary::exporter {

struct TlsListenerOptions {
  std::string listen_address;  // ":9427", "127.0.0.1:0", "[::1]:9427"
  std::string cert_file;       // PEM chain
  std::string key_file;        // PEM key
  std::string client_ca_file;  // non-empty: require a client cert it signed
  config::TlsConfig::Version min_version = config::TlsConfig::Version::kTls12;
  int backend_port = 0;  // CivetWeb on 127.0.0.1
  // Connections beyond this are closed at once (each holds a thread).
  int max_connections = 256;
  absl::Duration handshake_timeout = absl::Seconds(10);
  Logger* logger = nullptr;  // null: GlobalLogger()
};

class TlsListener {
 public:
  static absl::StatusOr<std::unique_ptr<TlsListener>> Start(
      const TlsListenerOptions& options);
  virtual ~TlsListener() = default;

  // The bound port (also for port 0).
  virtual int port() const = 0;
  // Whether 127.0.0.1:`local_port` is the local end of a connection this
  // listener opened to the backend.
  virtual bool IsRelayed(int local_port) const = 0;
  virtual void Stop() = 0;
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_TLS_LISTENER_H_
