// target_server.h: a real HTTP(S) server on 127.0.0.1 for probes to hit.
//
// TargetServer runs CivetWeb on an ephemeral loopback port with a fixed set
// of endpoints that let tests shape what a probe sees, and counts the hits on
// each path.
//
//   ASSERT_OK_AND_ASSIGN(auto target, TargetServer::Start());
//   std::string url = target->Url("/delay?ms=20");  // http://127.0.0.1:P/...
//   ... probe url ...
//   EXPECT_EQ(target->Hits("/delay"), 30);
//
// Endpoints (GET, HEAD and POST alike; unknown paths get CivetWeb's 404):
//   /ok                      200 "ok"
//   /delay?ms=N              sleeps N ms, then 200 "ok"
//   /status?code=N           answers N (body "status N" where a body is
//   allowed) /close                   closes the connection without any
//   response /body?bytes=N            N bytes of 'x' with Content-Length
//   /redirect?n=K            302 to /redirect?n=K-1, and to /ok at 0
//   /loop                    302 to itself
//   /header?name=X&value=Y   200 "ok" with the response header X: Y
//   /slowbody?ms=N           headers (Content-Length: 2) at once, "ok" N ms
//   later
//   /login                   302 to /members with Set-Cookie canary_session;
//                            400 when the request already sends that cookie
//   /members                 200 "members" with the cookie, 400 without
// A stateful shop flow (scenario tests), each answer depending on an
// earlier one:
//   /shop/login     POST only: 200 JSON {"token": "tok-N", "user": {"id": N}}
//                   and the cookie sid=sid-N (N counts logins)
//   /shop/items     401 without "Authorization: Bearer tok-N" of a login;
//                   else 200 with <input name="csrf" value="csrf-N">
//   /shop/cart      403 without the cookie sid-N of a login; else 200
//   /shop/checkout  POST with the bearer token and body "csrf=csrf-N" of the
//                   same login, else 400; every third checkout (3rd, 6th,
//                   ...) answers 503, the rest 200 {"order_id": K}
// Keep-alive is on, so connection reuse is observable. Waits (/delay,
// /slowbody) end early when the server stops, so a stop never waits for them.
//
// Thread-safety: every method may be called from any thread while requests are
// served. Destruction stops the server promptly (about 0.1 s; CivetWeb alone
// would take ~2 s): it wakes CivetWeb's accept poll by connecting to the port.
// HTTPS: CivetWeb serves plain HTTP on an internal port and a TLS relay
// (tests/testing/tls_front.h) on port() terminates TLS in front of it, since
// Debian's CivetWeb 1.15 crashes on every TLS handshake with OpenSSL 3.
// Errors: Start returns UnavailableError when CivetWeb cannot start (the
// message carries CivetWeb's own log, e.g. the bind error) or libssl cannot
// be loaded, and InvalidArgumentError for bad options (tls without a PEM
// path, a PEM without certificate and key, threads < 1).
#ifndef CANARY_TESTS_TESTING_TARGET_SERVER_H_
#define CANARY_TESTS_TESTING_TARGET_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/sync.h"

class CivetServer;
class CivetHandler;

namespace canary::testing {

class TlsFront;

struct TargetOptions {
  bool tls = false;
  std::string cert_pem_path = {};  // certificate + key in one PEM, when tls
  int threads = 32;  // CivetWeb worker threads = concurrent requests
};

class TargetServer {
 public:
  static absl::StatusOr<std::unique_ptr<TargetServer>> Start(
      const TargetOptions& opts = {});
  ~TargetServer();

  TargetServer(const TargetServer&) = delete;
  TargetServer& operator=(const TargetServer&) = delete;

  // The bound port.
  int port() const { return port_; }

  // "http://127.0.0.1:PORT" + path_and_query ("https://" when tls).
  std::string Url(absl::string_view path_and_query) const;

  // Requests received on `path` (without query) since start or ResetHits().
  int64_t Hits(absl::string_view path) const;
  void ResetHits();

  // Internal: called by the endpoint handlers.
  void CountHit(absl::string_view path);
  // Waits up to `d`; returns early (false) when the server is stopping.
  bool SleepUnlessStopping(absl::Duration d);
  // Internal: the /shop flow's state. ShopLogin returns a new login's N;
  // ShopCheckout counts checkouts and returns the count.
  int64_t ShopLogin();
  bool ShopKnown(int64_t n) const;
  int64_t ShopCheckout();

 private:
  TargetServer() = default;

  bool tls_ = false;
  int port_ = 0;
  mutable canary::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> hits_ ABSL_GUARDED_BY(mu_);
  int64_t shop_logins_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shop_checkouts_ ABSL_GUARDED_BY(mu_) = 0;
  canary::Notification stopping_;
  std::vector<std::unique_ptr<CivetHandler>> handlers_;
  std::unique_ptr<TlsFront> tls_front_;  // https only; stopped first
  std::unique_ptr<CivetServer> server_;  // last: destroyed first
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_TARGET_SERVER_H_
