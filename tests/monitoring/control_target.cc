// control_target: a tiny HTTP server on 127.0.0.1 for the monitoring
// end-to-end test. It plays two roles:
//   - the probed target, whose latency and 5xx share the test changes while
//     it runs (GET /control?delay_ms=200&error_pct=30);
//   - the Alertmanager webhook receiver (POST /webhook stores each body,
//     GET /webhook/log returns them one per line);
//   - an application with request metrics of its own: GET /metrics serves
//     the OpenTelemetry histogram http_server_request_duration_seconds of the
//     target's requests, by http_response_status_code (what the Target detail
//     dashboard puts next to the canary's).
//
//   control_target            # prints "listening port=PORT", serves forever
//   curl 127.0.0.1:PORT/control?delay_ms=50&error_pct=0
//   curl 127.0.0.1:PORT/api   # 200 after 50 ms (any path but the above)
//   curl 127.0.0.1:PORT/control   # also "requests=N": target requests so far
//
// Errors are spread evenly, not drawn at random: with error_pct=30 exactly 30
// of every 100 consecutive requests answer 500, so the test sees the ratio it
// asked for even in a short burst.
// Thread-safety: handlers run on CivetWeb's worker threads; shared state is
// atomics plus one mutex for the webhook log. Stop it with SIGTERM/SIGKILL.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CivetServer.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace {

std::atomic<int64_t> g_delay_ms{0};
std::atomic<int64_t> g_error_pct{0};
std::atomic<int64_t> g_requests{0};
std::mutex g_log_mu;
std::string g_webhook_log;

// The application's own request-duration histogram, by status code.
constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                               0.5,   1,    2.5,   5,    10};
constexpr int kNumBuckets = sizeof(kBuckets) / sizeof(kBuckets[0]);
struct Histogram {
  int64_t buckets[kNumBuckets] = {};  // not cumulative
  int64_t count = 0;
  double sum = 0;
};
std::mutex g_metrics_mu;
Histogram g_ok;      // http_response_status_code="200"
Histogram g_failed;  // http_response_status_code="500"

void Observe(bool failed, double seconds) {
  std::lock_guard<std::mutex> lock(g_metrics_mu);
  Histogram& h = failed ? g_failed : g_ok;
  for (int i = 0; i < kNumBuckets; ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void AppendHistogram(const Histogram& h, const char* code, std::string* out) {
  const std::string labels = absl::StrCat(
      "http_request_method=\"GET\",http_response_status_code=\"", code, "\"");
  const char* name = "http_server_request_duration_seconds";
  int64_t cumulative = 0;
  for (int i = 0; i < kNumBuckets; ++i) {
    cumulative += h.buckets[i];
    absl::StrAppend(out, name, "_bucket{", labels, ",le=\"", kBuckets[i],
                    "\"} ", cumulative, "\n");
  }
  absl::StrAppend(out, name, "_bucket{", labels, ",le=\"+Inf\"} ", h.count,
                  "\n", name, "_sum{", labels, "} ", h.sum, "\n", name,
                  "_count{", labels, "} ", h.count, "\n");
}

void Respond(mg_connection* conn, int code, const std::string& body) {
  mg_response_header_start(conn, code);
  mg_response_header_add(conn, "Content-Type", "text/plain", -1);
  const std::string length = absl::StrCat(body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_send(conn);
  mg_write(conn, body.data(), body.size());
}

bool IntParam(mg_connection* conn, const char* name, int64_t* out) {
  std::string value;
  return CivetServer::getParam(conn, name, value) &&
         absl::SimpleAtoi(value, out) && *out >= 0;
}

class ControlHandler : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    int64_t v;
    if (IntParam(conn, "delay_ms", &v)) g_delay_ms = v;
    if (IntParam(conn, "error_pct", &v)) g_error_pct = v > 100 ? 100 : v;
    Respond(conn, 200,
            absl::StrCat("delay_ms=", g_delay_ms.load(),
                         " error_pct=", g_error_pct.load(),
                         " requests=", g_requests.load(), "\n"));
    return true;
  }
};

class WebhookHandler : public CivetHandler {
 public:
  bool handlePost(CivetServer*, mg_connection* conn) override {
    std::string body;
    char buf[4096];
    for (int n; (n = mg_read(conn, buf, sizeof(buf))) > 0;) body.append(buf, n);
    for (char& c : body) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    {
      std::lock_guard<std::mutex> lock(g_log_mu);
      g_webhook_log += body + "\n";
    }
    Respond(conn, 200, "ok\n");
    return true;
  }
  bool handleGet(CivetServer*, mg_connection* conn) override {
    std::string log;
    {
      std::lock_guard<std::mutex> lock(g_log_mu);
      log = g_webhook_log;
    }
    Respond(conn, 200, log);
    return true;
  }
};

class TargetHandler : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const auto start = std::chrono::steady_clock::now();
    const int64_t n = g_requests.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(g_delay_ms.load()));
    // Request n fails when the running error count steps up at n: exactly
    // error_pct of every 100 consecutive requests, evenly spread.
    const int64_t pct = g_error_pct.load();
    const bool fail = (n + 1) * pct / 100 != n * pct / 100;
    Respond(conn, fail ? 500 : 200, fail ? "injected error\n" : "ok\n");
    Observe(fail, std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count());
    return true;
  }
};

class MetricsHandler : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    std::string body =
        "# HELP http_server_request_duration_seconds Duration of HTTP server "
        "requests.\n# TYPE http_server_request_duration_seconds histogram\n";
    {
      std::lock_guard<std::mutex> lock(g_metrics_mu);
      AppendHistogram(g_ok, "200", &body);
      AppendHistogram(g_failed, "500", &body);
    }
    Respond(conn, 200, body);
    return true;
  }
};

}  // namespace

int main() {
  mg_init_library(0);
  const std::vector<std::string> options = {"listening_ports",   "127.0.0.1:0",
                                            "num_threads",       "64",
                                            "enable_keep_alive", "yes"};
  ControlHandler control;
  WebhookHandler webhook;
  TargetHandler target;
  MetricsHandler metrics;
  try {
    CivetServer server(options);
    server.addHandler("/control", control);
    server.addHandler("/webhook", webhook);
    server.addHandler("/metrics", metrics);
    server.addHandler("/", target);
    const std::vector<int> ports = server.getListeningPorts();
    if (ports.empty()) {
      std::cerr << "control_target: no listening port\n";
      return 1;
    }
    std::cout << "listening port=" << ports[0] << std::endl;
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  } catch (const CivetException& e) {
    std::cerr << "control_target: " << e.what() << "\n";
    return 1;
  }
}
