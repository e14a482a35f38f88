#include "exporter/service/budget.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace canary::exporter {

absl::StatusOr<absl::Duration> ProbeBudget(const char* scrape_timeout_header,
                                           absl::Duration offset) {
  absl::Duration timeout = kDefaultScrapeTimeout;
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
  }
  const absl::Duration budget = timeout - offset;
  // An offset at least as large as the timeout would leave nothing; half the
  // timeout still gives the burst room and the scrape a margin.
  if (budget <= absl::ZeroDuration()) return timeout / 2;
  return budget;
}

}  // namespace canary::exporter
