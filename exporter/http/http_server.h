// http_server.h: the exporter's HTTP edge. Serves one HttpHandler (http.h)
// with CivetWeb, behind our own front listener (edge_listener.h), which
// hands CivetWeb only complete, valid request heads and terminates TLS when
// it is configured. It knows HTTP, not probes: what a path means is the
// handler's business (exporter/service/handlers.h).
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
// for a free port (listen_address.h); IPv6 addresses work too.
// The address is served by EdgeListener (HTTPS with `tls` set); CivetWeb
// listens on 127.0.0.1 only, refusing connections that did not come
// through it.
// Request heads are bounded by `limits` (EdgeLimits: size, time,
// connections); the listener answers a malformed head with its own 400 and
// one over the size with 431. An exception thrown by the handler is a 500,
// never a lost worker.
// Thread-safety: Start/Stop from one thread; requests are served on
// `num_threads` CivetWeb workers, so the handler runs on many threads at once.
// Errors: Start returns InvalidArgument for a malformed address and
// Unavailable with CivetWeb's own reason when it cannot bind.
#ifndef CANARY_EXPORTER_HTTP_HTTP_SERVER_H_
#define CANARY_EXPORTER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "exporter/http/edge_listener.h"
#include "exporter/http/http.h"
#include "exporter/process/log.h"

class CivetServer;

namespace canary::exporter {

// HTTPS on the listen address (edge_listener.h).
using HttpTlsOptions = EdgeTlsOptions;

struct HttpServerOptions {
  std::string listen_address = ":9427";
  int num_threads = 1;                // CivetWeb workers, > 0
  std::optional<HttpTlsOptions> tls;  // nullopt: plain HTTP
  EdgeLimits limits;
  Logger* logger = nullptr;  // null: GlobalLogger()
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

  // What the front listener has shed, and what is open now.
  EdgeStats edge_stats() const { return edge_->Stats(); }

  // Stops accepting, waits for requests in progress, and returns. Idempotent.
  void Stop();

  // Serves one request; called by CivetWeb's begin_request hook.
  HttpResponse Serve(const HttpRequest& request) { return handler_(request); }
  Logger* logger() const { return logger_; }
  // False for a connection that bypassed the front listener (http_server.cc).
  bool AcceptsConnection(int remote_port) const;

 private:
  HttpServer(const HttpServerOptions& options, HttpHandler handler);

  Logger* const logger_;
  const int num_threads_;
  const HttpHandler handler_;
  std::string host_;    // the bound host, empty for all interfaces
  int port_ = 0;        // what clients connect to (the front listener)
  int civet_port_ = 0;  // CivetWeb's own, on loopback
  std::unique_ptr<CivetServer> civet_;
  std::unique_ptr<EdgeListener> edge_;
  // edge_ for CivetWeb's workers: set once the listener runs, after
  // CivetWeb's threads started (nothing else orders the two).
  std::atomic<const EdgeListener*> relay_check_{nullptr};
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_HTTP_SERVER_H_
