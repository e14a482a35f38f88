// report_format.h: small text helpers shared by the operator-facing views
// (CLI summary, debug output, landing page charts).
//
//   FormatSeconds(0.0123);               // "12.3ms"
//   RedactUrlUserinfo("http://u:p@h/");  // "http://<secret>@h/"
//   EscapeHtml("<b>");                   // "&lt;b&gt;"
//   DescribeBurst(module.burst);         // "10 VUs, 1s think time, for 5s"
//
// Thread-safety: pure functions. Errors: none.
#ifndef CANARY_EXPORTER_VIEWS_REPORT_FORMAT_H_
#define CANARY_EXPORTER_VIEWS_REPORT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/redact_url.h"  // RedactUrlUserinfo, for the views
#include "config/config.h"

namespace canary::exporter {

// A latency in seconds with three significant digits and a unit k6 users
// read at a glance: "850µs", "12.3ms", "1.24s"; "-" for NaN.
std::string FormatSeconds(double seconds);
std::string FormatDurationShort(absl::Duration d);

// Escapes & < > " ' for HTML text and attribute values (also valid in SVG).
std::string EscapeHtml(absl::string_view s);

// A burst's load shape in words: "10 VUs, 1s think time, for 5s" or
// "50 req/s, at most 10 in flight, for 2s".
std::string DescribeBurst(const config::BurstConfig& b);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_VIEWS_REPORT_FORMAT_H_
