#include "exporter/http/edge_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
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

absl::StatusOr<CtxPtr> BuildContext(const EdgeTlsOptions& o) {
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
std::string FilesStamp(const EdgeTlsOptions& o) {
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

using SteadyClock = std::chrono::steady_clock;

// The client's IP address: the unit of max_connections_per_client.
std::string ClientKey(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6,
              &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, text,
              sizeof(text));
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr,
              text, sizeof(text));
  }
  return text;
}

void SetBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

// Every waiting connection needs one descriptor, a relayed one three (the
// client, our backend end, CivetWeb's end): ask for what the limits need,
// as far as the hard limit allows. Accept copes with EMFILE anyway.
void RaiseFileLimit(const EdgeLimits& limits) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t want = static_cast<rlim_t>(limits.max_connections) * 3 + 256;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
}

// A connection still without a complete head; owned by the accept loop.
struct Waiting {
  int fd = -1;
  SSL* ssl = nullptr;  // TLS only
  bool handshake_done = false;
  std::string buffered;
  size_t checked = 0;  // RequestHeadCheck::checked_bytes
  SteadyClock::time_point deadline;
  std::string client;
  std::list<int>::iterator by_age;     // in EdgeListenerImpl::by_age_
  std::list<int>::iterator by_client;  // in its client's list
  uint32_t events = 0;                 // registered with epoll
};

class EdgeListenerImpl : public EdgeListener {
 public:
  explicit EdgeListenerImpl(const EdgeListenerOptions& options)
      : options_(options),
        logger_(options.logger != nullptr ? options.logger : &GlobalLogger()) {}

  ~EdgeListenerImpl() override { Stop(); }

  absl::Status Init() {
    if (options_.tls.has_value()) {
      absl::StatusOr<CtxPtr> ctx = BuildContext(*options_.tls);
      if (!ctx.ok()) return ctx.status();
      // No other thread runs yet; the lock is for the analysis.
      canary::MutexLock lock(&mu_);
      ctx_ = *std::move(ctx);
      stamp_ = FilesStamp(*options_.tls);
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
    // Prefer IPv4 for the wildcard, as CivetWeb's ":port" did.
    addrinfo* pick = res;
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        pick = a;
        break;
      }
    }
    listen_fd_ =
        socket(pick->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
               pick->ai_protocol);
    int one = 1;
    if (listen_fd_ >= 0) {
      setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    const bool bound = listen_fd_ >= 0 &&
                       bind(listen_fd_, pick->ai_addr, pick->ai_addrlen) == 0 &&
                       listen(listen_fd_, SOMAXCONN) == 0;
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
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      return absl::InternalError("pipe2 failed");
    }
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return absl::InternalError("epoll_create1 failed");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_[0];
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_[0], &ev);
    ev.data.fd = listen_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    RaiseFileLimit(options_.limits);
    acceptor_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  bool IsRelayed(int local_port) const override {
    canary::MutexLock lock(&mu_);
    return relayed_ports_.contains(local_port);
  }

  EdgeStats Stats() const override {
    canary::MutexLock lock(&mu_);
    EdgeStats s = shed_;
    s.open_connections = open_;
    s.waiting_for_head = waiting_count_;
    return s;
  }

  void StopAccepting() override {
    if (stopping_.exchange(true)) return;
    if (wake_[1] >= 0) {
      char c = 0;
      (void)!::write(wake_[1], &c, 1);  // never drained: wakes every wait
    }
    if (acceptor_.joinable()) acceptor_.join();
  }

  void Stop() override {
    StopAccepting();
    {
      canary::MutexLock lock(&mu_);
      // Unblocks relays still waiting on a client or the backend.
      for (int fd : relayed_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& [id, thread] : threads_) thread.join();
    threads_.clear();
    for (int* fd : {&listen_fd_, &epoll_fd_, &wake_[0], &wake_[1]}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }

 private:
  // The TLS context for a new connection, rebuilt when the files changed.
  CtxPtr Context() {
    const std::string stamp = FilesStamp(*options_.tls);
    canary::MutexLock lock(&mu_);
    if (stamp != stamp_) {
      stamp_ = stamp;
      absl::StatusOr<CtxPtr> ctx = BuildContext(*options_.tls);
      if (ctx.ok()) {
        ctx_ = *std::move(ctx);
        logger_->Info("reloaded TLS certificate",
                      {{"cert_file", options_.tls->cert_file}});
      } else {
        logger_->Error("reloading TLS certificate failed, keeping the old one",
                       {{"err", std::string(ctx.status().message())}});
      }
    }
    return ctx_;
  }

  void Loop() {
    epoll_event events[256];
    while (!stopping_.load()) {
      JoinFinished();
      int wait_ms = -1;
      if (!by_age_.empty()) {
        const auto left =
            waiting_.at(by_age_.front())->deadline - SteadyClock::now();
        wait_ms = static_cast<int>(std::clamp<int64_t>(
            std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0,
            1000));
      }
      if (accept_paused_) wait_ms = wait_ms < 0 ? 100 : std::min(wait_ms, 100);
      const int n = epoll_wait(epoll_fd_, events, 256, wait_ms);
      if (stopping_.load()) break;
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd_) {
          AcceptAll();
        } else if (fd != wake_[0]) {
          auto it = waiting_.find(fd);
          if (it != waiting_.end()) Read(it->second.get());
        }
      }
      ExpireHeads();
      if (accept_paused_ && SteadyClock::now() >= accept_resume_) {
        accept_paused_ = false;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = listen_fd_;
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
      }
    }
    while (!by_age_.empty()) Close(waiting_.at(by_age_.front()).get());
    if (listen_fd_ >= 0) {
      close(listen_fd_);
      listen_fd_ = -1;
    }
  }

  void JoinFinished() {
    std::vector<int64_t> finished;
    {
      canary::MutexLock lock(&mu_);
      finished.swap(finished_);
    }
    for (int64_t id : finished) {
      threads_[id].join();
      threads_.erase(id);
    }
  }

  void AcceptAll() {
    while (!stopping_.load()) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr),
                             &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: make room from the waiting, or stop
          // accepting for a moment (the listen socket would stay readable
          // and spin the loop).
          if (!by_age_.empty()) {
            Shed(waiting_.at(by_age_.front()).get(),
                 &EdgeStats::shed_max_connections);
            continue;
          }
          epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          accept_paused_ = true;
          accept_resume_ = SteadyClock::now() + std::chrono::milliseconds(100);
        }
        return;
      }
      Admit(fd, ClientKey(addr));
    }
  }

  // Applies the connection limits to a new connection, then waits for its
  // head. Over a limit, the oldest connection still without a head goes.
  void Admit(int fd, std::string client) {
    const EdgeLimits& limits = options_.limits;
    while (true) {
      auto mine = waiting_by_client_.find(client);
      if (mine == waiting_by_client_.end() ||
          mine->second.size() <
              static_cast<size_t>(limits.max_connections_per_client)) {
        break;
      }
      ShedUnlessComplete(mine->second.front(), &EdgeStats::shed_per_client);
    }
    while (true) {
      {
        canary::MutexLock lock(&mu_);
        if (open_ < limits.max_connections) break;
      }
      if (by_age_.empty()) {
        CountShed(&EdgeStats::shed_max_connections);
        close(fd);
        return;
      }
      ShedUnlessComplete(by_age_.front(), &EdgeStats::shed_max_connections);
    }
    auto w = std::make_unique<Waiting>();
    w->fd = fd;
    w->client = client;
    w->deadline =
        SteadyClock::now() + absl::ToChronoNanoseconds(limits.head_timeout);
    if (options_.tls.has_value()) {
      CtxPtr ctx = Context();
      w->ssl = SSL_new(ctx.get());
      if (w->ssl == nullptr || SSL_set_fd(w->ssl, fd) != 1) {
        if (w->ssl != nullptr) SSL_free(w->ssl);
        close(fd);
        return;
      }
      SSL_set_accept_state(w->ssl);
    }
    NoDelay(fd);
    std::list<int>& mine = waiting_by_client_[client];
    w->by_client = mine.insert(mine.end(), fd);
    w->by_age = by_age_.insert(by_age_.end(), fd);
    {
      canary::MutexLock lock(&mu_);
      ++open_;
      ++waiting_count_;
    }
    Waiting* raw = w.get();
    waiting_.emplace(fd, std::move(w));
    Watch(raw, EPOLLIN);
  }

  void Watch(Waiting* w, uint32_t events) {
    if (w->events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = w->fd;
    epoll_ctl(epoll_fd_, w->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, w->fd,
              &ev);
    w->events = events;
  }

  void CountShed(int64_t EdgeStats::*reason) {
    canary::MutexLock lock(&mu_);
    ++(shed_.*reason);
  }

  // Closes a waiting connection (counted under `reason`).
  void Shed(Waiting* w, int64_t EdgeStats::*reason) {
    CountShed(reason);
    Close(w);
  }

  // Reads what waiting connection `fd` has sent (its head may be in the
  // socket already, accepted in the same burst); sheds it if still
  // incomplete. Either way it is no longer waiting afterwards.
  void ShedUnlessComplete(int fd, int64_t EdgeStats::*reason) {
    Read(waiting_.at(fd).get());
    auto it = waiting_.find(fd);
    if (it != waiting_.end()) Shed(it->second.get(), reason);
  }

  // Forgets a waiting connection; `keep_socket` when it moves to a relay.
  void Close(Waiting* w, bool keep_socket = false) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w->fd, nullptr);
    by_age_.erase(w->by_age);
    auto mine = waiting_by_client_.find(w->client);
    mine->second.erase(w->by_client);
    if (mine->second.empty()) waiting_by_client_.erase(mine);
    {
      canary::MutexLock lock(&mu_);
      --waiting_count_;
      if (!keep_socket) --open_;
    }
    if (!keep_socket) {
      if (w->ssl != nullptr) SSL_free(w->ssl);
      close(w->fd);
    }
    waiting_.erase(w->fd);  // deletes w
  }

  void ExpireHeads() {
    const auto now = SteadyClock::now();
    while (!by_age_.empty()) {
      Waiting* w = waiting_.at(by_age_.front()).get();
      if (w->deadline > now) break;
      Shed(w, &EdgeStats::shed_head_timeout);
    }
  }

  // Reads what the client sent; answers a bad head, relays a complete one.
  void Read(Waiting* w) {
    if (w->ssl != nullptr && !w->handshake_done) {
      ERR_clear_error();
      const int r = SSL_do_handshake(w->ssl);
      if (r != 1) {
        const int err = SSL_get_error(w->ssl, r);
        if (err == SSL_ERROR_WANT_READ) return Watch(w, EPOLLIN);
        if (err == SSL_ERROR_WANT_WRITE) return Watch(w, EPOLLOUT);
        // Failed handshakes are routine (scanners, clients without a cert).
        logger_->Debug("TLS handshake failed", {{"err", SslErrors()}});
        return Close(w);
      }
      w->handshake_done = true;
      Watch(w, EPOLLIN);
    }
    const size_t max = options_.limits.max_head_bytes;
    char buf[4096];
    while (true) {
      ssize_t n = 0;
      if (w->ssl != nullptr) {
        const int r = SSL_read(w->ssl, buf, sizeof(buf));
        if (r <= 0) {
          const int err = SSL_get_error(w->ssl, r);
          if (err == SSL_ERROR_WANT_READ) return Watch(w, EPOLLIN);
          if (err == SSL_ERROR_WANT_WRITE) return Watch(w, EPOLLOUT);
          return Close(w);
        }
        n = r;
      } else {
        n = ::read(w->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) return Close(w);
      }
      const absl::string_view chunk(buf, static_cast<size_t>(n));
      w->buffered.append(chunk.data(), chunk.size());
      // Lines are checked when one ends: a head sent a byte at a time is
      // not scanned again for every byte.
      if (chunk.find('\n') == absl::string_view::npos &&
          w->buffered.size() <= max) {
        continue;
      }
      const RequestHeadCheck check =
          CheckRequestHead(w->buffered, max, w->checked);
      switch (check.state) {
        case RequestHeadCheck::kIncomplete:
          w->checked = check.checked_bytes;
          continue;
        case RequestHeadCheck::kBad:
          Answer(w, kBadRequestResponse, sizeof(kBadRequestResponse) - 1);
          return Shed(w, &EdgeStats::shed_bad_request);
        case RequestHeadCheck::kTooLarge:
          Answer(w, kHeadTooLargeResponse, sizeof(kHeadTooLargeResponse) - 1);
          return Shed(w, &EdgeStats::shed_head_too_large);
        case RequestHeadCheck::kComplete:
          w->buffered.resize(check.head_bytes);
          return Hand(w);
      }
    }
  }

  // Best effort: a fresh socket's buffer takes a short answer at once.
  void Answer(Waiting* w, const char* data, size_t n) {
    if (w->ssl != nullptr) {
      SSL_write(w->ssl, data, static_cast<int>(n));
    } else {
      (void)!::send(w->fd, data, n, MSG_NOSIGNAL);
    }
  }

  // Moves a connection with a complete head to its own relay thread.
  void Hand(Waiting* w) {
    const int fd = w->fd;
    SSL* ssl = w->ssl;
    std::string buffered = std::move(w->buffered);
    Close(w, /*keep_socket=*/true);
    SetBlocking(fd);
    SetTimeouts(fd, options_.io_timeout);
    const int64_t id = next_id_++;
    {
      canary::MutexLock lock(&mu_);
      relayed_fds_.insert(fd);
    }
    threads_.emplace(
        id, std::thread([this, fd, ssl, id, buffered = std::move(buffered)] {
          Relay(fd, ssl, buffered, id);
        }));
  }

  void Relay(int client_fd, SSL* ssl, const std::string& buffered, int64_t id) {
    int backend_port = -1;
    const int backend = Connect(&backend_port);
    // The head alone, then end of input: no endpoint reads a request body,
    // and CivetWeb would otherwise hold its worker after answering, to
    // drain a body the client announced but never sends.
    if (backend >= 0 && SendAll(backend, buffered.data(), buffered.size()) &&
        ::shutdown(backend, SHUT_WR) == 0) {
      Pump(ssl, client_fd, backend);
      if (ssl != nullptr) {
        SSL_shutdown(ssl);
      } else {
        Linger(client_fd);
      }
    }
    if (ssl != nullptr) SSL_free(ssl);
    canary::MutexLock lock(&mu_);
    if (backend >= 0) {
      relayed_fds_.erase(backend);
      close(backend);
    }
    if (backend_port >= 0) relayed_ports_.erase(backend_port);
    relayed_fds_.erase(client_fd);
    close(client_fd);
    --open_;
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
      logger_->Error("edge relay cannot reach the HTTP server",
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
    relayed_fds_.insert(fd);
    return fd;
  }

  // Copies the answer from the backend to the client until the backend
  // closes (CivetWeb closes after each answer); what the client sends
  // meanwhile (a body) is read and dropped. Stop() ends it early by
  // shutting both sockets down.
  void Pump(SSL* ssl, int client, int backend) {
    char buf[16384];
    bool client_open = true;
    while (true) {
      if (!client_open || ssl == nullptr || SSL_pending(ssl) == 0) {
        pollfd fds[2] = {{backend, POLLIN, 0}, {client, POLLIN, 0}};
        if (poll(fds, client_open ? 2 : 1, -1) <= 0) return;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
          const ssize_t n = ::read(backend, buf, sizeof(buf));
          if (n <= 0) return;
          const bool sent = ssl != nullptr
                                ? SSL_write(ssl, buf, static_cast<int>(n)) > 0
                                : SendAll(client, buf, static_cast<size_t>(n));
          if (!sent) return;
        }
        if (!client_open || !(fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
          continue;
        }
      }
      const ssize_t n = ssl != nullptr ? SSL_read(ssl, buf, sizeof(buf))
                                       : ::read(client, buf, sizeof(buf));
      if (n <= 0) client_open = false;
    }
  }

  // Closing a socket with unread input sends a reset, which can destroy
  // the answer before the client has read it: say we are done, then drop
  // what still comes, for a moment.
  static void Linger(int client) {
    ::shutdown(client, SHUT_WR);
    char buf[4096];
    for (int i = 0; i < 16; ++i) {
      pollfd p{client, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0 || ::read(client, buf, sizeof(buf)) <= 0) {
        return;
      }
    }
  }

  const EdgeListenerOptions options_;
  Logger* const logger_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  // The accept loop's own state.
  absl::flat_hash_map<int, std::unique_ptr<Waiting>> waiting_;  // by fd
  std::list<int> by_age_;  // waiting fds, oldest first (= by deadline)
  // Waiting fds by client address, oldest first: the per-client limit.
  absl::flat_hash_map<std::string, std::list<int>> waiting_by_client_;
  bool accept_paused_ = false;
  SteadyClock::time_point accept_resume_;
  // Relay threads by id; touched by the accept loop, then by Stop.
  std::map<int64_t, std::thread> threads_;
  int64_t next_id_ = 0;

  mutable canary::Mutex mu_;
  CtxPtr ctx_ ABSL_GUARDED_BY(mu_);
  std::string stamp_ ABSL_GUARDED_BY(mu_);
  // Open connections (waiting and relayed).
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waiting_count_ ABSL_GUARDED_BY(mu_) = 0;
  EdgeStats shed_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int> relayed_fds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int> relayed_ports_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> finished_ ABSL_GUARDED_BY(mu_);  // ids to join
};

}  // namespace

absl::StatusOr<std::unique_ptr<EdgeListener>> EdgeListener::Start(
    const EdgeListenerOptions& options) {
  // A write to a peer that hung up would raise SIGPIPE and kill the
  // process (SSL_write cannot pass MSG_NOSIGNAL); keep a handler someone
  // else installed.
  struct sigaction old {};
  if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  auto listener = std::make_unique<EdgeListenerImpl>(options);
  if (absl::Status s = listener->Init(); !s.ok()) return s;
  return std::unique_ptr<EdgeListener>(std::move(listener));
}

}  // namespace canary::exporter
