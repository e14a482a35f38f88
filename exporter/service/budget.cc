#include "exporter/service/budget.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace canary::exporter {

absl::StatusOr<BudgetDecision> DecideProbeBudget(
    const char* scrape_timeout_header, absl::Duration offset) {
  absl::Duration timeout = kDefaultScrapeTimeout;
  // Names the scrape timeout the rule started from.
  std::string from =
      absl::StrCat("no ", kScrapeTimeoutHeader, " header: the ",
                   absl::ToInt64Seconds(kDefaultScrapeTimeout), "s default");
  if (scrape_timeout_header != nullptr) {
    double seconds = 0;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(scrape_timeout_header),
                          &seconds) ||
        !std::isfinite(seconds) || seconds <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid ", kScrapeTimeoutHeader, " \"",
                       scrape_timeout_header, "\""));
    }
    timeout = absl::Seconds(seconds);
    from = absl::StrCat(kScrapeTimeoutHeader, " ", scrape_timeout_header);
  }
  const std::string offset_text =
      absl::StrCat("--timeout-offset ", absl::FormatDuration(offset));
  const absl::Duration budget = timeout - offset;
  // An offset at least as large as the timeout would leave nothing; half the
  // timeout still gives the burst room and the scrape a margin.
  if (budget <= absl::ZeroDuration()) {
    return BudgetDecision{
        .budget = timeout / 2,
        .explanation = absl::StrCat(from, " is not above ", offset_text,
                                    ": half the scrape timeout")};
  }
  return BudgetDecision{
      .budget = budget,
      .explanation = absl::StrCat(from, " minus ", offset_text)};
}

absl::StatusOr<absl::Duration> ProbeBudget(const char* scrape_timeout_header,
                                           absl::Duration offset) {
  absl::StatusOr<BudgetDecision> d =
      DecideProbeBudget(scrape_timeout_header, offset);
  if (!d.ok()) return d.status();
  return d->budget;
}

}  // namespace canary::exporter
