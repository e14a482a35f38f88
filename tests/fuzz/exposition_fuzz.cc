// Fuzzes the /probe exposition: a BurstResult, module buckets and thresholds
// built from the fuzz bytes go through ComputeStats, EvaluateThresholds,
// BuildProbeFamilies and SerializeFamilies, and the text must parse line by
// line as Prometheus text format 0.0.4: HELP/TYPE lines, samples of declared
// families with well-escaped labels and a float value.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/threshold_syntax.h"
#include "probes/exposition.h"
#include "probes/metrics.h"
#include "probes/result.h"
#include "probes/stats.h"
#include "probes/threshold_check.h"
#include "re2/re2.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::canary::probes::BurstResult;
using ::canary::probes::Phase;
using ::canary::probes::RequestResult;
using ::canary::probes::ResultClass;

absl::Duration Micros(FuzzedDataProvider& in, int64_t max) {
  return absl::Microseconds(in.ConsumeIntegralInRange<int64_t>(0, max));
}

bool IsFloat(absl::string_view v) {
  const std::string lower = absl::AsciiStrToLower(v);
  if (lower == "nan" || lower == "+inf" || lower == "-inf") return true;
  double d;
  return absl::SimpleAtod(v, &d);
}

// The family a sample belongs to: its name, or the name without a
// histogram/summary suffix when that family was declared.
bool Declared(const std::set<std::string>& families, const std::string& name) {
  if (families.count(name)) return true;
  for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (absl::EndsWith(name, suffix) &&
        families.count(name.substr(0, name.size() - suffix.size()))) {
      return true;
    }
  }
  return false;
}

void CheckExposition(const std::string& text) {
  static const RE2 kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const RE2 kType(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const RE2 kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+))");
  FUZZ_CHECK(!text.empty());
  FUZZ_CHECK(text.back() == '\n');
  std::set<std::string> families;
  bool saw_success = false;
  for (absl::string_view line : absl::StrSplit(
           absl::string_view(text).substr(0, text.size() - 1), '\n')) {
    const re2::StringPiece piece(line.data(), line.size());
    std::string name, type, value;
    if (RE2::FullMatch(piece, kHelp, &name)) continue;
    if (RE2::FullMatch(piece, kType, &name, &type)) {
      FUZZ_CHECK(families.insert(name).second);  // declared once
      continue;
    }
    if (!RE2::FullMatch(piece, kSample, &name, &value)) {
      std::fprintf(stderr, "unparsable line: %.*s\n",
                   static_cast<int>(line.size()), line.data());
      FUZZ_CHECK(false);
    }
    FUZZ_CHECK(Declared(families, name));
    FUZZ_CHECK(IsFloat(value));
    saw_success = saw_success || name == "probe_success";
  }
  FUZZ_CHECK(saw_success);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  canary::config::Module module;
  module.name = "fuzz";
  if (in.ConsumeBool()) {
    // Strictly increasing positive buckets, as the loader guarantees.
    module.buckets.clear();
    double b = 0;
    const int n = in.ConsumeIntegralInRange(1, 20);
    for (int i = 0; i < n; ++i) {
      b += in.ConsumeFloatingPointInRange<double>(1e-6, 100);
      module.buckets.push_back(b);
    }
  }
  const int thresholds = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < thresholds; ++i) {
    absl::StatusOr<canary::config::Threshold> t =
        canary::config::ParseThreshold(in.ConsumeRandomLengthString(24));
    if (t.ok()) module.thresholds.push_back(*t);
  }

  BurstResult burst;
  const int requests = in.ConsumeIntegralInRange(0, 300);
  for (int i = 0; i < requests; ++i) {
    RequestResult r;
    r.set_vu(in.ConsumeIntegralInRange(0, 1000));
    r.set_result(static_cast<ResultClass>(
        in.ConsumeIntegralInRange(0, canary::probes::kNumResultClasses - 1)));
    const bool responded = r.result() == ResultClass::kSuccess ||
                           r.result() == ResultClass::kHttpStatus ||
                           r.result() == ResultClass::kValidation;
    r.set_status_code(responded ? in.ConsumeIntegralInRange(100, 599) : 0);
    r.set_intended_start(Micros(in, 600'000'000));
    r.set_actual_start(r.intended_start() + Micros(in, 1'000'000));
    r.set_latency(Micros(in, 300'000'000));
    for (int p = 0; p < canary::probes::kNumPhases; ++p) {
      r.set_phase(static_cast<Phase>(p), Micros(in, 10'000'000));
    }
    r.set_new_connection(in.ConsumeBool());
    r.set_bytes_received(
        in.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 40));
    r.set_error_id(burst.AddError(in.ConsumeRandomLengthString(40)));
    burst.requests.push_back(std::move(r));
  }
  burst.planned = in.ConsumeIntegralInRange<int64_t>(0, 1'000'000);
  burst.dropped = in.ConsumeIntegralInRange<int64_t>(0, burst.planned);
  burst.duration = Micros(in, 600'000'000);
  burst.budget = Micros(in, 600'000'000);
  burst.truncated = in.ConsumeBool();
  if (in.ConsumeBool()) {
    burst.earliest_cert_expiry = absl::FromUnixSeconds(
        in.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 34));
  }

  const canary::probes::BurstStats stats = canary::probes::ComputeStats(burst);
  FUZZ_CHECK(stats.requests == static_cast<int64_t>(burst.requests.size()));
  const std::vector<bool> passed =
      canary::probes::EvaluateThresholds(module.thresholds, stats);
  FUZZ_CHECK(passed.size() == module.thresholds.size());
  canary::probes::ProbeSummary summary;
  summary.success = in.ConsumeBool();
  summary.probe_duration = burst.duration;
  summary.budget = burst.budget;
  CheckExposition(
      canary::probes::SerializeFamilies(canary::probes::BuildProbeFamilies(
          burst, stats, module, passed, summary)));
  return 0;
}
