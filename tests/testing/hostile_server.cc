#include "tests/testing/hostile_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "tests/testing/shell.h"

namespace canary::testing {
namespace {

constexpr char kOkResponse[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"
    "ok";
constexpr int64_t kHugeBodyBytes = int64_t{2} << 30;    // 2 GiB
constexpr int64_t kHugeHeaderBytes = int64_t{2} << 20;  // 2 MiB
// A client that stops reading for this long is gone: give up writing.
constexpr int kWriteStallMs = 10000;

// Waits until `fd` has `events` or `wake` becomes readable (the server is
// stopping). Returns 1 when fd is ready, 0 on timeout, -1 when woken or on
// error.
int WaitFor(int fd, short events, int wake, int timeout_ms) {
  pollfd fds[2] = {{fd, events, 0}, {wake, POLLIN, 0}};
  while (true) {
    const int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    if (fds[1].revents != 0) return -1;
    return 1;
  }
}

// Sleeps for `d` unless the server stops first; false when it stopped.
bool Pause(int wake, absl::Duration d) {
  pollfd p = {wake, POLLIN, 0};
  const absl::Time end = absl::Now() + d;
  while (true) {
    const int64_t left = absl::ToInt64Milliseconds(end - absl::Now());
    if (left <= 0) return true;
    const int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return false;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Reads one request head (up to the blank line). False on EOF, error, a
// head over 64 KiB, or stop.
bool ReadRequest(int fd, int wake) {
  std::string buf;
  char chunk[4096];
  while (!absl::StrContains(buf, "\r\n\r\n")) {
    if (buf.size() > 65536) return false;
    if (WaitFor(fd, POLLIN, wake, -1) != 1) return false;
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Writes all of `data`; false when the peer is gone, stalls, or on stop.
bool SendAll(int fd, int wake, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, wake, kWriteStallMs) != 1) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool SendAll(int fd, int wake, const std::string& s) {
  return SendAll(fd, wake, s.data(), s.size());
}

// Writes `count` bytes of `fill` in 64 KiB pieces, never holding them all.
bool SendGenerated(int fd, int wake, char fill, int64_t count) {
  const std::string block(64 * 1024, fill);
  while (count > 0) {
    const size_t n = static_cast<size_t>(
        std::min<int64_t>(count, static_cast<int64_t>(block.size())));
    if (!SendAll(fd, wake, block.data(), n)) return false;
    count -= static_cast<int64_t>(n);
  }
  return true;
}

// Holds the connection open, discarding input, until the client closes it
// or the server stops.
void Drain(int fd, int wake) {
  char chunk[4096];
  while (WaitFor(fd, POLLIN, wake, -1) == 1) {
    if (recv(fd, chunk, sizeof(chunk), 0) <= 0) return;
  }
}

// Closes with a TCP reset (RST) instead of an orderly FIN.
void Reset(int fd) {
  linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

// Serves `h` on one accepted connection; returns whether fd is still open.
bool ServeConnection(Hostile h, int fd, int wake) {
  switch (h) {
    case Hostile::kOk:
      while (ReadRequest(fd, wake) && SendAll(fd, wake, kOkResponse)) {
      }
      return true;
    case Hostile::kNeverAnswer:
      Drain(fd, wake);
      return true;
    case Hostile::kSlowHeaders: {
      if (!ReadRequest(fd, wake)) return true;
      const std::string response = kOkResponse;
      for (char c : response) {
        if (!SendAll(fd, wake, &c, 1)) return true;
        if (!Pause(wake, absl::Seconds(1))) return true;
      }
      return true;
    }
    case Hostile::kResetMidHeaders:
      if (!ReadRequest(fd, wake)) return true;
      SendAll(fd, wake, "HTTP/1.1 200 OK\r\nContent-Type: te");
      Pause(wake, absl::Milliseconds(20));
      Reset(fd);
      return false;
    case Hostile::kResetMidBody:
      if (!ReadRequest(fd, wake)) return true;
      SendAll(fd, wake, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      SendGenerated(fd, wake, 'x', 100);
      Pause(wake, absl::Milliseconds(20));
      Reset(fd);
      return false;
    case Hostile::kShortBody:
      if (!ReadRequest(fd, wake)) return true;
      SendAll(fd, wake,
              "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
      SendGenerated(fd, wake, 'x', 100);
      shutdown(fd, SHUT_WR);
      Drain(fd, wake);
      return true;
    case Hostile::kHugeBody:
      while (ReadRequest(fd, wake) &&
             SendAll(fd, wake,
                     absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ",
                                  kHugeBodyBytes, "\r\n\r\n")) &&
             SendGenerated(fd, wake, 'x', kHugeBodyBytes)) {
      }
      return true;
    case Hostile::kHugeHeader:
      while (ReadRequest(fd, wake) &&
             SendAll(fd, wake, "HTTP/1.1 200 OK\r\nX-Big: ") &&
             SendGenerated(fd, wake, 'a', kHugeHeaderBytes) &&
             SendAll(fd, wake, "\r\nContent-Length: 2\r\n\r\nok")) {
      }
      return true;
    case Hostile::kMalformedStatus:
      if (!ReadRequest(fd, wake)) return true;
      SendAll(fd, wake, "HTTP/1.1 OK-ish\r\nContent-Length: 2\r\n\r\nok");
      Drain(fd, wake);
      return true;
    case Hostile::kGarbage: {
      if (!ReadRequest(fd, wake)) return true;
      // Deterministic noise: a linear congruential sequence of bytes.
      std::string noise(4096, '\0');
      uint32_t x = 12345;
      for (char& c : noise) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
      }
      SendAll(fd, wake, noise);
      Drain(fd, wake);
      return true;
    }
    case Hostile::kBrokenChunked:
      if (!ReadRequest(fd, wake)) return true;
      SendAll(fd, wake,
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\nZZ\r\nnot a chunk\r\n");
      Drain(fd, wake);
      return true;
    case Hostile::kRedirectLoop:
      while (ReadRequest(fd, wake) &&
             SendAll(fd, wake,
                     "HTTP/1.1 302 Found\r\nLocation: /loop\r\n"
                     "Content-Length: 0\r\n\r\n")) {
      }
      return true;
    case Hostile::kRedirectAway:
      while (ReadRequest(fd, wake) &&
             SendAll(fd, wake,
                     "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/\r\n"
                     "Content-Length: 0\r\n\r\n")) {
      }
      return true;
    case Hostile::kTlsAlert: {
      // Wait for the ClientHello, then a fatal handshake_failure alert.
      char hello[4096];
      if (WaitFor(fd, POLLIN, wake, -1) != 1) return true;
      if (recv(fd, hello, sizeof(hello), 0) <= 0) return true;
      const char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
      SendAll(fd, wake, alert, sizeof(alert));
      Drain(fd, wake);
      return true;
    }
    case Hostile::kServerErrors:
      while (ReadRequest(fd, wake) &&
             SendAll(fd, wake,
                     "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                     "Content-Length: 4\r\n\r\nbusy")) {
      }
      return true;
  }
  return true;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

const char* HostileName(Hostile h) {
  switch (h) {
    case Hostile::kOk:
      return "ok";
    case Hostile::kNeverAnswer:
      return "never_answer";
    case Hostile::kSlowHeaders:
      return "slow_headers";
    case Hostile::kResetMidHeaders:
      return "reset_mid_headers";
    case Hostile::kResetMidBody:
      return "reset_mid_body";
    case Hostile::kShortBody:
      return "short_body";
    case Hostile::kHugeBody:
      return "huge_body";
    case Hostile::kHugeHeader:
      return "huge_header";
    case Hostile::kMalformedStatus:
      return "malformed_status";
    case Hostile::kGarbage:
      return "garbage";
    case Hostile::kBrokenChunked:
      return "broken_chunked";
    case Hostile::kRedirectLoop:
      return "redirect_loop";
    case Hostile::kRedirectAway:
      return "redirect_away";
    case Hostile::kTlsAlert:
      return "tls_alert";
    case Hostile::kServerErrors:
      return "server_errors";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<HostileServer>> HostileServer::Start(Hostile h) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("socket: ", strerror(errno)));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string err = strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("bind 127.0.0.1:0: ", err));
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    const std::string err = strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("pipe2: ", err));
  }
  auto server = std::unique_ptr<HostileServer>(
      new HostileServer(h, fd, ntohs(addr.sin_port), wake[0], wake[1]));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

HostileServer::HostileServer(Hostile h, int listen_fd, int port, int wake_read,
                             int wake_write)
    : behaviour_(h),
      listen_fd_(listen_fd),
      port_(port),
      wake_read_(wake_read),
      wake_write_(wake_write) {}

HostileServer::~HostileServer() {
  close(wake_write_);  // every poll on wake_read_ now returns
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    canary::MutexLock lock(&mu_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
  close(listen_fd_);
  close(wake_read_);
}

std::string HostileServer::Url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

void HostileServer::AcceptLoop() {
  while (WaitFor(listen_fd_, POLLIN, wake_read_, -1) == 1) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_.fetch_add(1);
    canary::MutexLock lock(&mu_);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void HostileServer::Serve(int fd) {
  if (ServeConnection(behaviour_, fd, wake_read_)) close(fd);
}

absl::StatusOr<int> UnusedLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("socket: ", strerror(errno)));
  }
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string err = strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("bind: ", err));
  }
  close(fd);  // never listened: a connect now gets RST (refused)
  return ntohs(addr.sin_port);
}

absl::StatusOr<TestCert> MakeExpiredCert() {
  const char* tmpdir = getenv("TMPDIR");
  std::string dir =
      absl::StrCat((tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp",
                   "/canary_expired_XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp failed for ", dir));
  }
  // mkdtemp's suffix is alphanumeric and TMPDIR is ours in tests: the path
  // needs no shell quoting beyond single quotes.
  const std::string q = absl::StrCat("'", dir, "'");
  RETURN_IF_ERROR(WriteFile(dir + "/ca.cnf",
                            "[ca]\ndefault_ca = d\n[d]\n"
                            "database = " +
                                dir +
                                "/index\n"
                                "new_certs_dir = " +
                                dir +
                                "\n"
                                "serial = " +
                                dir +
                                "/serial\n"
                                "default_md = sha256\npolicy = p\n"
                                "[p]\ncommonName = supplied\n"));
  RETURN_IF_ERROR(WriteFile(dir + "/index", ""));
  RETURN_IF_ERROR(WriteFile(dir + "/serial", "01\n"));
  RETURN_IF_ERROR(
      WriteFile(dir + "/ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
  TestCert cert;
  cert.dir = dir;
  cert.cert_path = dir + "/cert.pem";
  cert.key_path = dir + "/key.pem";
  cert.pem_path = dir + "/server.pem";
  RETURN_IF_ERROR(
      RunShell(absl::StrCat(
                   "cd ", q,
                   " && openssl req -newkey ec -pkeyopt "
                   "ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost "
                   "-keyout key.pem -out req.csr && openssl ca -batch -config "
                   "ca.cnf -selfsign -keyfile key.pem -in req.csr -startdate "
                   "20200101000000Z -enddate 20200102000000Z -extfile ext "
                   "-notext -out cert.pem"))
          .status());
  ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(cert.cert_path));
  ASSIGN_OR_RETURN(std::string key_pem, ReadFile(cert.key_path));
  RETURN_IF_ERROR(WriteFile(cert.pem_path, cert_pem + key_pem));
  cert.not_after = absl::FromUnixSeconds(1577923200);  // 2020-01-02T00:00:00Z
  return cert;
}

}  // namespace canary::testing
