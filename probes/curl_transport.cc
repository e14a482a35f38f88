// The one file that includes libcurl.
#include "probes/curl_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/redact_url.h"
#include "base/status_macros.h"
#include "probes/allowlist.h"
#include "probes/target.h"
#include "probes/target_text.h"
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

// CURLOPT_SSLVERSION: the lowest version, or'ed with the highest.
long SslVersion(const config::TlsConfig& tls) {
  long max = CURL_SSLVERSION_MAX_DEFAULT;
  if (tls.max_version.has_value()) {
    switch (*tls.max_version) {
      case config::TlsConfig::Version::kTls10:
        max = CURL_SSLVERSION_MAX_TLSv1_0;
        break;
      case config::TlsConfig::Version::kTls11:
        max = CURL_SSLVERSION_MAX_TLSv1_1;
        break;
      case config::TlsConfig::Version::kTls12:
        max = CURL_SSLVERSION_MAX_TLSv1_2;
        break;
      case config::TlsConfig::Version::kTls13:
        max = CURL_SSLVERSION_MAX_TLSv1_3;
        break;
    }
  }
  return TlsVersion(tls.min_version) | max;
}

// CURLOPT_ACCEPT_ENCODING of `compression`; null: no Accept-Encoding, no
// decoding.
const char* AcceptEncoding(config::Compression c) {
  switch (c) {
    case config::Compression::kNone:
      return nullptr;
    case config::Compression::kGzip:
      return "gzip";
    case config::Compression::kDeflate:
      return "deflate";
    case config::Compression::kBr:
      return "br";
    case config::Compression::kIdentity:
      return "identity";
  }
  return nullptr;
}

long IpResolve(config::IpProtocol p) {
  switch (p) {
    case config::IpProtocol::kAny:
      return CURL_IPRESOLVE_WHATEVER;
    case config::IpProtocol::kIp4:
      return CURL_IPRESOLVE_V4;
    case config::IpProtocol::kIp6:
      return CURL_IPRESOLVE_V6;
  }
  return CURL_IPRESOLVE_WHATEVER;
}

// CURLINFO_HTTP_VERSION as a valid_http_versions entry.
std::optional<config::HttpVersion> ResponseVersion(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0:
      return config::HttpVersion::kHttp1_0;
    case CURL_HTTP_VERSION_1_1:
      return config::HttpVersion::kHttp1_1;
    case CURL_HTTP_VERSION_2_0:
      return config::HttpVersion::kHttp2;
    default:
      return std::nullopt;
  }
}

// One VU's easy handle and the state of its current request.
struct Slot {
  CURL* easy = nullptr;
  bool busy = false;
  uint64_t id = 0;
  absl::Time started;
  int64_t body_bytes = 0;
  int64_t body_limit = 0;  // bytes kept for the checks
  // body_size_limit: more body bytes fail the request; -1: no limit.
  int64_t body_fail_limit = -1;
  bool body_too_large = false;
  // Time spent on a first attempt in the preferred IP family, when the name
  // had no address in it and the request started over in the other.
  absl::Duration fallback_delay;
  long ip_resolve = CURL_IPRESOLVE_WHATEVER;  // this request's family
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
  // blackbox_exporter's TLS facts (module.metrics.blackbox_compat): read
  // once per TLS session, at the status line of each response, while the
  // connection is attached to the handle.
  bool want_tls_facts = false;
  const void* tls_session = nullptr;  // the SSL* `tls_facts` describe
  std::shared_ptr<const TlsFacts> tls_facts;
  std::shared_ptr<const TlsFacts> response_tls;  // of the latest response
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

// OpenSSL's text of `name` in RFC 2253 form (as Go prints a pkix.Name),
// UTF-8 kept as is.
std::string NameText(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()),
                                                &BIO_free);
  if (bio == nullptr || name == nullptr) return "";
  X509_NAME_print_ex(bio.get(), name, 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : "";
}

std::optional<absl::Time> NotAfter(const X509* cert) {
  struct tm tm {};
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return absl::FromTimeT(timegm(&tm));
}

// Reads what blackbox_exporter reports of a TLS session: version, leaf
// certificate, expiry of the verified chain.
std::shared_ptr<const TlsFacts> ReadTlsFacts(const SSL* ssl) {
  auto facts = std::make_shared<TlsFacts>();
  switch (SSL_version(ssl)) {
    case TLS1_VERSION:
      facts->version = "TLS 1.0";
      break;
    case TLS1_1_VERSION:
      facts->version = "TLS 1.1";
      break;
    case TLS1_2_VERSION:
      facts->version = "TLS 1.2";
      break;
    case TLS1_3_VERSION:
      facts->version = "TLS 1.3";
      break;
    default:
      facts->version = "unknown";
  }
  if (const X509* leaf = SSL_get0_peer_certificate(ssl); leaf != nullptr) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(leaf, EVP_sha256(), md, &len) == 1) {
      facts->fingerprint_sha256 = absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(md), static_cast<size_t>(len)));
    }
    facts->subject = NameText(X509_get_subject_name(leaf));
    facts->issuer = NameText(X509_get_issuer_name(leaf));
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), nullptr);
        bn != nullptr) {
      if (char* hex = BN_bn2hex(bn); hex != nullptr) {
        absl::string_view digits(hex);
        while (digits.size() > 1 && digits.front() == '0') {
          digits.remove_prefix(1);
        }
        facts->serial_number = absl::AsciiStrToLower(digits);
        OPENSSL_free(hex);
      }
      BN_free(bn);
    }
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
    if (names != nullptr) {
      std::vector<std::string> dns;
      for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_DNS) continue;
        dns.emplace_back(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
            static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
      }
      GENERAL_NAMES_free(names);
      facts->subject_alternative = absl::StrJoin(dns, ",");
    }
  }
  // OpenSSL builds the chain even when libcurl does not enforce the result
  // (insecure_skip_verify); only a chain that verified counts.
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
        chain != nullptr) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        std::optional<absl::Time> t = NotAfter(sk_X509_value(chain, i));
        if (t.has_value() && (!facts->verified_chain_expiry.has_value() ||
                              *t < *facts->verified_chain_expiry)) {
          facts->verified_chain_expiry = t;
        }
      }
    }
  }
  return facts;
}

// At each response's status line: the TLS session it came over, if any.
// A session is read once; the requests that reuse its connection share it.
void CaptureTls(Slot* s) {
  if (!s->want_tls_facts) return;
  const curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(s->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK ||
      info == nullptr || info->backend != CURLSSLBACKEND_OPENSSL ||
      info->internals == nullptr) {
    s->response_tls = nullptr;
    return;
  }
  if (info->internals != s->tls_session || s->tls_facts == nullptr) {
    s->tls_session = info->internals;
    s->tls_facts = ReadTlsFacts(static_cast<const SSL*>(info->internals));
  }
  s->response_tls = s->tls_facts;
}

int HttpVersionTimesTen(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0:
      return 10;
    case CURL_HTTP_VERSION_1_1:
      return 11;
    case CURL_HTTP_VERSION_2_0:
      return 20;
    case CURL_HTTP_VERSION_3:
      return 30;
    default:
      return 0;
  }
}

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
  if (slot->body_fail_limit >= 0 && slot->body_bytes > slot->body_fail_limit) {
    slot->body_too_large = true;
    return 0;  // a short count stops the transfer (CURLE_WRITE_ERROR)
  }
  if (slot->keep_body) {
    const int64_t room =
        slot->body_limit - static_cast<int64_t>(slot->body.size());
    if (room > 0) {
      slot->body.append(data,
                        static_cast<size_t>(std::min<int64_t>(room, len)));
    }
  }
  // Bytes past what the checks need are counted and dropped: the transfer
  // goes on so its time is still measured.
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
    CaptureTls(slot);
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// blackbox_exporter decodes the target once more (url.QueryUnescape), so a
// ':' percent-encoded twice on its way (a relabelled __param_target, Alloy)
// still separates host and port. Only host:port is decoded here: escapes in
// userinfo, path and query keep their meaning. A target without "://" is
// decoded up to its first '/', '?' or '#', which also turns a whole URL
// encoded once more back into a URL, as blackbox does. A malformed escape
// leaves the text as it is (libcurl then says what is wrong).
void DecodeHostPort(std::string* text) {
  const size_t scheme = text->find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t end = std::min(text->find_first_of("/?#", start), text->size());
  const size_t at = text->substr(start, end - start).rfind('@');
  size_t from = at == std::string::npos ? start : start + at + 1;
  if (from < end && (*text)[from] == '[') {  // an IPv6 literal keeps its %25
    from = std::min(text->find(']', from), end);
  }
  const absl::string_view part =
      absl::string_view(*text).substr(from, end - from);
  if (!absl::StrContains(part, '%')) return;
  std::string decoded;
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      decoded.push_back(part[i]);
      continue;
    }
    const int hi = i + 2 < part.size() ? HexValue(part[i + 1]) : -1;
    const int lo = i + 2 < part.size() ? HexValue(part[i + 2]) : -1;
    if (hi < 0 || lo < 0) return;
    // Never a control byte: ParseTarget refused those, raw or encoded.
    decoded.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  text->replace(from, end - from, decoded);
  return;
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
    ChooseIpFamily(target.host);
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
    s.body_too_large = false;
    s.fallback_delay = absl::ZeroDuration();
    s.ip_resolve = ip_resolve_;
    curl_easy_setopt(s.easy, CURLOPT_IPRESOLVE, s.ip_resolve);
    // A new iteration starts a new session (probes/transport.h): the jar is
    // emptied. Cookies set during a request are sent on its redirects and,
    // until the next new iteration, on the slot's next requests.
    if (req.new_iteration) curl_easy_setopt(s.easy, CURLOPT_COOKIELIST, "ALL");
    s.response_tls = nullptr;
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
            absl::StrCat("bad target ", target.redacted_url));
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
    s->body_limit = http.kept_body_limit();
    s->body_fail_limit = http.body_size_limit.value_or(-1);
    s->want_tls_facts = module_.metrics.blackbox_compat;
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
    // libcurl's cookie engine, in memory only: one jar per slot (VU), so a
    // cookie set on a redirect is sent on the redirected request, as
    // blackbox_exporter's per-probe jar does.
    RETURN_IF_ERROR(set(CURLOPT_COOKIEFILE, ""));
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
    // libcurl decodes what it asked for: the checks and body_size_limit
    // see the decompressed body.
    if (const char* encoding = AcceptEncoding(http.compression)) {
      RETURN_IF_ERROR(set(CURLOPT_ACCEPT_ENCODING, encoding));
    }
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
    RETURN_IF_ERROR(set(CURLOPT_SSLVERSION, SslVersion(tls)));
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
      curl_multi_remove_handle(multi_, e);
      if (code == CURLE_COULDNT_RESOLVE_HOST && FallBack(s)) continue;
      Completion c = Finish(s, code);
      s->busy = false;
      --in_flight_;
      done->push_back(std::move(c));
    }
  }

  // ip_protocol for the target. libcurl resolves a name in the family
  // CURLOPT_IPRESOLVE says (FallBack handles a name without such address);
  // an IP literal has its family already, and libcurl just finds nothing to
  // connect to: that is decided here, once.
  void ChooseIpFamily(const std::string& host) {
    const config::HttpConfig& http = module_.http;
    ip_resolve_ = IpResolve(http.ip_protocol);
    if (http.ip_protocol == config::IpProtocol::kAny) return;
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
      bare = bare.substr(1, bare.size() - 2);
    }
    unsigned char buf[sizeof(in6_addr)];
    const bool v4 = inet_pton(AF_INET, bare.c_str(), buf) == 1;
    const bool v6 = !v4 && inet_pton(AF_INET6, bare.c_str(), buf) == 1;
    const bool want_v4 = http.ip_protocol == config::IpProtocol::kIp4;
    if ((!v4 && !v6) || v4 == want_v4) return;
    if (http.ip_protocol_fallback) {
      ip_resolve_ = v4 ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6;
    } else {
      family_mismatch_ = absl::StrCat(
          "target ", host, " is not an ", want_v4 ? "IPv4" : "IPv6",
          " address (ip_protocol = \"", want_v4 ? "ip4" : "ip6",
          "\", ip_protocol_fallback = false)");
    }
  }

  // ip_protocol_fallback, as blackbox_exporter: a name without an address
  // in the preferred family is tried in the other. A request that failed
  // so starts over once in the other family (the failed lookup's time stays
  // in its latency and resolve phase), and the burst's later requests go
  // there directly. Requests already in flight in the preferred family
  // (other VUs) fall back each on their own. Returns whether the request
  // started over.
  bool FallBack(Slot* s) {
    const config::HttpConfig& http = module_.http;
    if (!http.ip_protocol_fallback ||
        http.ip_protocol == config::IpProtocol::kAny ||
        s->ip_resolve != IpResolve(http.ip_protocol)) {
      return false;
    }
    ip_resolve_ = http.ip_protocol == config::IpProtocol::kIp6
                      ? CURL_IPRESOLVE_V4
                      : CURL_IPRESOLVE_V6;
    s->ip_resolve = ip_resolve_;
    s->fallback_delay = clock_->Now() - s->started;
    curl_easy_setopt(s->easy, CURLOPT_IPRESOLVE, s->ip_resolve);
    if (curl_multi_add_handle(multi_, s->easy) != CURLM_OK) return false;
    return true;
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
    c.total = total > 0 ? Micros(total) + s->fallback_delay
                        : clock_->Now() - s->started;
    auto phase = [&c](Phase p) -> absl::Duration& {
      return c.phases[static_cast<int>(p)];
    };
    if (c.new_connection) {
      phase(Phase::kResolve) = Micros(dns) + s->fallback_delay;
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
    if (module_.metrics.blackbox_compat) ReadCompat(s, &c);
    if (code != CURLE_OK && !s->refused.empty()) {
      // Stopped by the allowlist (docs/reliability.md): nothing was sent
      // to the refused address.
      c.result = ResultClass::kConnect;
      c.error = s->refused;
      return c;
    }
    if (code == CURLE_COULDNT_CONNECT && !family_mismatch_.empty()) {
      c.result = ResultClass::kDns;
      c.error = family_mismatch_;
      return c;
    }
    if (code == CURLE_WRITE_ERROR && s->body_too_large) {
      c.result = ResultClass::kBodyTooLarge;
      c.error = absl::StrCat("body larger than body_size_limit (",
                             s->body_fail_limit, " bytes)");
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
    if (c.result == ResultClass::kSuccess) {
      long version = 0;
      curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
      char* url = nullptr;
      curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
      c.result = CheckConnection(
          ResponseVersion(version),
          url != nullptr && absl::StartsWithIgnoreCase(url, "https:"),
          module_.http, &c.error);
    }
    if (s->keep_response) {
      c.body = std::move(s->body);
      c.headers = std::move(s->headers);
    }
    return c;
  }

  // What blackbox_exporter's metrics need of this request (result.h
  // CompatFacts): a few getinfo calls, plus the address on a new connection.
  static void ReadCompat(Slot* s, Completion* c) {
    CURL* e = s->easy;
    long version = 0;
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
    c->http_version = HttpVersionTimesTen(version);
    long redirects = 0;
    curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
    c->redirects = static_cast<int>(redirects);
    curl_off_t length = -1;
    curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    c->content_length = static_cast<int64_t>(length);
    if (c->new_connection) {
      char* ip = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);
      if (ip != nullptr) c->address = ip;
    }
    if (c->status_code > 0) c->tls = s->response_tls;
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
  // CURLOPT_IPRESOLVE of the next request (ip_protocol, ChooseIpFamily,
  // FallBack).
  long ip_resolve_ = CURL_IPRESOLVE_WHATEVER;
  // Set when the target is an IP literal of the other family than
  // ip_protocol, without fallback: why every request fails.
  std::string family_mismatch_;
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
  // Before libcurl sees it: its C API would cut the text at a NUL.
  RETURN_IF_ERROR(CheckTargetBytes(target));
  // Every message below shows the target this way, never as given: it may
  // carry a password, and the message goes to logs and 400 answers.
  const std::string shown = RedactTargetText(target);
  std::string text(target);
  DecodeHostPort(&text);
  if (!absl::StrContains(text, "://")) text = absl::StrCat("http://", text);
  UrlPtr u(curl_url());
  if (u == nullptr) return absl::InternalError("curl_url failed");
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target \"", shown, "\" is not a valid URL: ", curl_url_strerror(rc)));
  }
  Target out;
  out.scheme = absl::AsciiStrToLower(UrlPart(u.get(), CURLUPART_SCHEME));
  if (out.scheme != "http" && out.scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("target \"", shown, "\" has scheme \"", out.scheme,
                     "\"; only http and https are supported"));
  }
  out.host = UrlPart(u.get(), CURLUPART_HOST);
  if (out.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("target \"", shown, "\" has no host"));
  }
  out.url = UrlPart(u.get(), CURLUPART_URL);
  out.redacted_url = RedactUrlUserinfo(out.url);
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
