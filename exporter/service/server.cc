#include "exporter/service/server.h"

#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "exporter/service/admission.h"

namespace canary::exporter {

Server::Server(const ServerOptions& options, probes::Prober* prober,
               ConfigStore* store, SelfMetrics* metrics, int num_threads)
    : metrics_(metrics),
      handlers_(prober, store, metrics,
                HandlerOptions{.timeout_offset = options.timeout_offset,
                               .history_limit = options.history_limit,
                               .worker_threads = num_threads},
                options.logger) {}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, probes::Prober* prober, ConfigStore* store,
    SelfMetrics* metrics) {
  const int num_threads = options.num_threads > 0
                              ? options.num_threads
                              : WorkerThreadsFor(store->Get()->server);
  std::unique_ptr<Server> server(
      new Server(options, prober, store, metrics, num_threads));
  // [web] TLS is read once, here.
  const config::WebConfig web = store->Get()->web;
  std::optional<HttpTlsOptions> tls;
  if (web.tls_enabled()) {
    tls = HttpTlsOptions{.cert_file = web.tls_cert_file,
                         .key_file = web.tls_key_file,
                         .client_ca_file = web.tls_client_ca_file,
                         .min_version = web.tls_min_version};
  }
  Handlers* handlers = &server->handlers_;
  absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Start(
      {.listen_address = options.listen_address,
       .num_threads = num_threads,
       .tls = std::move(tls),
       .limits = {.max_connections = web.max_connections,
                  .max_connections_per_client = web.max_connections_per_client,
                  .head_timeout = web.request_head_timeout},
       .logger = options.logger},
      [handlers, in_flight = server->in_flight_](const HttpRequest& request) {
        // Counted until the answer is written: the server runs after_send
        // after the write (http.h), so a drain that waits for 0 knows every
        // answer left the process.
        in_flight->fetch_add(1);
        HttpResponse response;
        try {
          response = handlers->Handle(request);
        } catch (...) {
          in_flight->fetch_sub(1);
          throw;
        }
        response.after_send = [in_flight,
                               work = std::move(response.after_send)] {
          absl::Cleanup done = [&in_flight] { in_flight->fetch_sub(1); };
          if (work) work();
        };
        return response;
      });
  if (!http.ok()) return http.status();
  server->http_ = *std::move(http);
  HttpServer* edge = server->http_.get();
  metrics->SetEdgeSource([edge] { return edge->edge_stats(); });
  return server;
}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (metrics_ != nullptr) metrics_->SetEdgeSource(nullptr);
  if (http_ != nullptr) http_->Stop();
}

}  // namespace canary::exporter
