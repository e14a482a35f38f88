// transport.h: the seam between the burst engine and the network.
//
// The engine starts requests and waits for completions; a Transport does
// the I/O. The real one is CurlTransport (probes/curl_transport.h, the only
// file that includes libcurl); tests use FakeTransport
// (tests/testing/fake_transport.h) with a FakeClock.
//
//   transport->Start({.slot = vu, .timeout = absl::Seconds(2)});
//   std::vector<Completion> done;
//   transport->Wait(deadline, &done);  // returns at deadline or on completion
//
// Thread-safety: one Transport serves one burst on one thread.
#ifndef CANARY_PROBES_TRANSPORT_H_
#define CANARY_PROBES_TRANSPORT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "probes/result.h"

namespace canary::probes {

// The request of one scenario step (config::Step), its variables already
// expanded by the engine (probes/scenario.h). The transport resolves `url`
// against the target, validates the result like a target and checks its
// host against the allowlist; a URL that fails either completes at once
// (never sent) as kOther or kConnect.
struct RequestSpec {
  std::string url;  // "/path?q" or an absolute http(s) URL
  // Whether `url` came from variables: its errors then do not quote it
  // (a variable may hold a secret).
  bool url_from_variables = false;
  // Step headers as "Name: value", sent after the module's headers.
  std::vector<std::string> headers;
  std::string body;
  // The step's method and checks (config::Step::checks); never null.
  const config::HttpConfig* checks = nullptr;
  // The Completion carries the kept body and headers (for extractions).
  bool keep_response = false;
};

// One request to start. The target and the module's HTTP settings were given
// to the transport when it was created; without a `spec` every request of a
// burst is alike.
struct StartRequest {
  int slot = 0;            // the VU; a transport keeps one connection per slot
  uint64_t id = 0;         // echoed in the Completion
  absl::Duration timeout;  // the whole request, connect to last byte
  // The slot's cookie jar is emptied first: a single request and the first
  // step of a scenario iteration start a new session; later steps keep it.
  bool new_iteration = true;
  // A scenario step (must outlive the request); null: the module's request.
  const RequestSpec* spec = nullptr;
};

// A finished request, as the transport saw it. Times are durations measured
// by the transport from the moment the request was handed to Start().
struct Completion {
  uint64_t id = 0;
  int slot = 0;
  absl::Duration total;
  std::array<absl::Duration, kNumPhases> phases{};
  bool new_connection = false;
  int status_code = 0;
  int64_t bytes_received = 0;
  ResultClass result = ResultClass::kOther;
  std::string error;
  std::optional<absl::Time> cert_expiry;  // earliest NotAfter, if a handshake
  // For blackbox_exporter's metrics (result.h CompatFacts); only
  // meaningful when status_code > 0, except `address`.
  int http_version = 0;         // of the final response, x10: 10, 11, 20, 30
  int redirects = 0;            // redirects followed
  int64_t content_length = -1;  // of the final response; -1: none given
  // IP the request's new connection went to; empty on a reused connection.
  std::string address;
  // The TLS session of the final response; null over plain HTTP.
  std::shared_ptr<const TlsFacts> tls;
  // Only when the request's spec asked for keep_response: what was kept of
  // the body (at most body_size_limit bytes) and the final headers.
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Begins a request on `req.slot`. The slot must not have a request in
  // flight. Errors here (e.g. out of memory in libcurl) are returned; a
  // failing target is never an error here, it becomes a Completion.
  virtual absl::Status Start(const StartRequest& req) = 0;

  // Drives I/O until at least one request completes or the clock reaches
  // `until`, appending finished requests to `done`.
  virtual absl::Status Wait(absl::Time until,
                            std::vector<Completion>* done) = 0;

  // Aborts every request still in flight, appending them to `done` as
  // kTimeout with `reason` as the error.
  virtual void CancelAll(const std::string& reason,
                         std::vector<Completion>* done) = 0;

  // Number of requests in flight.
  virtual int InFlight() const = 0;
};

}  // namespace canary::probes

#endif  // CANARY_PROBES_TRANSPORT_H_
