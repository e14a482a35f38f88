#include "tests/testing/tls_front.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/sync.h"

namespace canary::testing {
namespace {

// The libssl entry points the relay uses, resolved at run time so the test
// library needs no link change (the prototypes come from the headers).
struct Ssl {
  decltype(&::TLS_server_method) server_method;
  decltype(&::SSL_CTX_new) ctx_new;
  decltype(&::SSL_CTX_free) ctx_free;
  decltype(&::SSL_CTX_use_certificate_chain_file) use_chain;
  decltype(&::SSL_CTX_use_PrivateKey_file) use_key;
  decltype(&::SSL_new) ssl_new;
  decltype(&::SSL_free) ssl_free;
  decltype(&::SSL_set_fd) set_fd;
  decltype(&::SSL_accept) accept;
  decltype(&::SSL_read) read;
  decltype(&::SSL_write) write;
  decltype(&::SSL_pending) pending;
  decltype(&::SSL_shutdown) shutdown;
  decltype(&::ERR_get_error) err_get;
  decltype(&::ERR_error_string_n) err_string;
};

absl::StatusOr<const Ssl*> LoadSsl() {
  static const absl::StatusOr<const Ssl*> loaded =
      []() -> absl::StatusOr<const Ssl*> {
    void* h = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      return absl::UnavailableError(absl::StrCat("dlopen libssl: ", dlerror()));
    }
    auto* s = new Ssl;
    bool ok = true;
    auto get = [&](auto* fn, const char* name) {
      void* p = dlsym(h, name);
      ok = ok && p != nullptr;
      *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(p);
    };
    get(&s->server_method, "TLS_server_method");
    get(&s->ctx_new, "SSL_CTX_new");
    get(&s->ctx_free, "SSL_CTX_free");
    get(&s->use_chain, "SSL_CTX_use_certificate_chain_file");
    get(&s->use_key, "SSL_CTX_use_PrivateKey_file");
    get(&s->ssl_new, "SSL_new");
    get(&s->ssl_free, "SSL_free");
    get(&s->set_fd, "SSL_set_fd");
    get(&s->accept, "SSL_accept");
    get(&s->read, "SSL_read");
    get(&s->write, "SSL_write");
    get(&s->pending, "SSL_pending");
    get(&s->shutdown, "SSL_shutdown");
    get(&s->err_get, "ERR_get_error");
    get(&s->err_string, "ERR_error_string_n");
    if (!ok) return absl::UnavailableError("libssl lacks an OpenSSL 3 symbol");
    return s;
  }();
  return loaded;
}

std::string SslErrors(const Ssl& ssl) {
  std::string out;
  while (unsigned long e = ssl.err_get()) {
    char buf[256];
    ssl.err_string(e, buf, sizeof(buf));
    absl::StrAppend(&out, out.empty() ? "" : "; ", buf);
  }
  return out;
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Responses are written in pieces (headers, then body): without this,
// Nagle and delayed ACKs add ~40 ms to a keep-alive response.
void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

class TlsFrontImpl : public TlsFront {
 public:
  TlsFrontImpl(const Ssl* ssl, int backend_port)
      : ssl_(ssl), backend_port_(backend_port) {}

  ~TlsFrontImpl() override {
    stopping_.store(true);
    if (wake_[1] >= 0) {
      char c = 0;
      (void)!::write(wake_[1], &c, 1);  // never drained: wakes every poll
    }
    {
      // Unblocks handshakes and reads still waiting on a client.
      canary::MutexLock lock(&mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    if (acceptor_.joinable()) acceptor_.join();
    for (std::thread& t : conns_) t.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_[0] >= 0) close(wake_[0]);
    if (wake_[1] >= 0) close(wake_[1]);
    if (ctx_ != nullptr) ssl_->ctx_free(ctx_);
  }

  absl::Status Init(const std::string& pem_path) {
    ctx_ = ssl_->ctx_new(ssl_->server_method());
    if (ctx_ == nullptr) return absl::InternalError("SSL_CTX_new failed");
    if (ssl_->use_chain(ctx_, pem_path.c_str()) != 1 ||
        ssl_->use_key(ctx_, pem_path.c_str(), SSL_FILETYPE_PEM) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use ", pem_path, " as certificate+key: ", SslErrors(*ssl_)));
    }
    if (pipe2(wake_, O_CLOEXEC) != 0) {
      return absl::InternalError("pipe2 failed");
    }
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 ||
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
            0 ||
        listen(listen_fd_, 128) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on 127.0.0.1:0, errno ", errno));
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }

 private:
  void AcceptLoop() {
    while (!stopping_.load()) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN)) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      canary::MutexLock lock(&mu_);
      if (stopping_.load()) {
        close(fd);
        continue;
      }
      open_fds_.insert(fd);
      conns_.emplace_back([this, fd] { Relay(fd); });
    }
  }

  void Relay(int client) {
    NoDelay(client);
    timeval tv{.tv_sec = 5, .tv_usec = 0};  // no handshake waits forever
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SSL* s = ssl_->ssl_new(ctx_);
    int backend = -1;
    if (s != nullptr && ssl_->set_fd(s, client) == 1 && ssl_->accept(s) == 1) {
      backend = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = Loopback(backend_port_);
      if (backend >= 0 && connect(backend, reinterpret_cast<sockaddr*>(&addr),
                                  sizeof(addr)) == 0) {
        NoDelay(backend);
        Pump(s, client, backend);
        ssl_->shutdown(s);
      }
    }
    if (s != nullptr) ssl_->ssl_free(s);
    if (backend >= 0) close(backend);
    canary::MutexLock lock(&mu_);
    open_fds_.erase(client);
    close(client);
  }

  // Copies bytes both ways until either side closes or the relay stops.
  void Pump(SSL* s, int client, int backend) {
    char buf[16384];
    while (!stopping_.load()) {
      if (ssl_->pending(s) == 0) {
        pollfd fds[3] = {
            {client, POLLIN, 0}, {backend, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (poll(fds, 3, -1) <= 0 || (fds[2].revents & POLLIN)) return;
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
          const ssize_t n = ::read(backend, buf, sizeof(buf));
          if (n <= 0 || ssl_->write(s, buf, static_cast<int>(n)) <= 0) return;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      }
      const int n = ssl_->read(s, buf, sizeof(buf));
      if (n <= 0 || !WriteAll(backend, buf, static_cast<size_t>(n))) return;
    }
  }

  const Ssl* ssl_;
  const int backend_port_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  canary::Mutex mu_;
  absl::flat_hash_set<int> open_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> conns_;  // appended by the acceptor only
  std::thread acceptor_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TlsFront>> TlsFront::Start(
    const std::string& pem_path, int backend_port) {
  // SSL_write to a client that hung up (e.g. after rejecting an expired
  // certificate) must not kill the test process.
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<const Ssl*> ssl = LoadSsl();
  if (!ssl.ok()) return ssl.status();
  auto front = std::make_unique<TlsFrontImpl>(*ssl, backend_port);
  absl::Status s = front->Init(pem_path);
  if (!s.ok()) return s;
  return std::unique_ptr<TlsFront>(std::move(front));
}

}  // namespace canary::testing
