// budget.h: how long one /probe may take, from Prometheus' scrape timeout
// (blackbox_exporter's rule), and why: the decision carries its own
// explanation for the debug view.
//
//   absl::StatusOr<absl::Duration> b = ProbeBudget("10", absl::Seconds(0.5));
//   // *b == 9.5 s; ProbeBudget(nullptr, 0.5 s) == 119.5 s
//   absl::StatusOr<BudgetDecision> d =
//       DecideProbeBudget("10", absl::Seconds(0.5));
//   // d->budget == 9.5 s, d->explanation ==
//   // "X-Prometheus-Scrape-Timeout-Seconds 10 minus --timeout-offset 500ms"
//
// Thread-safety: a pure function.
// Errors: InvalidArgument `invalid X-Prometheus-Scrape-Timeout-Seconds "abc"`
// when the header is not a finite number of seconds > 0.
#ifndef CANARY_EXPORTER_SERVICE_BUDGET_H_
#define CANARY_EXPORTER_SERVICE_BUDGET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/http/http.h"  // kScrapeTimeoutHeader

namespace canary::exporter {

// The budget base when Prometheus sent no header, as blackbox_exporter.
inline constexpr absl::Duration kDefaultScrapeTimeout = absl::Seconds(120);

// A probe's time budget and, in words, the rule that gave it.
struct BudgetDecision {
  absl::Duration budget;
  std::string explanation;  // names the header value and the offset
};

// `scrape_timeout_header` is the header's value, or nullptr when absent.
// Returns header − offset, or header / 2 when that is not positive; with no
// header, 120 s − offset.
absl::StatusOr<BudgetDecision> DecideProbeBudget(
    const char* scrape_timeout_header, absl::Duration offset);

// DecideProbeBudget's budget alone.
absl::StatusOr<absl::Duration> ProbeBudget(const char* scrape_timeout_header,
                                           absl::Duration offset);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_BUDGET_H_
