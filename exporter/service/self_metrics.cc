#include "exporter/service/self_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporter/process/version.h"
#include "exporter/service/admission.h"
#include "probes/exposition.h"
#include "probes/result.h"

namespace canary::exporter {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

prometheus::MetricFamily OneValue(const char* name, const char* help,
                                  prometheus::MetricType type, double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {m}};
}

std::optional<double> BootTimeSeconds() {
  std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double v;
      if (absl::SimpleAtod(line, &v)) return v;
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetricFamilies() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  // The command name in field 2 may hold spaces and ')'; fields are counted
  // from after its last ')'. fields[0] is field 3 (state) of proc(5).
  if (std::optional<std::string> stat = ReadFile("/proc/self/stat")) {
    size_t paren = stat->rfind(')');
    if (paren != std::string::npos) {
      std::vector<absl::string_view> f = absl::StrSplit(
          absl::string_view(*stat).substr(paren + 1), ' ', absl::SkipEmpty());
      double utime, stime, start, vsize, rss;
      if (f.size() > 21 && absl::SimpleAtod(f[11], &utime) &&
          absl::SimpleAtod(f[12], &stime) && absl::SimpleAtod(f[19], &start) &&
          absl::SimpleAtod(f[20], &vsize) && absl::SimpleAtod(f[21], &rss)) {
        out.push_back(OneValue("process_cpu_seconds_total",
                               "Total user and system CPU time spent in "
                               "seconds.",
                               MetricType::Counter, (utime + stime) / ticks));
        out.push_back(OneValue("process_resident_memory_bytes",
                               "Resident memory size in bytes.",
                               MetricType::Gauge, rss * page));
        out.push_back(OneValue("process_virtual_memory_bytes",
                               "Virtual memory size in bytes.",
                               MetricType::Gauge, vsize));
        if (std::optional<double> boot = BootTimeSeconds()) {
          out.push_back(OneValue("process_start_time_seconds",
                                 "Start time of the process since unix epoch "
                                 "in seconds.",
                                 MetricType::Gauge, *boot + start / ticks));
        }
      }
    }
  }

  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.push_back(OneValue("process_open_fds",
                           "Number of open file descriptors.",
                           MetricType::Gauge, fds));
  }
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(
        OneValue("process_max_fds", "Maximum number of open file descriptors.",
                 MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

SelfMetrics::SelfMetrics()
    : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("canary_exporter_build_info")
      .Help(
          "A metric with a constant '1' value labeled by version and "
          "revision of canary_exporter.")
      .Register(*registry_)
      .Add({{"version", Version()}, {"revision", Revision()}})
      .Set(1);
  reload_success_ = &prometheus::BuildGauge()
                         .Name("canary_exporter_config_last_reload_successful")
                         .Help(
                             "Whether the last configuration reload "
                             "attempt was successful (1) or not (0).")
                         .Register(*registry_);
  reload_timestamp_ =
      &prometheus::BuildGauge()
           .Name("canary_exporter_config_last_reload_success_timestamp_seconds")
           .Help("Timestamp of the last successful configuration reload.")
           .Register(*registry_);
  probes_ = &prometheus::BuildCounter()
                 .Name("canary_exporter_probes_total")
                 .Help("Probes run, by module and result (success|failure).")
                 .Register(*registry_);
  requests_ = &prometheus::BuildCounter()
                   .Name("canary_exporter_probe_requests_total")
                   .Help(
                       "Requests sent by probes, by module and result "
                       "class.")
                   .Register(*registry_);
  in_flight_ = &prometheus::BuildGauge()
                    .Name("canary_exporter_probes_in_flight")
                    .Help("Probes running now.")
                    .Register(*registry_);
  in_flight_->Add({});
  rejections_ = &prometheus::BuildCounter()
                     .Name("canary_exporter_probe_rejections_total")
                     .Help(
                         "Probe requests refused before probing, by "
                         "reason.")
                     .Register(*registry_);
  rejections_->Add({{"reason", kRejectBadRequest}});
  for (const char* reason :
       {kRejectMaxConcurrentProbes, kRejectMaxInflightRequests}) {
    rejections_->Add({{"reason", reason}});
  }
  shared_ = &prometheus::BuildCounter()
                 .Name("canary_exporter_probes_shared_total")
                 .Help(
                     "Probes answered with the burst of a concurrent probe "
                     "of the same target and module (single flight), by "
                     "module.")
                 .Register(*registry_);
  cached_ = &prometheus::BuildCounter()
                 .Name("canary_exporter_probes_cached_total")
                 .Help(
                     "Probes answered with the previous burst's result "
                     "because they came within the module's min_interval, "
                     "by module.")
                 .Register(*registry_);
  rejections_->Add({{"reason", kRejectForbidden}});
  rejections_->Add({{"reason", kRejectShuttingDown}});
}

void SelfMetrics::ConfigLoaded(bool success, absl::Time when) {
  reload_success_->Add({}).Set(success ? 1 : 0);
  if (success)
    reload_timestamp_->Add({}).Set(
        absl::ToDoubleSeconds(when - absl::UnixEpoch()));
}

void SelfMetrics::ProbeStarted() { in_flight_->Add({}).Increment(); }

void SelfMetrics::ProbeFinished(const std::string& module,
                                const probes::ProbeReport& report) {
  in_flight_->Add({}).Decrement();
  // Every label pair exists from a module's first probe on, so rate() and
  // absent-series alerts see zeros rather than nothing.
  prometheus::Counter& success =
      probes_->Add({{"module", module}, {"result", "success"}});
  prometheus::Counter& failure =
      probes_->Add({{"module", module}, {"result", "failure"}});
  (report.success ? success : failure).Increment();

  std::array<prometheus::Counter*, probes::kNumResultClasses> by_class;
  for (int i = 0; i < probes::kNumResultClasses; ++i) {
    by_class[i] = &requests_->Add(
        {{"module", module},
         {"result",
          probes::ResultClassName(static_cast<probes::ResultClass>(i))}});
  }
  for (int i = 0; i < probes::kNumResultClasses; ++i) {
    const int64_t n = report.stats.by_class[i];
    if (n > 0) by_class[i]->Increment(static_cast<double>(n));
  }
}

void SelfMetrics::ProbeRejected(absl::string_view reason) {
  rejections_->Add({{"reason", std::string(reason)}}).Increment();
}

void SelfMetrics::ProbeShared(const std::string& module) {
  shared_->Add({{"module", module}}).Increment();
}

void SelfMetrics::ProbeCached(const std::string& module) {
  cached_->Add({{"module", module}}).Increment();
}

void SelfMetrics::SetEdgeSource(std::function<EdgeStats()> source) {
  canary::MutexLock lock(&edge_mu_);
  edge_source_ = std::move(source);
}

namespace {

// The front listener's counters, read when /metrics is scraped.
void AppendEdgeFamilies(const EdgeStats& s,
                        std::vector<prometheus::MetricFamily>* out) {
  prometheus::MetricFamily shed{
      "canary_exporter_http_connections_shed_total",
      "Connections to the exporter's port closed before reaching an HTTP "
      "worker, by reason.",
      prometheus::MetricType::Counter,
      {}};
  for (const auto& [reason, value] :
       {std::pair{"per_client", s.shed_per_client},
        std::pair{"max_connections", s.shed_max_connections},
        std::pair{"head_timeout", s.shed_head_timeout},
        std::pair{"bad_request", s.shed_bad_request},
        std::pair{"head_too_large", s.shed_head_too_large}}) {
    prometheus::ClientMetric m;
    m.label = {{"reason", reason}};
    m.counter.value = static_cast<double>(value);
    shed.metric.push_back(std::move(m));
  }
  out->push_back(std::move(shed));
  out->push_back(OneValue("canary_exporter_http_connections_open",
                          "Connections open on the exporter's port.",
                          prometheus::MetricType::Gauge,
                          static_cast<double>(s.open_connections)));
  out->push_back(OneValue(
      "canary_exporter_http_connections_awaiting_head",
      "Open connections that have not sent a complete request head yet.",
      prometheus::MetricType::Gauge, static_cast<double>(s.waiting_for_head)));
}

}  // namespace

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  {
    canary::MutexLock lock(&edge_mu_);
    if (edge_source_) AppendEdgeFamilies(edge_source_(), &families);
  }
  for (prometheus::MetricFamily& f : ProcessMetricFamilies()) {
    families.push_back(std::move(f));
  }
  return families;
}

absl::StatusOr<std::string> SelfMetrics::Serialize() const {
  try {
    // The one exposition writer, as /probe's answer (probes/exposition.h).
    return probes::SerializeFamilies(Collect());
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("serializing self-metrics: ", e.what()));
  }
}

}  // namespace canary::exporter
