// config.h: the typed, validated configuration of canary_exporter.
//
// A Config is parsed from TOML by LoadConfig (config/loader.h). Every field
// below has its default in code; docs/configuration.md lists every key, its
// type, default and meaning. Once loaded a Config is immutable and shared
// between threads as std::shared_ptr<const Config>.
//
//   absl::StatusOr<Config> config = LoadConfigFile("canary.toml");
//   const Module* m = config->FindModule("canary");
//
// Thread-safety: a const Config is safe to read from any number of threads.
#ifndef CANARY_CONFIG_CONFIG_H_
#define CANARY_CONFIG_CONFIG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "config/allowed_target.h"
#include "re2/re2.h"

namespace canary::config {

// Limits of the bounded keys, checked at load (config/schema.cc) and listed
// in docs/configuration.md. Defaults are the member initializers below: this
// file is the one place for both.
//
// Hard caps on the size of one burst: a canary, not a battering ram.
inline constexpr int kMaxVus = 1000;
inline constexpr double kMaxRate = 10000;  // requests per second
inline constexpr int64_t kMaxRequests = 1000000;
inline constexpr absl::Duration kMaxDuration =
    absl::Minutes(10);  // also think_time
inline constexpr absl::Duration kMaxTimeout = absl::Minutes(5);
inline constexpr absl::Duration kMaxMinInterval = absl::Hours(1);
inline constexpr int kMaxBuckets = 64;
inline constexpr int kMaxRedirects = 50;
inline constexpr int kMinStatusCode = 100;
inline constexpr int kMaxStatusCode = 599;
inline constexpr int64_t kMaxBodySizeLimit = int64_t{1} << 30;  // 1GiB
// Without body_size_limit, the bytes of a body the regexp checks see.
inline constexpr int64_t kDefaultKeptBody = int64_t{1} << 20;   // 1MiB
inline constexpr int64_t kMaxBodyFileSize = int64_t{16} << 20;  // 16MiB
inline constexpr int kMaxConcurrentProbes = 10000;
inline constexpr int kMaxInflightRequests = 100000;
// [web] connection limits of the exporter's own port.
inline constexpr int kMaxWebConnections = 1000000;
inline constexpr absl::Duration kMaxRequestHeadTimeout = absl::Minutes(5);
// Scenarios: steps of one module, extractions of one step.
inline constexpr int kMaxSteps = 32;
inline constexpr int kMaxExtractions = 16;

// A k6-style threshold, e.g. "p(95)<200ms" or "error_rate<0.01".
struct Threshold {
  enum class Stat {
    kPercentile,  // p(N): N in `percentile`, 0 <= N <= 100 (p(0) = min)
    kAvg,
    kMin,
    kMed,  // same as p(50)
    kMax,
    kErrorRate,  // share of requests whose result is not "success", 0..1
                 // (also written `rate`, k6's http_req_failed threshold)
  };
  // kEqual is k6's `==` and `===` (the same for numbers); kNotEqual `!=`.
  enum class Op {
    kLess,
    kLessEqual,
    kGreater,
    kGreaterEqual,
    kEqual,
    kNotEqual
  };

  std::string source;  // as written in the config, the metric label value
  Stat stat = Stat::kPercentile;
  double percentile = 0;  // only for kPercentile
  Op op = Op::kLess;
  // Seconds for latency statistics (k6: a bare number means milliseconds),
  // a ratio for kErrorRate.
  double value = 0;
  // Scenario scopes (k6 tags): one step's requests, or the iterations.
  std::string step;        // "http_req_duration{step:NAME}: ..."; "" = all
  int step_index = -1;     // into Module::steps, resolved at load
  bool iteration = false;  // "iteration_duration: ..."
};

// A compiled RE2 pattern with the text it came from.
struct Regexp {
  std::string pattern;
  std::shared_ptr<const RE2> re;  // never null in a loaded config
};

// fail_if_header_matches / fail_if_header_not_matches entry.
struct HeaderMatch {
  std::string header;  // case-insensitive header name
  Regexp regexp;
  bool allow_missing = false;  // a missing header passes the check
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  enum class Version { kTls10, kTls11, kTls12, kTls13 };
  Version min_version = Version::kTls12;
  std::optional<Version> max_version;  // unset: the highest libcurl has
};

// kHttp1_0 only appears in valid_http_versions (it is never requested).
enum class HttpVersion { kHttp1_1, kHttp2, kHttp1_0 };

// `compression`: the Accept-Encoding sent; libcurl decodes the body, so
// checks and body_size_limit see the decompressed bytes.
enum class Compression { kNone, kGzip, kDeflate, kBr, kIdentity };

// `ip_protocol`: kAny lets libcurl try both families (happy eyeballs).
enum class IpProtocol { kAny, kIp4, kIp6 };

// Credentials for the target's Basic authentication. The password is a
// secret: never log or render it (config/redact.h).
struct BasicAuth {
  std::string username;
  std::string password;  // from `password` or read from `password_file`
};

struct HttpConfig {
  std::string method = "GET";
  // In file order; names as written.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;       // from `body` or read from `body_file` at load
  std::string body_file;  // the path, as written (for renders)
  // Empty means any 2xx.
  std::vector<int> valid_status_codes;
  std::vector<Regexp> fail_if_body_matches_regexp;
  std::vector<Regexp> fail_if_body_not_matches_regexp;
  std::vector<HeaderMatch> fail_if_header_matches;
  std::vector<HeaderMatch> fail_if_header_not_matches;
  bool follow_redirects = true;
  int max_redirects = 10;
  HttpVersion http_version = HttpVersion::kHttp1_1;
  bool reuse_connections = true;
  // A response body (decompressed) larger than this fails the request
  // (ResultClass::kBodyTooLarge); unset: no limit, and the checks see the
  // first kDefaultKeptBody bytes.
  std::optional<int64_t> body_size_limit;
  int64_t kept_body_limit() const {
    return body_size_limit.value_or(kDefaultKeptBody);
  }
  // Empty: any version. Checked on the final response.
  std::vector<HttpVersion> valid_http_versions;
  Compression compression = Compression::kNone;
  bool fail_if_ssl = false;      // the final response came over TLS
  bool fail_if_not_ssl = false;  // the final response came in the clear
  IpProtocol ip_protocol = IpProtocol::kAny;
  // With ip_protocol set: a name without an address of that family is
  // tried with the other family.
  bool ip_protocol_fallback = true;
  // Empty: libcurl's default (environment proxies are ignored: no_proxy "*").
  std::string proxy_url;
  TlsConfig tls;
  // Secrets (config/redact.h): from the value or read from `*_file` at load.
  std::string bearer_token;  // sent as "Authorization: Bearer <token>"
  std::optional<BasicAuth> basic_auth;
};

// A string of a scenario step with `${name}` references to variables,
// split at load into literal text and variable indexes
// (Module::variables). `$` not followed by `{` is literal.
struct Template {
  struct Part {
    std::string text;  // literal text, when var < 0
    int var = -1;      // else the index of the variable
  };
  std::string source;  // as written
  std::vector<Part> parts;
  bool has_vars() const {
    for (const Part& p : parts) {
      if (p.var >= 0) return true;
    }
    return false;
  }
};

// One value a step captures from its response into a variable.
struct Extraction {
  enum class From { kHeader, kRegex, kJsonPointer };
  std::string var;    // the variable's name, [A-Za-z_][A-Za-z0-9_]*
  int var_index = 0;  // into Module::variables
  From from = From::kHeader;
  std::string header;        // kHeader: case-insensitive name
  Regexp regex;              // kRegex: over the kept body, first match
  int group = 1;             // kRegex: capturing group, 0 = the whole match
  std::string json_pointer;  // kJsonPointer: RFC 6901, e.g. "/data/token"
};

// One request of a scenario (Module::steps). Connection settings (timeout,
// TLS, auth, redirects, body_size_limit, proxy) are the module's; the
// request and its checks are the step's own.
struct Step {
  std::string name;  // unique in the module; the `step` label value
  Template url;      // "/path?q" resolved against the target, or a URL
  std::vector<std::pair<std::string, Template>> headers;  // after module's
  Template body;
  // method, valid_status_codes and the fail_if_* checks of this step; the
  // other members keep their defaults.
  HttpConfig checks;
  absl::Duration think_time = absl::ZeroDuration();  // after the step
  bool optional = false;  // a failure does not end the iteration
  std::vector<Extraction> extract;
};

// The load shape of one burst. Closed model when rate == 0: `vus` virtual
// users loop request → think_time. Open model when rate > 0: request i is
// due at start + i/rate, `vus` caps the requests in flight.
// The burst stops starting requests at `duration` or after `requests`
// requests, whichever comes first; when neither is set, requests = 1
// (request_limit()).
struct BurstConfig {
  // The default of `vus` when `rate` is set and `vus` is not.
  static constexpr int kOpenModelVus = 10;

  int vus = 1;  // closed model; open model: kOpenModelVus
  absl::Duration think_time = absl::ZeroDuration();
  std::optional<absl::Duration> duration;
  std::optional<int64_t> requests;
  double rate = 0;  // requests per second; 0 = closed model
  bool open_model() const { return rate > 0; }
  // The most requests the burst starts: `requests`, or one request when
  // neither `requests` nor `duration` ends the burst (the default shape, so
  // a module built in code without a shape does not loop for the whole
  // budget). nullopt: only `duration` ends it.
  std::optional<int64_t> request_limit() const {
    if (!requests.has_value() && !duration.has_value()) return 1;
    return requests;
  }
  // Most requests this burst can have in flight at once: what a probe
  // reserves from ServerConfig::max_inflight_requests.
  int max_in_flight() const {
    return requests.has_value() && *requests < vus ? static_cast<int>(*requests)
                                                   : vus;
  }
};

// Default latency histogram buckets, seconds: 1 ms to 10 s.
inline const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

// [modules.NAME.metrics]: how many series a /probe answer carries
// (docs/metrics.md states the samples per target for each setting).
struct MetricsConfig {
  // Per-phase latency: a histogram per phase (the module's buckets), a few
  // exact quantiles per phase, or none.
  enum class Phases { kHistogram, kQuantiles, kOff };
  Phases phases = Phases::kHistogram;
  // blackbox_exporter's http metrics (probe_http_status_code, ...).
  bool blackbox_compat = true;
};

struct Module {
  std::string name;
  absl::Duration timeout = absl::Seconds(2);  // per request
  std::vector<Threshold> thresholds;
  std::vector<double> buckets = DefaultBuckets();  // strictly increasing
  BurstConfig burst;
  HttpConfig http;
  // A probe sooner than this after the last burst for the same target and
  // module gets that burst's result again; zero: every probe runs a burst.
  absl::Duration min_interval = absl::ZeroDuration();
  MetricsConfig metrics;
  // A scenario: each iteration runs these in order on one VU (the burst
  // shape schedules iterations as it schedules single requests). Empty:
  // every request is the single request `http` describes.
  std::vector<Step> steps;
  // Names of the scenario's variables (extract targets), in the order they
  // are first defined; Extraction::var_index and Template parts index it.
  std::vector<std::string> variables;
};

// [server]: the exporter's load budget across all probes
// (exporter/admission.h). A probe over either limit is refused with 503.
struct ServerConfig {
  int max_concurrent_probes = 16;   // /probe calls running or waiting
  int max_inflight_requests = 128;  // sum of the admitted bursts' VUs
};

// [web]: how the exporter's own endpoints are served. TLS terminates in
// exporter/tls_listener.h; basic auth applies to every endpoint.
struct WebConfig {
  std::string tls_cert_file;  // both set: serve HTTPS only
  std::string tls_key_file;
  std::string tls_client_ca_file;  // set: require client certs it signed
  TlsConfig::Version tls_min_version = TlsConfig::Version::kTls12;
  // user name -> bcrypt hash ($2a$, $2b$ or $2y$); empty: no auth.
  std::map<std::string, std::string> basic_auth_users;
  // The front listener's limits (exporter/http/edge_listener.h).
  int max_connections = 4096;
  int max_connections_per_client = 1024;
  absl::Duration request_head_timeout = absl::Seconds(10);

  bool tls_enabled() const { return !tls_cert_file.empty(); }
};

struct Config {
  std::map<std::string, Module> modules;  // by name
  WebConfig web;
  ServerConfig server;
  // [security]: which targets may be probed (probes/allowlist.h).
  SecurityConfig security;

  // Returns the module called `name`, or nullptr.
  const Module* FindModule(const std::string& name) const {
    auto it = modules.find(name);
    return it == modules.end() ? nullptr : &it->second;
  }
};

}  // namespace canary::config

#endif  // CANARY_CONFIG_CONFIG_H_
