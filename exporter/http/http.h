// http.h: the plain values the HTTP edge hands to the application and gets
// back, and the handler seam between them. Nothing here knows CivetWeb or
// what a path means.
//
//   HttpHandler handler = [](const HttpRequest& request) {
//     return HttpResponse{.body = "hello " + request.path + "\n"};
//   };
//   // HttpServer::Start(options, handler) (http_server.h) serves it.
//
// Thread-safety: plain values. A handler is called on many server threads
// at once and must be thread-safe.
#ifndef CANARY_EXPORTER_HTTP_HTTP_H_
#define CANARY_EXPORTER_HTTP_HTTP_H_

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace canary::exporter {

// Prometheus' scrape timeout header; the server copies it into
// HttpRequest::scrape_timeout.
inline constexpr char kScrapeTimeoutHeader[] =
    "X-Prometheus-Scrape-Timeout-Seconds";

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded, without the query
  // Decoded query parameters; the first of repeated names wins.
  std::map<std::string, std::string> query;
  // The Host header ("127.0.0.1:9427"), for self-links; may be empty.
  std::string host;
  // X-Prometheus-Scrape-Timeout-Seconds, when sent.
  std::optional<std::string> scrape_timeout;
  // The Authorization header (a secret: never log it); may be empty.
  std::string authorization;
  // Length of the raw query string (exporter/service/input_limits.h bounds
  // it).
  size_t query_bytes = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra
  std::string body;
  // Work that must not delay the client: whoever writes the response runs
  // this once afterwards (the server after the write; tests after Handle).
  std::function<void()> after_send;
};

// What the server calls for every request it accepts.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_HTTP_H_
