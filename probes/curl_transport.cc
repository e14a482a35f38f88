// The one file that includes libcurl.
#include "probes/curl_transport.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "probes/allowlist.h"
#include "probes/target.h"
#include "probes/validate.h"

namespace canary::probes {
namespace {

constexpr char kUserAgent[] = "canary_exporter";

// RAII for the URL API handle.
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlStrDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlStr = std::unique_ptr<char, CurlStrDeleter>;

// Reads one part of a parsed URL; empty when absent.
std::string UrlPart(CURLU* u, CURLUPart part) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, 0) != CURLUE_OK || out == nullptr) {
    return "";
  }
  CurlStr holder(out);
  return std::string(out);
}

absl::Duration Micros(curl_off_t us) {
  return absl::Microseconds(static_cast<int64_t>(std::max<curl_off_t>(0, us)));
}

ResultClass ClassifyCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ResultClass::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return ResultClass::kDns;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      return ResultClass::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return ResultClass::kTls;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_RANGE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      return ResultClass::kProtocol;
    default:
      return ResultClass::kOther;
  }
}

// "Expire date" of libcurl's certinfo, e.g. "Jan  1 00:00:00 2027 GMT".
std::optional<absl::Time> ParseCertDate(absl::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, ' ', absl::SkipEmpty());
  std::string normalized = absl::StrJoin(parts, " ");
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%b %d %H:%M:%S %Y GMT", normalized, &t, &err)) {
    return std::nullopt;
  }
  return t;
}

long TlsVersion(config::TlsConfig::Version v) {
  switch (v) {
    case config::TlsConfig::Version::kTls10:
      return CURL_SSLVERSION_TLSv1_0;
    case config::TlsConfig::Version::kTls11:
      return CURL_SSLVERSION_TLSv1_1;
    case config::TlsConfig::Version::kTls12:
      return CURL_SSLVERSION_TLSv1_2;
    case config::TlsConfig::Version::kTls13:
      return CURL_SSLVERSION_TLSv1_3;
  }
  return CURL_SSLVERSION_TLSv1_2;
}

// One VU's easy handle and the state of its current request.
struct Slot {
  CURL* easy = nullptr;
  bool busy = false;
  uint64_t id = 0;
  absl::Time started;
  int64_t body_bytes = 0;
  int64_t body_limit = 0;
  bool keep_body = false;
  bool keep_headers = false;
  std::string body;
  Headers headers;
  char error[CURL_ERROR_SIZE];
  // SSRF guard (probes/allowlist.h). `name_allowed`: the host being fetched
  // was matched by a host pattern; it starts as the target's and changes
  // with each followed Location.
  const Allowlist* allowlist = nullptr;
  bool follow_redirects = false;
  bool target_name_allowed = false;
  bool name_allowed = false;
  int hop_status = 0;  // status of the response whose headers arrive
  bool location_seen = false;
  std::string refused;  // why the guard stopped this request
  // Scenario steps (StartRequest::spec): the checks of the request in
  // flight, its own header list, and whether the Completion carries the
  // body and headers.
  const config::HttpConfig* checks = nullptr;
  curl_slist* step_headers = nullptr;
  bool keep_response = false;
  // What the slot was last pointed at, so a step that repeats (every
  // literal step, every iteration) skips the URL parse and header list.
  std::string step_url_in;  // RequestSpec::url as given
  bool step_name_allowed = false;
  std::vector<std::string> step_header_lines;
};

// The port of a parsed URL, the scheme's default when it has none.
int UrlPort(CURLU* u) {
  char* port = nullptr;
  curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  CurlStr holder(port);
  int n = 0;
  if (port == nullptr || !absl::SimpleAtoi(port, &n)) return 0;
  return n;
}

// libcurl follows the first Location of any 3xx. One that leads to another
// host is checked like the target before libcurl connects there; returns
// false (and says why in `refused`) to stop the request.
bool GuardRedirect(Slot* s, absl::string_view name, absl::string_view value) {
  if (s->allowlist == nullptr || !s->follow_redirects || s->location_seen ||
      s->hop_status < 300 || s->hop_status > 399 ||
      !absl::EqualsIgnoreCase(name, "Location")) {
    return true;
  }
  s->location_seen = true;
  char* current = nullptr;
  curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &current);
  UrlPtr u(curl_url());
  if (u == nullptr || current == nullptr ||
      curl_url_set(u.get(), CURLUPART_URL, current, 0) != CURLUE_OK) {
    return true;  // the connect-time check still applies
  }
  const std::string old_host = UrlPart(u.get(), CURLUPART_HOST);
  const int old_port = UrlPort(u.get());
  const std::string location(value);
  // Relative locations resolve against the current URL, as libcurl does.
  if (curl_url_set(u.get(), CURLUPART_URL, location.c_str(),
                   CURLU_URLENCODE | CURLU_ALLOW_SPACE) != CURLUE_OK) {
    return true;  // libcurl cannot follow it either
  }
  const std::string host = UrlPart(u.get(), CURLUPART_HOST);
  const int port = UrlPort(u.get());
  if (absl::EqualsIgnoreCase(host, old_host) && port == old_port) return true;
  absl::StatusOr<Allowlist::HostDecision> decision =
      s->allowlist->CheckHost(host, port);
  if (!decision.ok()) {
    s->refused =
        absl::StrCat(decision.status().message(), " (redirect to ", host, ")");
    return false;
  }
  s->name_allowed = *decision == Allowlist::HostDecision::kAllowedName;
  return true;
}

// Every connection libcurl opens (to the target, after each redirect, to
// each address it tries) is checked on the address itself, after DNS:
// refused, nothing is sent.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose,
                           curl_sockaddr* addr) {
  Slot* s = static_cast<Slot*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && s->allowlist != nullptr) {
    std::optional<config::IpAddress> a =
        FromSockaddr(&addr->addr, static_cast<socklen_t>(addr->addrlen));
    absl::Status ok =
        a.has_value()
            ? s->allowlist->CheckAddress(*a, s->name_allowed)
            : absl::PermissionDeniedError(absl::StrCat(
                  "address of family ", addr->family, " is not allowed"));
    if (!ok.ok()) {
      // The first refusal names the address; libcurl may try others.
      if (s->refused.empty()) s->refused = std::string(ok.message());
      return CURL_SOCKET_BAD;
    }
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  Slot* slot = static_cast<Slot*>(user);
  const size_t len = size * n;
  slot->body_bytes += static_cast<int64_t>(len);
  if (slot->keep_body) {
    const int64_t room =
        slot->body_limit - static_cast<int64_t>(slot->body.size());
    if (room > 0) {
      slot->body.append(data,
                        static_cast<size_t>(std::min<int64_t>(room, len)));
    }
  }
  // Bytes past the limit are counted and dropped: the transfer goes on so
  // its time is still measured.
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  Slot* slot = static_cast<Slot*>(user);
  const size_t len = size * n;
  absl::string_view line(data, len);
  if (absl::StartsWith(line, "HTTP/")) {
    slot->headers.clear();  // a new response (redirect or 1xx) starts
    slot->hop_status = 0;
    slot->location_seen = false;
    // "HTTP/1.1 200 OK": the status is the second word. Called for every
    // response, so no allocation here.
    absl::string_view rest = line.substr(line.find(' ') + 1);
    rest = absl::StripLeadingAsciiWhitespace(rest);
    (void)absl::SimpleAtoi(rest.substr(0, rest.find_first_of(" \r\n")),
                           &slot->hop_status);
    return len;
  }
  // Most responses need none of their header lines: no check reads them
  // and no redirect is being guarded (a few hundred instructions a line,
  // for every request of a burst).
  const bool guarding = slot->allowlist != nullptr && slot->follow_redirects &&
                        !slot->location_seen && slot->hop_status >= 300 &&
                        slot->hop_status <= 399;
  if (!guarding && !slot->keep_headers) return len;
  if (size_t colon = line.find(':'); colon != absl::string_view::npos) {
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(colon + 1));
    // A short count aborts the transfer (CURLE_WRITE_ERROR).
    if (!GuardRedirect(slot, name, value)) return 0;
    if (slot->keep_headers) {
      slot->headers.emplace_back(std::string(name), std::string(value));
    }
  }
  return len;
}

class CurlTransportImpl : public Transport {
 public:
  CurlTransportImpl(const config::Module& module, Clock* clock,
                    Allowlist allowlist)
      : module_(module), clock_(clock), allowlist_(std::move(allowlist)) {}

  ~CurlTransportImpl() override {
    for (Slot& s : slots_) {
      if (s.busy) curl_multi_remove_handle(multi_, s.easy);
      if (s.easy != nullptr) curl_easy_cleanup(s.easy);
      if (s.step_headers != nullptr) curl_slist_free_all(s.step_headers);
    }
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    if (connect_to_ != nullptr) curl_slist_free_all(connect_to_);
  }

  absl::Status Init(const Target& target, int slots) {
    // The burst runs its event loop on this thread: a 1 µs timer slack
    // (default 50 µs) keeps poll and sleep wake-ups, and so the pacing, on
    // time. It stays with the thread, which costs nothing measurable.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    multi_ = curl_multi_init();
    if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
    // The target itself: a refused address fails here; a name a host
    // pattern allows may connect to any address that is not restricted.
    ASSIGN_OR_RETURN(Allowlist::HostDecision decision,
                     allowlist_.CheckHost(target.host, target.port));
    target_name_allowed_ = decision == Allowlist::HostDecision::kAllowedName;
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(slots));
    RETURN_IF_ERROR(BuildSharedOptions(target));
    slots_ = std::vector<Slot>(slots);
    for (Slot& s : slots_) {
      s.easy = curl_easy_init();
      if (s.easy == nullptr)
        return absl::InternalError("curl_easy_init failed");
      RETURN_IF_ERROR(Configure(&s));
    }
    return absl::OkStatus();
  }

  absl::Status Start(const StartRequest& req) override {
    if (req.slot < 0 || req.slot >= static_cast<int>(slots_.size())) {
      return absl::OutOfRangeError(absl::StrCat("no slot ", req.slot));
    }
    Slot& s = slots_[req.slot];
    if (s.busy) {
      return absl::FailedPreconditionError(
          absl::StrCat("slot ", req.slot, " already has a request in flight"));
    }
    s.id = req.id;
    s.checks = &module_.http;
    s.keep_response = false;
    if (cookies_ && req.new_iteration) {
      // A new session: no cookie of the previous iteration is sent.
      curl_easy_setopt(s.easy, CURLOPT_COOKIELIST, "ALL");
    }
    if (req.spec != nullptr) {
      std::optional<Completion> refused = PrepareStep(req, &s);
      if (refused.has_value()) {
        // Never sent: it completes at the next Wait().
        refused->id = req.id;
        refused->slot = req.slot;
        immediate_.push_back(*std::move(refused));
        ++in_flight_;
        return absl::OkStatus();
      }
    }
    s.body_bytes = 0;
    s.body.clear();
    s.headers.clear();
    s.error[0] = '\0';
    s.refused.clear();
    s.name_allowed =
        req.spec != nullptr ? s.step_name_allowed : s.target_name_allowed;
    s.hop_status = 0;
    s.location_seen = false;
    const long timeout_ms =
        std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(
                              absl::Ceil(req.timeout, absl::Milliseconds(1)))));
    curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(s.easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    s.started = clock_->Now();
    CURLMcode rc = curl_multi_add_handle(multi_, s.easy);
    if (rc != CURLM_OK) {
      return absl::InternalError(
          absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(rc)));
    }
    s.busy = true;
    ++in_flight_;
    return absl::OkStatus();
  }

  absl::Status Wait(absl::Time until, std::vector<Completion>* done) override {
    if (!immediate_.empty()) {
      in_flight_ -= static_cast<int>(immediate_.size());
      for (Completion& c : immediate_) done->push_back(std::move(c));
      immediate_.clear();
      return absl::OkStatus();
    }
    const size_t before = done->size();
    while (true) {
      int running = 0;
      CURLMcode rc = curl_multi_perform(multi_, &running);
      if (rc != CURLM_OK) {
        return absl::InternalError(
            absl::StrCat("curl_multi_perform: ", curl_multi_strerror(rc)));
      }
      Harvest(done);
      if (done->size() > before) return absl::OkStatus();
      const absl::Duration left = until - clock_->Now();
      if (left <= absl::ZeroDuration()) return absl::OkStatus();
      if (left < absl::Milliseconds(1)) {
        // curl_multi_poll counts in whole milliseconds; sleep the remainder
        // so the pacer is not late by up to a millisecond.
        absl::SleepFor(left);
        continue;
      }
      int numfds = 0;
      rc = curl_multi_poll(multi_, nullptr, 0,
                           static_cast<int>(absl::ToInt64Milliseconds(left)),
                           &numfds);
      if (rc != CURLM_OK) {
        return absl::InternalError(
            absl::StrCat("curl_multi_poll: ", curl_multi_strerror(rc)));
      }
    }
  }

  void CancelAll(const std::string& reason,
                 std::vector<Completion>* done) override {
    const absl::Time now = clock_->Now();
    in_flight_ -= static_cast<int>(immediate_.size());
    for (Completion& c : immediate_) done->push_back(std::move(c));
    immediate_.clear();
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (!s.busy) continue;
      curl_multi_remove_handle(multi_, s.easy);
      s.busy = false;
      --in_flight_;
      Completion c;
      c.id = s.id;
      c.slot = static_cast<int>(i);
      c.total = now - s.started;
      c.bytes_received = s.body_bytes;
      c.result = ResultClass::kTimeout;
      c.error = reason;
      done->push_back(std::move(c));
    }
  }

  int InFlight() const override { return in_flight_; }

 private:
  // Points slot `s` at the step `req.spec`: its URL (resolved against the
  // target, validated like one, its host checked against the allowlist),
  // headers, method and body. Returns the Completion of a step that must
  // not be sent.
  std::optional<Completion> PrepareStep(const StartRequest& req, Slot* s) {
    const RequestSpec& spec = *req.spec;
    if (spec.url != s->step_url_in || s->step_url_in.empty()) {
      s->step_url_in.clear();
      if (std::optional<Completion> refused = PointAt(spec, s)) {
        return refused;
      }
      s->step_url_in = spec.url;
    }
    if (s->step_headers == nullptr || spec.headers != s->step_header_lines) {
      if (s->step_headers != nullptr) curl_slist_free_all(s->step_headers);
      s->step_headers = nullptr;
      for (curl_slist* h = headers_; h != nullptr; h = h->next) {
        s->step_headers = curl_slist_append(s->step_headers, h->data);
      }
      for (const std::string& line : spec.headers) {
        s->step_headers = curl_slist_append(s->step_headers, line.c_str());
      }
      curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->step_headers);
      s->step_header_lines = spec.headers;
    }
    return SetMethodAndBody(spec, s);
  }

  // Resolves, validates and allowlist-checks spec.url and sets it on `s`;
  // the Completion of a step that must not be sent otherwise.
  std::optional<Completion> PointAt(const RequestSpec& spec, Slot* s) {
    Completion fail;
    // A URL built from variables is not quoted: a variable may hold a
    // secret.
    const std::string shown = spec.url_from_variables
                                  ? "the step's URL (built from variables)"
                                  : absl::StrCat("\"", spec.url, "\"");
    UrlPtr u(curl_url());
    CURLUcode rc = u == nullptr
                       ? CURLUE_OUT_OF_MEMORY
                       : curl_url_set(u.get(), CURLUPART_URL, url_.c_str(), 0);
    if (rc == CURLUE_OK) {
      rc = curl_url_set(u.get(), CURLUPART_URL, spec.url.c_str(), 0);
    }
    const std::string scheme =
        rc == CURLUE_OK
            ? absl::AsciiStrToLower(UrlPart(u.get(), CURLUPART_SCHEME))
            : "";
    const std::string host =
        rc == CURLUE_OK ? UrlPart(u.get(), CURLUPART_HOST) : "";
    if (rc != CURLUE_OK || (scheme != "http" && scheme != "https") ||
        host.empty()) {
      fail.result = ResultClass::kOther;
      fail.error = absl::StrCat(
          shown, " is not a valid http(s) URL",
          rc != CURLUE_OK ? absl::StrCat(": ", curl_url_strerror(rc)) : "");
      return fail;
    }
    const int port = UrlPort(u.get());
    s->step_name_allowed = s->target_name_allowed;
    if (!absl::EqualsIgnoreCase(host, base_host_) || port != base_port_) {
      absl::StatusOr<Allowlist::HostDecision> decision =
          allowlist_.CheckHost(host, port);
      if (!decision.ok()) {
        fail.result = ResultClass::kConnect;
        fail.error =
            spec.url_from_variables
                ? absl::StrCat(shown, " is not allowed by the allowlist")
                : std::string(decision.status().message());
        return fail;
      }
      s->step_name_allowed = *decision == Allowlist::HostDecision::kAllowedName;
    }
    const std::string url = UrlPart(u.get(), CURLUPART_URL);
    curl_easy_setopt(s->easy, CURLOPT_URL, url.c_str());  // libcurl copies
    return std::nullopt;
  }

  // The step's method and body, its checks and what the slot keeps.
  std::optional<Completion> SetMethodAndBody(const RequestSpec& spec, Slot* s) {
    const config::HttpConfig& checks = *spec.checks;
    // Method and body, from a clean GET.
    curl_easy_setopt(s->easy, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST,
                     static_cast<char*>(nullptr));
    curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
    if (checks.method == "HEAD") {
      curl_easy_setopt(s->easy, CURLOPT_NOBODY, 1L);
    } else if (checks.method != "GET" || !spec.body.empty()) {
      if (!spec.body.empty() || checks.method == "POST") {
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(spec.body.size()));
        // Not copied: the spec outlives the request (StartRequest::spec).
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, spec.body.c_str());
      }
      if (checks.method != "POST") {
        curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, checks.method.c_str());
      }
    }
    s->checks = &checks;
    s->keep_response = spec.keep_response;
    s->keep_body = NeedsBody(checks) || spec.keep_response;
    s->keep_headers = NeedsHeaders(checks) || spec.keep_response;
    return std::nullopt;
  }

  // Options every slot shares: parsed once per burst.
  absl::Status BuildSharedOptions(const Target& target) {
    url_ = target.url;
    const config::HttpConfig& http = module_.http;
    bool has_host = false;
    bool has_user_agent = false;
    for (const auto& [name, value] : http.headers) {
      has_host = has_host || absl::EqualsIgnoreCase(name, "Host");
      has_user_agent =
          has_user_agent || absl::EqualsIgnoreCase(name, "User-Agent");
      headers_ =
          curl_slist_append(headers_, absl::StrCat(name, ": ", value).c_str());
    }
    if (!has_user_agent) {
      headers_ = curl_slist_append(
          headers_, absl::StrCat("User-Agent: ", kUserAgent).c_str());
    }
    if (!http.tls.server_name.empty()) {
      // libcurl has no SNI override: address the server by server_name and
      // map that name to the real host, keeping the original Host header.
      const std::string& host = target.host;
      const std::string port = absl::StrCat(target.port);
      if (!has_host) {
        headers_ = curl_slist_append(
            headers_,
            absl::StrCat("Host: ", host,
                         target.port_text.empty() ? "" : ":" + target.port_text)
                .c_str());
      }
      connect_to_ = curl_slist_append(
          connect_to_,
          absl::StrCat(http.tls.server_name, ":", port, ":", host, ":", port)
              .c_str());
      // The one URL edit: the request goes to server_name (libcurl's URL API
      // writes it back as it would have written the target).
      UrlPtr u(curl_url());
      if (u == nullptr || curl_url_set(u.get(), CURLUPART_URL,
                                       target.url.c_str(), 0) != CURLUE_OK) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad target ", target.url));
      }
      curl_url_set(u.get(), CURLUPART_HOST, http.tls.server_name.c_str(), 0);
      url_ = UrlPart(u.get(), CURLUPART_URL);
    }
    // Scenario steps resolve against url_; a step on another host is
    // checked against the allowlist like a target.
    base_host_ =
        http.tls.server_name.empty() ? target.host : http.tls.server_name;
    base_port_ = target.port;
    cookies_ = !module_.steps.empty();
    return absl::OkStatus();
  }

  absl::Status Configure(Slot* s) {
    CURL* e = s->easy;
    const config::HttpConfig& http = module_.http;
    s->keep_body = NeedsBody(http);
    s->keep_headers = NeedsHeaders(http);
    s->body_limit = http.body_size_limit;
    auto set = [&](CURLoption opt, auto value) -> absl::Status {
      CURLcode rc = curl_easy_setopt(e, opt, value);
      if (rc != CURLE_OK) {
        return absl::InternalError(absl::StrCat("curl_easy_setopt(",
                                                static_cast<int>(opt),
                                                "): ", curl_easy_strerror(rc)));
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(set(CURLOPT_URL, url_.c_str()));
    RETURN_IF_ERROR(set(CURLOPT_NOSIGNAL, 1L));
    RETURN_IF_ERROR(set(CURLOPT_PRIVATE, static_cast<void*>(s)));
    RETURN_IF_ERROR(set(CURLOPT_ERRORBUFFER, s->error));
    RETURN_IF_ERROR(set(CURLOPT_WRITEFUNCTION, &OnBody));
    RETURN_IF_ERROR(set(CURLOPT_WRITEDATA, static_cast<void*>(s)));
    // Always: the redirect guard reads Location even when no check needs
    // the headers.
    RETURN_IF_ERROR(set(CURLOPT_HEADERFUNCTION, &OnHeader));
    RETURN_IF_ERROR(set(CURLOPT_HEADERDATA, static_cast<void*>(s)));
    s->allowlist = &allowlist_;
    s->follow_redirects = http.follow_redirects;
    s->target_name_allowed = target_name_allowed_;
    // Through a proxy libcurl connects only to the proxy, which the operator
    // chose; target and redirect hosts are still checked by name.
    if (http.proxy_url.empty()) {
      RETURN_IF_ERROR(set(CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket));
      RETURN_IF_ERROR(set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(s)));
    }
    RETURN_IF_ERROR(set(CURLOPT_PROTOCOLS_STR, "http,https"));
    RETURN_IF_ERROR(set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
    RETURN_IF_ERROR(set(CURLOPT_HTTPHEADER, headers_));
    // A scenario's steps share a session: libcurl's cookie engine, one jar
    // per slot (VU), emptied at each new iteration (Start).
    if (cookies_) RETURN_IF_ERROR(set(CURLOPT_COOKIEFILE, ""));
    if (connect_to_ != nullptr) {
      RETURN_IF_ERROR(set(CURLOPT_CONNECT_TO, connect_to_));
    }
    // Environment proxies never apply; only the module's proxy_url does.
    RETURN_IF_ERROR(set(CURLOPT_PROXY, http.proxy_url.c_str()));
    if (http.proxy_url.empty()) RETURN_IF_ERROR(set(CURLOPT_NOPROXY, "*"));
    // Target credentials (secrets). libcurl drops them on a redirect to
    // another host (no CURLOPT_UNRESTRICTED_AUTH).
    if (!http.bearer_token.empty()) {
      RETURN_IF_ERROR(set(CURLOPT_HTTPAUTH, CURLAUTH_BEARER));
      RETURN_IF_ERROR(set(CURLOPT_XOAUTH2_BEARER, http.bearer_token.c_str()));
    } else if (http.basic_auth.has_value()) {
      RETURN_IF_ERROR(set(CURLOPT_HTTPAUTH, CURLAUTH_BASIC));
      RETURN_IF_ERROR(set(CURLOPT_USERNAME, http.basic_auth->username.c_str()));
      RETURN_IF_ERROR(set(CURLOPT_PASSWORD, http.basic_auth->password.c_str()));
    }
    RETURN_IF_ERROR(
        set(CURLOPT_FOLLOWLOCATION, http.follow_redirects ? 1L : 0L));
    RETURN_IF_ERROR(
        set(CURLOPT_MAXREDIRS, static_cast<long>(http.max_redirects)));
    RETURN_IF_ERROR(set(CURLOPT_HTTP_VERSION,
                        http.http_version == config::HttpVersion::kHttp2
                            ? static_cast<long>(CURL_HTTP_VERSION_2_0)
                            : static_cast<long>(CURL_HTTP_VERSION_1_1)));
    if (!http.reuse_connections) {
      RETURN_IF_ERROR(set(CURLOPT_FRESH_CONNECT, 1L));
      RETURN_IF_ERROR(set(CURLOPT_FORBID_REUSE, 1L));
    }
    // Method and body.
    if (http.method == "HEAD") {
      RETURN_IF_ERROR(set(CURLOPT_NOBODY, 1L));
    } else if (http.method != "GET" || !http.body.empty()) {
      if (!http.body.empty() || http.method == "POST") {
        RETURN_IF_ERROR(set(CURLOPT_POSTFIELDSIZE_LARGE,
                            static_cast<curl_off_t>(http.body.size())));
        RETURN_IF_ERROR(set(CURLOPT_POSTFIELDS, http.body.c_str()));
      }
      if (http.method != "POST") {
        RETURN_IF_ERROR(set(CURLOPT_CUSTOMREQUEST, http.method.c_str()));
      }
    }
    // TLS.
    const config::TlsConfig& tls = http.tls;
    RETURN_IF_ERROR(set(CURLOPT_SSLVERSION, TlsVersion(tls.min_version)));
    if (!tls.ca_file.empty())
      RETURN_IF_ERROR(set(CURLOPT_CAINFO, tls.ca_file.c_str()));
    if (!tls.cert_file.empty())
      RETURN_IF_ERROR(set(CURLOPT_SSLCERT, tls.cert_file.c_str()));
    if (!tls.key_file.empty())
      RETURN_IF_ERROR(set(CURLOPT_SSLKEY, tls.key_file.c_str()));
    if (tls.insecure_skip_verify) {
      RETURN_IF_ERROR(set(CURLOPT_SSL_VERIFYPEER, 0L));
      RETURN_IF_ERROR(set(CURLOPT_SSL_VERIFYHOST, 0L));
    }
    if (absl::StartsWithIgnoreCase(url_, "https:")) {
      RETURN_IF_ERROR(set(CURLOPT_CERTINFO, 1L));
    }
    return absl::OkStatus();
  }

  void Harvest(std::vector<Completion>* done) {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      const CURLcode code = msg->data.result;
      void* priv = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
      Slot* s = static_cast<Slot*>(priv);
      Completion c = Finish(s, code);
      curl_multi_remove_handle(multi_, e);
      s->busy = false;
      --in_flight_;
      done->push_back(std::move(c));
    }
  }

  Completion Finish(Slot* s, CURLcode code) {
    CURL* e = s->easy;
    Completion c;
    c.id = s->id;
    c.slot = static_cast<int>(s - slots_.data());
    c.bytes_received = s->body_bytes;
    curl_off_t dns = 0, conn = 0, app = 0, pre = 0, ttfb = 0, total = 0;
    curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
    curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
    long connects = 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    c.new_connection = connects > 0;
    c.total = total > 0 ? Micros(total) : clock_->Now() - s->started;
    auto phase = [&c](Phase p) -> absl::Duration& {
      return c.phases[static_cast<int>(p)];
    };
    if (c.new_connection) {
      phase(Phase::kResolve) = Micros(dns);
      phase(Phase::kConnect) = Micros(conn - dns);
      if (app > 0) phase(Phase::kTls) = Micros(app - conn);
    }
    if (ttfb > 0) {
      phase(Phase::kProcessing) = Micros(ttfb - std::max({pre, app, conn}));
      phase(Phase::kTransfer) = Micros(total - ttfb);
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    c.status_code = static_cast<int>(status);
    if (c.new_connection && app > 0) c.cert_expiry = EarliestExpiry(e);
    if (code != CURLE_OK && !s->refused.empty()) {
      // Stopped by the allowlist (docs/reliability.md): nothing was sent
      // to the refused address.
      c.result = ResultClass::kConnect;
      c.error = s->refused;
      return c;
    }
    if (code != CURLE_OK) {
      c.result = ClassifyCurlCode(code);
      c.error = s->error[0] != '\0' ? std::string(s->error)
                                    : std::string(curl_easy_strerror(code));
      // libcurl says CURLE_RECV_ERROR for a socket error and for a body it
      // cannot decode (bad chunked encoding) alike; only the first sets
      // errno. Past its response-header limit (100 KiB) it says
      // CURLE_OUT_OF_MEMORY. Both are a malformed answer of the target.
      long os_errno = 0;
      curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
      if (code == CURLE_RECV_ERROR && os_errno == 0) {
        c.result = ResultClass::kProtocol;
      } else if (code == CURLE_OUT_OF_MEMORY) {
        c.result = ResultClass::kProtocol;
        c.error = "response header too large (libcurl: out of memory)";
      }
      return c;
    }
    c.result =
        CheckResponse(c.status_code, s->headers, s->body, *s->checks, &c.error);
    if (s->keep_response) {
      c.body = std::move(s->body);
      c.headers = std::move(s->headers);
    }
    return c;
  }

  static std::optional<absl::Time> EarliestExpiry(CURL* e) {
    struct curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &info) != CURLE_OK ||
        info == nullptr) {
      return std::nullopt;
    }
    std::optional<absl::Time> earliest;
    for (int i = 0; i < info->num_of_certs; ++i) {
      for (curl_slist* l = info->certinfo[i]; l != nullptr; l = l->next) {
        absl::string_view line(l->data);
        if (!absl::ConsumePrefix(&line, "Expire date:")) continue;
        std::optional<absl::Time> t = ParseCertDate(line);
        if (t.has_value() && (!earliest.has_value() || *t < *earliest)) {
          earliest = t;
        }
      }
    }
    return earliest;
  }

  const config::Module& module_;
  Clock* clock_;
  const Allowlist allowlist_;
  bool target_name_allowed_ = false;
  std::string url_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  curl_slist* connect_to_ = nullptr;
  std::vector<Slot> slots_;
  int in_flight_ = 0;
  // Scenario steps.
  std::string base_host_;  // the host of url_, and its port
  int base_port_ = 0;
  bool cookies_ = false;
  std::vector<Completion> immediate_;  // steps refused before sending
};

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> NewCurlTransport(
    const Target& target, const config::Module& module, int slots, Clock* clock,
    const Allowlist* allowlist) {
  auto t = std::make_unique<CurlTransportImpl>(
      module, clock, allowlist != nullptr ? *allowlist : Allowlist());
  RETURN_IF_ERROR(t->Init(target, slots));
  return std::unique_ptr<Transport>(std::move(t));
}

absl::StatusOr<Target> ParseTarget(absl::string_view target) {
  if (target.empty()) return absl::InvalidArgumentError("target is empty");
  std::string text(target);
  if (!absl::StrContains(text, "://")) text = absl::StrCat("http://", text);
  UrlPtr u(curl_url());
  if (u == nullptr) return absl::InternalError("curl_url failed");
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target \"", target, "\" is not a valid URL: ", curl_url_strerror(rc)));
  }
  Target out;
  out.scheme = absl::AsciiStrToLower(UrlPart(u.get(), CURLUPART_SCHEME));
  if (out.scheme != "http" && out.scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("target \"", target, "\" has scheme \"", out.scheme,
                     "\"; only http and https are supported"));
  }
  out.host = UrlPart(u.get(), CURLUPART_HOST);
  if (out.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("target \"", target, "\" has no host"));
  }
  out.url = UrlPart(u.get(), CURLUPART_URL);
  out.port = UrlPort(u.get());
  out.port_text = UrlPart(u.get(), CURLUPART_PORT);
  out.path_and_query = UrlPart(u.get(), CURLUPART_PATH);
  if (out.path_and_query.empty()) out.path_and_query = "/";
  if (std::string query = UrlPart(u.get(), CURLUPART_QUERY); !query.empty()) {
    absl::StrAppend(&out.path_and_query, "?", query);
  }
  return out;
}

absl::StatusOr<std::string> NormalizeTarget(absl::string_view target) {
  ASSIGN_OR_RETURN(Target t, ParseTarget(target));
  return std::move(t.url);
}

absl::Status GlobalInit() {
  // With CURLOPT_NOSIGNAL libcurl leaves SIGPIPE to the application: a
  // target that hangs up while a request (or a TLS record) is being written
  // must fail that request, not kill the process.
  static const bool sigpipe_ignored = [] {
    struct sigaction old {};
    if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      signal(SIGPIPE, SIG_IGN);
    }
    return true;
  }();
  (void)sigpipe_ignored;
  static CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("curl_global_init: ", curl_easy_strerror(rc)));
  }
  return absl::OkStatus();
}

}  // namespace canary::probes
