#include "tests/testing/fake_transport.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace canary::testing {

probes::Completion FakeTransport::Ok(absl::Duration total) {
  probes::Completion c;
  c.total = total;
  c.status_code = 200;
  c.result = probes::ResultClass::kSuccess;
  c.phases[static_cast<int>(probes::Phase::kProcessing)] = total;
  return c;
}

absl::Status FakeTransport::Start(const probes::StartRequest& req) {
  if (pending_.count(req.slot)) {
    return absl::FailedPreconditionError(
        absl::StrCat("slot ", req.slot, " already has a request in flight"));
  }
  const int64_t seq = static_cast<int64_t>(starts_.size());
  const absl::Time now = clock_->Now();
  starts_.push_back({req.slot, now, req.timeout, req.new_iteration});
  if (req.spec != nullptr) {
    starts_.back().url = req.spec->url;
    starts_.back().headers = req.spec->headers;
    starts_.back().body = req.spec->body;
  }
  probes::Completion c = responder_(seq, req.slot);
  c.id = req.id;
  c.slot = req.slot;
  if (c.total > req.timeout) {
    c = probes::Completion();
    c.id = req.id;
    c.slot = req.slot;
    c.total = req.timeout;
    c.result = probes::ResultClass::kTimeout;
    c.error = "timeout";
  }
  pending_[req.slot] = {c, now, now + c.total};
  max_in_flight_ = std::max(max_in_flight_, InFlight());
  return absl::OkStatus();
}

absl::Status FakeTransport::Wait(absl::Time until,
                                 std::vector<probes::Completion>* done) {
  absl::Time earliest = absl::InfiniteFuture();
  for (const auto& [slot, p] : pending_) earliest = std::min(earliest, p.end);
  if (earliest > until) {
    clock_->AdvanceTo(until);
    return absl::OkStatus();
  }
  clock_->AdvanceTo(earliest);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.end <= earliest) {
      done->push_back(it->second.completion);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

void FakeTransport::CancelAll(const std::string& reason,
                              std::vector<probes::Completion>* done) {
  const absl::Time now = clock_->Now();
  for (auto& [slot, p] : pending_) {
    probes::Completion c;
    c.id = p.completion.id;
    c.slot = slot;
    c.total = now - p.start;
    c.result = probes::ResultClass::kTimeout;
    c.error = reason;
    done->push_back(c);
  }
  pending_.clear();
}

}  // namespace canary::testing
