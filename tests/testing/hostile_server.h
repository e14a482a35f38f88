// hostile_server.h: a TCP server on 127.0.0.1 that misbehaves on purpose,
// written over raw POSIX sockets so it can break HTTP in ways a real server
// never would (CivetWeb always sends well-formed responses).
//
//   ASSERT_OK_AND_ASSIGN(auto server, HostileServer::Start(Hostile::kGarbage));
//   std::string url = server->Url("/");  // http://127.0.0.1:PORT/
//   ... probe url, expect result class "protocol" ...
//   EXPECT_GE(server->Connections(), 1);
//
// Every connection of one server gets the same behaviour (Hostile below).
// Behaviours that answer at all answer every request of a kept-alive
// connection the same way. Waits (never answering, one byte a second) end
// as soon as the server stops, and writes give up when the client stops
// reading, so destruction is prompt (well under a second).
//
// Also: UnusedLoopbackPort() for "connection refused" targets, and
// MakeExpiredCert() for a certificate whose NotAfter is in the past (put a
// TlsFront with it in front of a kOk server).
//
// Thread-safety: Url/port/Connections from any thread while serving; the
// destructor stops the server and joins its threads.
// Errors: Start returns UnavailableError when the socket cannot be bound;
// MakeExpiredCert returns InternalError when openssl fails.
#ifndef CANARY_TESTS_TESTING_HOSTILE_SERVER_H_
#define CANARY_TESTS_TESTING_HOSTILE_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/sync.h"
#include "tests/testing/certs.h"

namespace canary::testing {

enum class Hostile {
  kOk,               // a well-formed 200 "ok" (baseline; backend for TLS)
  kNeverAnswer,      // accepts, reads the request, never writes
  kSlowHeaders,      // a valid response, one byte a second
  kResetMidHeaders,  // half a status line and headers, then a TCP reset
  kResetMidBody,     // headers and part of the body, then a TCP reset
  kShortBody,        // Content-Length: 1 GB, 100 bytes, then a clean close
  kHugeBody,         // a 2 GiB body with Content-Length, generated
  kHugeHeader,       // one 2 MiB response header line
  kMalformedStatus,  // "HTTP/1.1 OK-ish\r\n": no status code
  kGarbage,          // bytes that are not HTTP at all
  kBrokenChunked,    // chunked encoding with a non-hex chunk size
  kRedirectLoop,     // 302 to itself, forever
  kRedirectAway,     // 302 to http://192.0.2.1/ (TEST-NET-1)
  kTlsAlert,         // answers a ClientHello with a fatal handshake alert
  kServerErrors,     // 503 to every request, keep-alive (a 5xx storm)
};

// "ok", "never_answer", ... for test names and messages.
const char* HostileName(Hostile h);

class HostileServer {
 public:
  static absl::StatusOr<std::unique_ptr<HostileServer>> Start(Hostile h);
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path) const;
  // Connections accepted so far.
  int64_t Connections() const { return connections_.load(); }

 private:
  HostileServer(Hostile h, int listen_fd, int port, int wake_read,
                int wake_write);
  void AcceptLoop();
  void Serve(int fd);

  const Hostile behaviour_;
  const int listen_fd_;
  const int port_;
  const int wake_read_;   // readable once the server stops
  const int wake_write_;  // closed by the destructor to wake every poll
  std::atomic<int64_t> connections_{0};
  std::thread acceptor_;
  canary::Mutex mu_;
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
};

// A loopback port with no listener: connecting to it is refused. (Bound and
// released at once; another process could take it in between, which on a
// test machine is rare enough.)
absl::StatusOr<int> UnusedLoopbackPort();

// A self-signed certificate for 127.0.0.1/localhost valid only on
// 2020-01-01 (so long expired), made with `openssl ca -selfsign`: OpenSSL
// 3.0's `req -x509` cannot date a certificate in the past.
absl::StatusOr<TestCert> MakeExpiredCert();

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_HOSTILE_SERVER_H_
