// http_server.h: the exporter's HTTP edge. Serves one HttpHandler (http.h)
// with CivetWeb, behind our own TLS listener (tls_listener.h) when TLS is
// configured. It knows HTTP, not probes: what a path means is the handler's
// business (exporter/service/handlers.h).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
//                    HttpServer::Start({.listen_address = "127.0.0.1:0",
//                                       .num_threads = 4},
//                                      [](const HttpRequest& r) {
//                                        return HttpResponse{.body = "ok\n"};
//                                      }));
//   int port = server->port();  // the bound port, also for ":0"
//   server->Stop();             // or let the destructor stop it
//
// Listen addresses: ":9427" (all interfaces), "127.0.0.1:9427", and port 0
// for a free port (listen_address.h). CivetWeb here has no IPv6.
// With `tls` set, the address is served over HTTPS by TlsListener and
// CivetWeb listens on 127.0.0.1 only, refusing connections that did not come
// through it.
// Requests are read up to kMaxRequestHeadBytes of request line plus headers;
// CivetWeb answers a longer one "400 Bad Request" itself. An exception
// thrown by the handler is a 500, never a lost worker.
// Thread-safety: Start/Stop from one thread; requests are served on
// `num_threads` CivetWeb workers, so the handler runs on many threads at once.
// Errors: Start returns InvalidArgument for a malformed address and
// Unavailable with CivetWeb's own reason when it cannot bind.
#ifndef CANARY_EXPORTER_HTTP_HTTP_SERVER_H_
#define CANARY_EXPORTER_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "exporter/http/http.h"
#include "exporter/process/log.h"

class CivetServer;

namespace canary::exporter {
class TlsListener;
}

namespace canary::exporter {

// Request line plus headers CivetWeb reads (its max_request_size).
inline constexpr size_t kMaxRequestHeadBytes = 16 * 1024;

// HTTPS on the listen address (tls_listener.h).
struct HttpTlsOptions {
  std::string cert_file;       // PEM chain
  std::string key_file;        // PEM key
  std::string client_ca_file;  // non-empty: require a client cert it signed
  config::TlsConfig::Version min_version = config::TlsConfig::Version::kTls12;
};

struct HttpServerOptions {
  std::string listen_address = ":9427";
  int num_threads = 1;                // CivetWeb workers, > 0
  std::optional<HttpTlsOptions> tls;  // nullopt: plain HTTP
  Logger* logger = nullptr;           // null: GlobalLogger()
};

class HttpServer {
 public:
  // Binds and starts serving `handler`.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, HttpHandler handler);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Size of the CivetWeb worker pool, fixed at Start.
  int num_threads() const { return num_threads_; }
  // "127.0.0.1:PORT" for a wildcard address, else "HOST:PORT".
  std::string address() const;

  // Stops accepting, waits for requests in progress, and returns. Idempotent.
  void Stop();

  // Serves one request; called by CivetWeb's begin_request hook.
  HttpResponse Serve(const HttpRequest& request) { return handler_(request); }
  Logger* logger() const { return logger_; }
  // False for a connection that bypassed the TLS listener (http_server.cc).
  bool AcceptsConnection(int remote_port) const;

 private:
  HttpServer(const HttpServerOptions& options, HttpHandler handler);

  Logger* const logger_;
  const int num_threads_;
  const HttpHandler handler_;
  std::string host_;    // the bound host, empty for all interfaces
  int port_ = 0;        // what clients connect to (TLS when enabled)
  int civet_port_ = 0;  // CivetWeb's own; loopback-only with TLS
  std::unique_ptr<CivetServer> civet_;
  std::unique_ptr<TlsListener> tls_;  // TLS; null for plain HTTP
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_HTTP_SERVER_H_
