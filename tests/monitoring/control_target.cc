// control_target: a tiny HTTP server on 127.0.0.1 for the monitoring
// end-to-end test. It plays two roles:
//   - the probed target, whose latency and 5xx share the test changes while
//     it runs (GET /control?delay_ms=200&error_pct=30);
//   - the Alertmanager webhook receiver (POST /webhook stores each body,
//     GET /webhook/log returns them one per line).
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
    const int64_t n = g_requests.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(g_delay_ms.load()));
    // Request n fails when the running error count steps up at n: exactly
    // error_pct of every 100 consecutive requests, evenly spread.
    const int64_t pct = g_error_pct.load();
    const bool fail = (n + 1) * pct / 100 != n * pct / 100;
    Respond(conn, fail ? 500 : 200, fail ? "injected error\n" : "ok\n");
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
  try {
    CivetServer server(options);
    server.addHandler("/control", control);
    server.addHandler("/webhook", webhook);
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
