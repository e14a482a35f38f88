// edge_listener.h: the exporter's front door, plain HTTP or HTTPS. One
// thread accepts every connection on the listen address and reads it,
// without blocking, until its request head (request line and headers) is
// complete and valid (request_head.h); only then does the connection get a
// relay thread that passes it, as plain bytes, to CivetWeb on an internal
// loopback port. So CivetWeb's workers only ever see complete heads: an
// idle, slow (slowloris) or malformed client costs one socket and its
// buffered bytes, never a worker (docs/reliability.md says why this design).
//
//   ASSIGN_OR_RETURN(auto edge, EdgeListener::Start({
//       .listen_address = ":9427", .backend_port = civet_port}));
//   // http://host:edge->port()/metrics reaches http://127.0.0.1:civet_port/
//
// Limits (EdgeLimits): a connection must complete its head within
// `head_timeout` of being accepted and within `max_head_bytes`; at most
// `max_connections` are open, at most `max_connections_per_client` from one
// IP address wait for their head. A new connection is never refused while
// an older one still waits for its head: over a limit, the oldest such
// connection (of that client, or of all) is closed instead. Each closed
// connection is counted in Stats() by reason. A malformed head is answered with
// our own fixed 400 (431 when too large), which never echoes the client's
// bytes.
//
// TLS (EdgeTlsOptions) terminates here with OpenSSL, not in CivetWeb:
// Debian's CivetWeb 1.15 loads libssl by name at run time, looks up
// SSL_get_peer_certificate (an OpenSSL 1.1 name that OpenSSL 3 lacks) and
// calls it through a null pointer after every handshake. Here we also
// enforce the minimum version and client certificates (mTLS). The cert,
// key and client CA files are checked (by mtime and size) at each new
// connection and reloaded when changed; a broken new file is logged and
// the previous ones stay in use.
//
// The backend port is reachable by local users; the server closes backend
// connections that IsRelayed() does not know (http_server.cc), so neither
// the head checks nor TLS/mTLS can be bypassed from the same host.
//
// Thread-safety: port(), IsRelayed() and Stats() from any thread;
// StopAccepting() and Stop() (or the destructor) from one thread.
// Errors: Start returns InvalidArgument for a bad address or unusable
// cert/key/CA (OpenSSL's reason in the message), Unavailable when it cannot
// bind.
#ifndef CANARY_EXPORTER_HTTP_EDGE_LISTENER_H_
#define CANARY_EXPORTER_HTTP_EDGE_LISTENER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "exporter/http/request_head.h"
#include "exporter/process/log.h"

namespace canary::exporter {

struct EdgeTlsOptions {
  std::string cert_file;       // PEM chain
  std::string key_file;        // PEM key
  std::string client_ca_file;  // non-empty: require a client cert it signed
  config::TlsConfig::Version min_version = config::TlsConfig::Version::kTls12;
};

// What the operator bounds ([web] in docs/configuration.md); the defaults
// are config::WebConfig's.
struct EdgeLimits {
  int max_connections = 4096;
  int max_connections_per_client = 1024;
  // From accept to the end of the head, TLS handshake included.
  absl::Duration head_timeout = absl::Seconds(10);
  size_t max_head_bytes = kMaxRequestHeadBytes;
};

struct EdgeListenerOptions {
  std::string listen_address;         // ":9427", "127.0.0.1:0", "[::1]:9427"
  std::optional<EdgeTlsOptions> tls;  // nullopt: plain HTTP
  int backend_port = 0;               // CivetWeb on 127.0.0.1
  EdgeLimits limits;
  // Send/receive timeout of a relayed client once its head is complete.
  absl::Duration io_timeout = absl::Seconds(10);
  Logger* logger = nullptr;  // null: GlobalLogger()
};

// Connections closed by the listener, by reason, since Start; and what is
// open now.
struct EdgeStats {
  int64_t shed_per_client = 0;       // over max_connections_per_client
  int64_t shed_max_connections = 0;  // over max_connections (or out of fds)
  int64_t shed_head_timeout = 0;     // head not complete in head_timeout
  int64_t shed_bad_request = 0;      // malformed head: our 400
  int64_t shed_head_too_large = 0;   // head over max_head_bytes: our 431
  int64_t open_connections = 0;      // all, relayed ones included
  int64_t waiting_for_head = 0;      // of those, still without a full head
};

class EdgeListener {
 public:
  static absl::StatusOr<std::unique_ptr<EdgeListener>> Start(
      const EdgeListenerOptions& options);
  virtual ~EdgeListener() = default;

  // The bound port (also for port 0).
  virtual int port() const = 0;
  // Whether 127.0.0.1:`local_port` is the local end of a connection this
  // listener opened to the backend.
  virtual bool IsRelayed(int local_port) const = 0;
  virtual EdgeStats Stats() const = 0;
  // Closes the listening socket and every connection still without a
  // complete head; relayed requests go on until the backend has answered.
  virtual void StopAccepting() = 0;
  // StopAccepting, then closes relayed connections and joins all threads.
  virtual void Stop() = 0;
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_EDGE_LISTENER_H_
