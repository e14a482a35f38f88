#include "exporter/views/probe_history.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "config/redact.h"
#include "exporter/views/charts.h"
#include "exporter/views/report_format.h"
#include "probes/stats.h"

namespace canary::exporter {

namespace {

// The landing page's per-step view of a scenario probe.
std::string StepsTable(const config::Module& module,
                       const probes::ScenarioStats& sc) {
  std::string out = absl::StrCat(
      "<table class=\"steps\">\n<tr><th>step</th><th>requests</th>"
      "<th>errors</th><th>p50</th><th>p95</th><th>iterations ended here</th>"
      "</tr>\n");
  for (size_t i = 0; i < module.steps.size() && i < sc.steps.size(); ++i) {
    const probes::BurstStats& st = sc.steps[i];
    absl::StrAppend(
        &out, "<tr><td><code>", EscapeHtml(module.steps[i].name),
        "</code></td><td>", st.requests, "</td><td>", st.errors, "</td><td>",
        EscapeHtml(FormatSeconds(probes::Quantile(st.latencies, 0.5))),
        "</td><td>",
        EscapeHtml(FormatSeconds(probes::Quantile(st.latencies, 0.95))),
        "</td><td>", i < sc.failed_at.size() ? sc.failed_at[i] : 0,
        "</td></tr>\n");
  }
  absl::StrAppend(&out, "</table>\n<p>iterations: completed ", sc.completed,
                  ", failed ", sc.failed, ", dropped ", sc.dropped, "</p>\n");
  return out;
}

}  // namespace

ProbeRecord MakeProbeRecord(const config::Module& module,
                            const std::string& target, absl::Duration budget,
                            const std::string& budget_explanation,
                            const probes::ProbeReport& report,
                            absl::Time finished) {
  const probes::BurstStats& stats = report.stats;
  ProbeRecord r;
  r.finished = finished;
  r.module = module.name;
  r.target = config::RedactUrl(target);
  r.success = report.success;
  r.planned = report.burst.planned;
  r.sent = static_cast<int64_t>(report.burst.requests.size());
  r.dropped = report.burst.dropped;
  r.errors = stats.errors;
  r.p50 = probes::Quantile(stats.latencies, 0.5);
  r.p95 = probes::Quantile(stats.latencies, 0.95);
  r.duration = report.burst.duration;
  r.budget = budget;
  if (report.scenario.has_value())
    r.steps_html = StepsTable(module, *report.scenario);
  r.histogram_svg = LatencyHistogramSvg(report.burst, module.buckets);
  r.timeline_svg = TimelineSvg(report.burst, report.stats);
  r.debug_text = RenderDebug({.module = &module,
                              .target = target,
                              .budget = budget,
                              .budget_explanation = budget_explanation,
                              .report = &report,
                              .finished = finished,
                              .max_request_lines = kHistoryDebugRequestLines});
  return r;
}

ProbeHistory::Reservation& ProbeHistory::Reservation::operator=(
    Reservation&& other) noexcept {
  if (this != &other) {
    if (history_ != nullptr) history_->Withdraw();
    history_ = std::exchange(other.history_, nullptr);
  }
  return *this;
}

ProbeHistory::Reservation::~Reservation() {
  if (history_ != nullptr) history_->Withdraw();
}

uint64_t ProbeHistory::Reservation::Fill(ProbeRecord record) {
  ProbeHistory* history = std::exchange(history_, nullptr);
  if (history == nullptr) return 0;
  const uint64_t id = history->Add(std::move(record));
  history->Withdraw();
  return id;
}

ProbeHistory::Reservation ProbeHistory::Reserve() {
  canary::MutexLock lock(&mu_);
  ++reserved_;
  return Reservation(this);
}

void ProbeHistory::Withdraw() {
  canary::MutexLock lock(&mu_);
  --reserved_;
}

void ProbeHistory::AwaitReservedLocked() const {
  mu_.AwaitWithTimeout(
      [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return reserved_ == 0; },
      kHistoryReadWait);
}

uint64_t ProbeHistory::Add(ProbeRecord record) {
  canary::MutexLock lock(&mu_);
  record.id = next_id_++;
  const uint64_t id = record.id;
  if (limit_ == 0) return id;
  records_.push_back(std::make_shared<const ProbeRecord>(std::move(record)));
  while (records_.size() > limit_) records_.pop_front();
  return id;
}

std::vector<std::shared_ptr<const ProbeRecord>> ProbeHistory::Recent() const {
  canary::MutexLock lock(&mu_);
  AwaitReservedLocked();
  return {records_.rbegin(), records_.rend()};
}

std::shared_ptr<const ProbeRecord> ProbeHistory::Find(uint64_t id) const {
  canary::MutexLock lock(&mu_);
  AwaitReservedLocked();
  for (const auto& r : records_) {
    if (r->id == id) return r;
  }
  return nullptr;
}

std::string RenderRecentProbes(const ProbeHistory& history) {
  const auto records = history.Recent();
  std::string out =
      absl::StrCat("<h2>Recent probes</h2>\n<p>The last ", history.limit(),
                   " probes are kept (--history.limit).");
  if (records.empty()) {
    absl::StrAppend(&out, " None yet.</p>\n");
    return out;
  }
  absl::StrAppend(&out, "</p>\n");
  for (const auto& r : records) {
    absl::StrAppend(
        &out, "<div class=\"probe ", r->success ? "ok" : "failed",
        "\" id=\"probe-", r->id, "\">\n<h3>#", r->id, " ",
        r->success ? "<span style=\"color:#2e7d32\">&#10003; success</span>"
                   : "<span style=\"color:#c62828\">&#10007; failed</span>",
        " &middot; module <code>", EscapeHtml(r->module),
        "</code> &middot; <code>", EscapeHtml(r->target), "</code></h3>\n<p>",
        EscapeHtml(absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", r->finished,
                                    absl::UTCTimeZone())),
        " &middot; planned ", r->planned, ", sent ", r->sent, ", dropped ",
        r->dropped, ", errors ", r->errors, " &middot; p50 ",
        EscapeHtml(FormatSeconds(r->p50)), ", p95 ",
        EscapeHtml(FormatSeconds(r->p95)), " &middot; ran ",
        EscapeHtml(FormatDurationShort(r->duration)), " of a ",
        EscapeHtml(FormatDurationShort(r->budget)),
        " budget &middot; <a href=\"/debug?id=", r->id,
        "\">debug output</a></p>\n", r->steps_html, r->histogram_svg, "\n",
        r->timeline_svg, "\n</div>\n");
  }
  return out;
}

}  // namespace canary::exporter
