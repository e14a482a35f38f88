#include "exporter/views/debug_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/redact.h"
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

std::string RenderDebug(const DebugInput& in) {
  const probes::ProbeReport& report = *in.report;
  const probes::BurstResult& burst = report.burst;
  const probes::BurstStats& stats = report.stats;
  std::string out;
  absl::StrAppend(&out, "canary_exporter probe debug output\n\n");
  absl::StrAppend(&out, "target:   ", config::RedactUrl(in.target), "\n");
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
                  config::RenderModule(*in.module));

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
