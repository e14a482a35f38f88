// debug_view.h: the plain-text answer of /probe?...&debug=true (as
// blackbox_exporter's debug output): the resolved module config with
// secrets redacted, the budget and how it was derived, every request, and
// the metrics.
//
//   std::string text = RenderDebug({.module = module, .target = url,
//                                   .budget = decision.budget,
//                                   .budget_explanation =
//                                       decision.explanation,
//                                   .report = &report});
//
// Secrets: the module is rendered by config::RenderModule and the target by
// config::RedactUrl (config/redact.h), the rule every config render follows:
// each secret is printed as <secret>, its value never.
// Thread-safety: pure functions. Errors: none.
#ifndef CANARY_EXPORTER_VIEWS_DEBUG_VIEW_H_
#define CANARY_EXPORTER_VIEWS_DEBUG_VIEW_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "probes/prober.h"

namespace canary::exporter {

struct DebugInput {
  const config::Module* module = nullptr;  // never null
  std::string target;
  absl::Duration budget;  // the time budget the probe ran under
  // How `budget` was derived, in words (DecideProbeBudget,
  // exporter/service/budget.h); printed after it in parentheses.
  std::string budget_explanation;
  const probes::ProbeReport* report = nullptr;  // never null
  absl::Time finished = absl::UnixEpoch();
  // Requests beyond this many are summarised in one line.
  size_t max_request_lines = 10000;
};

std::string RenderDebug(const DebugInput& in);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_VIEWS_DEBUG_VIEW_H_
