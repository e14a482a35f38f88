// exposition.h: the one writer of the Prometheus text format 0.0.4, for
// both /probe (the families of probes/metrics.h) and the exporter's own
// /metrics (a prometheus::Registry's Collect()). prometheus-cpp stays the
// data model; this only writes it.
//
//   std::string text = SerializeFamilies(registry.Collect());
//
// Thread-safety: a pure function. It cannot fail (short of running out of
// memory).
#ifndef CANARY_PROBES_EXPOSITION_H_
#define CANARY_PROBES_EXPOSITION_H_

#include <string>
#include <vector>

#include "prometheus/metric_family.h"

namespace canary::probes {

// SerializeFamilies renders `families` in the Prometheus text format 0.0.4,
// sample for sample what prometheus::TextSerializer writes (numbers in
// their shortest round-trip spelling), several times faster.
std::string SerializeFamilies(
    const std::vector<prometheus::MetricFamily>& families);

}  // namespace canary::probes

#endif  // CANARY_PROBES_EXPOSITION_H_
