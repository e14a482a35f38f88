#include "config/parse.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace canary::config {
namespace {

struct SizeUnit {
  absl::string_view name;
  int64_t multiplier;
};

constexpr SizeUnit kSizeUnits[] = {
    {"B", 1},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", int64_t{1000} * 1000 * 1000 * 1000},
    {"KiB", int64_t{1} << 10},
    {"MiB", int64_t{1} << 20},
    {"GiB", int64_t{1} << 30},
    {"TiB", int64_t{1} << 40},
};

absl::Status SizeError(absl::string_view s) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected a size such as \"512KiB\", \"10MB\" or a number "
                   "of bytes, got \"",
                   s, "\""));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view s) {
  absl::Duration d;
  // absl::ParseDuration also accepts "inf" and a leading sign; a config
  // duration is a finite, non-negative amount of time.
  if (s.empty() || !absl::ParseDuration(s, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a duration such as \"500ms\" or \"2s\", got \"", s, "\""));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a finite duration, got \"", s, "\""));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a non-negative duration, got \"", s, "\""));
  }
  return d;
}

absl::StatusOr<int64_t> ParseSize(absl::string_view s) {
  absl::string_view rest = absl::StripAsciiWhitespace(s);
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
  if (digits == 0) return SizeError(s);
  int64_t number;
  // SimpleAtoi rejects values that overflow int64_t.
  if (!absl::SimpleAtoi(rest.substr(0, digits), &number)) {
    return absl::InvalidArgumentError(
        absl::StrCat("size \"", s, "\" is too large"));
  }
  absl::string_view unit =
      absl::StripLeadingAsciiWhitespace(rest.substr(digits));
  int64_t multiplier = 0;
  if (unit.empty()) {
    multiplier = 1;
  } else {
    for (const SizeUnit& u : kSizeUnits) {
      if (u.name == unit) multiplier = u.multiplier;
    }
  }
  if (multiplier == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown size unit \"", unit, "\" in \"", s,
                     "\" (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)"));
  }
  if (number > std::numeric_limits<int64_t>::max() / multiplier) {
    return absl::InvalidArgumentError(
        absl::StrCat("size \"", s, "\" is too large"));
  }
  return number * multiplier;
}

}  // namespace canary::config
