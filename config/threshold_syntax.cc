#include "config/threshold_syntax.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/status_macros.h"

namespace canary::config {
namespace {

absl::Status Invalid(absl::string_view source, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid threshold \"", source, "\": ", what));
}

// Parses a finite number; SimpleAtod alone would also take "inf" and "nan".
// A leading sign is refused: k6 would take "p(95)<-1", a bound no latency
// or rate can meet, so here it is a config error.
bool ParseFiniteNumber(absl::string_view s, double* out) {
  return !s.empty() && (absl::ascii_isdigit(s[0]) || s[0] == '.') &&
         absl::SimpleAtod(s, out) && std::isfinite(*out);
}

// Consumes the statistic at the front of `rest`.
absl::Status ParseStat(absl::string_view source, absl::string_view& rest,
                       Threshold& t) {
  struct Named {
    absl::string_view name;
    Threshold::Stat stat;
  };
  // error_rate before the three-letter names: none is a prefix of another,
  // but the operator must follow immediately, checked by the caller.
  static constexpr Named kNamed[] = {
      {"error_rate", Threshold::Stat::kErrorRate},
      // k6's `rate`, as written for http_req_failed: the failed share.
      {"rate", Threshold::Stat::kErrorRate},
      {"avg", Threshold::Stat::kAvg},
      {"min", Threshold::Stat::kMin},
      {"med", Threshold::Stat::kMed},
      {"max", Threshold::Stat::kMax},
  };
  for (const Named& n : kNamed) {
    if (absl::ConsumePrefix(&rest, n.name)) {
      t.stat = n.stat;
      return absl::OkStatus();
    }
  }
  if (absl::ConsumePrefix(&rest, "p(")) {
    size_t close = rest.find(')');
    if (close == absl::string_view::npos) {
      return Invalid(source, "missing \")\" after \"p(\"");
    }
    absl::string_view n = absl::StripAsciiWhitespace(rest.substr(0, close));
    double percentile;
    // k6 takes p(0) (the minimum) up to p(100) (the maximum).
    if (!ParseFiniteNumber(n, &percentile) || percentile < 0 ||
        percentile > 100) {
      return Invalid(source, absl::StrCat("percentile must be a number in "
                                          "[0, 100] as in p(95), got \"",
                                          n, "\""));
    }
    t.stat = Threshold::Stat::kPercentile;
    t.percentile = percentile;
    rest.remove_prefix(close + 1);
    return absl::OkStatus();
  }
  return Invalid(source,
                 "expected a statistic p(N), avg, min, med, max, error_rate "
                 "or rate at the start");
}

absl::Status ParseOp(absl::string_view source, absl::string_view& rest,
                     Threshold& t) {
  // Longer operators first so "<=" is not read as "<", "===" not as "==".
  if (absl::ConsumePrefix(&rest, "===") || absl::ConsumePrefix(&rest, "==")) {
    t.op = Threshold::Op::kEqual;
  } else if (absl::ConsumePrefix(&rest, "!=")) {
    t.op = Threshold::Op::kNotEqual;
  } else if (absl::ConsumePrefix(&rest, "<=")) {
    t.op = Threshold::Op::kLessEqual;
  } else if (absl::ConsumePrefix(&rest, ">=")) {
    t.op = Threshold::Op::kGreaterEqual;
  } else if (absl::ConsumePrefix(&rest, "<")) {
    t.op = Threshold::Op::kLess;
  } else if (absl::ConsumePrefix(&rest, ">")) {
    t.op = Threshold::Op::kGreater;
  } else {
    return Invalid(source,
                   "expected an operator <, <=, >, >=, ==, === or != after "
                   "the statistic");
  }
  return absl::OkStatus();
}

absl::Status ParseValue(absl::string_view source, absl::string_view value,
                        Threshold& t) {
  if (t.stat == Threshold::Stat::kErrorRate) {
    double ratio;
    if (!ParseFiniteNumber(value, &ratio) || ratio < 0 || ratio > 1) {
      return Invalid(source, absl::StrCat("expected an error rate between 0 "
                                          "and 1 such as 0.01, got \"",
                                          value, "\""));
    }
    t.value = ratio;
    return absl::OkStatus();
  }
  const std::string expected = absl::StrCat(
      "expected a latency such as \"200ms\" or \"1.5s\" or a number of "
      "milliseconds, got \"",
      value, "\"");
  double ms;
  if (ParseFiniteNumber(value, &ms)) {
    t.value = ms / 1000;
    return absl::OkStatus();
  }
  absl::Duration d;
  // A leading digit keeps out "-1s" and "inf", which ParseDuration accepts.
  if (value.empty() || (!absl::ascii_isdigit(value[0]) && value[0] != '.') ||
      !absl::ParseDuration(value, &d) || d == absl::InfiniteDuration()) {
    return Invalid(source, expected);
  }
  t.value = absl::ToDoubleSeconds(d);
  return absl::OkStatus();
}

// Consumes a k6 metric scope at the front of `rest`, if any:
// "http_req_duration{step:NAME}:" (one scenario step's requests) or
// "iteration_duration:" (the scenario's iterations). Whether the step exists
// is checked where the module's steps are known (config/schema.cc).
absl::Status ParseScope(absl::string_view source, absl::string_view& rest,
                        Threshold& t) {
  if (absl::ConsumePrefix(&rest, "iteration_duration")) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (!absl::ConsumePrefix(&rest, ":")) {
      return Invalid(source, "expected \":\" after iteration_duration");
    }
    t.iteration = true;
  } else if (absl::ConsumePrefix(&rest, "http_req_duration")) {
    if (!absl::ConsumePrefix(&rest, "{step:")) {
      return Invalid(source,
                     "expected a step tag, e.g. http_req_duration{step:login}");
    }
    const size_t close = rest.find('}');
    if (close == absl::string_view::npos || close == 0) {
      return Invalid(source, "expected {step:NAME}");
    }
    t.step = std::string(absl::StripAsciiWhitespace(rest.substr(0, close)));
    rest.remove_prefix(close + 1);
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (!absl::ConsumePrefix(&rest, ":")) {
      return Invalid(source, "expected \":\" after the metric");
    }
  } else {
    return absl::OkStatus();
  }
  rest = absl::StripLeadingAsciiWhitespace(rest);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Threshold> ParseThreshold(absl::string_view s) {
  Threshold t;
  absl::string_view source = absl::StripAsciiWhitespace(s);
  t.source = std::string(source);
  if (source.empty()) return Invalid(source, "empty threshold");
  absl::string_view rest = source;
  RETURN_IF_ERROR(ParseScope(source, rest, t));
  RETURN_IF_ERROR(ParseStat(source, rest, t));
  rest = absl::StripLeadingAsciiWhitespace(rest);
  RETURN_IF_ERROR(ParseOp(source, rest, t));
  RETURN_IF_ERROR(ParseValue(source, absl::StripAsciiWhitespace(rest), t));
  return t;
}

}  // namespace canary::config
