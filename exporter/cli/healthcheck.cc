#include "exporter/cli/healthcheck.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "exporter/http/listen_address.h"
#include "exporter/process/flags.h"

namespace canary::exporter {
namespace {

// The whole check (connect, send, first line) shares one deadline: a peer
// that trickles bytes cannot stretch it.
absl::Status SetTimeout(int fd, absl::Time deadline) {
  absl::Duration left = deadline - RealClock::Get()->Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("no answer in time");
  }
  const timeval tv = absl::ToTimeval(left);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return absl::InternalError(
        absl::StrCat("setsockopt: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status IoError(absl::string_view what, absl::string_view url, int err) {
  // With SO_RCVTIMEO/SO_SNDTIMEO a timeout shows as EAGAIN (EINPROGRESS
  // for connect).
  if (err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS) {
    return absl::DeadlineExceededError(
        absl::StrCat(url, ": no answer in time (", what, ")"));
  }
  return absl::UnavailableError(
      absl::StrCat(url, ": ", what, ": ", std::strerror(err)));
}

}  // namespace

absl::Status CheckHealthy(const std::string& listen_address,
                          absl::Duration timeout) {
  const absl::Time deadline = RealClock::Get()->Now() + timeout;
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(ParseListenAddress(listen_address, &host, &port));
  if (port == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", listen_address, "\" has no fixed port to check"));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const std::string url = absl::StrCat(
      "http://", absl::StrContains(host, ':') ? "[" : "", host,
      absl::StrContains(host, ':') ? "]" : "", ":", port, "/-/healthy");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_text = absl::StrCat(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve \"", host, "\" of listen address \"",
                     listen_address, "\": ", gai_strerror(rc)));
  }
  absl::Cleanup free_res = [res] { freeaddrinfo(res); };
  const int fd =
      socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, res->ai_protocol);
  if (fd < 0) return IoError("socket", url, errno);
  absl::Cleanup close_fd = [fd] { close(fd); };

  RETURN_IF_ERROR(SetTimeout(fd, deadline));
  if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    return IoError("connect", url, errno);
  }
  const std::string request =
      absl::StrCat("GET /-/healthy HTTP/1.0\r\nHost: ", host, ":", port,
                   "\r\nUser-Agent: canary_exporter-healthcheck\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    RETURN_IF_ERROR(SetTimeout(fd, deadline));
    ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("send", url, errno);
    sent += static_cast<size_t>(n);
  }
  // Only the status line matters; 4 KiB is far more than one needs.
  std::string head;
  char buf[512];
  while (!absl::StrContains(head, "\r\n") && head.size() < 4096) {
    RETURN_IF_ERROR(SetTimeout(fd, deadline));
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("recv", url, errno);
    if (n == 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  const std::string line = head.substr(0, head.find("\r\n"));
  if (line.empty()) {
    return absl::UnavailableError(
        absl::StrCat(url, ": the connection closed without an HTTP answer"));
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(line, absl::MaxSplits(' ', 2));
  int code = 0;
  if (parts.size() < 2 || !absl::StartsWith(parts[0], "HTTP/") ||
      !absl::SimpleAtoi(parts[1], &code)) {
    return absl::UnavailableError(absl::StrCat(url, ": not an HTTP answer: \"",
                                               line.substr(0, 80), "\""));
  }
  if (code != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(url, " answered \"", line.substr(0, 80), "\""));
  }
  return absl::OkStatus();
}

int RunHealthcheckCommand(int argc, char** argv, std::ostream& out,
                          std::ostream& err) {
  constexpr char kUsage[] =
      "usage: canary_exporter healthcheck [--web.listen-address=ADDR]\n"
      "Exits 0 when the exporter listening on ADDR (default \":9427\"; a "
      "wildcard host is checked on 127.0.0.1) answers GET /-/healthy with "
      "200 within 5 s, else 1. Plain HTTP only.\n";
  std::string address = kDefaultListenAddress;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out << kUsage;
      return 0;
    }
    if (absl::ConsumePrefix(&arg, "--web.listen-address=")) {
      address = std::string(arg);
    } else if (arg == "--web.listen-address" && i + 1 < argc) {
      address = argv[++i];
    } else {
      err << "canary_exporter healthcheck: unexpected argument \"" << argv[i]
          << "\"\n"
          << kUsage;
      return 2;
    }
  }
  if (absl::Status s = CheckHealthy(address, absl::Seconds(5)); !s.ok()) {
    err << "unhealthy: " << s.message() << "\n";
    return 1;
  }
  out << "healthy: " << address << " answered /-/healthy with 200\n";
  return 0;
}

}  // namespace canary::exporter
