#include "tests/testing/target_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "CivetServer.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "civetweb.h"
#include "tests/testing/tls_front.h"

namespace canary::testing {
namespace {

// CivetWeb reports start-up failures only through log_message, from the
// thread that calls mg_start; this points at the log of the Start() running
// on this thread.
thread_local std::vector<std::string>* start_log = nullptr;

int LogMessage(const mg_connection*, const char* message) {
  if (start_log != nullptr && message != nullptr) {
    start_log->emplace_back(message);
  }
  return 1;  // tests provoke errors on purpose: keep stderr quiet
}

using Endpoint = std::function<void(TargetServer*, mg_connection*)>;

class EndpointHandler : public CivetHandler {
 public:
  EndpointHandler(TargetServer* server, std::string path, Endpoint endpoint)
      : server_(server),
        path_(std::move(path)),
        endpoint_(std::move(endpoint)) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    return Serve(conn);
  }
  bool handlePost(CivetServer*, mg_connection* conn) override {
    return Serve(conn);
  }
  bool handleHead(CivetServer*, mg_connection* conn) override {
    return Serve(conn);
  }
  bool handlePut(CivetServer*, mg_connection* conn) override {
    return Serve(conn);
  }

 private:
  bool Serve(mg_connection* conn) {
    server_->CountHit(path_);
    endpoint_(server_, conn);
    return true;
  }

  TargetServer* server_;
  std::string path_;
  Endpoint endpoint_;
};

// Reads query parameter `name` as a non-negative integer no larger than
// `max`; answers 400 itself and returns false when it is missing or bad.
bool IntParam(mg_connection* conn, const char* name, int64_t max,
              int64_t* out) {
  std::string value;
  if (CivetServer::getParam(conn, name, value) &&
      absl::SimpleAtoi(value, out) && *out >= 0 && *out <= max) {
    return true;
  }
  mg_send_http_error(conn, 400, "bad or missing query parameter %s", name);
  return false;
}

bool StatusAllowsBody(int code) {
  return code >= 200 && code != 204 && code != 304;
}

void Respond(
    mg_connection* conn, int code, absl::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  mg_response_header_start(conn, code);
  mg_response_header_add(conn, "Content-Type", "text/plain", -1);
  for (const auto& [name, value] : headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(),
                           static_cast<int>(value.size()));
  }
  const bool with_body = StatusAllowsBody(code);
  const std::string length = absl::StrCat(with_body ? body.size() : 0);
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_send(conn);
  if (with_body && !body.empty()) mg_write(conn, body.data(), body.size());
}

void Ok(TargetServer*, mg_connection* conn) { Respond(conn, 200, "ok"); }

void Delay(TargetServer* server, mg_connection* conn) {
  int64_t ms;
  if (!IntParam(conn, "ms", 600000, &ms)) return;
  server->SleepUnlessStopping(absl::Milliseconds(ms));
  Respond(conn, 200, "ok");
}

void Status(TargetServer*, mg_connection* conn) {
  int64_t code;
  if (!IntParam(conn, "code", 599, &code)) return;
  if (code < 100) {
    mg_send_http_error(conn, 400, "code must be 100..599");
    return;
  }
  Respond(conn, static_cast<int>(code), absl::StrCat("status ", code));
}

void Close(TargetServer*, mg_connection* conn) {
  // Shuts the socket down in place: the client reads EOF where a status line
  // should be, and CivetWeb's worker, finding the socket gone, drops the
  // connection instead of waiting for a next request.
  mg_close_connection(conn);
}

void Body(TargetServer*, mg_connection* conn) {
  int64_t bytes;
  if (!IntParam(conn, "bytes", int64_t{1} << 32, &bytes)) return;
  mg_response_header_start(conn, 200);
  mg_response_header_add(conn, "Content-Type", "application/octet-stream", -1);
  const std::string length = absl::StrCat(bytes);
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_send(conn);
  const std::string chunk(64 * 1024, 'x');
  while (bytes > 0) {
    const size_t n = static_cast<size_t>(
        std::min<int64_t>(bytes, static_cast<int64_t>(chunk.size())));
    if (mg_write(conn, chunk.data(), n) <= 0) return;  // client went away
    bytes -= static_cast<int64_t>(n);
  }
}

void Redirect(TargetServer*, mg_connection* conn) {
  int64_t n;
  if (!IntParam(conn, "n", 1000, &n)) return;
  const std::string location =
      n == 0 ? std::string("/ok") : absl::StrCat("/redirect?n=", n - 1);
  mg_send_http_redirect(conn, location.c_str(), 302);
}

void Loop(TargetServer*, mg_connection* conn) {
  mg_send_http_redirect(conn, "/loop", 302);
}

void Header(TargetServer*, mg_connection* conn) {
  std::string name, value;
  if (!CivetServer::getParam(conn, "name", name) || name.empty()) {
    mg_send_http_error(conn, 400, "missing query parameter name");
    return;
  }
  CivetServer::getParam(conn, "value", value);
  Respond(conn, 200, "ok", {{name, value}});
}

void SlowBody(TargetServer* server, mg_connection* conn) {
  int64_t ms;
  if (!IntParam(conn, "ms", 600000, &ms)) return;
  mg_response_header_start(conn, 200);
  mg_response_header_add(conn, "Content-Type", "text/plain", -1);
  mg_response_header_add(conn, "Content-Length", "2", -1);
  mg_response_header_send(conn);
  server->SleepUnlessStopping(absl::Milliseconds(ms));
  mg_write(conn, "ok", 2);
}

// A login as sites do it: /login sets a session cookie and redirects to
// /members, which refuses a request without it. /login refuses a request
// that already carries the cookie, so a session that leaked from an earlier
// request (iteration) shows as a 400.
constexpr char kSessionCookie[] = "canary_session=s1";

bool HasSessionCookie(mg_connection* conn) {
  const char* cookie = mg_get_header(conn, "Cookie");
  return cookie != nullptr && absl::string_view(cookie).find(kSessionCookie) !=
                                  absl::string_view::npos;
}

void Login(TargetServer*, mg_connection* conn) {
  if (HasSessionCookie(conn)) {
    Respond(conn, 400, "session cookie sent to /login");
    return;
  }
  Respond(conn, 302, "",
          {{"Set-Cookie", absl::StrCat(kSessionCookie, "; Path=/")},
           {"Location", "/members"}});
}

void Members(TargetServer*, mg_connection* conn) {
  if (!HasSessionCookie(conn)) {
    Respond(conn, 400, "no session cookie");
    return;
  }
  Respond(conn, 200, "members");
}

// The N of "<prefix>N" when `value` is one the server issued.
bool IssuedNumber(TargetServer* server, absl::string_view value,
                  absl::string_view prefix, int64_t* n) {
  return absl::ConsumePrefix(&value, prefix) && absl::SimpleAtoi(value, n) &&
         server->ShopKnown(*n);
}

bool BearerNumber(TargetServer* server, mg_connection* conn, int64_t* n) {
  const char* auth = mg_get_header(conn, "Authorization");
  return auth != nullptr && IssuedNumber(server, auth, "Bearer tok-", n);
}

bool IsPost(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  return info != nullptr && absl::string_view(info->request_method) == "POST";
}

std::string ReadBody(mg_connection* conn) {
  std::string body;
  char buf[1024];
  int n;
  while (body.size() < 16384 && (n = mg_read(conn, buf, sizeof(buf))) > 0) {
    body.append(buf, static_cast<size_t>(n));
  }
  return body;
}

void ShopLoginEndpoint(TargetServer* server, mg_connection* conn) {
  if (!IsPost(conn)) {
    Respond(conn, 405, "POST only");
    return;
  }
  ReadBody(conn);
  const int64_t n = server->ShopLogin();
  Respond(
      conn, 200,
      absl::StrCat(R"({"token": "tok-)", n, R"(", "user": {"id": )", n, "}}"),
      {{"Set-Cookie", absl::StrCat("sid=sid-", n, "; Path=/")}});
}

void ShopItemsEndpoint(TargetServer* server, mg_connection* conn) {
  int64_t n;
  if (!BearerNumber(server, conn, &n)) {
    Respond(conn, 401, "missing or unknown token");
    return;
  }
  Respond(conn, 200,
          absl::StrCat(R"(<form><input name="csrf" value="csrf-)", n,
                       R"("></form>)"));
}

void ShopCartEndpoint(TargetServer* server, mg_connection* conn) {
  char sid[64];
  int64_t n;
  const char* cookie = mg_get_header(conn, "Cookie");
  if (cookie == nullptr ||
      mg_get_cookie(cookie, "sid", sid, sizeof(sid)) <= 0 ||
      !IssuedNumber(server, sid, "sid-", &n)) {
    Respond(conn, 403, "no session");
    return;
  }
  Respond(conn, 200, absl::StrCat("cart of ", n));
}

void ShopCheckoutEndpoint(TargetServer* server, mg_connection* conn) {
  int64_t n;
  const std::string body = ReadBody(conn);
  if (!IsPost(conn) || !BearerNumber(server, conn, &n) ||
      body != absl::StrCat("csrf=csrf-", n)) {
    Respond(conn, 400, "bad checkout");
    return;
  }
  const int64_t k = server->ShopCheckout();
  if (k % 3 == 0) {
    Respond(conn, 503, "try again");
    return;
  }
  Respond(conn, 200, absl::StrCat(R"({"order_id": )", k, "}"));
}

// Connects to and disconnects from 127.0.0.1:port, ignoring failures.
void Poke(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  close(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TargetServer>> TargetServer::Start(
    const TargetOptions& opts) {
  if (opts.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be >= 1, got ", opts.threads));
  }
  if (opts.tls && opts.cert_pem_path.empty()) {
    return absl::InvalidArgumentError("tls needs cert_pem_path");
  }
  std::unique_ptr<TargetServer> self(new TargetServer());
  self->tls_ = opts.tls;

  // Name/value pairs. Keep-alive lasts long enough for a VU's think time to
  // keep its connection, yet an idle client cannot hold a stop for long.
  // Headers and body go out in separate writes: without tcp_nodelay, Nagle
  // and delayed ACKs add ~40 ms to every keep-alive response.
  const std::vector<std::string> options = {
      "listening_ports",       "127.0.0.1:0",               //
      "num_threads",           absl::StrCat(opts.threads),  //
      "enable_keep_alive",     "yes",                       //
      "keep_alive_timeout_ms", "2000",                      //
      "request_timeout_ms",    "10000",                     //
      "tcp_nodelay",           "1",
  };
  CivetCallbacks callbacks;
  callbacks.log_message = &LogMessage;

  std::vector<std::string> log;
  start_log = &log;
  try {
    self->server_ = std::make_unique<CivetServer>(options, &callbacks);
  } catch (const CivetException& e) {
    start_log = nullptr;
    return absl::UnavailableError(absl::StrCat(
        "CivetWeb did not start: ", e.what(),
        log.empty() ? "" : absl::StrCat(" (", absl::StrJoin(log, "; "), ")")));
  }
  start_log = nullptr;

  const std::vector<int> ports = self->server_->getListeningPorts();
  if (ports.empty() || ports[0] <= 0) {
    return absl::UnavailableError("CivetWeb reports no listening port");
  }
  self->port_ = ports[0];
  if (opts.tls) {
    // CivetWeb's own TLS is unusable here (see tls_front.h): relay instead.
    absl::StatusOr<std::unique_ptr<TlsFront>> front =
        TlsFront::Start(opts.cert_pem_path, self->port_);
    if (!front.ok()) return front.status();
    self->tls_front_ = *std::move(front);
    self->port_ = self->tls_front_->port();
  }

  const std::pair<const char*, Endpoint> endpoints[] = {
      {"/ok", &Ok},
      {"/delay", &Delay},
      {"/status", &Status},
      {"/close", &Close},
      {"/body", &Body},
      {"/redirect", &Redirect},
      {"/loop", &Loop},
      {"/header", &Header},
      {"/slowbody", &SlowBody},
      {"/shop/login", &ShopLoginEndpoint},
      {"/shop/items", &ShopItemsEndpoint},
      {"/shop/cart", &ShopCartEndpoint},
      {"/shop/checkout", &ShopCheckoutEndpoint},
  };
  const std::pair<const char*, Endpoint> login_endpoints[] = {
      {"/login", &Login},
      {"/members", &Members},
  };
  std::vector<std::pair<const char*, Endpoint>> all(std::begin(endpoints),
                                                    std::end(endpoints));
  all.insert(all.end(), std::begin(login_endpoints), std::end(login_endpoints));
  for (const auto& [path, endpoint] : all) {
    self->handlers_.push_back(
        std::make_unique<EndpointHandler>(self.get(), path, endpoint));
    self->server_->addHandler(path, self->handlers_.back().get());
  }
  return self;
}

TargetServer::~TargetServer() {
  if (server_ == nullptr) return;
  stopping_.Notify();
  tls_front_.reset();
  const int backend_port = server_->getListeningPorts().empty()
                               ? 0
                               : server_->getListeningPorts()[0];
  // mg_stop waits for the master thread, which only sees the stop flag when
  // its accept poll returns: keep knocking until it has.
  std::atomic<bool> stopped{false};
  std::thread waker([backend_port, &stopped] {
    while (!stopped.load()) {
      Poke(backend_port);
      absl::SleepFor(absl::Milliseconds(10));
    }
  });
  server_->close();
  stopped.store(true);
  waker.join();
  server_.reset();
}

std::string TargetServer::Url(absl::string_view path_and_query) const {
  return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_,
                      path_and_query);
}

int64_t TargetServer::Hits(absl::string_view path) const {
  canary::MutexLock lock(&mu_);
  auto it = hits_.find(path);
  return it == hits_.end() ? 0 : it->second;
}

void TargetServer::ResetHits() {
  canary::MutexLock lock(&mu_);
  hits_.clear();
}

int64_t TargetServer::ShopLogin() {
  canary::MutexLock lock(&mu_);
  return ++shop_logins_;
}

bool TargetServer::ShopKnown(int64_t n) const {
  canary::MutexLock lock(&mu_);
  return n >= 1 && n <= shop_logins_;
}

int64_t TargetServer::ShopCheckout() {
  canary::MutexLock lock(&mu_);
  return ++shop_checkouts_;
}

void TargetServer::CountHit(absl::string_view path) {
  canary::MutexLock lock(&mu_);
  ++hits_[path];
}

bool TargetServer::SleepUnlessStopping(absl::Duration d) {
  return !stopping_.WaitForNotificationWithTimeout(d);
}

}  // namespace canary::testing
