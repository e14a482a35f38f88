#include "exporter/service/handlers.h"

#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "exporter/service/admission.h"
#include "exporter/service/budget.h"
#include "exporter/service/input_limits.h"
#include "exporter/views/debug_view.h"
#include "exporter/views/landing.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/target.h"
#include "probes/target_guard.h"

namespace canary::exporter {
namespace {

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body.push_back('\n');
  return r;
}

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse r = Text(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

Handlers::Handlers(probes::Prober* prober, ConfigStore* store,
                   SelfMetrics* metrics, HandlerOptions options, Logger* logger)
    : prober_(prober),
      store_(store),
      metrics_(metrics),
      options_(options),
      logger_(logger != nullptr ? logger : &GlobalLogger()),
      history_(options.history_limit) {}

HttpResponse Handlers::Handle(const HttpRequest& request) {
  // [web] basic auth guards every path, before anything else is looked at.
  if (!auth_.Allow(store_->Get()->web.basic_auth_users,
                   request.authorization)) {
    logger_->Debug("unauthorized request", {{"path", request.path}});
    HttpResponse r = Text(401, "unauthorized");
    r.headers.emplace_back("WWW-Authenticate", kBasicChallenge);
    return r;
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  const std::string& path = request.path;
  if (path == "/-/reload") {
    if (request.method != "POST") return MethodNotAllowed("POST");
    return Reload();
  }
  if (path != "/probe" && path != "/metrics" && path != "/-/healthy" &&
      path != "/-/ready" && path != "/" && path != "/debug") {
    return Text(404, "not found");
  }
  if (!get) return MethodNotAllowed("GET, HEAD");
  if (path == "/probe") return Probe(request);
  if (path == "/metrics") return Metrics();
  if (path == "/") return Landing(request);
  if (path == "/debug") return DebugRecord(request);
  if (path == "/-/ready" && shutting_down_.load()) {
    return Text(503, "shutting down");
  }
  return Text(200, "OK");
}

HttpResponse Handlers::Reject(std::string reason) {
  metrics_->ProbeRejected(kRejectBadRequest);
  logger_->Debug("probe rejected", {{"reason", reason}});
  return Text(400, std::move(reason));
}

HttpResponse Handlers::Probe(const HttpRequest& request) {
  if (shutting_down_.load()) {
    metrics_->ProbeRejected(kRejectShuttingDown);
    return Text(503, "probe refused: the exporter is shutting down");
  }
  if (absl::Status s = CheckProbeInput(request.query_bytes, request.query);
      !s.ok()) {
    HttpResponse r = Reject(std::string(s.message()));
    r.status = InputErrorHttpStatus(s);
    return r;
  }
  auto target_it = request.query.find("target");
  if (target_it == request.query.end() || target_it->second.empty()) {
    return Reject("target parameter is missing");
  }
  absl::StatusOr<probes::Target> target =
      probes::ParseTarget(target_it->second);
  if (!target.ok()) return Reject(std::string(target.status().message()));

  std::string module_name = kDefaultModule;
  if (auto it = request.query.find("module");
      it != request.query.end() && !it->second.empty()) {
    module_name = it->second;
  }
  // Held for the whole burst so a reload cannot free the module under it.
  std::shared_ptr<const config::Config> config = store_->Get();
  const config::Module* module = config->FindModule(module_name);
  if (module == nullptr) {
    return Reject(absl::StrCat("unknown module \"", module_name, "\""));
  }
  // SSRF guard (probes/target_guard.h): refused before anything is sent;
  // the transport checks every address it connects to again.
  const probes::Allowlist allowlist(config->security);
  if (absl::Status s = probes::CheckTarget(allowlist, *target); !s.ok()) {
    if (!absl::IsPermissionDenied(s)) return Reject(std::string(s.message()));
    metrics_->ProbeRejected(kRejectForbidden);
    logger_->Debug("probe forbidden", {{"module", module_name},
                                       {"target", target->redacted_url},
                                       {"reason", std::string(s.message())}});
    return Text(403, std::string(s.message()));
  }

  absl::StatusOr<BudgetDecision> decision = DecideProbeBudget(
      request.scrape_timeout ? request.scrape_timeout->c_str() : nullptr,
      options_.timeout_offset);
  if (!decision.ok()) return Reject(std::string(decision.status().message()));
  const absl::Duration budget = decision->budget;

  const absl::Time start = absl::Now();
  // Single flight, min_interval and the [server] load limit:
  // exporter/service/admission.h.
  const ProbeOutcome outcome =
      coordinator_.Probe(config, *module, target->url, budget, [&] {
        metrics_->ProbeStarted();
        probes::ProbeReport ran = prober_->Probe({.target = target->url,
                                                  .parsed_target = *target,
                                                  .module = module,
                                                  .budget = budget,
                                                  .allowlist = &allowlist});
        metrics_->ProbeFinished(module_name, ran);
        return ran;
      });
  if (outcome.kind == ProbeOutcome::Kind::kRefused) {
    metrics_->ProbeRejected(outcome.reason);
    logger_->Debug("probe refused", {{"module", module_name},
                                     {"target", target->redacted_url},
                                     {"reason", outcome.reason}});
    return Text(503, outcome.message);
  }
  const bool cached = outcome.kind == ProbeOutcome::Kind::kCached;
  if (cached) metrics_->ProbeCached(module_name);
  if (outcome.kind == ProbeOutcome::Kind::kShared) {
    metrics_->ProbeShared(module_name);
  }
  const probes::ProbeReport& report = *outcome.report;
  logger_->Debug("probe finished",
                 {{"module", module_name},
                  {"target", target->redacted_url},
                  {"served", outcome.kind == ProbeOutcome::Kind::kRan ? "ran"
                             : cached                                 ? "cached"
                                      : "shared"},
                  {"success", report.success ? "true" : "false"},
                  {"requests", absl::StrCat(report.burst.requests.size())},
                  {"duration", absl::FormatDuration(absl::Now() - start)}});
  // The record (charts, debug text) is rendered after the answer is
  // written: Prometheus waits for none of it.
  auto record = [this, config, module, target = target->url,
                 decision = *decision, report = outcome.report,
                 finished = absl::Now(),
                 reservation = std::make_shared<ProbeHistory::Reservation>(
                     history_.limit() > 0 ? history_.Reserve()
                                          : ProbeHistory::Reservation())] {
    if (history_.limit() == 0) return;
    reservation->Fill(MakeProbeRecord(*module, target, decision.budget,
                                      decision.explanation, *report, finished));
  };
  if (auto it = request.query.find("debug");
      it != request.query.end() &&
      (it->second == "true" || it->second == "1")) {
    HttpResponse r =
        Text(200, RenderDebug({.module = module,
                               .target = target->url,
                               .budget = decision->budget,
                               .budget_explanation = decision->explanation,
                               .report = &report,
                               .finished = absl::Now()}));
    r.after_send = std::move(record);
    return r;
  }

  HttpResponse r;
  r.content_type = kMetricsContentType;
  r.body = probes::SerializeFamilies(report.families);
  absl::StrAppend(&r.body,
                  probes::SerializeFamilies({ProbeCachedFamily(cached)}));
  r.after_send = std::move(record);
  return r;
}

HttpResponse Handlers::Metrics() {
  absl::StatusOr<std::string> text = metrics_->Serialize();
  if (!text.ok()) {
    logger_->Error("serializing self-metrics failed",
                   {{"err", std::string(text.status().message())}});
    return Text(500, std::string(text.status().message()));
  }
  HttpResponse r;
  r.content_type = kMetricsContentType;
  r.body = *std::move(text);
  return r;
}

HttpResponse Handlers::Reload() {
  absl::Status s = store_->Reload();
  if (!s.ok()) {
    logger_->Error(
        "reloading config failed",
        {{"source", store_->Source()}, {"err", std::string(s.message())}});
    return Text(500, absl::StrCat("failed to reload config: ", s.message()));
  }
  logger_->Info("config reloaded", {{"source", store_->Source()}});
  if (std::optional<std::string> w =
          WorkerPoolWarning(*store_->Get(), options_.worker_threads)) {
    logger_->Warn("worker pool too small", {{"msg", *w}});
  }
  return Text(200, "OK");
}

HttpResponse Handlers::Landing(const HttpRequest& request) {
  std::shared_ptr<const config::Config> config = store_->Get();
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = RenderLandingPage({.config = config.get(),
                              .config_source = store_->Source(),
                              .host = request.host,
                              .history = &history_,
                              .example_module = kDefaultModule});
  return r;
}

HttpResponse Handlers::DebugRecord(const HttpRequest& request) {
  uint64_t id = 0;
  auto it = request.query.find("id");
  if (it == request.query.end() || !absl::SimpleAtoi(it->second, &id)) {
    return Text(400, "id parameter is missing or not a number");
  }
  std::shared_ptr<const ProbeRecord> record = history_.Find(id);
  if (record == nullptr) {
    return Text(404, absl::StrCat("probe ", id,
                                  " is not in the history (--history.limit ",
                                  history_.limit(), ")"));
  }
  return Text(200, record->debug_text);
}

}  // namespace canary::exporter
