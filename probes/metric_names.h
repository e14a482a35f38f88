// metric_names.h: the names and label names of every metric a /probe answer
// carries, in one place so code, tests, docs/metrics.md and dashboards agree.
//
//   family.name = kProbeSuccess;
//   metric.label.push_back({kLabelResult, ResultClassName(c)});
//
// Every /probe metric describes one burst only: gauges, per-burst histograms
// and one summary, never `_total` counters. Thread-safety: constants.
#ifndef CANARY_PROBES_METRIC_NAMES_H_
#define CANARY_PROBES_METRIC_NAMES_H_

namespace canary::probes {

// Probe outcome (blackbox_exporter conventions).
inline constexpr char kProbeSuccess[] = "probe_success";
inline constexpr char kProbeDurationSeconds[] = "probe_duration_seconds";
inline constexpr char kProbeTimeoutSeconds[] = "probe_timeout_seconds";
// 1 when the answer is the previous burst's result again (the module's
// min_interval had not passed), else 0. Added by the exporter's handler.
inline constexpr char kProbeCached[] = "probe_cached";

// Request accounting of the burst.
inline constexpr char kProbeHttpRequests[] = "probe_http_requests";
inline constexpr char kProbeHttpResponses[] = "probe_http_responses";
inline constexpr char kProbeHttpRequestsPlanned[] =
    "probe_http_requests_planned";
inline constexpr char kProbeHttpRequestsSent[] = "probe_http_requests_sent";
inline constexpr char kProbeHttpRequestsDropped[] =
    "probe_http_requests_dropped";
inline constexpr char kProbeBurstTruncated[] = "probe_burst_truncated";

// Latency.
inline constexpr char kProbeHttpRequestDurationSeconds[] =
    "probe_http_request_duration_seconds";
inline constexpr char kProbeHttpPhaseDurationSeconds[] =
    "probe_http_phase_duration_seconds";
inline constexpr char kProbeHttpRequestDurationQuantileSeconds[] =
    "probe_http_request_duration_quantile_seconds";
// [modules.NAME.metrics] phases = "quantiles": instead of the phase
// histogram, kPhaseQuantiles of each phase.
inline constexpr char kProbeHttpPhaseDurationQuantileSeconds[] =
    "probe_http_phase_duration_quantile_seconds";

// Thresholds, bytes, TLS.
inline constexpr char kProbeHttpThresholdPassed[] =
    "probe_http_threshold_passed";
inline constexpr char kProbeHttpReceivedBytes[] = "probe_http_received_bytes";
inline constexpr char kProbeSslEarliestCertExpiry[] =
    "probe_ssl_earliest_cert_expiry";

// blackbox_exporter's http metrics, same names, types and labels
// ([modules.NAME.metrics] blackbox_compat; docs/metrics.md says what each
// means for a burst).
inline constexpr char kProbeHttpStatusCode[] = "probe_http_status_code";
inline constexpr char kProbeHttpVersion[] = "probe_http_version";
inline constexpr char kProbeHttpSsl[] = "probe_http_ssl";
inline constexpr char kProbeHttpRedirects[] = "probe_http_redirects";
inline constexpr char kProbeHttpContentLength[] = "probe_http_content_length";
inline constexpr char kProbeHttpUncompressedBodyLength[] =
    "probe_http_uncompressed_body_length";
inline constexpr char kProbeHttpDurationSeconds[] =
    "probe_http_duration_seconds";
inline constexpr char kProbeDnsLookupTimeSeconds[] =
    "probe_dns_lookup_time_seconds";
inline constexpr char kProbeIpProtocol[] = "probe_ip_protocol";
inline constexpr char kProbeIpAddrHash[] = "probe_ip_addr_hash";
inline constexpr char kProbeTlsVersionInfo[] = "probe_tls_version_info";
inline constexpr char kProbeSslLastChainExpiryTimestampSeconds[] =
    "probe_ssl_last_chain_expiry_timestamp_seconds";
inline constexpr char kProbeSslLastChainInfo[] = "probe_ssl_last_chain_info";
inline constexpr char kProbeFailedDueToRegex[] = "probe_failed_due_to_regex";
// Scenarios (config::Module::steps), only for a module with steps. Every
// series of a step carries `step`, whose values are the config's step names.
inline constexpr char kProbeScenarioStepRequests[] =
    "probe_scenario_step_requests";
inline constexpr char kProbeScenarioStepResponses[] =
    "probe_scenario_step_responses";
inline constexpr char kProbeScenarioStepDurationSeconds[] =
    "probe_scenario_step_duration_seconds";
inline constexpr char kProbeScenarioStepDurationQuantileSeconds[] =
    "probe_scenario_step_duration_quantile_seconds";
inline constexpr char kProbeScenarioIterations[] = "probe_scenario_iterations";
inline constexpr char kProbeScenarioIterationsFailedByStep[] =
    "probe_scenario_iterations_failed_by_step";
inline constexpr char kProbeScenarioIterationDurationSeconds[] =
    "probe_scenario_iteration_duration_seconds";
inline constexpr char kProbeScenarioIterationDurationQuantileSeconds[] =
    "probe_scenario_iteration_duration_quantile_seconds";

// Label names.
inline constexpr char kLabelResult[] = "result";
inline constexpr char kLabelCode[] = "code";
inline constexpr char kLabelPhase[] = "phase";
inline constexpr char kLabelThreshold[] = "threshold";
inline constexpr char kLabelVersion[] = "version";
inline constexpr char kLabelFingerprintSha256[] = "fingerprint_sha256";
inline constexpr char kLabelIssuer[] = "issuer";
inline constexpr char kLabelSerialNumber[] = "serialnumber";
inline constexpr char kLabelSubject[] = "subject";
inline constexpr char kLabelSubjectAlternative[] = "subjectalternative";
inline constexpr char kLabelStep[] = "step";
inline constexpr char kLabelOutcome[] = "outcome";  // completed|failed|dropped
// `quantile` and `le` are written by the serializer itself.

// The quantiles of kProbeHttpRequestDurationQuantileSeconds.
inline constexpr double kSummaryQuantiles[] = {0.5, 0.9, 0.95, 0.99, 1.0};
// The quantiles of kProbeHttpPhaseDurationQuantileSeconds.
inline constexpr double kPhaseQuantiles[] = {0.5, 0.9, 0.99};

}  // namespace canary::probes

#endif  // CANARY_PROBES_METRIC_NAMES_H_
