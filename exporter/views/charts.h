// charts.h: small self-contained SVG charts of one burst for the landing
// page. No scripts, no external assets: the page works air-gapped.
//
//   std::string h = LatencyHistogramSvg(report.burst, module.buckets);
//   std::string t = TimelineSvg(report.burst, report.stats);
//   page += h + t;
//
// The histogram has one <rect class="bar"> per bucket (the module's buckets
// and +Inf; responses only, as probe_http_request_duration_seconds). The
// timeline has one <circle class="req r-RESULT"> per request (at most
// kMaxTimelinePoints, evenly sampled), x = intended start, y = latency,
// coloured by result class, with a legend.
//
// Thread-safety: pure functions. Errors: none; an empty burst draws axes
// and a "no requests" note.
#ifndef CANARY_EXPORTER_VIEWS_CHARTS_H_
#define CANARY_EXPORTER_VIEWS_CHARTS_H_

#include <string>
#include <vector>

#include "probes/result.h"
#include "probes/stats.h"

namespace canary::exporter {

inline constexpr int kMaxTimelinePoints = 400;

// The fill colour of a result class ("#2e7d32" for success).
const char* ResultColor(probes::ResultClass c);

std::string LatencyHistogramSvg(const probes::BurstResult& burst,
                                const std::vector<double>& buckets);

// `stats` is the burst's (ProbeReport::stats): the legend counts its
// by_class tally.
std::string TimelineSvg(const probes::BurstResult& burst,
                        const probes::BurstStats& stats);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_VIEWS_CHARTS_H_
