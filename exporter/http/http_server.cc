#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "CivetServer.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "civetweb.h"
#include "exporter/http/edge_listener.h"
#include "exporter/http/listen_address.h"

namespace canary::exporter {
namespace {

// CivetWeb reports a bind failure only through log_message, on the thread
// that calls mg_start; this catches it there.
thread_local std::string* start_errors = nullptr;

int LogMessage(const mg_connection* conn, const char* message) {
  if (start_errors != nullptr) {
    if (!start_errors->empty()) start_errors->append("; ");
    start_errors->append(message);
    return 1;
  }
  const mg_context* ctx = conn != nullptr ? mg_get_context(conn) : nullptr;
  auto* civet = ctx != nullptr
                    ? static_cast<CivetServer*>(mg_get_user_data(ctx))
                    : nullptr;
  auto* server = civet != nullptr
                     ? static_cast<const HttpServer*>(civet->getUserContext())
                     : nullptr;
  Logger* logger = server != nullptr ? server->logger() : &GlobalLogger();
  logger->Warn("http server", {{"err", message}});
  return 1;
}

std::string Decode(absl::string_view s) {
  std::string out(s.size() + 1, '\0');
  int n =
      mg_url_decode(s.data(), static_cast<int>(s.size()), out.data(),
                    static_cast<int>(out.size()), /*is_form_url_encoded=*/1);
  out.resize(n < 0 ? 0 : n);
  return out;
}

std::map<std::string, std::string> ParseQuery(const char* query) {
  std::map<std::string, std::string> out;
  if (query == nullptr) return out;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    out.emplace(Decode(kv.first), Decode(kv.second));
  }
  return out;
}

int BeginRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  auto* civet =
      static_cast<CivetServer*>(mg_get_user_data(mg_get_context(conn)));
  auto* server =
      static_cast<HttpServer*>(const_cast<void*>(civet->getUserContext()));

  if (!server->AcceptsConnection(info->remote_port)) {
    // Only the front listener may reach CivetWeb's loopback port: a local
    // client must not bypass its head checks, TLS and mTLS.
    static constexpr char kRefused[] =
        "HTTP/1.1 421 Misdirected Request\r\nContent-Type: text/plain\r\n"
        "Content-Length: 28\r\nConnection: close\r\n\r\nuse the exporter's own "
        "port\n";
    mg_write(conn, kRefused, sizeof(kRefused) - 1);
    return 421;
  }
  HttpRequest request;
  request.method = info->request_method != nullptr ? info->request_method : "";
  request.path = info->local_uri != nullptr ? info->local_uri : "";
  request.query = ParseQuery(info->query_string);
  request.query_bytes =
      info->query_string != nullptr ? std::strlen(info->query_string) : 0;
  if (const char* h = mg_get_header(conn, "Host")) request.host = h;
  if (const char* h = mg_get_header(conn, "Authorization")) {
    request.authorization = h;
  }
  if (const char* h = mg_get_header(conn, kScrapeTimeoutHeader)) {
    request.scrape_timeout = h;
  }
  HttpResponse response;
  try {
    response = server->Serve(request);
  } catch (const std::exception& e) {
    // Third-party code (prometheus-cpp) may throw; a request must not take
    // the worker thread down.
    server->logger()->Error("handler threw", {{"err", e.what()}});
    response = HttpResponse{.status = 500, .body = "internal error\n"};
  }

  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ",
                   mg_get_response_code_text(conn, response.status),
                   "\r\nContent-Type: ", response.content_type,
                   "\r\nContent-Length: ", response.body.size(),
                   "\r\nCache-Control: no-cache\r\nConnection: close\r\n");
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  head.append("\r\n");
  // One write for head and body: one segment and one wake-up of the
  // scraper instead of two (bench/run.sh figure 5b).
  if (request.method != "HEAD") head.append(response.body);
  mg_write(conn, head.data(), head.size());
  if (response.after_send) {
    try {
      response.after_send();
    } catch (const std::exception& e) {
      server->logger()->Error("after-response work threw", {{"err", e.what()}});
    }
  }
  return response.status;
}

// Opens and closes a connection to wake CivetWeb's accept poll, which
// otherwise notices a stop only after its 2 s quantum.
void Poke(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) {
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  close(fd);
}

}  // namespace

HttpServer::HttpServer(const HttpServerOptions& options, HttpHandler handler)
    : logger_(options.logger != nullptr ? options.logger : &GlobalLogger()),
      num_threads_(options.num_threads > 0 ? options.num_threads : 1),
      handler_(std::move(handler)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, HttpHandler handler) {
  std::string host;
  int port = 0;
  if (absl::Status s = ParseListenAddress(options.listen_address, &host, &port);
      !s.ok()) {
    return s;
  }
  std::unique_ptr<HttpServer> server(
      new HttpServer(options, std::move(handler)));
  server->host_ = host;

  // CivetWeb serves plain HTTP on loopback behind EdgeListener.
  const std::string ports = "127.0.0.1:0";
  std::vector<std::string> civet_options = {
      "listening_ports",
      ports,
      "num_threads",
      absl::StrCat(server->num_threads_),
      "enable_keep_alive",
      "no",
      // The handler answers every path; never serve files.
      "enable_directory_listing",
      "no",
      // Heads arrive complete and checked (edge_listener.h); this only
      // has to be at least the listener's bound.
      "max_request_size",
      absl::StrCat(options.limits.max_head_bytes + 1024),
      // Every relayed connection is admitted by the listener's own limits:
      // CivetWeb's defaults (a backlog of 200, 20 queued) would drop the
      // SYNs of a burst of relays, each retried a second later.
      "listen_backlog",
      "4096",
      "connection_queue",
      "1024",
  };
  CivetCallbacks callbacks;
  callbacks.log_message = LogMessage;
  callbacks.begin_request = BeginRequest;

  std::string errors;
  start_errors = &errors;
  try {
    server->civet_ =
        std::make_unique<CivetServer>(civet_options, &callbacks, server.get());
  } catch (const std::exception& e) {
    start_errors = nullptr;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, ": ",
                     errors.empty() ? e.what() : errors));
  }
  start_errors = nullptr;

  mg_server_port bound[1];
  if (mg_get_server_ports(server->civet_->getContext(), 1, bound) < 1) {
    return absl::InternalError(absl::StrCat(
        "listening on ", options.listen_address, " but no port is bound"));
  }
  server->civet_port_ = bound[0].port;
  absl::StatusOr<std::unique_ptr<EdgeListener>> edge =
      EdgeListener::Start({.listen_address = options.listen_address,
                           .tls = options.tls,
                           .backend_port = server->civet_port_,
                           .limits = options.limits,
                           .logger = server->logger_});
  if (!edge.ok()) return edge.status();
  server->edge_ = *std::move(edge);
  server->relay_check_.store(server->edge_.get(), std::memory_order_release);
  server->port_ = server->edge_->port();
  return server;
}

HttpServer::~HttpServer() { Stop(); }

bool HttpServer::AcceptsConnection(int remote_port) const {
  const EdgeListener* edge = relay_check_.load(std::memory_order_acquire);
  return edge != nullptr && edge->IsRelayed(remote_port);
}

std::string HttpServer::address() const {
  const bool wildcard = host_.empty() || host_ == "0.0.0.0";
  return absl::StrCat(wildcard ? "127.0.0.1" : host_, ":", port_);
}

void HttpServer::Stop() {
  if (civet_ == nullptr) return;
  // No new connections; requests already relayed are answered: CivetWeb's
  // close waits for its workers, whose answers the relays carry out.
  if (edge_ != nullptr) edge_->StopAccepting();
  const std::string host = "127.0.0.1";
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    while (!stopped.load()) {
      Poke(host, civet_port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  civet_->close();
  stopped.store(true);
  waker.join();
  if (edge_ != nullptr) edge_->Stop();
  civet_.reset();
}

}  // namespace canary::exporter
