#include "probes/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace canary::probes {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

// The text format 0.0.4, written straight into one string. Numbers use
// std::to_chars (the shortest text that reads back as the same double),
// where prometheus::TextSerializer goes through std::ostream and printf:
// that was a third of the CPU of a one-request /probe (docs/benchmarks.md).
// tests/probes/metrics_test.cc checks the output against
// prometheus::TextSerializer's, sample by sample.
void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("Nan");
  } else if (std::isinf(v)) {
    out->append(v < 0 ? "-Inf" : "+Inf");
  } else {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, ec == std::errc() ? end : buf);
  }
}

void AppendCount(uint64_t v, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, ec == std::errc() ? end : buf);
}

void AppendLabelValue(const std::string& value, std::string* out) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

// name + suffix + {labels[,extra="..."]} + space. `extra_value` is
// appended raw (a formatted number).
void AppendHead(const MetricFamily& family, const ClientMetric& metric,
                absl::string_view suffix, absl::string_view extra_name,
                absl::string_view extra_value, std::string* out) {
  out->append(family.name);
  out->append(suffix.data(), suffix.size());
  if (!metric.label.empty() || !extra_name.empty()) {
    out->push_back('{');
    const char* sep = "";
    for (const ClientMetric::Label& l : metric.label) {
      absl::StrAppend(out, sep, l.name, "=\"");
      AppendLabelValue(l.value, out);
      out->push_back('"');
      sep = ",";
    }
    if (!extra_name.empty()) {
      absl::StrAppend(out, sep, extra_name, "=\"", extra_value, "\"");
    }
    out->push_back('}');
  }
  out->push_back(' ');
}

void AppendTail(const ClientMetric& metric, std::string* out) {
  if (metric.timestamp_ms != 0) {
    out->push_back(' ');
    absl::StrAppend(out, metric.timestamp_ms);
  }
  out->push_back('\n');
}

// The _count and _sum lines of a summary or histogram.
void AppendCountAndSum(const MetricFamily& family, const ClientMetric& metric,
                       uint64_t count, double sum, std::string* out) {
  AppendHead(family, metric, "_count", "", "", out);
  AppendCount(count, out);
  AppendTail(metric, out);
  AppendHead(family, metric, "_sum", "", "", out);
  AppendDouble(sum, out);
  AppendTail(metric, out);
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

void AppendFamily(const MetricFamily& family, std::string* out) {
  if (!family.help.empty()) {
    absl::StrAppend(out, "# HELP ", family.name, " ");
    for (const char c : family.help) {
      if (c == '\\') {
        out->append("\\\\");
      } else if (c == '\n') {
        out->append("\\n");
      } else {
        out->push_back(c);
      }
    }
    out->push_back('\n');
  }
  absl::StrAppend(out, "# TYPE ", family.name, " ", TypeName(family.type),
                  "\n");
  std::string number;
  for (const ClientMetric& m : family.metric) {
    switch (family.type) {
      case MetricType::Counter:
      case MetricType::Gauge:
      case MetricType::Untyped:
        AppendHead(family, m, "", "", "", out);
        AppendDouble(family.type == MetricType::Counter ? m.counter.value
                     : family.type == MetricType::Gauge ? m.gauge.value
                                                        : m.untyped.value,
                     out);
        AppendTail(m, out);
        break;
      case MetricType::Summary:
        AppendCountAndSum(family, m, m.summary.sample_count,
                          m.summary.sample_sum, out);
        for (const ClientMetric::Quantile& q : m.summary.quantile) {
          number.clear();
          AppendDouble(q.quantile, &number);
          AppendHead(family, m, "", "quantile", number, out);
          AppendDouble(q.value, out);
          AppendTail(m, out);
        }
        break;
      case MetricType::Histogram: {
        AppendCountAndSum(family, m, m.histogram.sample_count,
                          m.histogram.sample_sum, out);
        bool has_inf = false;
        for (const ClientMetric::Bucket& b : m.histogram.bucket) {
          number.clear();
          AppendDouble(b.upper_bound, &number);
          has_inf = std::isinf(b.upper_bound) && b.upper_bound > 0;
          AppendHead(family, m, "_bucket", "le", number, out);
          AppendCount(b.cumulative_count, out);
          AppendTail(m, out);
        }
        if (!has_inf) {
          AppendHead(family, m, "_bucket", "le", "+Inf", out);
          AppendCount(m.histogram.sample_count, out);
          AppendTail(m, out);
        }
        break;
      }
    }
  }
}

}  // namespace

std::string SerializeFamilies(const std::vector<MetricFamily>& families) {
  std::string out;
  size_t series = 0;
  for (const MetricFamily& f : families) series += f.metric.size() + 2;
  out.reserve(series * 64);
  for (const MetricFamily& f : families) AppendFamily(f, &out);
  return out;
}

}  // namespace canary::probes
