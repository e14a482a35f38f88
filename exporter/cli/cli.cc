#include "exporter/cli/cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/escape.h"
#include "base/sync.h"
#include "config/allowed_target.h"
#include "config/loader.h"
#include "exporter/process/flags.h"
#include "exporter/views/report_format.h"
#include "probes/allowlist.h"
#include "probes/burst.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/stats.h"
#include "probes/target.h"
#include "probes/target_guard.h"
#include "probes/threshold_check.h"

namespace canary::exporter {
namespace {

constexpr absl::Duration kProgressAfter = absl::Seconds(2);
constexpr int kLabelWidth = 28;

absl::Status Usage(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// "requests......: value", k6's dotted alignment.
std::string Row(absl::string_view label, absl::string_view value) {
  std::string l(label);
  if (l.size() < kLabelWidth) l.append(kLabelWidth - l.size(), '.');
  return absl::StrCat("  ", l, ": ", value, "\n");
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole == 0) return "-";
  return absl::StrFormat(
      "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// The statistic a threshold compares, as the user wrote it.
std::string ThresholdActual(const config::Threshold& t,
                            const probes::BurstStats& s) {
  const double v = probes::ThresholdValue(t, s);
  const std::string source = t.source;
  const size_t op = source.find_first_of("<>=!");
  const std::string stat =
      op == std::string::npos ? source : source.substr(0, op);
  if (t.stat == config::Threshold::Stat::kErrorRate) {
    if (std::isnan(v)) return absl::StrCat(stat, "=- (no requests)");
    return absl::StrFormat("%s=%.2f%%", stat, v * 100);
  }
  if (std::isnan(v)) return absl::StrCat(stat, "=- (no responses)");
  return absl::StrCat(stat, "=", FormatSeconds(v));
}

std::string Mark(bool ok, bool color) {
  if (!color) return ok ? "✓" : "✗";
  return ok ? "\033[32m✓\033[0m" : "\033[31m✗\033[0m";
}

// Phase durations as the phase histograms count them (metrics.cc): only
// responses; resolve/connect/tls only on new connections.
std::array<std::vector<double>, probes::kNumPhases> PhaseSamples(
    const probes::BurstResult& burst) {
  std::array<std::vector<double>, probes::kNumPhases> out;
  for (const probes::RequestResult& r : burst.requests) {
    if (r.status_code() <= 0) continue;
    for (int p = 0; p < probes::kNumPhases; ++p) {
      const auto phase = static_cast<probes::Phase>(p);
      const bool connection_phase = phase == probes::Phase::kResolve ||
                                    phase == probes::Phase::kConnect ||
                                    phase == probes::Phase::kTls;
      if (connection_phase && !r.new_connection()) continue;
      if (phase == probes::Phase::kTls &&
          r.phases()[p] <= absl::ZeroDuration()) {
        continue;
      }
      out[p].push_back(absl::ToDoubleSeconds(r.phases()[p]));
    }
  }
  for (auto& v : out) std::sort(v.begin(), v.end());
  return out;
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view value) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(value, &seconds) && std::isfinite(seconds) &&
      seconds > 0) {
    return absl::Seconds(seconds);
  }
  if (absl::ParseDuration(value, &d) && d > absl::ZeroDuration() &&
      d != absl::InfiniteDuration()) {
    return d;
  }
  return Usage(absl::StrCat("invalid value \"", value,
                            "\" for flag --timeout: want a duration > 0 "
                            "(\"30s\", \"2m\") or seconds"));
}

// Draws the progress line until `done` is notified; starts drawing only
// once the burst has run kProgressAfter, so short bursts print nothing.
void ProgressLoop(std::ostream& out, canary::Notification& done,
                  const std::atomic<int64_t>& completed,
                  const std::atomic<int64_t>& errors, int64_t planned,
                  absl::Duration expected, absl::Time start) {
  if (done.WaitForNotificationWithTimeout(kProgressAfter)) return;
  bool drawn = false;
  do {
    out << "\r\033[K"
        << ProgressLine(completed.load(), planned, errors.load(),
                        absl::Now() - start, expected)
        << std::flush;
    drawn = true;
  } while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  if (drawn) out << "\r\033[K" << std::flush;
}

}  // namespace

absl::StatusOr<ProbeArgs> ParseProbeArgs(int argc, char** argv) {
  ProbeArgs args;
  if (const char* file = std::getenv(kConfigFileEnv)) args.config_file = file;
  bool have_target = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      args.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      if (have_target) {
        return Usage(absl::StrCat("unexpected argument \"", arg,
                                  "\": give exactly one target URL"));
      }
      args.target = std::string(arg);
      have_target = true;
      continue;
    }
    absl::string_view flag = arg;
    if (!absl::ConsumePrefix(&flag, "--")) {
      return Usage(absl::StrCat("unknown flag ", arg));
    }
    absl::string_view name = flag;
    std::optional<absl::string_view> value;
    if (size_t eq = flag.find('='); eq != absl::string_view::npos) {
      name = flag.substr(0, eq);
      value = flag.substr(eq + 1);
    }
    if (name == "allow-metadata-targets") {
      if (value.has_value() && *value != "true" && *value != "false") {
        return Usage(absl::StrCat("invalid value \"", *value,
                                  "\" for flag --allow-metadata-targets: "
                                  "want true or false"));
      }
      args.allow_metadata_targets = !value.has_value() || *value == "true";
      continue;
    }
    if (name != "config.file" && name != "module" && name != "timeout" &&
        name != "output" && name != "summary-export") {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    if (!value.has_value()) {
      if (i + 1 >= argc || absl::StartsWith(argv[i + 1], "--")) {
        return Usage(absl::StrCat("flag --", name, " needs a value"));
      }
      value = argv[++i];
    }
    if (name == "config.file") {
      args.config_file = std::string(*value);
    } else if (name == "module") {
      if (value->empty()) return Usage("flag --module needs a module name");
      args.module = std::string(*value);
    } else if (name == "timeout") {
      absl::StatusOr<absl::Duration> d = ParseTimeout(*value);
      if (!d.ok()) return d.status();
      args.timeout = *d;
    } else if (name == "summary-export") {
      if (value->empty()) return Usage("flag --summary-export needs a file");
      args.summary_export = std::string(*value);
    } else if (*value == "summary") {
      args.output = CliOutput::kSummary;
    } else if (*value == "prometheus") {
      args.output = CliOutput::kPrometheus;
    } else {
      return Usage(absl::StrCat("invalid value \"", *value,
                                "\" for flag --output: want summary or "
                                "prometheus"));
    }
  }
  if (!have_target && !args.help) {
    return Usage("missing the target URL");
  }
  return args;
}

std::string ProbeUsage() {
  return "usage: canary_exporter probe [flags] URL\n"
         "\n"
         "Runs one burst of the module against URL now, prints a k6-like "
         "summary\nand exits 0 when every threshold holds, 99 when the probe "
         "fails\n(a threshold crossed; without thresholds, a failed request), "
         "105 when\ninterrupted by Ctrl-C (after the summary of what ran), "
         "107 when the\nprobe could not run (a refused target, a transport "
         "error), 2 on usage\nor config errors. Usable as a CI performance "
         "gate. Any target may be\nprobed except link-local and cloud "
         "metadata addresses.\n"
         "\n"
         "Flags:\n"
         "  --config.file=FILE   TOML configuration (default: "
         "$CANARY_CONFIG_FILE, else the\n"
         "                       embedded default)\n"
         "  --module=NAME        module to run (default \"canary\")\n"
         "  --timeout=DURATION   budget of the whole probe (default: the "
         "burst's duration\n"
         "                       + the module timeout + 1s, at most 10m)\n"
         "  --output=FORMAT      summary (default) or prometheus (the "
         "/probe exposition)\n"
         "  --summary-export=FILE\n"
         "                       also write the summary as JSON (k6's "
         "--summary-export shape)\n"
         "  --allow-metadata-targets\n"
         "                       also probe link-local, cloud metadata "
         "(169.254.169.254)\n"
         "                       and unspecified addresses\n"
         "  -h, --help           show this help\n"
         "\n"
         "Colours only on a terminal and without NO_COLOR.\n"
         "\n"
         "Example:\n"
         "  canary_exporter probe --module=http_2xx "
         "http://127.0.0.1:8080/healthz\n";
}

absl::Duration CliBudget(const config::Module& module) {
  const config::BurstConfig& b = module.burst;
  absl::Duration shape;
  if (b.duration.has_value()) {
    shape = *b.duration;
  } else {
    // No duration: request_limit() is the request count (the config says
    // how many when `requests` is unset).
    const int64_t n = *b.request_limit();
    if (b.open_model()) {
      // The engine's pacing schedule: when arrival n, one past the last,
      // would be due.
      shape = probes::ArrivalOffset(n, b.rate);
    } else {
      // Each VU runs its share of the requests one after another.
      const int64_t rounds = (n + b.vus - 1) / b.vus;  // the loader: vus >= 1
      shape = rounds * (module.timeout + b.think_time);
    }
  }
  return std::min(shape + module.timeout + absl::Seconds(1), kMaxCliBudget);
}

std::string ProgressLine(int64_t done, int64_t planned, int64_t errors,
                         absl::Duration elapsed, absl::Duration expected) {
  std::string count =
      planned > 0 ? absl::StrCat(done, "/", planned) : absl::StrCat(done);
  std::string line =
      absl::StrCat("running: ", count, " requests, ", errors, " error",
                   errors == 1 ? "" : "s", ", ",
                   absl::StrFormat("%.1fs", absl::ToDoubleSeconds(elapsed)));
  if (expected > absl::ZeroDuration()) {
    absl::StrAppend(&line,
                    absl::StrFormat("/%.0fs", absl::ToDoubleSeconds(expected)));
  }
  return line;
}

std::string RenderSummary(const config::Module& module,
                          const std::string& target, absl::Duration budget,
                          const probes::ProbeReport& report, bool color) {
  const probes::BurstResult& burst = report.burst;
  const probes::BurstStats& s = report.stats;
  std::string out;
  absl::StrAppend(&out, "\n  canary_exporter probe: module \"", module.name,
                  "\" -> ", RedactUrlUserinfo(target), "\n");
  absl::StrAppend(&out, "  burst: ", DescribeBurst(module.burst),
                  "; request timeout ", absl::FormatDuration(module.timeout),
                  "; budget ", absl::FormatDuration(budget), "\n\n");

  int failed = 0;
  for (size_t i = 0; i < module.thresholds.size(); ++i) {
    const config::Threshold& t = module.thresholds[i];
    const bool ok =
        i < report.thresholds_passed.size() && report.thresholds_passed[i];
    if (!ok) ++failed;
    std::string label = absl::StrCat(Mark(ok, color), " ", t.source, " ");
    const size_t visible = t.source.size() + 3;
    if (visible < kLabelWidth + 2) label.append(kLabelWidth + 2 - visible, '.');
    // A scoped threshold (k6 tags) shows its step's or the iterations' value.
    const probes::BurstStats* on = &s;
    if (report.scenario.has_value() && t.iteration) {
      on = &report.scenario->iterations;
    } else if (report.scenario.has_value() && t.step_index >= 0 &&
               t.step_index < static_cast<int>(report.scenario->steps.size())) {
      on = &report.scenario->steps[t.step_index];
    }
    absl::StrAppend(&out, "  ", label, " ", ThresholdActual(t, *on), "\n");
  }
  if (!module.thresholds.empty()) out += "\n";

  const double seconds = absl::ToDoubleSeconds(burst.duration);
  const int64_t sent = static_cast<int64_t>(burst.requests.size());
  absl::StrAppend(
      &out,
      Row("requests",
          absl::StrCat("planned ", burst.planned, ", sent ", sent, ", dropped ",
                       burst.dropped,
                       burst.truncated ? " (cut short by the budget)" : "")));
  absl::StrAppend(
      &out, Row("achieved rate",
                seconds > 0 ? absl::StrFormat("%.2f/s over %s", sent / seconds,
                                              FormatSeconds(seconds))
                            : std::string("-")));

  const std::array<int64_t, probes::kNumResultClasses>& by_class = s.by_class;
  const std::map<int, int64_t>& by_code = s.by_code;
  std::vector<std::string> classes;
  for (int c = 0; c < probes::kNumResultClasses; ++c) {
    if (by_class[c] == 0) continue;
    classes.push_back(absl::StrCat(
        probes::ResultClassName(static_cast<probes::ResultClass>(c)), " ",
        by_class[c], " (", Percent(by_class[c], sent), ")"));
  }
  absl::StrAppend(
      &out, Row("results", classes.empty() ? std::string("none")
                                           : absl::StrJoin(classes, ", ")));
  std::vector<std::string> codes;
  for (const auto& [code, n] : by_code) {
    codes.push_back(absl::StrCat(code, " x", n));
  }
  absl::StrAppend(
      &out, Row("status codes", codes.empty() ? std::string("no responses")
                                              : absl::StrJoin(codes, ", ")));
  const auto q = [&](double p) {
    return FormatSeconds(probes::Quantile(s.latencies, p));
  };
  absl::StrAppend(
      &out, Row("latency", absl::StrCat("min=", FormatSeconds(s.min),
                                        " avg=", FormatSeconds(s.avg),
                                        " p(50)=", q(0.5), " p(90)=", q(0.9),
                                        " p(95)=", q(0.95), " p(99)=", q(0.99),
                                        " max=", FormatSeconds(s.max))));
  const auto phases = PhaseSamples(burst);
  for (int p = 0; p < probes::kNumPhases; ++p) {
    const auto& v = phases[p];
    absl::StrAppend(
        &out,
        Row(absl::StrCat("  ",
                         probes::PhaseName(static_cast<probes::Phase>(p))),
            v.empty() ? std::string("-")
                      : absl::StrCat(
                            "p(50)=", FormatSeconds(probes::Quantile(v, 0.5)),
                            " p(95)=", FormatSeconds(probes::Quantile(v, 0.95)),
                            "  (", v.size(),
                            v.size() == 1 ? " sample)" : " samples)")));
  }
  if (report.scenario.has_value()) {
    // Per step, as k6 groups its checks: what each step did and how many
    // iterations it ended.
    const probes::ScenarioStats& sc = *report.scenario;
    const probes::BurstStats& it = sc.iterations;
    absl::StrAppend(
        &out,
        Row("iterations", absl::StrCat("completed ", sc.completed, ", failed ",
                                       sc.failed, ", dropped ", sc.dropped)));
    absl::StrAppend(
        &out,
        Row("iteration duration",
            absl::StrCat(
                "min=", FormatSeconds(it.min),
                " p(50)=", FormatSeconds(probes::Quantile(it.latencies, 0.5)),
                " p(95)=", FormatSeconds(probes::Quantile(it.latencies, 0.95)),
                " max=", FormatSeconds(it.max))));
    for (size_t i = 0; i < module.steps.size() && i < sc.steps.size(); ++i) {
      const probes::BurstStats& st = sc.steps[i];
      const int64_t ok =
          st.by_class[static_cast<int>(probes::ResultClass::kSuccess)];
      std::string line = absl::StrCat(
          Mark(st.requests > 0 && ok == st.requests, color), " ", ok, "/",
          st.requests,
          " ok, p(95)=", FormatSeconds(probes::Quantile(st.latencies, 0.95)));
      if (i < sc.failed_at.size() && sc.failed_at[i] > 0) {
        absl::StrAppend(&line, ", ended ", sc.failed_at[i], " iteration",
                        sc.failed_at[i] == 1 ? "" : "s");
      }
      absl::StrAppend(&out,
                      Row(absl::StrCat("  step ", module.steps[i].name), line));
    }
  }
  if (burst.earliest_cert_expiry.has_value()) {
    absl::StrAppend(&out, Row("earliest cert expiry",
                              absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                                               *burst.earliest_cert_expiry,
                                               absl::UTCTimeZone())));
  }
  // The first error text tells a CI log reader what broke without a rerun.
  for (const probes::RequestResult& r : burst.requests) {
    if (r.result() != probes::ResultClass::kSuccess &&
        !burst.error(r).empty()) {
      absl::StrAppend(&out, Row("first error", burst.error(r)));
      break;
    }
  }
  out += "\n";
  if (report.success) {
    absl::StrAppend(&out, "  ", Mark(true, color),
                    module.thresholds.empty()
                        ? " probe succeeded: every request succeeded"
                        : " probe succeeded: every threshold holds",
                    " (probe_success 1)\n");
  } else if (failed > 0) {
    absl::StrAppend(&out, "  ", Mark(false, color), " probe failed: ", failed,
                    " of ", module.thresholds.size(), " threshold",
                    module.thresholds.size() == 1 ? "" : "s",
                    " crossed (probe_success 0)\n");
  } else {
    absl::StrAppend(
        &out, "  ", Mark(false, color), " probe failed: ",
        sent == 0 ? "no request was made"
                  : absl::StrCat(s.errors, " of ", sent, " requests failed"),
        " (probe_success 0)\n");
  }
  return out;
}

probes::Allowlist CliAllowlist(bool allow_metadata_targets) {
  // "0.0.0.0/0" and "::/0" allow every address except the restricted
  // ranges, which only entries inside them can name (probes/allowlist.h).
  std::vector<std::string> entries = {"0.0.0.0/0", "::/0"};
  if (allow_metadata_targets) {
    entries.insert(entries.end(),
                   {"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128",
                    "0.0.0.0/32", "::/128"});
  }
  config::SecurityConfig security;
  security.allowed_targets.emplace();
  for (const std::string& e : entries) {
    // Constant entries: they parse.
    security.allowed_targets->push_back(*config::ParseAllowedTarget(e));
  }
  return probes::Allowlist(security);
}

bool UseColor(bool tty, const char* no_color_env) {
  return tty && (no_color_env == nullptr || no_color_env[0] == '\0');
}

namespace {

// A JSON number to 6 decimals (below a microsecond for milliseconds,
// which is finer than any latency measured), trailing zeros dropped; NaN
// (no samples) has no JSON form: null.
std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  std::string s = absl::StrFormat("%.6f", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

std::string JsonThresholds(const config::Module& module,
                           const probes::ProbeReport& report, bool rate) {
  std::vector<std::string> items;
  for (size_t i = 0; i < module.thresholds.size(); ++i) {
    const config::Threshold& t = module.thresholds[i];
    if ((t.stat == config::Threshold::Stat::kErrorRate) != rate) continue;
    const bool passed =
        i < report.thresholds_passed.size() && report.thresholds_passed[i];
    // k6's --summary-export maps a threshold to true when it failed.
    items.push_back(
        absl::StrCat(Quoted(t.source), ": ", passed ? "false" : "true"));
  }
  if (items.empty()) return "";
  return absl::StrCat(", \"thresholds\": {", absl::StrJoin(items, ", "), "}");
}

// Stops the burst on the first SIGINT; the second one ends the process
// (SA_RESETHAND restores the default), as with k6.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);
extern "C" void OnSigint(int) { g_interrupted.store(true); }

}  // namespace

std::string SummaryJson(const config::Module& module, const std::string& target,
                        const probes::ProbeReport& report, bool interrupted,
                        int exit_code) {
  const probes::BurstResult& burst = report.burst;
  const probes::BurstStats& s = report.stats;
  const double seconds = absl::ToDoubleSeconds(burst.duration);
  const auto per_second = [&](int64_t n) {
    return JsonNumber(seconds > 0 ? static_cast<double>(n) / seconds : 0);
  };
  const auto ms = [](double sec) { return JsonNumber(sec * 1000); };
  const int64_t sent = static_cast<int64_t>(burst.requests.size());
  std::string j = "{\n";
  absl::StrAppend(&j, "  \"state\": {\"testRunDurationMs\": ",
                  JsonNumber(seconds * 1000), "},\n");
  absl::StrAppend(&j, "  \"metrics\": {\n");
  absl::StrAppend(&j, "    \"http_reqs\": {\"count\": ", sent,
                  ", \"rate\": ", per_second(sent), "},\n");
  absl::StrAppend(&j, "    \"iterations\": {\"count\": ", sent,
                  ", \"rate\": ", per_second(sent), "},\n");
  absl::StrAppend(&j, "    \"dropped_iterations\": {\"count\": ", burst.dropped,
                  ", \"rate\": ", per_second(burst.dropped), "},\n");
  absl::StrAppend(&j, "    \"http_req_duration\": {\"avg\": ", ms(s.avg),
                  ", \"min\": ", ms(s.min),
                  ", \"med\": ", ms(probes::Quantile(s.latencies, 0.5)),
                  ", \"max\": ", ms(s.max),
                  ", \"p(90)\": ", ms(probes::Quantile(s.latencies, 0.9)),
                  ", \"p(95)\": ", ms(probes::Quantile(s.latencies, 0.95)),
                  JsonThresholds(module, report, /*rate=*/false), "},\n");
  // As k6's Rate: passes counts true samples (failed requests), fails the
  // false ones; value is the failed share (null without requests).
  absl::StrAppend(
      &j, "    \"http_req_failed\": {\"passes\": ", s.errors,
      ", \"fails\": ", sent - s.errors, ", \"value\": ",
      JsonNumber(sent > 0 ? static_cast<double>(s.errors) / sent
                          : std::numeric_limits<double>::quiet_NaN()),
      JsonThresholds(module, report, /*rate=*/true), "}\n");
  absl::StrAppend(&j, "  },\n");
  std::vector<std::string> codes;
  for (const auto& [code, n] : s.by_code) {
    codes.push_back(absl::StrCat("\"", code, "\": ", n));
  }
  std::vector<std::string> classes;
  for (int c = 0; c < probes::kNumResultClasses; ++c) {
    if (s.by_class[c] == 0) continue;
    classes.push_back(absl::StrCat(
        Quoted(probes::ResultClassName(static_cast<probes::ResultClass>(c))),
        ": ", s.by_class[c]));
  }
  absl::StrAppend(&j, "  \"canary\": {\"module\": ", Quoted(module.name),
                  ", \"target\": ", Quoted(RedactUrlUserinfo(target)),
                  ", \"success\": ", report.success ? "true" : "false",
                  ", \"interrupted\": ", interrupted ? "true" : "false",
                  ", \"exit_code\": ", exit_code,
                  ", \"planned\": ", burst.planned, ", \"status_codes\": {",
                  absl::StrJoin(codes, ", "), "}", ", \"results\": {",
                  absl::StrJoin(classes, ", "), "}}\n");
  absl::StrAppend(&j, "}\n");
  return j;
}

int RunProbeCommand(int argc, char** argv, std::ostream& out,
                    std::ostream& err) {
  absl::StatusOr<ProbeArgs> args = ParseProbeArgs(argc, argv);
  if (!args.ok()) {
    err << "canary_exporter probe: " << args.status().message() << "\n\n"
        << ProbeUsage();
    return kExitUsage;
  }
  if (args->help) {
    out << ProbeUsage();
    return kExitOk;
  }
  absl::StatusOr<config::Config> config =
      args->config_file.empty() ? config::LoadDefaultConfig()
                                : config::LoadConfigFile(args->config_file);
  if (!config.ok()) {
    err << "canary_exporter probe: config error: " << config.status().message()
        << "\n";
    return kExitUsage;
  }
  const config::Module* module = config->FindModule(args->module);
  if (module == nullptr) {
    std::vector<std::string> names;
    for (const auto& [name, m] : config->modules) names.push_back(name);
    err << "canary_exporter probe: unknown module \"" << args->module
        << "\" (have: " << absl::StrJoin(names, ", ") << ")\n";
    return kExitUsage;
  }
  absl::StatusOr<probes::Target> target = probes::ParseTarget(args->target);
  if (!target.ok()) {
    err << "canary_exporter probe: " << target.status().message() << "\n";
    return kExitUsage;
  }
  // Opened (and truncated) before any request: an unwritable path is a
  // usage error, not a surprise after the burst.
  std::ofstream export_file;
  if (!args->summary_export.empty()) {
    export_file.open(args->summary_export, std::ios::trunc);
    if (!export_file) {
      err << "canary_exporter probe: cannot write --summary-export file \""
          << args->summary_export << "\"\n";
      return kExitUsage;
    }
  }
  if (absl::Status s = probes::GlobalInit(); !s.ok()) {
    err << "canary_exporter probe: initializing libcurl failed: " << s.message()
        << "\n";
    return kExitCouldNotRun;
  }
  // The user typed this target: the server's allowlist is not for them
  // (k6 has none); only the metadata-address guard stays.
  const probes::Allowlist allowlist =
      CliAllowlist(args->allow_metadata_targets);
  if (absl::Status s = probes::CheckTarget(allowlist, *target); !s.ok()) {
    // The guard's own reason points at [security], which the CLI does not
    // read: keep what it names (host, address), say what lifts it here.
    std::string what(s.message());
    const size_t cut = what.find(" is not allowed");
    if (cut != std::string::npos) {
      what = absl::StrCat(what.substr(0, cut),
                          " is not allowed: link-local, cloud metadata and "
                          "unspecified addresses are refused; "
                          "--allow-metadata-targets lifts this guard");
    }
    err << "canary_exporter probe: " << what << "\n";
    return kExitCouldNotRun;
  }
  const absl::Duration budget = args->timeout.value_or(CliBudget(*module));

  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> errors{0};
  probes::ProbeSpec spec{.target = target->url,
                         .parsed_target = *target,
                         .module = module,
                         .budget = budget,
                         .allowlist = &allowlist,
                         .stop = &g_interrupted};
  const bool tty = isatty(STDOUT_FILENO) == 1;
  canary::Notification done;
  std::thread progress;
  if (tty && args->output == CliOutput::kSummary) {
    spec.on_request = [&](const probes::RequestResult& r) {
      completed.fetch_add(1, std::memory_order_relaxed);
      if (r.result() != probes::ResultClass::kSuccess) {
        errors.fetch_add(1, std::memory_order_relaxed);
      }
    };
    const absl::Duration expected =
        module->burst.duration.value_or(absl::ZeroDuration());
    const config::BurstConfig& b = module->burst;
    int64_t planned = b.requests.value_or(0);
    if (b.open_model() && b.duration.has_value()) {
      const auto arrivals = static_cast<int64_t>(
          std::ceil(absl::ToDoubleSeconds(*b.duration) * b.rate - 1e-9));
      planned = planned > 0 ? std::min(planned, arrivals) : arrivals;
    }
    progress = std::thread(ProgressLoop, std::ref(out), std::ref(done),
                           std::cref(completed), std::cref(errors), planned,
                           expected, absl::Now());
  }
  // Ctrl-C stops the burst; what ran is still summarized.
  g_interrupted.store(false);
  struct sigaction on_int = {};
  struct sigaction previous = {};
  on_int.sa_handler = OnSigint;
  on_int.sa_flags = SA_RESETHAND;
  sigemptyset(&on_int.sa_mask);
  sigaction(SIGINT, &on_int, &previous);
  std::unique_ptr<probes::Prober> prober = probes::NewHttpProber();
  probes::ProbeReport report = prober->Probe(spec);
  sigaction(SIGINT, &previous, nullptr);
  const bool interrupted = g_interrupted.load();
  done.Notify();
  if (progress.joinable()) progress.join();

  int code = report.success ? kExitOk : kExitFailed;
  if (interrupted) code = kExitInterrupted;
  if (!report.run_status.ok()) code = kExitCouldNotRun;
  if (args->output == CliOutput::kPrometheus) {
    out << probes::SerializeFamilies(report.families);
  } else {
    out << RenderSummary(*module, target->url, budget, report,
                         UseColor(tty, std::getenv("NO_COLOR")));
    if (interrupted) {
      out << "  interrupted (Ctrl-C): the summary covers the "
          << report.burst.requests.size() << " requests that ran\n";
    }
  }
  out.flush();
  if (!report.run_status.ok()) {
    err << "canary_exporter probe: the probe could not run: "
        << report.run_status.message() << "\n";
  }
  if (export_file.is_open()) {
    export_file << SummaryJson(*module, target->url, report, interrupted, code);
    export_file.close();
    if (!export_file) {
      err << "canary_exporter probe: writing --summary-export file \""
          << args->summary_export << "\" failed\n";
      return kExitCouldNotRun;
    }
  }
  return code;
}

}  // namespace canary::exporter
