// Fuzzes config::ParseThreshold. A threshold that parses must satisfy the
// header's promises (percentile in (0, 100], error_rate in [0, 1], a finite
// non-negative latency) and parse again from its own `source` to the same
// value: the label the exporter shows can be pasted back into a config.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "config/config.h"
#include "config/threshold_syntax.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using canary::config::ParseThreshold;
  using canary::config::Threshold;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Threshold> t = ParseThreshold(text);
  if (!t.ok()) {
    FUZZ_CHECK(!t.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(std::isfinite(t->value));
  if (t->stat == Threshold::Stat::kPercentile) {
    FUZZ_CHECK(t->percentile >= 0 && t->percentile <= 100);
  }
  if (t->stat == Threshold::Stat::kErrorRate) {
    FUZZ_CHECK(t->value >= 0 && t->value <= 1);
  } else {
    FUZZ_CHECK(t->value >= 0);
  }
  absl::StatusOr<Threshold> again = ParseThreshold(t->source);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->source == t->source);
  FUZZ_CHECK(again->stat == t->stat && again->op == t->op);
  FUZZ_CHECK(again->value == t->value);
  FUZZ_CHECK(again->percentile == t->percentile);
  return 0;
}
