#include "probes/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "probes/metric_names.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace canary::probes {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

ClientMetric GaugeMetric(double value) {
  ClientMetric m;
  m.gauge.value = value;
  return m;
}

ClientMetric LabeledGauge(const char* label, std::string label_value,
                          double value) {
  ClientMetric m = GaugeMetric(value);
  m.label.push_back({label, std::move(label_value)});
  return m;
}

MetricFamily SingleGauge(const char* name, const char* help, double value) {
  MetricFamily f = Family(name, help, MetricType::Gauge);
  f.metric.push_back(GaugeMetric(value));
  return f;
}

// Accumulates observations into per-burst (not cumulative-over-time)
// histogram buckets; +Inf is implied and added by the serializer.
class HistogramBuilder {
 public:
  explicit HistogramBuilder(const std::vector<double>& bounds)
      : bounds_(bounds), counts_(bounds.size(), 0) {}

  void Observe(double v) {
    ++count_;
    sum_ += v;
    // Bucket `le` counts v <= le, so the first bound not below v.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    if (it != bounds_.end()) ++counts_[it - bounds_.begin()];
  }

  ClientMetric Build() const {
    ClientMetric m;
    m.histogram.sample_count = count_;
    m.histogram.sample_sum = sum_;
    m.histogram.bucket.reserve(bounds_.size());
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += counts_[i];
      m.histogram.bucket.push_back(
          {.cumulative_count = cumulative, .upper_bound = bounds_[i]});
    }
    return m;
  }

 private:
  const std::vector<double>& bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

MetricFamily RequestsByResult(const BurstStats& stats) {
  const std::array<int64_t, kNumResultClasses>& counts = stats.by_class;
  MetricFamily f =
      Family(kProbeHttpRequests,
             "Requests of this burst by result class; all classes are always "
             "present, zeros included.",
             MetricType::Gauge);
  f.metric.reserve(kNumResultClasses);
  for (int i = 0; i < kNumResultClasses; ++i) {
    f.metric.push_back(
        LabeledGauge(kLabelResult, ResultClassName(static_cast<ResultClass>(i)),
                     static_cast<double>(counts[i])));
  }
  return f;
}

MetricFamily ResponsesByCode(const BurstStats& stats) {
  const std::map<int, int64_t>& counts = stats.by_code;
  MetricFamily f =
      Family(kProbeHttpResponses,
             "HTTP responses of this burst by status code.", MetricType::Gauge);
  f.metric.reserve(counts.size());
  for (const auto& [code, n] : counts) {
    f.metric.push_back(
        LabeledGauge(kLabelCode, absl::StrCat(code), static_cast<double>(n)));
  }
  return f;
}

MetricFamily PhaseHistograms(const BurstResult& burst,
                             const std::vector<double>& bounds) {
  std::vector<HistogramBuilder> phases;
  phases.reserve(kNumPhases);
  for (int i = 0; i < kNumPhases; ++i) phases.emplace_back(bounds);
  auto observe = [&](const RequestResult& r, Phase p) {
    phases[static_cast<int>(p)].Observe(
        absl::ToDoubleSeconds(r.phases[static_cast<int>(p)]));
  };
  for (const RequestResult& r : burst.requests) {
    if (r.status_code <= 0) continue;
    // A reused connection skips resolve/connect/tls; observing its zeros
    // would drag those histograms towards 0 and hide slow DNS.
    if (r.new_connection) {
      observe(r, Phase::kResolve);
      observe(r, Phase::kConnect);
      if (r.phases[static_cast<int>(Phase::kTls)] > absl::ZeroDuration()) {
        observe(r, Phase::kTls);
      }
    }
    observe(r, Phase::kProcessing);
    observe(r, Phase::kTransfer);
  }
  MetricFamily f = Family(
      kProbeHttpPhaseDurationSeconds,
      "Duration of each request phase in this burst, for requests that got "
      "a response: resolve (DNS), connect (TCP) and tls (handshake) only "
      "when the request opened a connection; processing (request sent to "
      "first response byte) and transfer (first to last byte) always.",
      MetricType::Histogram);
  f.metric.reserve(kNumPhases);
  for (int i = 0; i < kNumPhases; ++i) {
    ClientMetric m = phases[i].Build();
    m.label.push_back({kLabelPhase, PhaseName(static_cast<Phase>(i))});
    f.metric.push_back(std::move(m));
  }
  return f;
}

MetricFamily LatencyHistogram(const BurstStats& stats,
                              const std::vector<double>& bounds) {
  MetricFamily f = Family(
      kProbeHttpRequestDurationSeconds,
      "Latency of the requests of this burst that got a response, from the "
      "intended start (so queueing behind a slow target counts) to the last "
      "byte.",
      MetricType::Histogram);
  ClientMetric m;
  m.histogram.sample_count = stats.latencies.size();
  m.histogram.sample_sum = stats.sum;
  m.histogram.bucket.reserve(bounds.size());
  for (double le : bounds) {
    // latencies are sorted: the cumulative count is a binary search.
    auto end =
        std::upper_bound(stats.latencies.begin(), stats.latencies.end(), le);
    m.histogram.bucket.push_back({.cumulative_count = static_cast<uint64_t>(
                                      end - stats.latencies.begin()),
                                  .upper_bound = le});
  }
  f.metric.push_back(std::move(m));
  return f;
}

MetricFamily LatencySummary(const BurstStats& stats) {
  MetricFamily f = Family(
      kProbeHttpRequestDurationQuantileSeconds,
      "Exact latency quantiles of this burst (linear interpolation between "
      "closest ranks, as k6); NaN when no request got a response.",
      MetricType::Summary);
  ClientMetric m;
  m.summary.sample_count = stats.latencies.size();
  m.summary.sample_sum = stats.sum;
  m.summary.quantile.reserve(std::size(kSummaryQuantiles));
  for (double q : kSummaryQuantiles) {
    m.summary.quantile.push_back(
        {.quantile = q, .value = Quantile(stats.latencies, q)});
  }
  f.metric.push_back(std::move(m));
  return f;
}

MetricFamily Thresholds(const config::Module& module,
                        const std::vector<bool>& passed) {
  MetricFamily f = Family(
      kProbeHttpThresholdPassed,
      "Whether each threshold of the module held for this burst (1) or not "
      "(0); the label is the threshold as written in the config.",
      MetricType::Gauge);
  f.metric.reserve(module.thresholds.size());
  // Two identical sources would be a duplicate series, which Prometheus
  // rejects for the whole scrape: write each once, failed if any failed.
  // Modules have a handful of thresholds, so a linear search is cheapest.
  for (size_t i = 0; i < module.thresholds.size(); ++i) {
    const std::string& source = module.thresholds[i].source;
    const bool ok = i < passed.size() && passed[i];
    auto it = std::find_if(
        f.metric.begin(), f.metric.end(),
        [&](const ClientMetric& m) { return m.label[0].value == source; });
    if (it != f.metric.end()) {
      if (!ok) it->gauge.value = 0;
      continue;
    }
    f.metric.push_back(LabeledGauge(kLabelThreshold, source, ok ? 1 : 0));
  }
  return f;
}

}  // namespace

std::vector<MetricFamily> BuildProbeFamilies(
    const BurstResult& burst, const BurstStats& stats,
    const config::Module& module, const std::vector<bool>& thresholds_passed,
    const ProbeSummary& summary) {
  std::vector<MetricFamily> families;
  families.reserve(16);
  families.push_back(SingleGauge(
      kProbeSuccess,
      "Whether the probe succeeded (1) or not (0): the burst made at least "
      "one request and every threshold held; without an error_rate "
      "threshold, every request must also have succeeded.",
      summary.success ? 1 : 0));
  families.push_back(SingleGauge(
      kProbeDurationSeconds, "Wall time of the whole probe in seconds.",
      absl::ToDoubleSeconds(summary.probe_duration)));
  families.push_back(SingleGauge(
      kProbeTimeoutSeconds,
      "Time budget of this probe in seconds (from the scrape timeout "
      "header minus an offset, or the exporter's default).",
      absl::ToDoubleSeconds(summary.budget)));

  families.push_back(RequestsByResult(stats));
  MetricFamily responses = ResponsesByCode(stats);
  if (!responses.metric.empty()) families.push_back(std::move(responses));
  families.push_back(SingleGauge(kProbeHttpRequestsPlanned,
                                 "Requests the load shape of this burst "
                                 "planned.",
                                 static_cast<double>(burst.planned)));
  families.push_back(SingleGauge(kProbeHttpRequestsSent,
                                 "Requests this burst sent and completed.",
                                 static_cast<double>(burst.requests.size())));
  families.push_back(SingleGauge(
      kProbeHttpRequestsDropped,
      "Requests planned but never started in this burst (all virtual users "
      "busy, or the budget ran out).",
      static_cast<double>(burst.dropped)));
  families.push_back(
      SingleGauge(kProbeBurstTruncated,
                  "1 when the probe budget cut this burst short, else 0.",
                  burst.truncated ? 1 : 0));

  families.push_back(LatencyHistogram(stats, module.buckets));
  families.push_back(PhaseHistograms(burst, module.buckets));
  families.push_back(LatencySummary(stats));

  MetricFamily thresholds = Thresholds(module, thresholds_passed);
  if (!thresholds.metric.empty()) families.push_back(std::move(thresholds));

  int64_t bytes = 0;
  for (const RequestResult& r : burst.requests) bytes += r.bytes_received;
  families.push_back(SingleGauge(
      kProbeHttpReceivedBytes,
      "Response body bytes received by this burst, including any beyond the "
      "body size limit.",
      static_cast<double>(bytes)));

  if (burst.earliest_cert_expiry.has_value()) {
    families.push_back(SingleGauge(
        kProbeSslEarliestCertExpiry,
        "Earliest NotAfter of the TLS certificates seen, as unix seconds.",
        absl::ToDoubleSeconds(*burst.earliest_cert_expiry -
                              absl::UnixEpoch())));
  }
  return families;
}

namespace {

// The text format 0.0.4, written straight into one string. Numbers use
// std::to_chars (the shortest text that reads back as the same double),
// where prometheus::TextSerializer goes through std::ostream and printf:
// that was a third of the CPU of a one-request /probe (docs/benchmarks.md).
// tests/probes/exposition_test.cc checks the output against
// prometheus::TextSerializer's, sample by sample.
void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("Nan");
  } else if (std::isinf(v)) {
    out->append(v < 0 ? "-Inf" : "+Inf");
  } else {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, ec == std::errc() ? end : buf);
  }
}

void AppendCount(uint64_t v, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, ec == std::errc() ? end : buf);
}

void AppendLabelValue(const std::string& value, std::string* out) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

// name + suffix + {labels[,extra="..."]} + space. `extra_value` is
// appended raw (a formatted number).
void AppendHead(const MetricFamily& family, const ClientMetric& metric,
                absl::string_view suffix, absl::string_view extra_name,
                absl::string_view extra_value, std::string* out) {
  out->append(family.name);
  out->append(suffix.data(), suffix.size());
  if (!metric.label.empty() || !extra_name.empty()) {
    out->push_back('{');
    const char* sep = "";
    for (const ClientMetric::Label& l : metric.label) {
      absl::StrAppend(out, sep, l.name, "=\"");
      AppendLabelValue(l.value, out);
      out->push_back('"');
      sep = ",";
    }
    if (!extra_name.empty()) {
      absl::StrAppend(out, sep, extra_name, "=\"", extra_value, "\"");
    }
    out->push_back('}');
  }
  out->push_back(' ');
}

void AppendTail(const ClientMetric& metric, std::string* out) {
  if (metric.timestamp_ms != 0) {
    out->push_back(' ');
    absl::StrAppend(out, metric.timestamp_ms);
  }
  out->push_back('\n');
}

// The _count and _sum lines of a summary or histogram.
void AppendCountAndSum(const MetricFamily& family, const ClientMetric& metric,
                       uint64_t count, double sum, std::string* out) {
  AppendHead(family, metric, "_count", "", "", out);
  AppendCount(count, out);
  AppendTail(metric, out);
  AppendHead(family, metric, "_sum", "", "", out);
  AppendDouble(sum, out);
  AppendTail(metric, out);
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

void AppendFamily(const MetricFamily& family, std::string* out) {
  if (!family.help.empty()) {
    absl::StrAppend(out, "# HELP ", family.name, " ");
    for (const char c : family.help) {
      if (c == '\\') {
        out->append("\\\\");
      } else if (c == '\n') {
        out->append("\\n");
      } else {
        out->push_back(c);
      }
    }
    out->push_back('\n');
  }
  absl::StrAppend(out, "# TYPE ", family.name, " ", TypeName(family.type),
                  "\n");
  std::string number;
  for (const ClientMetric& m : family.metric) {
    switch (family.type) {
      case MetricType::Counter:
      case MetricType::Gauge:
      case MetricType::Untyped:
        AppendHead(family, m, "", "", "", out);
        AppendDouble(family.type == MetricType::Counter ? m.counter.value
                     : family.type == MetricType::Gauge ? m.gauge.value
                                                        : m.untyped.value,
                     out);
        AppendTail(m, out);
        break;
      case MetricType::Summary:
        AppendCountAndSum(family, m, m.summary.sample_count,
                          m.summary.sample_sum, out);
        for (const ClientMetric::Quantile& q : m.summary.quantile) {
          number.clear();
          AppendDouble(q.quantile, &number);
          AppendHead(family, m, "", "quantile", number, out);
          AppendDouble(q.value, out);
          AppendTail(m, out);
        }
        break;
      case MetricType::Histogram: {
        AppendCountAndSum(family, m, m.histogram.sample_count,
                          m.histogram.sample_sum, out);
        bool has_inf = false;
        for (const ClientMetric::Bucket& b : m.histogram.bucket) {
          number.clear();
          AppendDouble(b.upper_bound, &number);
          has_inf = std::isinf(b.upper_bound) && b.upper_bound > 0;
          AppendHead(family, m, "_bucket", "le", number, out);
          AppendCount(b.cumulative_count, out);
          AppendTail(m, out);
        }
        if (!has_inf) {
          AppendHead(family, m, "_bucket", "le", "+Inf", out);
          AppendCount(m.histogram.sample_count, out);
          AppendTail(m, out);
        }
        break;
      }
    }
  }
}

}  // namespace

std::string SerializeFamilies(const std::vector<MetricFamily>& families) {
  std::string out;
  size_t series = 0;
  for (const MetricFamily& f : families) series += f.metric.size() + 2;
  out.reserve(series * 64);
  for (const MetricFamily& f : families) AppendFamily(f, &out);
  return out;
}

}  // namespace canary::probes
