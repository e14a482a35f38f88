#include "tests/testing/nginx_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "tests/testing/certs.h"
#include "tests/testing/shell.h"

extern char** environ;

namespace canary::testing {
namespace {

constexpr const char* kCodings[] = {"gzip", "deflate", "br", "identity"};

// The loopback address of `family` (AF_INET or AF_INET6) with `port`.
socklen_t Loopback(int family, int port, sockaddr_storage* out) {
  *out = {};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(static_cast<uint16_t>(port));
  a->sin6_addr = in6addr_loopback;
  return sizeof(sockaddr_in6);
}

// A socket of `family` bound to loopback port `port` (0: any), or -1.
int BindLoopback(int family, int port) {
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage a;
  const socklen_t len = Loopback(family, port, &a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int PortOf(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a.ss_family == AF_INET
             ? ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port)
             : ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
}

// A port free on 127.0.0.1 (and on ::1 when `with_ipv6`), released for
// nginx to take right after.
absl::StatusOr<int> FreePort(bool with_ipv6) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int v4 = BindLoopback(AF_INET, 0);
    if (v4 < 0) return absl::InternalError("cannot bind 127.0.0.1:0");
    const int port = PortOf(v4);
    int v6 = with_ipv6 ? BindLoopback(AF_INET6, port) : -2;
    close(v4);
    if (v6 == -1) continue;
    if (v6 >= 0) close(v6);
    return port;
  }
  return absl::InternalError("no port free on both 127.0.0.1 and ::1");
}

bool Accepts(int family, int port) {
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_storage a;
  const socklen_t len = Loopback(family, port, &a);
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&a), len);
  close(fd);
  return rc == 0;
}

std::string ReadLog(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Config(const std::string& dir, int http_port, int https_port,
                   bool ipv6, const TestCert& cert) {
  std::string locations =
      absl::StrCat("    location = /body { alias ", dir, "/www/body.txt; }\n",
                   "    location = /addr { return 200 \"$server_addr\"; }\n");
  for (const char* coding : kCodings) {
    absl::StrAppend(
        &locations, "    location = /enc/", coding, " {\n",
        "      if ($http_accept_encoding !~* \"", coding,
        "\") { return 406; }\n", "      add_header Content-Encoding ", coding,
        ";\n", "      alias ", dir, "/www/body.", coding, ";\n", "    }\n");
  }
  return absl::StrCat(
      "master_process off;\ndaemon off;\n", "pid ", dir, "/nginx.pid;\n",
      "error_log ", dir, "/error.log warn;\n",
      "events { worker_connections 256; }\n", "http {\n", "  access_log off;\n",
      "  types {}\n  default_type text/plain;\n", "  client_body_temp_path ",
      dir, "/tmp;\n", "  proxy_temp_path ", dir, "/tmp;\n",
      "  fastcgi_temp_path ", dir, "/tmp;\n", "  uwsgi_temp_path ", dir,
      "/tmp;\n", "  scgi_temp_path ", dir, "/tmp;\n", "  server {\n",
      "    listen 127.0.0.1:", http_port, ";\n",
      ipv6 ? absl::StrCat("    listen [::1]:", http_port, ";\n") : "",
      locations, "  }\n", "  server {\n", "    listen 127.0.0.1:", https_port,
      " ssl http2;\n", "    ssl_certificate ", cert.cert_path, ";\n",
      "    ssl_certificate_key ", cert.key_path, ";\n",
      "    ssl_protocols TLSv1.3;\n", locations, "  }\n", "}\n");
}

}  // namespace

const std::string& NginxTarget::Body() {
  static const std::string* const kBody = [] {
    auto* body = new std::string;
    for (int i = 0; i < 200; ++i) body->append("canary-plain-body\n");
    return body;
  }();
  return *kBody;
}

absl::StatusOr<std::unique_ptr<NginxTarget>> NginxTarget::Start() {
  for (const char* tool : {"nginx", "brotli", "gzip", "python3"}) {
    if (!RunShell(absl::StrCat("command -v ", tool)).ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          tool, " is not installed (scripts/setup.sh --test installs it)"));
    }
  }
  // The certificate's directory is ours: nginx's files go beside it.
  ASSIGN_OR_RETURN(TestCert cert, MakeSelfSignedCert(30));
  const std::string& dir = cert.dir;
  ASSIGN_OR_RETURN(std::string made,
                   RunShell(absl::StrCat("mkdir -p ", ShellQuote(dir + "/www"),
                                         " ", ShellQuote(dir + "/tmp"))));
  RETURN_IF_ERROR(WriteFile(dir + "/www/body.txt", Body()));
  // HTTP's "deflate" is the zlib format (RFC 9110), which python3's
  // zlib.compress writes.
  ASSIGN_OR_RETURN(
      made,
      RunShell(absl::StrCat(
          "cd ", ShellQuote(dir + "/www"),
          " && gzip -9 -c body.txt > body.gzip",
          " && brotli -c body.txt > body.br",
          " && python3 -c 'import sys, zlib; "
          "sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))' "
          "< body.txt > body.deflate",
          " && cp body.txt body.identity")));

  auto t = std::unique_ptr<NginxTarget>(new NginxTarget());
  t->ca_file_ = cert.cert_path;
  int probe6 = BindLoopback(AF_INET6, 0);
  t->has_ipv6_ = probe6 >= 0;
  if (probe6 >= 0) close(probe6);
  ASSIGN_OR_RETURN(t->http_port_, FreePort(t->has_ipv6_));
  ASSIGN_OR_RETURN(t->https_port_, FreePort(false));
  const std::string conf = dir + "/nginx.conf";
  RETURN_IF_ERROR(WriteFile(
      conf, Config(dir, t->http_port_, t->https_port_, t->has_ipv6_, cert)));

  const std::string log = dir + "/error.log";
  std::vector<std::string> args = {"nginx", "-p", dir, "-c", conf, "-e", log};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (int rc =
          posix_spawnp(&pid, "nginx", nullptr, nullptr, argv.data(), environ);
      rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start nginx: ", std::strerror(rc)));
  }
  t->pid_ = pid;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (true) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      t->pid_ = -1;
      return absl::InternalError(
          absl::StrCat("nginx exited (status ", status, "): ", ReadLog(log)));
    }
    if (Accepts(AF_INET, t->http_port_) && Accepts(AF_INET, t->https_port_) &&
        (!t->has_ipv6_ || Accepts(AF_INET6, t->http_port_))) {
      return t;
    }
    if (absl::Now() > deadline) {
      return absl::InternalError(
          absl::StrCat("nginx did not listen within 10 s: ", ReadLog(log)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

NginxTarget::~NginxTarget() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

std::string NginxTarget::HttpUrl(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", http_port_, path);
}

std::string NginxTarget::Http6Url(absl::string_view path) const {
  return absl::StrCat("http://[::1]:", http_port_, path);
}

std::string NginxTarget::HttpsUrl(absl::string_view path) const {
  return absl::StrCat("https://127.0.0.1:", https_port_, path);
}

}  // namespace canary::testing
