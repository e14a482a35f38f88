#include "config/redact.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/redact_url.h"
#include "config/secrets.h"

namespace canary::config {
namespace {

// A TOML basic string.
std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

// absl writes zero as "0", which the loader's Go-style parser may reject.
std::string Duration(absl::Duration d) {
  return Quote(d == absl::ZeroDuration() ? "0s" : absl::FormatDuration(d));
}

const char* TlsVersionName(TlsConfig::Version v) {
  switch (v) {
    case TlsConfig::Version::kTls10:
      return "TLS10";
    case TlsConfig::Version::kTls11:
      return "TLS11";
    case TlsConfig::Version::kTls12:
      return "TLS12";
    case TlsConfig::Version::kTls13:
      return "TLS13";
  }
  return "TLS12";
}

std::string Regexps(const std::vector<Regexp>& res) {
  std::vector<std::string> out;
  for (const Regexp& re : res) out.push_back(Quote(re.pattern));
  return absl::StrCat("[", absl::StrJoin(out, ", "), "]");
}

std::string HeaderMatches(const std::vector<HeaderMatch>& matches) {
  std::vector<std::string> out;
  for (const HeaderMatch& m : matches) {
    out.push_back(absl::StrCat(
        "{ header = ", Quote(m.header), ", regexp = ", Quote(m.regexp.pattern),
        ", allow_missing = ", m.allow_missing ? "true" : "false", " }"));
  }
  return absl::StrCat("[", absl::StrJoin(out, ", "), "]");
}

}  // namespace

std::string RedactHeaderValue(absl::string_view name, absl::string_view value) {
  return IsSecretHeader(name) ? kSecretPlaceholder : std::string(value);
}

std::string RedactUrl(absl::string_view url) {
  return RedactUrlUserinfo(url, kSecretPlaceholder);
}

std::string RenderModule(const Module& m) {
  const std::string table = absl::StrCat("modules.", m.name);
  std::string out = absl::StrCat("[", table, "]\n");
  absl::StrAppend(&out, "timeout = ", Duration(m.timeout), "\n");
  std::vector<std::string> thresholds;
  for (const Threshold& t : m.thresholds) thresholds.push_back(Quote(t.source));
  absl::StrAppend(&out, "thresholds = [", absl::StrJoin(thresholds, ", "),
                  "]\n");
  absl::StrAppend(&out, "buckets = [", absl::StrJoin(m.buckets, ", "), "]\n");

  const BurstConfig& b = m.burst;
  absl::StrAppend(&out, "\n[", table, ".burst]\nvus = ", b.vus, "\n");
  if (b.open_model()) {
    absl::StrAppend(&out, "rate = ", b.rate, "\n");
  } else {
    absl::StrAppend(&out, "think_time = ", Duration(b.think_time), "\n");
  }
  if (b.duration.has_value()) {
    absl::StrAppend(&out, "duration = ", Duration(*b.duration), "\n");
  }
  if (b.requests.has_value()) {
    absl::StrAppend(&out, "requests = ", *b.requests, "\n");
  }

  const HttpConfig& h = m.http;
  absl::StrAppend(&out, "\n[", table, ".http]\nmethod = ", Quote(h.method),
                  "\n");
  std::vector<std::string> headers;
  for (const auto& [name, value] : h.headers) {
    headers.push_back(absl::StrCat(Quote(name), " = ",
                                   Quote(RedactHeaderValue(name, value))));
  }
  absl::StrAppend(&out, "headers = { ", absl::StrJoin(headers, ", "),
                  headers.empty() ? "}\n" : " }\n");
  if (!h.body_file.empty()) {
    absl::StrAppend(&out, "body_file = ", Quote(h.body_file), "\n");
  } else if (h.body.empty()) {
    absl::StrAppend(&out, "body = \"\"\n");
  } else {
    absl::StrAppend(&out, "body = ", Quote(kSecretPlaceholder), "  # ",
                    h.body.size(), " bytes\n");
  }
  absl::StrAppend(&out, "valid_status_codes = [",
                  absl::StrJoin(h.valid_status_codes, ", "), "]\n");
  absl::StrAppend(&out, "fail_if_body_matches_regexp = ",
                  Regexps(h.fail_if_body_matches_regexp), "\n");
  absl::StrAppend(&out, "fail_if_body_not_matches_regexp = ",
                  Regexps(h.fail_if_body_not_matches_regexp), "\n");
  absl::StrAppend(&out, "fail_if_header_matches = ",
                  HeaderMatches(h.fail_if_header_matches), "\n");
  absl::StrAppend(&out, "fail_if_header_not_matches = ",
                  HeaderMatches(h.fail_if_header_not_matches), "\n");
  absl::StrAppend(
      &out, "follow_redirects = ", h.follow_redirects ? "true" : "false", "\n");
  absl::StrAppend(&out, "max_redirects = ", h.max_redirects, "\n");
  absl::StrAppend(&out, "http_version = ",
                  Quote(h.http_version == HttpVersion::kHttp2 ? "2" : "1.1"),
                  "\n");
  absl::StrAppend(&out, "reuse_connections = ",
                  h.reuse_connections ? "true" : "false", "\n");
  if (h.body_size_limit.has_value()) {
    absl::StrAppend(&out, "body_size_limit = ", *h.body_size_limit, "\n");
  }
  if (!h.valid_http_versions.empty()) {
    std::vector<std::string> versions;
    for (HttpVersion v : h.valid_http_versions) {
      versions.push_back(Quote(v == HttpVersion::kHttp1_0   ? "HTTP/1.0"
                               : v == HttpVersion::kHttp1_1 ? "HTTP/1.1"
                                                            : "HTTP/2.0"));
    }
    absl::StrAppend(&out, "valid_http_versions = [",
                    absl::StrJoin(versions, ", "), "]\n");
  }
  static constexpr const char* kCompression[] = {"", "gzip", "deflate", "br",
                                                 "identity"};
  absl::StrAppend(&out, "compression = ",
                  Quote(kCompression[static_cast<int>(h.compression)]), "\n");
  absl::StrAppend(&out, "fail_if_ssl = ", h.fail_if_ssl ? "true" : "false",
                  "\nfail_if_not_ssl = ", h.fail_if_not_ssl ? "true" : "false",
                  "\n");
  if (h.ip_protocol != IpProtocol::kAny) {
    absl::StrAppend(&out, "ip_protocol = ",
                    Quote(h.ip_protocol == IpProtocol::kIp4 ? "ip4" : "ip6"),
                    "\nip_protocol_fallback = ",
                    h.ip_protocol_fallback ? "true" : "false", "\n");
  }
  absl::StrAppend(&out, "proxy_url = ", Quote(RedactUrl(h.proxy_url)), "\n");
  if (!h.bearer_token.empty()) {
    absl::StrAppend(&out, "bearer_token = ", Quote(kSecretPlaceholder), "\n");
  }
  if (h.basic_auth.has_value()) {
    absl::StrAppend(&out,
                    "basic_auth = { username = ", Quote(h.basic_auth->username),
                    ", password = ", Quote(kSecretPlaceholder), " }\n");
  }

  const TlsConfig& tls = h.tls;
  absl::StrAppend(&out, "\n[", table, ".http.tls]\n");
  // Unset files are left out: the loader rejects an empty path.
  for (const auto& [key, file] : {std::pair{"ca_file", &tls.ca_file},
                                  std::pair{"cert_file", &tls.cert_file},
                                  std::pair{"key_file", &tls.key_file}}) {
    if (!file->empty()) absl::StrAppend(&out, key, " = ", Quote(*file), "\n");
  }
  absl::StrAppend(&out, "server_name = ", Quote(tls.server_name), "\n");
  absl::StrAppend(&out, "insecure_skip_verify = ",
                  tls.insecure_skip_verify ? "true" : "false", "\n");
  absl::StrAppend(
      &out, "min_version = ", Quote(TlsVersionName(tls.min_version)), "\n");
  if (tls.max_version.has_value()) {
    absl::StrAppend(
        &out, "max_version = ", Quote(TlsVersionName(*tls.max_version)), "\n");
  }
  // Scenario steps: templates as written (a ${var} is a name, never its
  // value), secret headers and bodies as the module's.
  for (const Step& st : m.steps) {
    absl::StrAppend(&out, "\n[[modules.", m.name, ".steps]]\n");
    absl::StrAppend(&out, "name = ", Quote(st.name), "\n");
    absl::StrAppend(&out, "method = ", Quote(st.checks.method), "\n");
    absl::StrAppend(&out, "url = ", Quote(st.url.source), "\n");
    std::vector<std::string> step_headers;
    for (const auto& [name, value] : st.headers) {
      step_headers.push_back(absl::StrCat(
          Quote(name), " = ",
          Quote(IsSecretHeader(name) ? kSecretPlaceholder : value.source)));
    }
    if (!step_headers.empty()) {
      absl::StrAppend(&out, "headers = { ", absl::StrJoin(step_headers, ", "),
                      " }\n");
    }
    if (!st.body.source.empty()) {
      absl::StrAppend(&out, "body = ", Quote(kSecretPlaceholder), "  # ",
                      st.body.source.size(), " bytes\n");
    }
    if (st.optional) absl::StrAppend(&out, "optional = true\n");
    std::vector<std::string> vars;
    for (const Extraction& e : st.extract) vars.push_back(e.var);
    if (!vars.empty()) {
      absl::StrAppend(&out, "# extracts ", absl::StrJoin(vars, ", "), "\n");
    }
  }
  return out;
}

std::string RenderWeb(const WebConfig& web) {
  std::string out;
  if (web.tls_enabled()) {
    absl::StrAppend(&out, "tls_cert_file = ", Quote(web.tls_cert_file), "\n");
    absl::StrAppend(&out, "tls_key_file = ", Quote(web.tls_key_file), "\n");
    if (!web.tls_client_ca_file.empty()) {
      absl::StrAppend(
          &out, "tls_client_ca_file = ", Quote(web.tls_client_ca_file), "\n");
    }
    absl::StrAppend(&out, "tls_min_version = ",
                    Quote(TlsVersionName(web.tls_min_version)), "\n");
  }
  if (!web.basic_auth_users.empty()) {
    std::vector<std::string> users;
    for (const auto& [user, hash] : web.basic_auth_users) {
      users.push_back(
          absl::StrCat(Quote(user), " = ", Quote(kSecretPlaceholder)));
    }
    absl::StrAppend(&out, "basic_auth_users = { ", absl::StrJoin(users, ", "),
                    " }\n");
  }
  const WebConfig defaults;
  if (web.max_connections != defaults.max_connections) {
    absl::StrAppend(&out, "max_connections = ", web.max_connections, "\n");
  }
  if (web.max_connections_per_client != defaults.max_connections_per_client) {
    absl::StrAppend(&out, "max_connections_per_client = ",
                    web.max_connections_per_client, "\n");
  }
  if (web.request_head_timeout != defaults.request_head_timeout) {
    absl::StrAppend(&out, "request_head_timeout = ",
                    Duration(web.request_head_timeout), "\n");
  }
  return out.empty() ? out : absl::StrCat("[web]\n", out);
}

std::string RenderConfig(const Config& config) {
  std::vector<std::string> parts;
  if (std::string web = RenderWeb(config.web); !web.empty()) {
    parts.push_back(std::move(web));
  }
  for (const auto& [name, module] : config.modules) {
    parts.push_back(RenderModule(module));
  }
  return absl::StrJoin(parts, "\n");
}

}  // namespace canary::config
