// clock.h: the monotonic time source the burst engine paces by.
//
// Logic takes a Clock* so tests drive time with a fake (tests/testing/
// fake_clock.h) and never sleep for real.
//
//   RealClock clock;
//   absl::Time t0 = clock.Now();
//
// Thread-safety: RealClock is thread-safe; fakes say their own.
#ifndef CANARY_BASE_CLOCK_H_
#define CANARY_BASE_CLOCK_H_

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace canary {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic now. Only differences between two Now() values are meaningful.
  virtual absl::Time Now() = 0;
};

// std::chrono::steady_clock expressed as an absl::Time.
class RealClock : public Clock {
 public:
  absl::Time Now() override {
    return absl::UnixEpoch() +
           absl::FromChrono(
               std::chrono::steady_clock::now().time_since_epoch());
  }
  // A process-wide instance.
  static RealClock* Get() {
    static RealClock clock;
    return &clock;
  }
};

}  // namespace canary

#endif  // CANARY_BASE_CLOCK_H_
