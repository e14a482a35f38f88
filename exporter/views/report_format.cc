#include "exporter/views/report_format.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace canary::exporter {

std::string FormatSeconds(double seconds) {
  if (std::isnan(seconds)) return "-";
  const double a = std::fabs(seconds);
  if (a == 0) return "0s";
  if (a < 1e-3) return absl::StrFormat("%.3gµs", seconds * 1e6);
  if (a < 1) return absl::StrFormat("%.3gms", seconds * 1e3);
  return absl::StrFormat("%.3gs", seconds);
}

std::string FormatDurationShort(absl::Duration d) {
  return FormatSeconds(absl::ToDoubleSeconds(d));
}

std::string EscapeHtml(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string DescribeBurst(const config::BurstConfig& b) {
  std::vector<std::string> parts;
  if (b.open_model()) {
    parts.push_back(
        absl::StrFormat("%g req/s, at most %d in flight", b.rate, b.vus));
  } else {
    parts.push_back(absl::StrFormat("%d VU%s", b.vus, b.vus == 1 ? "" : "s"));
    if (b.think_time > absl::ZeroDuration()) {
      parts.push_back(
          absl::StrCat(absl::FormatDuration(b.think_time), " think time"));
    }
  }
  if (b.duration.has_value()) {
    parts.push_back(absl::StrCat("for ", absl::FormatDuration(*b.duration)));
  }
  if (b.requests.has_value()) {
    parts.push_back(absl::StrCat("up to ", *b.requests, " request",
                                 *b.requests == 1 ? "" : "s"));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace canary::exporter
