// fake_clock.h: a Clock that moves only when told, for tests that must not
// sleep.
//
//   FakeClock clock;
//   clock.Advance(absl::Milliseconds(5));
//
// Thread-safety: thread-safe.
#ifndef CANARY_TESTS_TESTING_FAKE_CLOCK_H_
#define CANARY_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/sync.h"

namespace canary::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::UnixEpoch() + absl::Hours(1))
      : now_(start) {}
  absl::Time Now() override {
    canary::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    canary::MutexLock lock(&mu_);
    now_ += d;
  }
  // Moves to `t` unless that is in the past.
  void AdvanceTo(absl::Time t) {
    canary::MutexLock lock(&mu_);
    if (t > now_) now_ = t;
  }

 private:
  canary::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_FAKE_CLOCK_H_
