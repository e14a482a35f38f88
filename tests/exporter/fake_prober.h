// fake_prober.h: a Prober for exporter tests that records what it was asked
// and answers a canned report, without any network.
//
//   FakeProber prober;
//   prober.SetReport(FakeProber::Report(/*success=*/true, {kSuccess}));
//   ... /probe ...
//   EXPECT_EQ(prober.LastSpec().budget, absl::Seconds(9.5));
//
// Thread-safety: all methods are thread-safe.
#ifndef CANARY_TESTS_EXPORTER_FAKE_PROBER_H_
#define CANARY_TESTS_EXPORTER_FAKE_PROBER_H_

#include <string>
#include <vector>

#include "base/sync.h"
#include "probes/prober.h"
#include "probes/stats.h"

namespace canary::exporter {

// What the fake saw of one ProbeSpec (the module pointer is not kept).
struct SeenSpec {
  std::string target;
  std::string module;
  absl::Duration budget;
};

class FakeProber : public probes::Prober {
 public:
  // A report with `success`, one request per class in `results`, and a
  // probe_success family.
  static probes::ProbeReport Report(bool success,
                                    std::vector<probes::ResultClass> results) {
    probes::ProbeReport r;
    r.success = success;
    for (probes::ResultClass c : results) {
      probes::RequestResult req;
      req.set_result(c);
      r.burst.requests.push_back(req);
    }
    r.stats = probes::ComputeStats(r.burst);
    prometheus::ClientMetric m;
    m.gauge.value = success ? 1 : 0;
    r.families.push_back({"probe_success",
                          "Whether the probe succeeded.",
                          prometheus::MetricType::Gauge,
                          {m}});
    return r;
  }

  FakeProber() : report_(Report(true, {probes::ResultClass::kSuccess})) {}

  probes::ProbeReport Probe(const probes::ProbeSpec& spec) override {
    canary::MutexLock lock(&mu_);
    seen_.push_back({spec.target, spec.module->name, spec.budget});
    // A closed gate holds every probe, as a long burst would.
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return gate_open_; });
    return report_;
  }

  // Waits until `n` probes have been seen (e.g. are held at the gate).
  bool AwaitSeen(size_t n, absl::Duration timeout) {
    canary::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        [this, n]()
            ABSL_NO_THREAD_SAFETY_ANALYSIS { return seen_.size() >= n; },
        timeout);
  }

  // While closed, Probe() blocks until Open().
  void Close() {
    canary::MutexLock lock(&mu_);
    gate_open_ = false;
  }
  void Open() {
    canary::MutexLock lock(&mu_);
    gate_open_ = true;
  }

  void SetReport(probes::ProbeReport r) {
    canary::MutexLock lock(&mu_);
    report_ = std::move(r);
  }
  std::vector<SeenSpec> Seen() const {
    canary::MutexLock lock(&mu_);
    return seen_;
  }
  void Clear() {
    canary::MutexLock lock(&mu_);
    seen_.clear();
  }

 private:
  mutable canary::Mutex mu_;
  probes::ProbeReport report_ ABSL_GUARDED_BY(mu_);
  std::vector<SeenSpec> seen_ ABSL_GUARDED_BY(mu_);
  bool gate_open_ ABSL_GUARDED_BY(mu_) = true;
};

}  // namespace canary::exporter

#endif  // CANARY_TESTS_EXPORTER_FAKE_PROBER_H_
