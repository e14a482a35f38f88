#include "probes/prober.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "probes/burst.h"
#include "probes/curl_transport.h"
#include "probes/metrics.h"
#include "probes/stats.h"
#include "probes/threshold_check.h"

namespace canary::probes {
namespace {

// A probe is a success when at least one request was made and every
// threshold holds. A module without an error_rate threshold tolerates no
// failed request: a latency threshold alone must not make a target that
// answers only 503s look healthy.
//
// A scenario judges iterations: at least one ended, and without an
// error_rate threshold none failed (a failed optional step does not fail
// its iteration).
bool Succeeded(const config::Module& module, const BurstStats& stats,
               const std::vector<bool>& passed, const ScenarioStats* scenario) {
  if (stats.requests == 0) return false;
  if (scenario != nullptr && scenario->iterations.requests == 0) return false;
  if (!std::all_of(passed.begin(), passed.end(), [](bool p) { return p; })) {
    return false;
  }
  const bool has_error_threshold =
      std::any_of(module.thresholds.begin(), module.thresholds.end(),
                  [](const config::Threshold& t) {
                    return t.stat == config::Threshold::Stat::kErrorRate;
                  });
  if (has_error_threshold) return true;
  return scenario != nullptr ? scenario->failed == 0 : stats.errors == 0;
}

class ProberImpl : public Prober {
 public:
  ProberImpl(TransportFactory factory, Clock* clock)
      : factory_(std::move(factory)), clock_(clock) {}

  ProbeReport Probe(const ProbeSpec& spec) override {
    const absl::Time start = clock_->Now();
    const config::Module& module = *spec.module;
    ProbeReport report;
    BurstPlan plan = PlanBurst(module.burst, module.timeout, spec.budget);
    if (!module.steps.empty()) {
      // A scenario: the shape counts iterations, each up to one result per
      // step, under the same bound on results per burst.
      plan.scenario = &module;
      plan.max_requests = std::max<int64_t>(
          1, config::kMaxRequests / static_cast<int64_t>(module.steps.size()));
    }
    const Allowlist loopback_only;
    absl::StatusOr<Target> target = spec.parsed_target.has_value()
                                        ? *spec.parsed_target
                                        : ParseTarget(spec.target);
    absl::StatusOr<std::unique_ptr<Transport>> transport =
        target.ok() ? factory_(*target, module, plan.vus,
                               spec.allowlist != nullptr ? *spec.allowlist
                                                         : loopback_only)
                    : target.status();
    absl::Status status = transport.status();
    if (status.ok()) {
      absl::StatusOr<BurstResult> burst =
          RunBurst(plan, transport->get(), clock_, spec.on_request, spec.stop);
      status = burst.status();
      if (burst.ok()) report.burst = *std::move(burst);
    }
    if (!status.ok()) {
      // The exporter, not the target, failed: still data, never a crash.
      report.run_status = status;
      RequestResult r;
      r.set_result(ResultClass::kOther);
      r.set_error_id(report.burst.AddError(std::string(status.message())));
      report.burst.requests.push_back(r);
      report.burst.budget = spec.budget;
      report.burst.planned = plan.planned;
    }
    report.stats = ComputeStats(report.burst);
    if (!module.steps.empty()) {
      report.scenario = ComputeScenarioStats(
          report.burst, static_cast<int>(module.steps.size()));
    }
    const ScenarioStats* scenario =
        report.scenario.has_value() ? &*report.scenario : nullptr;
    report.thresholds_passed =
        EvaluateThresholds(module.thresholds, report.stats, scenario);
    report.success =
        Succeeded(module, report.stats, report.thresholds_passed, scenario);
    ProbeSummary summary;
    summary.success = report.success;
    summary.budget = spec.budget;
    summary.probe_duration = clock_->Now() - start;
    report.families =
        BuildProbeFamilies(report.burst, report.stats, module,
                           report.thresholds_passed, summary, scenario);
    return report;
  }

 private:
  TransportFactory factory_;
  Clock* clock_;
};

}  // namespace

std::unique_ptr<Prober> NewProber(TransportFactory factory, Clock* clock) {
  return std::make_unique<ProberImpl>(std::move(factory), clock);
}

std::unique_ptr<Prober> NewHttpProber() {
  Clock* clock = RealClock::Get();
  return NewProber(
      [clock](const Target& target, const config::Module& module, int slots,
              const Allowlist& allowlist) {
        return NewCurlTransport(target, module, slots, clock, &allowlist);
      },
      clock);
}

}  // namespace canary::probes
