// server.h: the HTTP server (CivetWeb) serving Handlers (handlers.h).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
//                    Server::Start({.listen_address = "127.0.0.1:0"}, prober,
//                                  store, metrics));
//   int port = server->port();  // the bound port, also for ":0"
//   server->Stop();             // or let the destructor stop it
//
// Listen addresses: ":9427" (all interfaces), "127.0.0.1:9427", and port 0
// for a free port. CivetWeb here has no IPv6.
// With [web] tls_cert_file set (read from the store at Start), the address
// is served over HTTPS by TlsListener (tls_listener.h) and CivetWeb listens
// on 127.0.0.1 only, refusing connections that did not come through it.
// Thread-safety: Start/Stop from one thread; requests are served on
// `num_threads` CivetWeb workers (a burst blocks one for seconds); 0 sizes
// the pool from the config at Start: WorkerThreadsFor(server limits).
// Errors: Start returns InvalidArgument for a malformed address and
// Unavailable with CivetWeb's own reason when it cannot bind.
#ifndef CANARY_EXPORTER_SERVER_H_
#define CANARY_EXPORTER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/config_store.h"
#include "exporter/handlers.h"
#include "exporter/log.h"
#include "exporter/self_metrics.h"
#include "probes/prober.h"

class CivetServer;

namespace canary::exporter {
class TlsListener;
}

namespace canary::exporter {

struct ServerOptions {
  std::string listen_address = ":9427";
  absl::Duration timeout_offset = absl::Milliseconds(500);
  int num_threads = 0;  // 0: WorkerThreadsFor (admission.h) of the config
  size_t history_limit = kDefaultHistoryLimit;  // recent probes on "/"
  Logger* logger = nullptr;                     // null: GlobalLogger()
};

class Server {
 public:
  // Binds and starts serving. None of the pointers is owned; all must
  // outlive the Server.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, probes::Prober* prober, ConfigStore* store,
      SelfMetrics* metrics);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  // Size of the CivetWeb worker pool, fixed at Start.
  int num_threads() const { return num_threads_; }
  // "127.0.0.1:PORT" for a wildcard address, else "HOST:PORT".
  std::string address() const;

  // Stops accepting, waits for requests in progress, and returns. Idempotent.
  void Stop();

  // Serves one request; called by CivetWeb's begin_request hook.
  HttpResponse Serve(const HttpRequest& request) {
    return handlers_.Handle(request);
  }
  Logger* logger() const { return logger_; }
  // False for a connection that bypassed the TLS listener (server.cc).
  bool AcceptsConnection(int remote_port) const;

 private:
  Server(const ServerOptions& options, probes::Prober* prober,
         ConfigStore* store, SelfMetrics* metrics);

  Logger* const logger_;
  const int num_threads_;  // before handlers_: they are told the pool size
  Handlers handlers_;
  std::string host_;    // the bound host, empty for all interfaces
  int port_ = 0;        // what clients connect to (TLS when enabled)
  int civet_port_ = 0;  // CivetWeb's own; loopback-only with TLS
  std::unique_ptr<CivetServer> civet_;
  std::unique_ptr<TlsListener> tls_;  // [web] TLS; null for plain HTTP
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVER_H_
