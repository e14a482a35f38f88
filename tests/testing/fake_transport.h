// fake_transport.h: a Transport that answers from a script on a FakeClock,
// so the burst engine is tested without network or real sleeps.
//
//   FakeClock clock;
//   FakeTransport t(&clock, [](int64_t seq, int slot) {
//     return FakeTransport::Ok(absl::Milliseconds(20));
//   });
//
// Each started request completes `total` after its start (or, when `total`
// exceeds its timeout, times out at the timeout). Wait() advances the clock
// to the next completion or to `until`, whichever is earlier.
// Thread-safety: single thread, like the engine.
#ifndef CANARY_TESTS_TESTING_FAKE_TRANSPORT_H_
#define CANARY_TESTS_TESTING_FAKE_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "probes/transport.h"
#include "tests/testing/fake_clock.h"

namespace canary::testing {

class FakeTransport : public probes::Transport {
 public:
  // Decides the outcome of the seq-th started request (0-based) on `slot`.
  using Responder = std::function<probes::Completion(int64_t seq, int slot)>;

  FakeTransport(FakeClock* clock, Responder responder)
      : clock_(clock), responder_(std::move(responder)) {}

  // A 200 response taking `total`.
  static probes::Completion Ok(absl::Duration total);

  absl::Status Start(const probes::StartRequest& req) override;
  absl::Status Wait(absl::Time until,
                    std::vector<probes::Completion>* done) override;
  void CancelAll(const std::string& reason,
                 std::vector<probes::Completion>* done) override;
  int InFlight() const override { return static_cast<int>(pending_.size()); }

  struct StartRecord {
    int slot;
    absl::Time at;
    absl::Duration timeout;
    bool new_iteration = true;
    // A scenario step's request (StartRequest::spec), copied; "" without.
    std::string url;
    std::vector<std::string> headers;
    std::string body;
  };
  const std::vector<StartRecord>& starts() const { return starts_; }
  int max_in_flight() const { return max_in_flight_; }

 private:
  struct Pending {
    probes::Completion completion;
    absl::Time start;
    absl::Time end;
  };
  FakeClock* clock_;
  Responder responder_;
  std::map<int, Pending> pending_;  // by slot
  std::vector<StartRecord> starts_;
  int max_in_flight_ = 0;
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_FAKE_TRANSPORT_H_
