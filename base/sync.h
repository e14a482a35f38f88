// sync.h: Mutex, MutexLock and Notification on the standard library, with
// Abseil's thread-safety annotations.
//
// Why not absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, so
// TSan cannot see absl::Mutex's synchronisation and reports races between
// accesses that the same mutex guards. std::mutex goes through pthreads,
// which TSan intercepts, so our TSan runs report only real races.
//
//   canary::Mutex mu;
//   int n ABSL_GUARDED_BY(mu);
//   { canary::MutexLock lock(&mu); ++n; }
//   mu.Lock(); mu.Await([&] { return n > 3; }); mu.Unlock();
//
// Thread-safety: these are the synchronisation primitives.
#ifndef CANARY_BASE_SYNC_H_
#define CANARY_BASE_SYNC_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace canary {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    mu_.unlock();
    // Waiters re-check their condition after every release, as with
    // absl::Mutex::Await.
    if (waiters_.load(std::memory_order_acquire) > 0) cv_.notify_all();
  }

  // Blocks (with the mutex held on entry and exit) until `cond` is true.
  void Await(const std::function<bool()>& cond)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    AwaitWithTimeout(cond, absl::InfiniteDuration());
  }

  // As Await, giving up after `timeout`; returns the final value of `cond`.
  bool AwaitWithTimeout(const std::function<bool()>& cond,
                        absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    // Waiting releases the mutex, which may be what another waiter needs
    // to see (absl::Mutex re-evaluates waiters then too).
    if (waiters_.load(std::memory_order_acquire) > 0) cv_.notify_all();
    waiters_.fetch_add(1, std::memory_order_acq_rel);
    bool ok;
    if (timeout == absl::InfiniteDuration()) {
      cv_.wait(lock, cond);
      ok = true;
    } else {
      ok = cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), cond);
    }
    waiters_.fetch_sub(1, std::memory_order_acq_rel);
    lock.release();  // the caller still holds the mutex
    return ok;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> waiters_{0};
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A one-shot event: Notify() once, wait from any number of threads.
class Notification {
 public:
  void Notify() {
    MutexLock lock(&mu_);
    notified_ = true;
  }
  bool HasBeenNotified() {
    MutexLock lock(&mu_);
    return notified_;
  }
  void WaitForNotification() {
    MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; });
  }
  // Returns whether it was notified within `timeout`.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) {
    MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; }, timeout);
  }

 private:
  Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace canary

#endif  // CANARY_BASE_SYNC_H_
