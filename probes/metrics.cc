#include "probes/metrics.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
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
#include "probes/stats.h"
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

// Calls observe(phase, seconds) for every phase that happened in a request
// that got a response. A reused connection skips resolve/connect/tls;
// observing its zeros would drag those towards 0 and hide slow DNS.
template <typename Observe>
void ForEachPhase(const BurstResult& burst, Observe observe) {
  auto seconds = [](const RequestResult& r, Phase p) {
    return absl::ToDoubleSeconds(r.phase(p));
  };
  for (const RequestResult& r : burst.requests) {
    if (r.status_code() <= 0) continue;
    if (r.new_connection()) {
      observe(Phase::kResolve, seconds(r, Phase::kResolve));
      observe(Phase::kConnect, seconds(r, Phase::kConnect));
      if (r.phase(Phase::kTls) > absl::ZeroDuration()) {
        observe(Phase::kTls, seconds(r, Phase::kTls));
      }
    }
    observe(Phase::kProcessing, seconds(r, Phase::kProcessing));
    observe(Phase::kTransfer, seconds(r, Phase::kTransfer));
  }
}

MetricFamily PhaseHistograms(const BurstResult& burst,
                             const std::vector<double>& bounds) {
  std::vector<HistogramBuilder> phases;
  phases.reserve(kNumPhases);
  for (int i = 0; i < kNumPhases; ++i) phases.emplace_back(bounds);
  ForEachPhase(burst, [&](Phase p, double v) {
    phases[static_cast<int>(p)].Observe(v);
  });
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

// phases = "quantiles": exact kPhaseQuantiles per phase (a summary per
// phase, NaN quantiles when the phase never happened).
MetricFamily PhaseQuantiles(const BurstResult& burst) {
  std::array<std::vector<double>, kNumPhases> values;
  ForEachPhase(burst, [&](Phase p, double v) {
    values[static_cast<int>(p)].push_back(v);
  });
  MetricFamily f = Family(
      kProbeHttpPhaseDurationQuantileSeconds,
      "Exact quantiles of each request phase in this burst, for requests "
      "that got a response (same population as the phase histogram); NaN "
      "when the phase never happened.",
      MetricType::Summary);
  f.metric.reserve(kNumPhases);
  for (int i = 0; i < kNumPhases; ++i) {
    std::vector<double>& v = values[i];
    std::sort(v.begin(), v.end());
    ClientMetric m;
    m.summary.sample_count = v.size();
    for (double x : v) m.summary.sample_sum += x;
    for (double q : kPhaseQuantiles) {
      m.summary.quantile.push_back({.quantile = q, .value = Quantile(v, q)});
    }
    m.label.push_back({kLabelPhase, PhaseName(static_cast<Phase>(i))});
    f.metric.push_back(std::move(m));
  }
  return f;
}

// The status code blackbox's `probe_http_status_code` alerts should see for
// a burst: the worst response. An invalid status (result http_status) is
// worse than any valid one; among equals the highest code. 0: no response.
int WorstStatusCode(const BurstResult& burst) {
  int worst = 0;
  bool worst_invalid = false;
  for (const RequestResult& r : burst.requests) {
    const int code = r.status_code();
    if (code <= 0) continue;
    const bool invalid = r.result() == ResultClass::kHttpStatus;
    if ((invalid && !worst_invalid) ||
        (invalid == worst_invalid && code > worst)) {
      worst = code;
      worst_invalid = invalid;
    }
  }
  return worst;
}

// FNV-1a (32 bit) of the address's 16-byte form, IPv4 as ::ffff:a.b.c.d
// (how Go holds the address blackbox hashes). 0 for no address.
double AddressHash(const std::string& address, int* protocol) {
  unsigned char bytes[16] = {};
  *protocol = 0;
  if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    *protocol = 6;
  } else if (inet_pton(AF_INET, address.c_str(), bytes + 12) == 1) {
    *protocol = 4;
    bytes[10] = bytes[11] = 0xff;
  } else {
    return 0;
  }
  uint32_t h = 2166136261u;
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 16777619u;
  }
  return static_cast<double>(h);
}

// blackbox_exporter's http metrics for a burst (docs/metrics.md,
// "blackbox_exporter-compatible metrics").
void AddCompatFamilies(const BurstResult& burst,
                       std::vector<MetricFamily>* out) {
  const CompatFacts& f = burst.compat;
  out->push_back(SingleGauge(
      kProbeHttpStatusCode,
      "Status code of the worst response of this burst (an invalid code "
      "before a valid one, then the highest); 0 when none got a response.",
      WorstStatusCode(burst)));
  out->push_back(SingleGauge(
      kProbeHttpVersion,
      "Lowest HTTP version of the responses of this burst (1.1, 2); 0 when "
      "none got a response.",
      f.lowest_http_version / 10.0));
  out->push_back(SingleGauge(
      kProbeHttpSsl,
      "1 when every response of this burst came over TLS (after redirects), "
      "else 0.",
      f.responses > 0 && f.tls_responses == f.responses ? 1 : 0));
  out->push_back(SingleGauge(kProbeHttpRedirects,
                             "Most redirects a request of this burst followed.",
                             f.max_redirects));
  out->push_back(SingleGauge(
      kProbeHttpContentLength,
      "Content-Length of the last response of this burst; -1 when it had "
      "none, 0 when no request got a response.",
      static_cast<double>(f.last_content_length)));
  int64_t last_body = 0;
  for (auto it = burst.requests.rbegin(); it != burst.requests.rend(); ++it) {
    if (it->status_code() > 0) {
      last_body = it->bytes_received();
      break;
    }
  }
  out->push_back(SingleGauge(
      kProbeHttpUncompressedBodyLength,
      "Body bytes of the last response of this burst after decoding "
      "(Content-Encoding).",
      static_cast<double>(last_body)));

  std::array<double, kNumPhases> sums{};
  std::array<int64_t, kNumPhases> counts{};
  ForEachPhase(burst, [&](Phase p, double v) {
    sums[static_cast<int>(p)] += v;
    ++counts[static_cast<int>(p)];
  });
  MetricFamily phases = Family(
      kProbeHttpDurationSeconds,
      "Mean duration of each phase over the requests of this burst in "
      "which it happened (redirects summed per request); 0 when it never "
      "did.",
      MetricType::Gauge);
  for (int i = 0; i < kNumPhases; ++i) {
    phases.metric.push_back(LabeledGauge(
        kLabelPhase, PhaseName(static_cast<Phase>(i)),
        counts[i] > 0 ? sums[i] / static_cast<double>(counts[i]) : 0));
  }
  out->push_back(std::move(phases));

  double resolve_sum = 0;
  int64_t resolves = 0;
  for (const RequestResult& r : burst.requests) {
    if (!r.new_connection()) continue;
    resolve_sum += absl::ToDoubleSeconds(r.phase(Phase::kResolve));
    ++resolves;
  }
  out->push_back(SingleGauge(
      kProbeDnsLookupTimeSeconds,
      "Mean DNS lookup time of the requests of this burst that opened a "
      "connection; 0 when none did.",
      resolves > 0 ? resolve_sum / static_cast<double>(resolves) : 0));
  int protocol = 0;
  const double hash = AddressHash(f.last_address, &protocol);
  out->push_back(SingleGauge(
      kProbeIpProtocol,
      "IP version (4 or 6) of the last connection this burst opened; 0 when "
      "none.",
      protocol));
  out->push_back(SingleGauge(
      kProbeIpAddrHash,
      "FNV-1a hash of the address of the last connection this burst opened; "
      "a change means the target moved.",
      hash));

  if (f.last_tls != nullptr) {
    const TlsFacts& tls = *f.last_tls;
    MetricFamily version =
        Family(kProbeTlsVersionInfo,
               "TLS version of the last TLS response of this burst.",
               MetricType::Gauge);
    version.metric.push_back(LabeledGauge(kLabelVersion, tls.version, 1));
    out->push_back(std::move(version));
    if (f.earliest_verified_chain_expiry.has_value()) {
      out->push_back(SingleGauge(
          kProbeSslLastChainExpiryTimestampSeconds,
          "Earliest NotAfter of the verified certificate chains of this "
          "burst, unix seconds.",
          absl::ToDoubleSeconds(*f.earliest_verified_chain_expiry -
                                absl::UnixEpoch())));
    }
    MetricFamily info =
        Family(kProbeSslLastChainInfo,
               "Leaf certificate of the last TLS response of this burst.",
               MetricType::Gauge);
    ClientMetric m = GaugeMetric(1);
    m.label = {{kLabelFingerprintSha256, tls.fingerprint_sha256},
               {kLabelIssuer, tls.issuer},
               {kLabelSerialNumber, tls.serial_number},
               {kLabelSubject, tls.subject},
               {kLabelSubjectAlternative, tls.subject_alternative}};
    info.metric.push_back(std::move(m));
    out->push_back(std::move(info));
  }

  bool regex_failed = false;
  for (const RequestResult& r : burst.requests) {
    regex_failed = regex_failed || r.result() == ResultClass::kValidation;
  }
  out->push_back(SingleGauge(
      kProbeFailedDueToRegex,
      "1 when a request of this burst failed a body or header check, else "
      "0.",
      regex_failed ? 1 : 0));
}

// The histogram of `stats.latencies` (sorted).
ClientMetric LatencyHistogramMetric(const BurstStats& stats,
                                    const std::vector<double>& bounds) {
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
  return m;
}

MetricFamily LatencyHistogram(const BurstStats& stats,
                              const std::vector<double>& bounds) {
  MetricFamily f = Family(
      kProbeHttpRequestDurationSeconds,
      "Latency of the requests of this burst that got a response, from the "
      "intended start (so queueing behind a slow target counts) to the last "
      "byte.",
      MetricType::Histogram);
  f.metric.push_back(LatencyHistogramMetric(stats, bounds));
  return f;
}

// The exact quantiles of `stats.latencies` (sorted).
ClientMetric LatencySummaryMetric(const BurstStats& stats) {
  ClientMetric m;
  m.summary.sample_count = stats.latencies.size();
  m.summary.sample_sum = stats.sum;
  m.summary.quantile.reserve(std::size(kSummaryQuantiles));
  for (double q : kSummaryQuantiles) {
    m.summary.quantile.push_back(
        {.quantile = q, .value = Quantile(stats.latencies, q)});
  }
  return m;
}

MetricFamily LatencySummary(const BurstStats& stats) {
  MetricFamily f = Family(
      kProbeHttpRequestDurationQuantileSeconds,
      "Exact latency quantiles of this burst (linear interpolation between "
      "closest ranks, as k6); NaN when no request got a response.",
      MetricType::Summary);
  f.metric.push_back(LatencySummaryMetric(stats));
  return f;
}

ClientMetric WithStep(ClientMetric m, const std::string& step) {
  m.label.insert(m.label.begin(), {kLabelStep, step});
  return m;
}

// The families of a scenario: per step (labelled with the config's step
// names only) and per iteration.
void AppendScenarioFamilies(const config::Module& module,
                            const ScenarioStats& sc,
                            std::vector<MetricFamily>* families) {
  const size_t steps = std::min(module.steps.size(), sc.steps.size());
  MetricFamily requests = Family(
      kProbeScenarioStepRequests,
      "Requests of each scenario step in this burst by result class; all "
      "classes are always present for every step.",
      MetricType::Gauge);
  MetricFamily responses =
      Family(kProbeScenarioStepResponses,
             "HTTP responses of each scenario step in this burst by status "
             "code.",
             MetricType::Gauge);
  MetricFamily histogram = Family(
      kProbeScenarioStepDurationSeconds,
      "Latency of each scenario step's requests that got a response, from "
      "the step's intended start to the last byte.",
      MetricType::Histogram);
  MetricFamily summary =
      Family(kProbeScenarioStepDurationQuantileSeconds,
             "Exact latency quantiles of each scenario step in this burst; NaN "
             "when the step got no response.",
             MetricType::Summary);
  MetricFamily failed_by_step =
      Family(kProbeScenarioIterationsFailedByStep,
             "Iterations of this burst that each step ended by failing.",
             MetricType::Gauge);
  for (size_t i = 0; i < steps; ++i) {
    const std::string& name = module.steps[i].name;
    const BurstStats& st = sc.steps[i];
    for (int c = 0; c < kNumResultClasses; ++c) {
      requests.metric.push_back(
          WithStep(LabeledGauge(kLabelResult,
                                ResultClassName(static_cast<ResultClass>(c)),
                                static_cast<double>(st.by_class[c])),
                   name));
    }
    for (const auto& [code, n] : st.by_code) {
      responses.metric.push_back(WithStep(
          LabeledGauge(kLabelCode, absl::StrCat(code), static_cast<double>(n)),
          name));
    }
    histogram.metric.push_back(
        WithStep(LatencyHistogramMetric(st, module.buckets), name));
    summary.metric.push_back(WithStep(LatencySummaryMetric(st), name));
    failed_by_step.metric.push_back(LabeledGauge(
        kLabelStep, name,
        i < sc.failed_at.size() ? static_cast<double>(sc.failed_at[i]) : 0));
  }
  families->push_back(std::move(requests));
  if (!responses.metric.empty()) families->push_back(std::move(responses));
  families->push_back(std::move(histogram));
  families->push_back(std::move(summary));
  MetricFamily iterations = Family(
      kProbeScenarioIterations,
      "Iterations of this burst by outcome: completed (every required step "
      "passed), failed (a step ended it), dropped (planned, never started).",
      MetricType::Gauge);
  for (const auto& [outcome, n] :
       {std::pair<const char*, int64_t>{"completed", sc.completed},
        {"failed", sc.failed},
        {"dropped", sc.dropped}}) {
    iterations.metric.push_back(
        LabeledGauge(kLabelOutcome, outcome, static_cast<double>(n)));
  }
  families->push_back(std::move(iterations));
  families->push_back(std::move(failed_by_step));
  MetricFamily it_hist = Family(
      kProbeScenarioIterationDurationSeconds,
      "Duration of each iteration of this burst, from its intended start to "
      "the end of its last step (think times included).",
      MetricType::Histogram);
  it_hist.metric.push_back(
      LatencyHistogramMetric(sc.iterations, module.buckets));
  families->push_back(std::move(it_hist));
  MetricFamily it_sum = Family(
      kProbeScenarioIterationDurationQuantileSeconds,
      "Exact quantiles of the iteration durations of this burst; NaN when "
      "no iteration ended.",
      MetricType::Summary);
  it_sum.metric.push_back(LatencySummaryMetric(sc.iterations));
  families->push_back(std::move(it_sum));
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
    const ProbeSummary& summary, const ScenarioStats* scenario) {
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
  // A scenario plans and drops iterations: each is one request per step.
  const int64_t per_start =
      module.steps.empty() ? 1 : static_cast<int64_t>(module.steps.size());
  families.push_back(
      SingleGauge(kProbeHttpRequestsPlanned,
                  "Requests the load shape of this burst "
                  "planned.",
                  static_cast<double>(burst.planned * per_start)));
  families.push_back(SingleGauge(kProbeHttpRequestsSent,
                                 "Requests this burst sent and completed.",
                                 static_cast<double>(burst.requests.size())));
  families.push_back(SingleGauge(
      kProbeHttpRequestsDropped,
      "Requests planned but never started in this burst (all virtual users "
      "busy, or the budget ran out).",
      static_cast<double>(burst.dropped * per_start)));
  families.push_back(
      SingleGauge(kProbeBurstTruncated,
                  "1 when the probe budget cut this burst short, else 0.",
                  burst.truncated ? 1 : 0));

  families.push_back(LatencyHistogram(stats, module.buckets));
  switch (module.metrics.phases) {
    case config::MetricsConfig::Phases::kHistogram:
      families.push_back(PhaseHistograms(burst, module.buckets));
      break;
    case config::MetricsConfig::Phases::kQuantiles:
      families.push_back(PhaseQuantiles(burst));
      break;
    case config::MetricsConfig::Phases::kOff:
      break;
  }
  families.push_back(LatencySummary(stats));

  MetricFamily thresholds = Thresholds(module, thresholds_passed);
  if (!thresholds.metric.empty()) families.push_back(std::move(thresholds));

  int64_t bytes = 0;
  for (const RequestResult& r : burst.requests) bytes += r.bytes_received();
  families.push_back(SingleGauge(
      kProbeHttpReceivedBytes,
      "Response body bytes received by this burst, including any beyond the "
      "body size limit.",
      static_cast<double>(bytes)));

  if (scenario != nullptr && !module.steps.empty()) {
    AppendScenarioFamilies(module, *scenario, &families);
  }

  if (burst.earliest_cert_expiry.has_value()) {
    families.push_back(SingleGauge(
        kProbeSslEarliestCertExpiry,
        "Earliest NotAfter of the TLS certificates seen, as unix seconds.",
        absl::ToDoubleSeconds(*burst.earliest_cert_expiry -
                              absl::UnixEpoch())));
  }
  if (module.metrics.blackbox_compat) AddCompatFamilies(burst, &families);
  return families;
}

}  // namespace canary::probes
