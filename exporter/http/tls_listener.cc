#include "exporter/http/tls_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/sync.h"
#include "exporter/http/listen_address.h"

namespace canary::exporter {
namespace {

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::shared_ptr<SSL_CTX>;

std::string SslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&out, out.empty() ? "" : "; ", buf);
  }
  return out.empty() ? "unknown error" : out;
}

absl::StatusOr<CtxPtr> BuildContext(const TlsListenerOptions& o) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()), CtxDeleter());
  if (ctx == nullptr) {
    return absl::InternalError(absl::StrCat("SSL_CTX_new: ", SslErrors()));
  }
  SSL_CTX_set_min_proto_version(
      ctx.get(), o.min_version == config::TlsConfig::Version::kTls13
                     ? TLS1_3_VERSION
                     : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), o.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot use \"", o.cert_file, "\" as TLS certificate: ", SslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), o.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use \"", o.key_file,
                     "\" as the key of the TLS certificate: ", SslErrors()));
  }
  if (!o.client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names =
        SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (names == nullptr ||
        SSL_CTX_load_verify_locations(ctx.get(), o.client_ca_file.c_str(),
                                      nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use \"", o.client_ca_file, "\" as client CA: ", SslErrors()));
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);  // takes ownership
    SSL_CTX_set_verify(
        ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

// mtime and size of the files, to notice a rotated certificate.
std::string FilesStamp(const TlsListenerOptions& o) {
  std::string stamp;
  for (const std::string* f : {&o.cert_file, &o.key_file, &o.client_ca_file}) {
    struct stat st {};
    if (!f->empty() && ::stat(f->c_str(), &st) == 0) {
      absl::StrAppend(&stamp, st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "/",
                      st.st_size, ";");
    } else {
      stamp.append("-;");
    }
  }
  return stamp;
}

void SetTimeouts(int fd, absl::Duration d) {
  timeval tv = absl::ToTimeval(d);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// Responses are written in pieces; without this, Nagle and delayed ACKs add
// ~40 ms to each.
void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

class TlsListenerImpl : public TlsListener {
 public:
  explicit TlsListenerImpl(const TlsListenerOptions& options)
      : options_(options),
        logger_(options.logger != nullptr ? options.logger : &GlobalLogger()) {}

  ~TlsListenerImpl() override { Stop(); }

  absl::Status Init() {
    absl::StatusOr<CtxPtr> ctx = BuildContext(options_);
    if (!ctx.ok()) return ctx.status();
    {
      // No other thread runs yet; the lock is for the analysis.
      canary::MutexLock lock(&mu_);
      ctx_ = *std::move(ctx);
      stamp_ = FilesStamp(options_);
    }

    std::string host;
    int port_number = 0;
    if (absl::Status s =
            ParseListenAddress(options_.listen_address, &host, &port_number);
        !s.ok()) {
      return s;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const std::string port = absl::StrCat(port_number);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                             port.c_str(), &hints, &res);
        rc != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot resolve listen address \"",
                       options_.listen_address, "\": ", gai_strerror(rc)));
    }
    // Prefer IPv4 for the wildcard, as CivetWeb's ":port" does.
    addrinfo* pick = res;
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        pick = a;
        break;
      }
    }
    listen_fd_ =
        socket(pick->ai_family, SOCK_STREAM | SOCK_CLOEXEC, pick->ai_protocol);
    int one = 1;
    if (listen_fd_ >= 0) {
      setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    const bool bound = listen_fd_ >= 0 &&
                       bind(listen_fd_, pick->ai_addr, pick->ai_addrlen) == 0 &&
                       listen(listen_fd_, 128) == 0;
    const int bind_errno = errno;
    freeaddrinfo(res);
    if (!bound) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ",
                                                 options_.listen_address, ": ",
                                                 strerror(bind_errno)));
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.ss_family == AF_INET6
                      ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (pipe2(wake_, O_CLOEXEC) != 0) {
      return absl::InternalError("pipe2 failed");
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  bool IsRelayed(int local_port) const override {
    canary::MutexLock lock(&mu_);
    return relayed_ports_.contains(local_port);
  }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    if (wake_[1] >= 0) {
      char c = 0;
      (void)!::write(wake_[1], &c, 1);  // never drained: wakes every poll
    }
    if (acceptor_.joinable()) acceptor_.join();
    {
      canary::MutexLock lock(&mu_);
      // Unblocks handshakes and reads still waiting on a client.
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& [id, thread] : threads_) thread.join();
    threads_.clear();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_[0] >= 0) close(wake_[0]);
    if (wake_[1] >= 0) close(wake_[1]);
    listen_fd_ = wake_[0] = wake_[1] = -1;
  }

 private:
  // The context for a new connection, rebuilt when the files changed.
  CtxPtr Context() {
    const std::string stamp = FilesStamp(options_);
    canary::MutexLock lock(&mu_);
    if (stamp != stamp_) {
      stamp_ = stamp;
      absl::StatusOr<CtxPtr> ctx = BuildContext(options_);
      if (ctx.ok()) {
        ctx_ = *std::move(ctx);
        logger_->Info("reloaded TLS certificate",
                      {{"cert_file", options_.cert_file}});
      } else {
        logger_->Error("reloading TLS certificate failed, keeping the old one",
                       {{"err", std::string(ctx.status().message())}});
      }
    }
    return ctx_;
  }

  void AcceptLoop() {
    while (!stopping_.load()) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN)) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::vector<int64_t> finished;
      {
        canary::MutexLock lock(&mu_);
        finished.swap(finished_);
      }
      for (int64_t id : finished) {
        threads_[id].join();
        threads_.erase(id);
      }
      canary::MutexLock lock(&mu_);
      if (stopping_.load() ||
          threads_.size() >= static_cast<size_t>(options_.max_connections)) {
        close(fd);
        continue;
      }
      open_fds_.insert(fd);
      const int64_t id = next_id_++;
      threads_.emplace(id, std::thread([this, fd, id] { Relay(fd, id); }));
    }
  }

  void Relay(int client, int64_t id) {
    NoDelay(client);
    SetTimeouts(client, options_.handshake_timeout);
    CtxPtr ctx = Context();
    SSL* ssl = SSL_new(ctx.get());
    int backend = -1;
    int backend_port = -1;
    if (ssl != nullptr && SSL_set_fd(ssl, client) == 1) {
      ERR_clear_error();
      if (SSL_accept(ssl) == 1) {
        backend = Connect(&backend_port);
        if (backend >= 0) {
          Pump(ssl, client, backend);
          SSL_shutdown(ssl);
        }
      } else {
        // Failed handshakes are routine (scanners, clients without a cert).
        logger_->Debug("TLS handshake failed", {{"err", SslErrors()}});
      }
    }
    if (ssl != nullptr) SSL_free(ssl);
    if (backend >= 0) close(backend);
    canary::MutexLock lock(&mu_);
    if (backend_port >= 0) relayed_ports_.erase(backend_port);
    open_fds_.erase(client);
    close(client);
    finished_.push_back(id);
  }

  // Connects to the backend and records the local port before any byte is
  // sent, so the server can tell relayed connections from direct ones.
  int Connect(int* local_port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(options_.backend_port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      logger_->Error("TLS relay cannot reach the HTTP server",
                     {{"err", strerror(errno)}});
      close(fd);
      return -1;
    }
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    NoDelay(fd);
    *local_port = ntohs(local.sin_port);
    canary::MutexLock lock(&mu_);
    relayed_ports_.insert(*local_port);
    return fd;
  }

  // Copies bytes both ways until either side closes or the listener stops.
  void Pump(SSL* ssl, int client, int backend) {
    char buf[16384];
    while (!stopping_.load()) {
      if (SSL_pending(ssl) == 0) {
        pollfd fds[3] = {
            {client, POLLIN, 0}, {backend, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (poll(fds, 3, -1) <= 0 || (fds[2].revents & POLLIN)) return;
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
          const ssize_t n = ::read(backend, buf, sizeof(buf));
          if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) <= 0) return;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      }
      const int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0 || !SendAll(backend, buf, static_cast<size_t>(n))) return;
    }
  }

  const TlsListenerOptions options_;
  Logger* const logger_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable canary::Mutex mu_;
  CtxPtr ctx_ ABSL_GUARDED_BY(mu_);
  std::string stamp_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int> open_fds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int> relayed_ports_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> finished_ ABSL_GUARDED_BY(mu_);  // ids to join
  // Connection threads by id; touched by the acceptor, then by Stop.
  std::map<int64_t, std::thread> threads_;
  int64_t next_id_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TlsListener>> TlsListener::Start(
    const TlsListenerOptions& options) {
  // SSL_write to a peer that hung up would raise SIGPIPE and kill the
  // process; keep a handler someone else installed.
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  auto listener = std::make_unique<TlsListenerImpl>(options);
  if (absl::Status s = listener->Init(); !s.ok()) return s;
  return std::unique_ptr<TlsListener>(std::move(listener));
}

}  // namespace canary::exporter
