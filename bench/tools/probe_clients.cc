// probe_clients: CLIENTS concurrent scrapers of one exporter, in one process
// and one thread (bench/run.sh figure 5b).
//
// Client c (1..CLIENTS) waits (c-1) * STAGGER_MS, then runs ROUNDS GETs of
// URL back to back, with "@I@" in URL replaced by c; each answer goes to
// OUTDIR/c.r. One line per request on stdout: "c r seconds status", the
// wall time from handing the request to libcurl to its last byte.
//
// Why not 50 shell loops of curl: on a 2-core machine the shells' process
// start-ups compete with the exporter for the CPU and become most of what a
// p99 shows. Here the client costs one libcurl event loop.
//
//   probe_clients CLIENTS ROUNDS STAGGER_MS TIMEOUT_S HEADER URL OUTDIR
// HEADER is sent with every request ("" for none). Bench-only code.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Client {
  int index = 0;
  int round = 0;  // rounds started
  Clock::time_point next_start;
  Clock::time_point started;
  CURL* easy = nullptr;
  FILE* out = nullptr;
  bool busy = false;
};

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr,
                 "usage: probe_clients CLIENTS ROUNDS STAGGER_MS TIMEOUT_S "
                 "HEADER URL OUTDIR\n");
    return 2;
  }
  const int clients = std::atoi(argv[1]);
  const int rounds = std::atoi(argv[2]);
  const int stagger_ms = std::atoi(argv[3]);
  const long timeout_s = std::atol(argv[4]);
  const std::string header = argv[5];
  const std::string url = argv[6];
  const std::string outdir = argv[7];
  if (clients < 1 || clients > 500 || rounds < 1 || rounds > 100 ||
      stagger_ms < 0 || stagger_ms > 10000 || timeout_s < 1 ||
      timeout_s > 600) {
    std::fprintf(stderr,
                 "probe_clients: 1..500 clients, 1..100 rounds, 0..10000 ms "
                 "stagger, 1..600 s timeout\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_slist* headers = nullptr;
  if (!header.empty()) headers = curl_slist_append(headers, header.c_str());
  const Clock::time_point t0 = Clock::now();
  std::vector<Client> all(clients);
  for (int i = 0; i < clients; ++i) {
    all[i].index = i + 1;
    all[i].next_start = t0 + std::chrono::milliseconds(stagger_ms * i);
  }
  // Bounded: every request has a timeout, and the whole run ends after the
  // stagger plus rounds * timeout at the latest.
  const Clock::time_point hard_end =
      t0 + std::chrono::milliseconds(stagger_ms * clients) +
      std::chrono::seconds(timeout_s * (rounds + 1));
  int finished = 0;
  int failures = 0;
  while (finished < clients * rounds && Clock::now() < hard_end) {
    const Clock::time_point now = Clock::now();
    for (Client& c : all) {
      if (c.busy || c.round >= rounds || now < c.next_start) continue;
      ++c.round;
      const std::string path = outdir + "/" + std::to_string(c.index) + "." +
                               std::to_string(c.round);
      c.out = std::fopen(path.c_str(), "w");
      if (c.out == nullptr) {
        std::perror(path.c_str());
        return 1;
      }
      if (c.easy == nullptr) c.easy = curl_easy_init();
      curl_easy_setopt(c.easy, CURLOPT_URL,
                       Replace(url, "@I@", std::to_string(c.index)).c_str());
      curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, c.out);
      curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(c.easy, CURLOPT_TIMEOUT, timeout_s);
      curl_easy_setopt(c.easy, CURLOPT_NOPROXY, "*");
      curl_easy_setopt(c.easy, CURLOPT_PRIVATE, &c);
      c.started = Clock::now();
      c.busy = true;
      curl_multi_add_handle(multi, c.easy);
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      const Clock::time_point end = Clock::now();
      void* priv = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      Client& c = *static_cast<Client*>(priv);
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK) ++failures;
      std::printf("%d %d %.6f %ld\n", c.index, c.round,
                  std::chrono::duration<double>(end - c.started).count(),
                  msg->data.result == CURLE_OK ? status : 0L);
      curl_multi_remove_handle(multi, msg->easy_handle);
      std::fclose(c.out);
      c.out = nullptr;
      c.busy = false;
      c.next_start = end;
      ++finished;
    }
    // Wake for the next staggered start, at most 1 ms late.
    curl_multi_poll(multi, nullptr, 0, 1, nullptr);
  }
  for (Client& c : all) {
    if (c.easy != nullptr) {
      if (c.busy) curl_multi_remove_handle(multi, c.easy);
      curl_easy_cleanup(c.easy);
    }
    if (c.out != nullptr) std::fclose(c.out);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  if (finished < clients * rounds) {
    std::fprintf(stderr, "probe_clients: %d of %d requests finished\n",
                 finished, clients * rounds);
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
