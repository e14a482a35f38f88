// curl_floor: the least a libcurl client can spend per request, measured in
// isolation (issue 5: "a libcurl cost per request measured in isolation").
//
// N easy handles on one multi handle, keep-alive, GET, no think time, a
// write callback that only counts bytes: no allowlist, no header callback,
// no statistics, no metrics. It sends the exporter's request (the same
// User-Agent header, so the same bytes reach the target) with the same
// per-request timeout (any bounded prober needs one; libcurl keeps a timer
// per transfer for it), and restarts each finished transfer at once, the
// way the burst engine does (remove, re-add the same easy handle).
// Two event loops, so the bench can show which one the exporter should use:
//   poll    curl_multi_perform + curl_multi_poll
//   socket  curl_multi_socket_action + epoll (libcurl's event API)
//
//   curl_floor URL CONNECTIONS SECONDS poll|socket
// prints one line: "requests=N seconds=S cpu_us_per_request=C rps=R".
//
//   curl_floor idle
// prints "rss_kib=N": the resident memory of a process that links libcurl
// and has called curl_global_init (which loads and initialises OpenSSL),
// and nothing else: the floor under the exporter's idle RSS.
// Bench-only code (bench/run.sh figures 1f, 2f, 6f); not part of the exporter.
#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

size_t Discard(char*, size_t size, size_t n, void* user) {
  *static_cast<long*>(user) += static_cast<long>(size * n);
  return size * n;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Loop {
  CURLM* multi = nullptr;
  int epfd = -1;
  long timeout_ms = -1;
  long requests = 0;
  long failures = 0;
  long bytes = 0;
};

int OnSocket(CURL*, curl_socket_t s, int what, void* userp, void*) {
  Loop* loop = static_cast<Loop*>(userp);
  epoll_event ev{};
  ev.data.fd = s;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, s, nullptr);
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
              (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, s, &ev) != 0) {
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, s, &ev);
  }
  return 0;
}

int OnTimer(CURLM*, long timeout_ms, void* userp) {
  static_cast<Loop*>(userp)->timeout_ms = timeout_ms;
  return 0;
}

// Restarts every finished transfer until `end`; returns false at the end.
void SetTimeouts(CURL* e) {
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
}

bool Harvest(Loop* loop, bool restart) {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(loop->multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* e = msg->easy_handle;
    if (msg->data.result == CURLE_OK) {
      ++loop->requests;
    } else {
      ++loop->failures;
    }
    curl_multi_remove_handle(loop->multi, e);
    if (restart) {
      SetTimeouts(e);
      curl_multi_add_handle(loop->multi, e);
    }
  }
  return restart;
}

long RssKib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %ld", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "idle") == 0) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::printf("rss_kib=%ld\n", RssKib());
    curl_global_cleanup();
    return 0;
  }
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: curl_floor URL CONNECTIONS SECONDS poll|socket\n"
                 "       curl_floor idle\n");
    return 2;
  }
  const std::string url = argv[1];
  const int conns = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  const bool socket_api = std::strcmp(argv[4], "socket") == 0;
  if (conns < 1 || conns > 1000 || seconds <= 0 || seconds > 60) {
    std::fprintf(stderr, "curl_floor: 1..1000 connections, 0..60 seconds\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Loop loop;
  loop.multi = curl_multi_init();
  curl_multi_setopt(loop.multi, CURLMOPT_MAXCONNECTS, static_cast<long>(conns));
  if (socket_api) {
    loop.epfd = epoll_create1(EPOLL_CLOEXEC);
    curl_multi_setopt(loop.multi, CURLMOPT_SOCKETFUNCTION, &OnSocket);
    curl_multi_setopt(loop.multi, CURLMOPT_SOCKETDATA, &loop);
    curl_multi_setopt(loop.multi, CURLMOPT_TIMERFUNCTION, &OnTimer);
    curl_multi_setopt(loop.multi, CURLMOPT_TIMERDATA, &loop);
  }
  // As probes/curl_transport.cc sends it.
  curl_slist* headers =
      curl_slist_append(nullptr, "User-Agent: canary_exporter");
  std::vector<CURL*> easies(conns);
  for (CURL*& e : easies) {
    e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &loop.bytes);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    SetTimeouts(e);
    curl_multi_add_handle(loop.multi, e);
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(seconds));
  const double cpu0 = CpuSeconds();
  int running = 0;
  if (socket_api) {
    curl_multi_socket_action(loop.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    std::vector<epoll_event> events(conns + 1);
    while (true) {
      const bool more = Clock::now() < end;
      Harvest(&loop, more);
      if (!more && running == 0) break;
      int n = epoll_wait(
          loop.epfd, events.data(), static_cast<int>(events.size()),
          loop.timeout_ms < 0 ? 100 : static_cast<int>(loop.timeout_ms));
      if (n == 0) {
        curl_multi_socket_action(loop.multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      for (int i = 0; i < n; ++i) {
        int mask =
            (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
            (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
            (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(loop.multi, events[i].data.fd, mask, &running);
      }
      if (loop.timeout_ms == 0) {
        curl_multi_socket_action(loop.multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
    }
  } else {
    while (true) {
      curl_multi_perform(loop.multi, &running);
      const bool more = Clock::now() < end;
      Harvest(&loop, more);
      if (!more && running == 0) break;
      curl_multi_poll(loop.multi, nullptr, 0, 100, nullptr);
    }
  }
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu0;
  std::printf(
      "requests=%ld failures=%ld seconds=%.3f cpu_us_per_request=%.2f "
      "rps=%.0f\n",
      loop.requests, loop.failures, elapsed,
      loop.requests > 0 ? cpu * 1e6 / static_cast<double>(loop.requests) : 0.0,
      static_cast<double>(loop.requests) / elapsed);
  for (CURL* e : easies) {
    curl_multi_remove_handle(loop.multi, e);
    curl_easy_cleanup(e);
  }
  curl_multi_cleanup(loop.multi);
  curl_slist_free_all(headers);
  if (loop.epfd >= 0) close(loop.epfd);
  curl_global_cleanup();
  return loop.requests > 0 ? 0 : 1;
}
