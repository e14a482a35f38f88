// probe_history.h: a bounded ring of the most recent probes, for the
// landing page (charts) and its debug links (/debug?id=N).
//
//   ProbeHistory history(/*limit=*/100);
//   uint64_t id = history.Add(MakeProbeRecord(...));
//   for (const auto& r : history.Recent()) ...   // newest first
//   std::shared_ptr<const ProbeRecord> r = history.Find(id);
//
// A /probe answers before its record is rendered: the handler takes a
// Reservation first and fills it after the answer is written
// (HttpResponse::after_send), so charts and debug text cost the scraper
// nothing. Readers wait (at most kHistoryReadWait) for reserved records,
// so a client that got its answer sees the probe on its next request.
//
//   ProbeHistory::Reservation r = history.Reserve();
//   ... answer ...
//   r.Fill(MakeProbeRecord(...));   // or drop r: the reservation is withdrawn
//
// Each record keeps what the page shows, pre-rendered (two SVG charts of at
// most kMaxTimelinePoints points, the debug text with at most
// kHistoryDebugRequestLines requests), never the raw burst, so memory stays
// bounded by limit × a few hundred KiB whatever the burst size.
// Thread-safety: every method is thread-safe. Errors: none.
#ifndef CANARY_EXPORTER_VIEWS_PROBE_HISTORY_H_
#define CANARY_EXPORTER_VIEWS_PROBE_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "base/sync.h"
#include "config/config.h"
#include "exporter/views/debug_view.h"
#include "probes/prober.h"

namespace canary::exporter {

inline constexpr size_t kDefaultHistoryLimit = 100;
inline constexpr size_t kHistoryDebugRequestLines = 300;
// Longest a reader waits for reserved records still being rendered.
inline constexpr absl::Duration kHistoryReadWait = absl::Seconds(2);

struct ProbeRecord {
  uint64_t id = 0;  // assigned by ProbeHistory::Add, from 1
  absl::Time finished;
  std::string module;
  std::string target;  // user:password@ redacted
  bool success = false;
  int64_t planned = 0;
  int64_t sent = 0;
  int64_t dropped = 0;
  int64_t errors = 0;
  double p50 = 0;  // seconds; NaN without responses
  double p95 = 0;
  absl::Duration duration;
  absl::Duration budget;
  // A scenario module: one HTML table row per step (name from the config,
  // requests, errors, p50, p95, iterations it ended). Empty otherwise.
  std::string steps_html;
  std::string histogram_svg;
  std::string timeline_svg;
  std::string debug_text;
};

// Builds the record of one finished probe (renders charts and debug text).
ProbeRecord MakeProbeRecord(const config::Module& module,
                            const std::string& target, absl::Duration budget,
                            const std::string& budget_explanation,
                            const probes::ProbeReport& report,
                            absl::Time finished);

class ProbeHistory {
 public:
  // Keeps the last `limit` probes; 0 keeps none.
  explicit ProbeHistory(size_t limit) : limit_(limit) {}

  size_t limit() const { return limit_; }

  // A record promised by an answered probe. Move-only; Fill at most once;
  // destroying it unfilled withdraws the promise. Must not outlive the
  // history.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept
        : history_(std::exchange(other.history_, nullptr)) {}
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation();

    // Stores `record` as ProbeHistory::Add does; returns its id (0 when the
    // reservation was empty or already filled).
    uint64_t Fill(ProbeRecord record);

   private:
    friend class ProbeHistory;
    explicit Reservation(ProbeHistory* history) : history_(history) {}
    ProbeHistory* history_ = nullptr;
  };

  // Promises a record; readers wait for it until it is filled or dropped.
  Reservation Reserve();

  // Stores `record` (evicting the oldest beyond the limit); returns its id.
  uint64_t Add(ProbeRecord record);

  // Newest first. Waits for reserved records (at most kHistoryReadWait).
  std::vector<std::shared_ptr<const ProbeRecord>> Recent() const;

  // The record with `id`, or null when unknown or evicted. Waits for
  // reserved records as Recent does.
  std::shared_ptr<const ProbeRecord> Find(uint64_t id) const;

 private:
  void Withdraw();
  void AwaitReservedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t limit_;
  mutable canary::Mutex mu_;
  int reserved_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<std::shared_ptr<const ProbeRecord>> records_ ABSL_GUARDED_BY(mu_);
};

// The landing page's "Recent probes" section (HTML), newest first.
std::string RenderRecentProbes(const ProbeHistory& history);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_VIEWS_PROBE_HISTORY_H_
