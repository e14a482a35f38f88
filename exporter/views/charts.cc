#include "exporter/views/charts.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/views/report_format.h"

namespace canary::exporter {
namespace {

constexpr int kWidth = 360;
constexpr int kHeight = 140;
constexpr int kLeft = 34;  // room for the y labels
constexpr int kRight = 8;
constexpr int kTop = 8;
constexpr int kBottom = 30;  // x labels (and the legend below the timeline)
constexpr int kPlotW = kWidth - kLeft - kRight;
constexpr int kPlotH = kHeight - kTop - kBottom;

std::string Open(const char* cls, int height, absl::string_view label) {
  return absl::StrFormat(
      "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
      "aria-label=\"%s\"><title>%s</title>"
      "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>",
      cls, kWidth, height, kWidth, height, EscapeHtml(label), EscapeHtml(label),
      kWidth, height);
}

std::string Axes() {
  return absl::StrFormat(
      "<path class=\"axis\" d=\"M%d %d V%d H%d\" stroke=\"#555\" "
      "fill=\"none\"/>",
      kLeft, kTop, kTop + kPlotH, kLeft + kPlotW);
}

std::string Text(double x, double y, absl::string_view anchor,
                 absl::string_view s) {
  return absl::StrFormat(
      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" font-family=\"sans-serif\" "
      "fill=\"#333\" text-anchor=\"%s\">%s</text>",
      x, y, anchor, EscapeHtml(s));
}

std::string NoData(absl::string_view what) {
  return Text(kLeft + kPlotW / 2.0, kTop + kPlotH / 2.0, "middle", what);
}

}  // namespace

const char* ResultColor(probes::ResultClass c) {
  switch (c) {
    case probes::ResultClass::kSuccess:
      return "#2e7d32";
    case probes::ResultClass::kHttpStatus:
      return "#ef6c00";
    case probes::ResultClass::kValidation:
      return "#8e24aa";
    case probes::ResultClass::kTimeout:
      return "#c62828";
    case probes::ResultClass::kConnect:
      return "#6d1b1b";
    case probes::ResultClass::kDns:
      return "#795548";
    case probes::ResultClass::kTls:
      return "#d81b60";
    case probes::ResultClass::kProtocol:
      return "#546e7a";
    case probes::ResultClass::kOther:
      return "#212121";
    case probes::ResultClass::kBodyTooLarge:
      return "#ef6c00";
  }
  return "#212121";
}

std::string LatencyHistogramSvg(const probes::BurstResult& burst,
                                const std::vector<double>& buckets) {
  // Per-bucket (not cumulative) counts; the last entry is +Inf.
  std::vector<int64_t> counts(buckets.size() + 1, 0);
  int64_t responses = 0;
  for (const probes::RequestResult& r : burst.requests) {
    if (r.status_code() <= 0) continue;  // as the histogram metric
    const double s = absl::ToDoubleSeconds(r.latency());
    const size_t i = static_cast<size_t>(
        std::lower_bound(buckets.begin(), buckets.end(), s) - buckets.begin());
    ++counts[i];
    ++responses;
  }
  const int64_t top =
      std::max<int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  std::string svg =
      Open("latency-histogram", kHeight,
           absl::StrCat("Latency histogram: ", responses, " responses"));
  const double slot = static_cast<double>(kPlotW) / counts.size();
  for (size_t i = 0; i < counts.size(); ++i) {
    const double h = static_cast<double>(counts[i]) / top * kPlotH;
    const std::string le =
        i < buckets.size() ? FormatSeconds(buckets[i]) : "+Inf";
    const std::string lower = i == 0 ? "0" : FormatSeconds(buckets[i - 1]);
    absl::StrAppendFormat(
        &svg,
        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
        "height=\"%.1f\" fill=\"#1565c0\"><title>%s &lt; latency &#8804; %s: "
        "%d</title></rect>",
        kLeft + i * slot + 1, kTop + kPlotH - h, std::max(1.0, slot - 2), h,
        EscapeHtml(lower), EscapeHtml(le), counts[i]);
    // Every other label keeps 14 buckets readable at this width.
    if (i % 2 == 0 || i + 1 == counts.size()) {
      absl::StrAppend(&svg, Text(kLeft + (i + 0.5) * slot, kTop + kPlotH + 11,
                                 "middle", le));
    }
  }
  absl::StrAppend(
      &svg, Axes(), Text(kLeft - 3, kTop + 8, "end", absl::StrCat(top)),
      Text(kLeft - 3, kTop + kPlotH, "end", "0"),
      Text(kLeft + kPlotW / 2.0, kHeight - 4, "middle", "latency bucket (le)"));
  if (responses == 0) absl::StrAppend(&svg, NoData("no responses"));
  svg += "</svg>";
  return svg;
}

std::string TimelineSvg(const probes::BurstResult& burst,
                        const probes::BurstStats& stats) {
  constexpr int kLegend = 14;
  const auto& reqs = burst.requests;
  double x_max = absl::ToDoubleSeconds(burst.duration);
  double y_max = 0;
  const std::array<int64_t, probes::kNumResultClasses>& by_class =
      stats.by_class;
  for (const probes::RequestResult& r : reqs) {
    x_max = std::max(x_max, absl::ToDoubleSeconds(r.intended_start()));
    y_max = std::max(y_max, absl::ToDoubleSeconds(r.latency()));
  }
  if (x_max <= 0) x_max = 1e-3;
  if (y_max <= 0) y_max = 1e-3;
  std::string svg = Open("timeline", kHeight + kLegend,
                         absl::StrCat("Requests over time: ", reqs.size(),
                                      " requests, coloured by result"));
  // Sampling keeps the page small for big bursts; the legend counts all.
  const size_t step = std::max<size_t>(
      1, (reqs.size() + kMaxTimelinePoints - 1) / kMaxTimelinePoints);
  for (size_t i = 0; i < reqs.size(); i += step) {
    const probes::RequestResult& r = reqs[i];
    const double x =
        kLeft + absl::ToDoubleSeconds(r.intended_start()) / x_max * kPlotW;
    const double y =
        kTop + kPlotH - absl::ToDoubleSeconds(r.latency()) / y_max * kPlotH;
    const char* name = probes::ResultClassName(r.result());
    absl::StrAppendFormat(
        &svg,
        "<circle class=\"req r-%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
        "fill=\"%s\" fill-opacity=\"0.75\"><title>%s at %s: %s%s</title>"
        "</circle>",
        name, x, y, ResultColor(r.result()), name,
        FormatDurationShort(r.intended_start()),
        FormatDurationShort(r.latency()),
        r.status_code() > 0 ? absl::StrCat(" (", r.status_code(), ")") : "");
  }
  absl::StrAppend(
      &svg, Axes(), Text(kLeft - 3, kTop + 8, "end", FormatSeconds(y_max)),
      Text(kLeft - 3, kTop + kPlotH, "end", "0"),
      Text(kLeft, kTop + kPlotH + 11, "start", "0s"),
      Text(kLeft + kPlotW, kTop + kPlotH + 11, "end", FormatSeconds(x_max)),
      Text(kLeft + kPlotW / 2.0, kTop + kPlotH + 11, "middle",
           "x: start time, y: latency"));
  double lx = kLeft;
  for (int c = 0; c < probes::kNumResultClasses; ++c) {
    if (by_class[c] == 0) continue;
    const auto rc = static_cast<probes::ResultClass>(c);
    const std::string label =
        absl::StrCat(probes::ResultClassName(rc), " ", by_class[c]);
    absl::StrAppendFormat(&svg,
                          "<g class=\"legend\"><rect x=\"%.1f\" y=\"%d\" "
                          "width=\"8\" height=\"8\" fill=\"%s\"/>%s</g>",
                          lx, kHeight - 4, ResultColor(rc),
                          Text(lx + 10, kHeight + 4, "start", label));
    lx += 16 + 5.5 * label.size();
  }
  if (reqs.empty()) absl::StrAppend(&svg, NoData("no requests"));
  svg += "</svg>";
  return svg;
}

}  // namespace canary::exporter
