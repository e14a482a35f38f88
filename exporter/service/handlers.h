// handlers.h: what each HTTP endpoint answers, apart from the HTTP server
// (exporter/http/ adapts CivetWeb requests to the plain values of
// exporter/http/http.h; server.h puts the two together).
//
//   Handlers h(prober, store, metrics, {.timeout_offset = absl::Seconds(0.5)});
//   HttpResponse r = h.Handle({.method = "GET", .path = "/probe",
//                              .query = {{"target",
//                              "http://127.0.0.1:8080"}}});
//
// Endpoints: GET /probe?target=URL&module=NAME (module defaults to
// "canary"; &debug=true answers the debug text of debug_view.h instead of
// metrics), GET /debug?id=N (a recent probe's debug text), GET /metrics, GET
// /-/healthy, GET /-/ready, POST /-/reload, GET / (landing page); anything else
// 404, a wrong method 405 with Allow. With [web] basic_auth_users, every path
// first needs valid credentials: 401 with WWW-Authenticate otherwise
// (web_auth.h). A bad /probe request is 400 with a one-line plain-text reason
// (414 for an over-long target or query, exporter/service/input_limits.h); a
// probe over the load limit is 503 at once (exporter/service/admission.h); a
// failing target is still 200 (probe_success 0 in the body). After
// BeginShutdown, /-/ready and a new /probe are 503.
//
// Thread-safety: Handle() may run on many threads at once.
// Errors: none returned; every failure is an HTTP status.
#ifndef CANARY_EXPORTER_SERVICE_HANDLERS_H_
#define CANARY_EXPORTER_SERVICE_HANDLERS_H_

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "exporter/http/http.h"
#include "exporter/http/web_auth.h"
#include "exporter/process/log.h"
#include "exporter/service/admission.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/views/probe_history.h"
#include "probes/prober.h"

namespace canary::exporter {

inline constexpr char kDefaultModule[] = "canary";
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

struct HandlerOptions {
  absl::Duration timeout_offset = absl::Milliseconds(500);
  // Recent probes kept for the landing page; 0 keeps none.
  size_t history_limit = kDefaultHistoryLimit;
  // Size of the HTTP worker pool serving these handlers (0: unknown); a
  // reload past it logs WorkerPoolWarning (admission.h).
  int worker_threads = 0;
};

class Handlers {
 public:
  // None is owned; all must outlive the Handlers. `logger` may be null
  // (then GlobalLogger()).
  Handlers(probes::Prober* prober, ConfigStore* store, SelfMetrics* metrics,
           HandlerOptions options, Logger* logger = nullptr);

  HttpResponse Handle(const HttpRequest& request);

  // Shutdown, first step (main.cc on SIGTERM): from now on /-/ready answers
  // 503 so that load balancers stop sending, and a new /probe is refused
  // with 503; probes already running go on and get their answers.
  void BeginShutdown() { shutting_down_.store(true); }

 private:
  HttpResponse Probe(const HttpRequest& request);
  HttpResponse Metrics();
  HttpResponse Reload();
  HttpResponse Landing(const HttpRequest& request);
  HttpResponse DebugRecord(const HttpRequest& request);
  HttpResponse Reject(std::string reason);

  probes::Prober* const prober_;
  ConfigStore* const store_;
  SelfMetrics* const metrics_;
  const HandlerOptions options_;
  Logger* const logger_;
  ProbeCoordinator coordinator_;  // single flight, min_interval, load limit
  ProbeHistory history_;
  BasicAuthenticator auth_;  // [web] basic_auth_users, on every endpoint
  std::atomic<bool> shutting_down_{false};
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_HANDLERS_H_
