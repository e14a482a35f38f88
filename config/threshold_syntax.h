// threshold_syntax.h: the parser for k6-style thresholds, `<stat><op><value>`.
//
//   absl::StatusOr<Threshold> t = ParseThreshold("p(99.9) <= 1.5s");
//   // t->stat == kPercentile, t->percentile == 99.9, t->op == kLessEqual,
//   // t->value == 1.5 (seconds), t->source == "p(99.9) <= 1.5s"
//
// Every form k6 accepts for a latency trend and a rate, with k6's meaning:
// stat: p(N) with 0 <= N <= 100 (p(0) = min, linear interpolation between
// samples as k6), avg, min, med, max; error_rate, or `rate` as k6 users
// write it for http_req_failed (the share of failed requests).
// op: <, <=, >, >=, == and === (equal), != (not equal). Whitespace is
// allowed around every part.
// A scenario module may scope it in k6's tag syntax:
// "http_req_duration{step:login}: p(95)<300" judges the requests of step
// `login` only, "iteration_duration: p(95)<2s" the iterations' durations
// (error_rate there: the share of failed iterations).
// Latency values take a duration ("200ms", "1.5s", "500us") or a bare number
// of milliseconds (k6's convention) and are stored in seconds; error_rate
// takes a number in [0, 1]. Stricter than k6 on purpose: negative values,
// and rates outside [0, 1], which no burst can meet or miss, are errors.
//
// A pure function, safe to call from any thread.
// Errors: InvalidArgument quoting the threshold and naming what was expected.
#ifndef CANARY_CONFIG_THRESHOLD_SYNTAX_H_
#define CANARY_CONFIG_THRESHOLD_SYNTAX_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"

namespace canary::config {

// ParseThreshold parses one threshold; `source` keeps `s` trimmed.
absl::StatusOr<Threshold> ParseThreshold(absl::string_view s);

}  // namespace canary::config

#endif  // CANARY_CONFIG_THRESHOLD_SYNTAX_H_
