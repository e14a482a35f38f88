#include "exporter/views/debug_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "exporter/views/report_format.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/stats.h"

namespace canary::exporter {
namespace {

std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Pads to `width` columns; printf pads bytes, and "µs" is one column but
// two bytes.
std::string Pad(absl::string_view s, size_t width) {
  size_t columns = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++columns;
  }
  std::string out(s);
  if (columns < width) out.append(width - columns, ' ');
  return out;
}

std::string Dur(absl::Duration d) { return Quote(absl::FormatDuration(d)); }

std::string QuotedList(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const std::string& s : items) q.push_back(Quote(s));
  return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
}

std::string Patterns(const std::vector<config::Regexp>& rs) {
  std::vector<std::string> p;
  for (const config::Regexp& r : rs) p.push_back(r.pattern);
  return QuotedList(p);
}

std::string HeaderMatches(const std::vector<config::HeaderMatch>& ms) {
  std::vector<std::string> out;
  for (const config::HeaderMatch& m : ms) {
    out.push_back(absl::StrCat(
        "{ header = ", Quote(m.header), ", regexp = ", Quote(m.regexp.pattern),
        ", allow_missing = ", m.allow_missing ? "true" : "false", " }"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ", "), "]");
}

const char* TlsVersionName(config::TlsConfig::Version v) {
  switch (v) {
    case config::TlsConfig::Version::kTls10:
      return "TLS10";
    case config::TlsConfig::Version::kTls11:
      return "TLS11";
    case config::TlsConfig::Version::kTls12:
      return "TLS12";
    case config::TlsConfig::Version::kTls13:
      return "TLS13";
  }
  return "?";
}

std::string Phases(const probes::RequestResult& r) {
  std::vector<std::string> parts;
  for (int p = 0; p < probes::kNumPhases; ++p) {
    parts.push_back(
        absl::StrCat(probes::PhaseName(static_cast<probes::Phase>(p)), "=",
                     FormatDurationShort(r.phases()[p])));
  }
  return absl::StrJoin(parts, " ");
}

}  // namespace

bool IsCredentialHeader(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "authorization" || lower == "proxy-authorization" ||
      lower == "cookie") {
    return true;
  }
  for (const char* word : {"token", "secret", "password", "passwd", "api-key",
                           "apikey", "api_key", "auth", "session", "cookie"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

std::string RenderModuleConfig(const config::Module& m) {
  std::string out;
  absl::StrAppend(&out, "[modules.", m.name, "]\n");
  absl::StrAppend(&out, "timeout = ", Dur(m.timeout), "\n");
  std::vector<std::string> thresholds;
  for (const config::Threshold& t : m.thresholds)
    thresholds.push_back(t.source);
  absl::StrAppend(&out, "thresholds = ", QuotedList(thresholds), "\n");
  absl::StrAppend(&out, "buckets = [", absl::StrJoin(m.buckets, ", "), "]\n");

  const config::BurstConfig& b = m.burst;
  absl::StrAppend(&out, "\n[modules.", m.name, ".burst]\n");
  absl::StrAppend(&out, "vus = ", b.vus, "\n");
  if (b.open_model()) {
    absl::StrAppend(&out, "rate = ", b.rate, "\n");
  } else {
    absl::StrAppend(&out, "think_time = ", Dur(b.think_time), "\n");
  }
  if (b.duration.has_value()) {
    absl::StrAppend(&out, "duration = ", Dur(*b.duration), "\n");
  }
  if (b.requests.has_value()) {
    absl::StrAppend(&out, "requests = ", *b.requests, "\n");
  }

  const config::HttpConfig& h = m.http;
  absl::StrAppend(&out, "\n[modules.", m.name, ".http]\n");
  absl::StrAppend(&out, "method = ", Quote(h.method), "\n");
  std::vector<std::string> headers;
  for (const auto& [name, value] : h.headers) {
    headers.push_back(
        absl::StrCat(Quote(name), " = ",
                     IsCredentialHeader(name) ? kRedacted : Quote(value)));
  }
  absl::StrAppend(&out, "headers = ",
                  headers.empty()
                      ? std::string("{}")
                      : absl::StrCat("{ ", absl::StrJoin(headers, ", "), " }"),
                  "\n");
  if (!h.body.empty()) {
    // A body often carries credentials (form logins, API keys): its size
    // is enough to debug with.
    absl::StrAppend(&out, "body = ", kRedacted, "  # ", h.body.size(),
                    " bytes\n");
  }
  std::vector<std::string> codes;
  for (int c : h.valid_status_codes) codes.push_back(absl::StrCat(c));
  absl::StrAppend(&out, "valid_status_codes = [", absl::StrJoin(codes, ", "),
                  "]", codes.empty() ? "  # any 2xx" : "", "\n");
  absl::StrAppend(&out, "fail_if_body_matches_regexp = ",
                  Patterns(h.fail_if_body_matches_regexp), "\n");
  absl::StrAppend(&out, "fail_if_body_not_matches_regexp = ",
                  Patterns(h.fail_if_body_not_matches_regexp), "\n");
  absl::StrAppend(&out, "fail_if_header_matches = ",
                  HeaderMatches(h.fail_if_header_matches), "\n");
  absl::StrAppend(&out, "fail_if_header_not_matches = ",
                  HeaderMatches(h.fail_if_header_not_matches), "\n");
  absl::StrAppend(
      &out, "follow_redirects = ", h.follow_redirects ? "true" : "false", "\n");
  absl::StrAppend(&out, "max_redirects = ", h.max_redirects, "\n");
  absl::StrAppend(
      &out, "http_version = ",
      h.http_version == config::HttpVersion::kHttp2 ? "\"2\"" : "\"1.1\"",
      "\n");
  absl::StrAppend(&out, "reuse_connections = ",
                  h.reuse_connections ? "true" : "false", "\n");
  absl::StrAppend(&out, "body_size_limit = ", h.body_size_limit, "\n");
  if (!h.proxy_url.empty()) {
    absl::StrAppend(&out, "proxy_url = ", Quote(RedactUrlUserinfo(h.proxy_url)),
                    "\n");
  }
  // Credentials configured outside the headers (bearer token, basic auth)
  // are never rendered, not even as a placeholder.

  const config::TlsConfig& t = h.tls;
  absl::StrAppend(&out, "\n[modules.", m.name, ".http.tls]\n");
  absl::StrAppend(&out, "ca_file = ", Quote(t.ca_file), "\n");
  absl::StrAppend(&out, "cert_file = ", Quote(t.cert_file), "\n");
  absl::StrAppend(&out, "key_file = ", Quote(t.key_file), "\n");
  absl::StrAppend(&out, "server_name = ", Quote(t.server_name), "\n");
  absl::StrAppend(&out, "insecure_skip_verify = ",
                  t.insecure_skip_verify ? "true" : "false", "\n");
  absl::StrAppend(&out, "min_version = ", Quote(TlsVersionName(t.min_version)),
                  "\n");
  // Scenario steps: templates as written (a ${var} is a name, never its
  // value), credential headers and bodies redacted like the module's.
  for (const config::Step& st : m.steps) {
    absl::StrAppend(&out, "\n[[modules.", m.name, ".steps]]\n");
    absl::StrAppend(&out, "name = ", Quote(st.name), "\n");
    absl::StrAppend(&out, "method = ", Quote(st.checks.method), "\n");
    absl::StrAppend(&out, "url = ", Quote(st.url.source), "\n");
    std::vector<std::string> step_headers;
    for (const auto& [name, value] : st.headers) {
      step_headers.push_back(absl::StrCat(
          Quote(name), " = ",
          IsCredentialHeader(name) ? kRedacted : Quote(value.source)));
    }
    if (!step_headers.empty()) {
      absl::StrAppend(&out, "headers = { ", absl::StrJoin(step_headers, ", "),
                      " }\n");
    }
    if (!st.body.source.empty()) {
      absl::StrAppend(&out, "body = ", kRedacted, "  # ", st.body.source.size(),
                      " bytes\n");
    }
    if (st.optional) absl::StrAppend(&out, "optional = true\n");
    std::vector<std::string> vars;
    for (const config::Extraction& e : st.extract) vars.push_back(e.var);
    if (!vars.empty()) {
      absl::StrAppend(&out, "# extracts ", absl::StrJoin(vars, ", "), "\n");
    }
  }
  return out;
}

std::string RenderDebug(const DebugInput& in) {
  const probes::ProbeReport& report = *in.report;
  const probes::BurstResult& burst = report.burst;
  const probes::BurstStats& stats = report.stats;
  std::string out;
  absl::StrAppend(&out, "canary_exporter probe debug output\n\n");
  absl::StrAppend(&out, "target:   ", RedactUrlUserinfo(in.target), "\n");
  absl::StrAppend(&out, "module:   ", in.module->name, "\n");
  if (in.finished != absl::UnixEpoch()) {
    absl::StrAppend(&out, "finished: ",
                    absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", in.finished,
                                     absl::UTCTimeZone()),
                    "\n");
  }
  absl::StrAppend(&out, "budget:   ", absl::FormatDuration(in.budget));
  if (!in.budget_explanation.empty()) {
    absl::StrAppend(&out, " (", in.budget_explanation, ")");
  }
  out += "\n";
  absl::StrAppend(&out, "success:  ", report.success ? "yes" : "no",
                  " (probe_success ", report.success ? 1 : 0, ")\n");
  absl::StrAppend(&out, "burst:    planned ", burst.planned, ", sent ",
                  burst.requests.size(), ", dropped ", burst.dropped,
                  ", errors ", stats.errors, ", ran ",
                  FormatDurationShort(burst.duration),
                  burst.truncated ? ", cut short by the budget" : "", "\n");
  for (size_t i = 0; i < in.module->thresholds.size(); ++i) {
    const bool passed =
        i < report.thresholds_passed.size() && report.thresholds_passed[i];
    absl::StrAppend(&out, "threshold: ", in.module->thresholds[i].source, " ",
                    passed ? "passed" : "FAILED", "\n");
  }

  if (report.scenario.has_value()) {
    const probes::ScenarioStats& sc = *report.scenario;
    absl::StrAppend(&out, "iterations: completed ", sc.completed, ", failed ",
                    sc.failed, ", dropped ", sc.dropped, "\n");
    for (size_t i = 0; i < in.module->steps.size() && i < sc.steps.size();
         ++i) {
      const probes::BurstStats& st = sc.steps[i];
      absl::StrAppend(
          &out, "step ", in.module->steps[i].name, ": ", st.requests,
          " requests, ", st.errors, " errors, p95 ",
          FormatDurationShort(absl::Seconds(
              st.latencies.empty() ? 0 : probes::Quantile(st.latencies, 0.95))),
          ", ended ", i < sc.failed_at.size() ? sc.failed_at[i] : 0,
          " iterations\n");
    }
  }

  absl::StrAppend(&out, "\n--- module config (resolved, secrets redacted)\n",
                  RenderModuleConfig(*in.module));

  absl::StrAppend(&out,
                  "\n--- requests, in order of completion (offsets "
                  "from the burst start)\n");
  absl::StrAppend(&out,
                  "#     vu   intended   actual     latency    status  "
                  "result       phases / error\n");
  const size_t shown = std::min(burst.requests.size(), in.max_request_lines);
  for (size_t i = 0; i < shown; ++i) {
    const probes::RequestResult& r = burst.requests[i];
    absl::StrAppend(
        &out, Pad(absl::StrCat(i + 1), 6), Pad(absl::StrCat(r.vu()), 5),
        Pad(FormatDurationShort(r.intended_start()), 11),
        Pad(FormatDurationShort(r.actual_start()), 11),
        Pad(FormatDurationShort(r.latency()), 11),
        Pad(r.status_code() > 0 ? absl::StrCat(r.status_code()) : "-", 8),
        Pad(probes::ResultClassName(r.result()), 13), Phases(r),
        r.new_connection() ? " new-connection" : "",
        r.step() < static_cast<int>(in.module->steps.size())
            ? absl::StrCat(" step=", in.module->steps[r.step()].name)
            : "",
        burst.error(r).empty() ? ""
                               : absl::StrCat(" error=", Quote(burst.error(r))),
        "\n");
  }
  if (shown < burst.requests.size()) {
    absl::StrAppend(&out, "... ", burst.requests.size() - shown,
                    " more requests not listed\n");
  }
  if (burst.requests.empty()) absl::StrAppend(&out, "(no requests)\n");

  absl::StrAppend(&out, "\n--- metrics\n",
                  probes::SerializeFamilies(report.families));
  return out;
}

}  // namespace canary::exporter
