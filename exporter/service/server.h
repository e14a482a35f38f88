// server.h: the exporter's server: the probe service's Handlers
// (handlers.h) served by the HTTP edge (exporter/http/http_server.h). The one
// place the two meet; main() and the tests start the exporter through it.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
//                    Server::Start({.listen_address = "127.0.0.1:0"}, prober,
//                                  store, metrics));
//   int port = server->port();  // the bound port, also for ":0"
//   server->Stop();             // or let the destructor stop it
//
// Listen addresses: ":9427" (all interfaces), "127.0.0.1:9427", and port 0
// for a free port. CivetWeb here has no IPv6.
// With [web] tls_cert_file set (read from the store at Start: changing it
// needs a restart; the certificate files themselves are reloaded when they
// change, exporter/http/edge_listener.h), the address is served over HTTPS.
// Thread-safety: Start/Stop from one thread; requests are served on
// `num_threads` HTTP workers (a burst blocks one for seconds); 0 sizes
// the pool from the config at Start: WorkerThreadsFor(server limits).
// Errors: Start returns InvalidArgument for a malformed address and
// Unavailable with CivetWeb's own reason when it cannot bind.
#ifndef CANARY_EXPORTER_SERVICE_SERVER_H_
#define CANARY_EXPORTER_SERVICE_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/http/http_server.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/handlers.h"
#include "exporter/service/self_metrics.h"
#include "probes/prober.h"

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

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return http_->port(); }
  // Size of the HTTP worker pool, fixed at Start.
  int num_threads() const { return http_->num_threads(); }
  // "127.0.0.1:PORT" for a wildcard address, else "HOST:PORT".
  std::string address() const { return http_->address(); }
  // Graceful shutdown (main.cc on SIGTERM): BeginShutdown turns /-/ready
  // and every new /probe into 503 (Handlers::BeginShutdown); the caller then
  // waits until InFlight() is 0, bounded by its drain deadline, and Stops.
  void BeginShutdown() { handlers_.BeginShutdown(); }
  // Requests being handled whose answer is not yet written out.
  int InFlight() const { return in_flight_->load(); }
  // Stops accepting, waits for requests in progress, and returns. Idempotent.
  // An answer not yet written when Stop begins is lost (CivetWeb writes
  // nothing once stopping): drain first.
  void Stop();
  ~Server();

 private:
  Server(const ServerOptions& options, probes::Prober* prober,
         ConfigStore* store, SelfMetrics* metrics, int num_threads);

  SelfMetrics* const metrics_;
  Handlers handlers_;
  // Owned jointly with the handler closure HttpServer keeps, so neither
  // depends on the destruction order.
  std::shared_ptr<std::atomic<int>> in_flight_ =
      std::make_shared<std::atomic<int>>(0);
  // Declared after handlers_ so that it stops (joining every request in
  // progress) before the handlers go.
  std::unique_ptr<HttpServer> http_;
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_SERVER_H_
