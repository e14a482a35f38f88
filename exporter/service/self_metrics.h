// self_metrics.h: the exporter's own metrics, served on /metrics from one
// long-lived registry, plus process metrics read from /proc/self at scrape
// time.
//
//   SelfMetrics metrics;
//   metrics.ProbeStarted();
//   metrics.ProbeFinished("canary", report);
//   absl::StatusOr<std::string> text = metrics.Serialize();
//
// Families: canary_exporter_build_info{version,revision} (1),
// canary_exporter_config_last_reload_successful,
// canary_exporter_config_last_reload_success_timestamp_seconds,
// canary_exporter_probes_total{module,result} (success|failure),
// canary_exporter_probe_requests_total{module,result} (the 9 classes of
// probes/result.h), canary_exporter_probes_in_flight,
// canary_exporter_probe_rejections_total{reason} (bad_request: a /probe
// answered 400; forbidden: 403, probes/allowlist.h; the load limit's
// reasons of exporter/service/admission.h: 503),
// canary_exporter_probes_shared_total{module} and
// canary_exporter_probes_cached_total{module} (answered from another
// probe's burst: single flight, min_interval),
// canary_exporter_http_connections_shed_total{reason} and
// canary_exporter_http_connections_{open,awaiting_head} (the front
// listener's, exporter/http/edge_listener.h, once SetEdgeSource is called),
// and process_{cpu_seconds_total,resident_memory_bytes,
// virtual_memory_bytes,open_fds,max_fds,start_time_seconds}.
//
// Thread-safety: every method is thread-safe.
// /metrics is written by the same exposition writer as /probe
// (probes/exposition.h).
// Errors: Serialize returns Internal if collecting the metrics throws.
#ifndef CANARY_EXPORTER_SERVICE_SELF_METRICS_H_
#define CANARY_EXPORTER_SERVICE_SELF_METRICS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/sync.h"
#include "exporter/http/edge_listener.h"
#include "probes/prober.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace canary::exporter {

// Values of the `reason` label of canary_exporter_probe_rejections_total.
inline constexpr char kRejectBadRequest[] = "bad_request";
// A /probe answered 403: the target is not in [security] allowed_targets.
inline constexpr char kRejectForbidden[] = "forbidden";
// A /probe answered 503 because the exporter is shutting down (SIGTERM).
inline constexpr char kRejectShuttingDown[] = "shutting_down";

class SelfMetrics {
 public:
  SelfMetrics();
  SelfMetrics(const SelfMetrics&) = delete;
  SelfMetrics& operator=(const SelfMetrics&) = delete;

  // Records the outcome of a config (re)load; `when` is wall-clock time.
  void ConfigLoaded(bool success, absl::Time when);

  void ProbeStarted();  // probes_in_flight + 1
  // probes_in_flight − 1; counts the probe and each of its requests.
  void ProbeFinished(const std::string& module,
                     const probes::ProbeReport& report);
  void ProbeRejected(absl::string_view reason);
  // A probe answered with a burst it shared with a concurrent probe, or
  // with the last burst's result again (min_interval).
  void ProbeShared(const std::string& module);
  void ProbeCached(const std::string& module);

  // Where Collect reads the front listener's counters; an empty function
  // (the server stopped) leaves them out.
  void SetEdgeSource(std::function<EdgeStats()> source);

  // The registry's families followed by the process metrics.
  std::vector<prometheus::MetricFamily> Collect() const;
  // Collect() in the Prometheus text format 0.0.4.
  absl::StatusOr<std::string> Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>* reload_success_;
  prometheus::Family<prometheus::Gauge>* reload_timestamp_;
  prometheus::Family<prometheus::Counter>* probes_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Gauge>* in_flight_;
  prometheus::Family<prometheus::Counter>* rejections_;
  prometheus::Family<prometheus::Counter>* shared_;
  prometheus::Family<prometheus::Counter>* cached_;
  mutable canary::Mutex edge_mu_;
  std::function<EdgeStats()> edge_source_ ABSL_GUARDED_BY(edge_mu_);
};

// process_* families for this process, from /proc/self; a value that cannot
// be read is left out.
std::vector<prometheus::MetricFamily> ProcessMetricFamilies();

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_SELF_METRICS_H_
