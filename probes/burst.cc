#include "probes/burst.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "probes/scenario.h"

namespace canary::probes {
namespace {

constexpr char kCutReason[] = "cut short: the probe budget ran out";

// What the engine remembers about a request in flight on a slot.
struct InFlight {
  absl::Duration intended;
  absl::Duration actual;
  int step = 0;
};

// The per-burst summary behind blackbox_exporter's metrics: a few values
// per completion, in completion order.
void FoldCompat(const Completion& c, CompatFacts* f) {
  if (!c.address.empty()) f->last_address = c.address;
  f->max_redirects = std::max(f->max_redirects, c.redirects);
  if (c.status_code <= 0) return;
  ++f->responses;
  f->last_content_length = c.content_length;
  if (c.http_version > 0) {
    f->last_http_version = c.http_version;
    if (f->lowest_http_version == 0 ||
        c.http_version < f->lowest_http_version) {
      f->lowest_http_version = c.http_version;
    }
  }
  if (c.tls == nullptr) return;
  ++f->tls_responses;
  // Requests on one connection share its facts: fold each session once.
  if (c.tls != f->last_tls) {
    const std::optional<absl::Time>& e = c.tls->verified_chain_expiry;
    if (e.has_value() && (!f->earliest_verified_chain_expiry.has_value() ||
                          *e < *f->earliest_verified_chain_expiry)) {
      f->earliest_verified_chain_expiry = e;
    }
    f->last_tls = c.tls;
  }
}

RequestResult ToRequestResult(const Completion& c, const InFlight& f) {
  RequestResult r;
  r.set_vu(c.slot);
  r.set_step(f.step);
  r.set_intended_start(f.intended);
  r.set_actual_start(f.actual);
  r.set_latency((f.actual - f.intended) + c.total);
  r.set_phases(c.phases);
  r.set_new_connection(c.new_connection);
  r.set_status_code(c.status_code);
  r.set_bytes_received(c.bytes_received);
  r.set_result(c.result);
  return r;
}

// Shared bookkeeping of both load models.
class Recorder {
 public:
  Recorder(int slots, BurstResult* out, const RequestObserver& on_request)
      : in_flight_(slots), out_(out), on_request_(on_request) {}

  void Started(int slot, absl::Duration intended, absl::Duration actual,
               int step = 0) {
    in_flight_[slot] = {intended, actual, step};
  }

  // Records completions; returns the slots they freed.
  void Finished(const std::vector<Completion>& done, std::vector<int>* freed) {
    for (const Completion& c : done) {
      out_->requests.push_back(ToRequestResult(c, in_flight_[c.slot]));
      out_->requests.back().set_error_id(ErrorId(c.error));
      if (on_request_) on_request_(out_->requests.back());
      if (c.cert_expiry.has_value() &&
          (!out_->earliest_cert_expiry.has_value() ||
           *c.cert_expiry < *out_->earliest_cert_expiry)) {
        out_->earliest_cert_expiry = c.cert_expiry;
      }
      FoldCompat(c, &out_->compat);
      freed->push_back(c.slot);
    }
  }

 private:
  // The id of `text` in the burst's error table, storing it the first time:
  // a refused target fails every request with the same few texts.
  uint32_t ErrorId(const std::string& text) {
    if (text.empty()) return 0;
    auto it = error_ids_.find(text);
    if (it != error_ids_.end()) return it->second;
    const uint32_t id = out_->AddError(text);
    // The key views the stored text, which stays put (a deque).
    error_ids_.emplace(out_->errors.back(), id);
    return id;
  }

  std::vector<InFlight> in_flight_;
  BurstResult* out_;
  const RequestObserver& on_request_;
  absl::flat_hash_map<absl::string_view, uint32_t> error_ids_;
};

// True once the caller asked the burst to stop starting requests.
bool StopAsked(const std::atomic<bool>* stop) {
  return stop != nullptr && stop->load(std::memory_order_relaxed);
}

// With a stop flag, no wait outlasts kStopPoll, so a stop asked from a
// signal handler is seen that soon whatever the pacing.
absl::Time CapForStop(absl::Time wake, absl::Time now,
                      const std::atomic<bool>* stop) {
  return stop == nullptr ? wake : std::min(wake, now + kStopPoll);
}

// Starts what a VU runs and learns when it is over: one request, or the
// steps of a scenario iteration in order (the VU stays busy between them,
// for each step's think time). Both load models drive it alike.
class Driver {
 public:
  Driver(const BurstPlan& plan, Transport* transport, Recorder* recorder,
         absl::Time start, BurstResult* out)
      : plan_(plan),
        module_(plan.scenario),
        transport_(transport),
        recorder_(recorder),
        start_(start),
        out_(out) {
    if (module_ != nullptr) sessions_.resize(plan.vus);
  }

  // Starts a request or an iteration on the free `slot`, intended at
  // `intended` (from the start).
  absl::Status Begin(int slot, uint64_t id, absl::Duration intended,
                     absl::Time now, absl::Duration timeout) {
    if (module_ == nullptr) {
      RETURN_IF_ERROR(
          transport_->Start({.slot = slot, .id = id, .timeout = timeout}));
      recorder_->Started(slot, intended, now - start_);
      return absl::OkStatus();
    }
    Session& s = sessions_[slot];
    s.active = true;
    s.step = 0;
    s.id = id;
    s.iteration_intended = intended;
    s.vars.assign(module_->variables.size(), std::nullopt);
    return StartStep(slot, intended, now, timeout);
  }

  // Records `done`; appends to `freed` the slots whose request or iteration
  // is over. `now` is when they were collected.
  void Finished(std::vector<Completion>& done, std::vector<int>* freed,
                Clock* clock) {
    if (module_ == nullptr) {
      recorder_->Finished(done, freed);
      return;
    }
    const absl::Time now = clock->Now();
    for (Completion& c : done) {
      Session& s = sessions_[c.slot];
      const config::Step& step = module_->steps[s.step];
      if (c.result == ResultClass::kSuccess && !step.extract.empty()) {
        absl::Status x = ExtractAll(step, c, &s.vars);
        if (!x.ok()) {
          c.result = ResultClass::kValidation;
          c.error = std::string(x.message());
        }
      }
      if (c.result != ResultClass::kSuccess) {
        c.error = absl::StrCat("step \"", step.name, "\": ", c.error);
      }
    }
    scratch_.clear();
    recorder_->Finished(done, &scratch_);
    for (const Completion& c : done) {
      Session& s = sessions_[c.slot];
      const config::Step& step = module_->steps[s.step];
      const bool failed = c.result != ResultClass::kSuccess;
      if ((failed && !step.optional) ||
          s.step + 1 == static_cast<int>(module_->steps.size())) {
        End(c.slot, now, failed && !step.optional ? s.step : -1);
        freed->push_back(c.slot);
        continue;
      }
      ++s.step;
      s.next_at = now + step.think_time;
      s.waiting = true;
    }
  }

  // Starts the next steps that are due; lowers `wake` to the earliest
  // that is not. Steps whose request cannot be built fail without being
  // sent; slots whose iteration that ends go to `freed`.
  absl::Status StartDue(absl::Time now, absl::Time hard_deadline,
                        absl::Time* wake, std::vector<int>* freed) {
    if (module_ == nullptr) return absl::OkStatus();
    for (int slot = 0; slot < static_cast<int>(sessions_.size()); ++slot) {
      Session& s = sessions_[slot];
      if (!s.active || !s.waiting) continue;
      if (s.next_at > now) {
        *wake = std::min(*wake, s.next_at);
        continue;
      }
      if (now >= hard_deadline) continue;  // Cut() ends it
      s.waiting = false;
      RETURN_IF_ERROR(
          StartStep(slot, s.next_at - start_, now,
                    std::min(plan_.request_timeout, hard_deadline - now)));
      if (!sessions_[slot].active) freed->push_back(slot);
    }
    return absl::OkStatus();
  }

  // A step waits for its think time to pass.
  bool Waiting() const {
    for (const Session& s : sessions_) {
      if (s.active && s.waiting) return true;
    }
    return false;
  }

  // The budget ran out: iterations waiting between steps end, failed at
  // the step they were about to send.
  void Cut(absl::Time now) {
    for (int slot = 0; slot < static_cast<int>(sessions_.size()); ++slot) {
      Session& s = sessions_[slot];
      if (s.active && s.waiting) End(slot, now, s.step);
    }
  }

 private:
  struct Session {
    bool active = false;   // an iteration is under way
    bool waiting = false;  // for next_at, to send `step`
    int step = 0;
    uint64_t id = 0;
    absl::Duration iteration_intended;
    absl::Time next_at;
    Variables vars;
    RequestSpec spec;
  };

  absl::Status StartStep(int slot, absl::Duration intended, absl::Time now,
                         absl::Duration timeout) {
    Session& s = sessions_[slot];
    while (true) {
      const config::Step& step = module_->steps[s.step];
      absl::Status built = BuildRequest(*module_, step, s.vars, &s.spec);
      if (built.ok()) {
        RETURN_IF_ERROR(transport_->Start({.slot = slot,
                                           .id = s.id,
                                           .timeout = timeout,
                                           .new_iteration = s.step == 0,
                                           .spec = &s.spec}));
        recorder_->Started(slot, intended, now - start_, s.step);
        return absl::OkStatus();
      }
      // Not sent: recorded as a failed request of the step.
      std::vector<Completion> one(1);
      one[0].slot = slot;
      one[0].id = s.id;
      one[0].result = ResultClass::kOther;
      one[0].error =
          absl::StrCat("step \"", step.name, "\": ", built.message());
      recorder_->Started(slot, intended, now - start_, s.step);
      scratch_.clear();
      recorder_->Finished(one, &scratch_);
      if (!step.optional ||
          s.step + 1 == static_cast<int>(module_->steps.size())) {
        End(slot, now, step.optional ? -1 : s.step);
        return absl::OkStatus();
      }
      ++s.step;  // an optional step: go on at once
    }
  }

  void End(int slot, absl::Time now, int failed_step) {
    Session& s = sessions_[slot];
    s.active = false;
    s.waiting = false;
    out_->iterations.push_back(
        {.duration = (now - start_) - s.iteration_intended,
         .vu = slot,
         .failed_step = failed_step});
  }

  const BurstPlan& plan_;
  const config::Module* module_;
  Transport* transport_;
  Recorder* recorder_;
  absl::Time start_;
  BurstResult* out_;
  std::vector<Session> sessions_;
  std::vector<int> scratch_;
};

absl::Status RunOpen(const BurstPlan& plan, Transport* transport, Clock* clock,
                     absl::Time start, const RequestObserver& on_request,
                     const std::atomic<bool>* stop, BurstResult* out) {
  const absl::Time hard_deadline = start + plan.budget;
  const absl::Time stop_at = start + plan.start_window;
  Recorder recorder(plan.vus, out, on_request);
  Driver driver(plan, transport, &recorder, start, out);
  std::vector<int> free_slots;
  for (int s = plan.vus - 1; s >= 0; --s) free_slots.push_back(s);
  std::vector<Completion> done;
  std::vector<int> freed;
  int64_t next = 0;
  while (true) {
    absl::Time now = clock->Now();
    // Stopped: the arrivals not yet due are neither sent nor dropped.
    if (StopAsked(stop)) next = plan.planned;
    while (next < plan.planned) {
      const absl::Time due = start + ArrivalOffset(next, plan.rate);
      if (due > now) break;
      if (due >= stop_at) {
        // The budget, not the configured shape, ends the burst here.
        out->dropped += plan.planned - next;
        out->truncated = true;
        next = plan.planned;
        break;
      }
      if (free_slots.empty()) {
        ++out->dropped;  // every VU busy at the due time
        ++next;
        continue;
      }
      const int slot = free_slots.back();
      free_slots.pop_back();
      RETURN_IF_ERROR(
          driver.Begin(slot, static_cast<uint64_t>(next), due - start, now,
                       std::min(plan.request_timeout, hard_deadline - now)));
      ++next;
    }
    absl::Time wake = hard_deadline;
    freed.clear();
    RETURN_IF_ERROR(driver.StartDue(now, hard_deadline, &wake, &freed));
    free_slots.insert(free_slots.end(), freed.begin(), freed.end());
    if (next >= plan.planned && transport->InFlight() == 0 &&
        !driver.Waiting()) {
      break;
    }
    done.clear();
    freed.clear();
    if (now >= hard_deadline) {
      transport->CancelAll(kCutReason, &done);
      driver.Finished(done, &freed, clock);
      driver.Cut(now);
      out->truncated = true;
      break;
    }
    if (next < plan.planned) {
      wake = std::min(wake, start + ArrivalOffset(next, plan.rate));
    }
    RETURN_IF_ERROR(transport->Wait(CapForStop(wake, now, stop), &done));
    driver.Finished(done, &freed, clock);
    free_slots.insert(free_slots.end(), freed.begin(), freed.end());
  }
  return absl::OkStatus();
}

absl::Status RunClosed(const BurstPlan& plan, Transport* transport,
                       Clock* clock, absl::Time start,
                       const RequestObserver& on_request,
                       const std::atomic<bool>* stop, BurstResult* out) {
  const absl::Time hard_deadline = start + plan.budget;
  const absl::Time stop_at = start + plan.start_window;
  struct Vu {
    bool busy = false;
    bool done = false;
    absl::Time ready;
  };
  std::vector<Vu> vus(plan.vus, Vu{.ready = start});
  Recorder recorder(plan.vus, out, on_request);
  Driver driver(plan, transport, &recorder, start, out);
  std::vector<Completion> done;
  std::vector<int> freed;
  int64_t started = 0;
  bool stopped_by_window = false;
  while (true) {
    const absl::Time now = clock->Now();
    bool all_done = true;
    absl::Time wake = hard_deadline;
    freed.clear();
    RETURN_IF_ERROR(driver.StartDue(now, hard_deadline, &wake, &freed));
    for (int slot : freed) {
      vus[slot].busy = false;
      vus[slot].ready = now + plan.think_time;
    }
    for (int slot = 0; slot < plan.vus; ++slot) {
      Vu& vu = vus[slot];
      if (!vu.busy && !vu.done) {
        if ((plan.requests.has_value() && started >= *plan.requests) ||
            started >= plan.max_requests || StopAsked(stop)) {
          vu.done = true;
        } else if (vu.ready >= stop_at || now >= stop_at) {
          vu.done = true;
          stopped_by_window = true;
        } else if (vu.ready <= now) {
          RETURN_IF_ERROR(driver.Begin(
              slot, static_cast<uint64_t>(started), now - start, now,
              std::min(plan.request_timeout, hard_deadline - now)));
          vu.busy = true;
          ++started;
        } else {
          wake = std::min(wake, vu.ready);
        }
      }
      all_done = all_done && vu.done;
    }
    if (all_done) break;
    done.clear();
    freed.clear();
    if (now >= hard_deadline) {
      transport->CancelAll(kCutReason, &done);
      driver.Finished(done, &freed, clock);
      driver.Cut(now);
      out->truncated = true;
      break;
    }
    RETURN_IF_ERROR(transport->Wait(CapForStop(wake, now, stop), &done));
    driver.Finished(done, &freed, clock);
    const absl::Time after = clock->Now();
    for (int slot : freed) {
      vus[slot].busy = false;
      vus[slot].ready = after + plan.think_time;
    }
  }
  if (plan.requests.has_value()) {
    out->planned = *plan.requests;
    if (started < *plan.requests) {
      if (stopped_by_window && plan.window_cut_by_budget) {
        out->dropped = *plan.requests - started;
      } else {
        out->planned = started;  // the configured duration came first
      }
    }
  } else {
    out->planned = started;
  }
  if (stopped_by_window && plan.window_cut_by_budget) out->truncated = true;
  return absl::OkStatus();
}

}  // namespace

absl::Duration ArrivalOffset(int64_t i, double rate) {
  return absl::Nanoseconds(
      static_cast<int64_t>(std::llround(static_cast<double>(i) * 1e9 / rate)));
}

BurstPlan PlanBurst(const config::BurstConfig& burst, absl::Duration timeout,
                    absl::Duration budget) {
  BurstPlan plan;
  plan.vus = burst.vus;
  plan.rate = burst.rate;
  plan.think_time = burst.think_time;
  plan.requests = burst.request_limit();
  plan.request_timeout = timeout;
  plan.budget = budget;
  const absl::Duration grace = std::min(timeout, budget / 4);
  const absl::Duration limit = budget - grace;
  if (burst.duration.has_value()) {
    plan.start_window = std::min(*burst.duration, limit);
    plan.window_cut_by_budget = *burst.duration > limit;
  } else {
    // Only a request count bounds the burst: the budget is the window, and
    // running out of it before the count is reached is a cut.
    plan.start_window = limit;
    plan.window_cut_by_budget = true;
  }
  if (burst.open_model()) {
    int64_t n = plan.requests.value_or(config::kMaxRequests);
    if (burst.duration.has_value()) {
      // Arrival i is planned when i/rate < duration.
      const double arrivals =
          std::ceil(absl::ToDoubleSeconds(*burst.duration) * burst.rate - 1e-9);
      n = std::min<int64_t>(n, static_cast<int64_t>(std::max(0.0, arrivals)));
    }
    plan.planned = n;
  } else {
    plan.planned = plan.requests.value_or(0);
  }
  return plan;
}

absl::StatusOr<BurstResult> RunBurst(const BurstPlan& plan,
                                     Transport* transport, Clock* clock,
                                     const RequestObserver& on_request,
                                     const std::atomic<bool>* stop) {
  BurstResult out;
  out.budget = plan.budget;
  out.planned = plan.planned;
  // One allocation up front when the count is known (bounded: a long
  // duration-only burst grows as it goes).
  out.requests.reserve(
      static_cast<size_t>(std::min<int64_t>(plan.planned, 100000)));
  const absl::Time start = clock->Now();
  if (plan.rate > 0) {
    RETURN_IF_ERROR(
        RunOpen(plan, transport, clock, start, on_request, stop, &out));
  } else {
    RETURN_IF_ERROR(
        RunClosed(plan, transport, clock, start, on_request, stop, &out));
  }
  out.duration = clock->Now() - start;
  return out;
}

}  // namespace canary::probes
