#include "config/blackbox_yaml.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "base/escape.h"
#include "base/status_macros.h"
#include "config/loader.h"

namespace canary::config {
namespace {

// blackbox http options with no equivalent here, and why; each becomes a
// note instead of an error.
const std::map<std::string, std::string>& UnsupportedHttpOptions() {
  static const auto* const kOptions = new std::map<std::string, std::string>{
      {"oauth2", "OAuth 2.0 client credentials are not supported"},
      {"authorization",
       "use bearer_token or a headers.Authorization value instead"},
      {"fail_if_body_json_matches_cel", "CEL body checks are not supported"},
      {"fail_if_body_json_not_matches_cel",
       "CEL body checks are not supported"},
      {"no_proxy", "no per-host proxy exceptions; proxy_url applies to all"},
      {"proxy_from_environment",
       "proxy environment variables are always ignored; set proxy_url"},
      {"proxy_connect_header",
       "CONNECT headers for the proxy are not "
       "supported"},
      {"skip_resolve_phase_with_proxy",
       "the resolve phase is always libcurl's own"},
      {"http_headers", "use headers (values inline or from the TOML file)"},
      {"follow_redirects_same_host", "not supported"},
  };
  return *kOptions;
}

const std::map<std::string, std::string>& UnsupportedTlsOptions() {
  static const auto* const kOptions = new std::map<std::string, std::string>{
      {"ca", "inline PEM is not supported; write it to a file for ca_file"},
      {"cert", "inline PEM is not supported; write it to a file for cert_file"},
      {"key", "inline PEM is not supported; write it to a file for key_file"},
      {"ca_ref", "secret references are not supported"},
      {"cert_ref", "secret references are not supported"},
      {"key_ref", "secret references are not supported"},
  };
  return *kOptions;
}

// "line:column", 1-based; an empty document has no position: 1:1.
std::string Where(const YAML::Mark& m) {
  if (m.is_null()) return "1:1";
  return absl::StrCat(m.line + 1, ":", m.column + 1);
}

// A TOML basic string (TOML's escapes are JSON's).
std::string Quote(absl::string_view s) { return Quoted(s); }

std::string QuoteAll(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const std::string& s : v) q.push_back(Quote(s));
  return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
}

bool ValidModuleName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// Walks the YAML document; every method that can fail returns a Status
// naming the file, the line, the column and the key path.
class Converter {
 public:
  explicit Converter(absl::string_view filename) : filename_(filename) {}

  absl::StatusOr<BlackboxConversion> Run(const YAML::Node& root);

 private:
  // A module's output and the notes that belong to it.
  struct Section {
    std::vector<std::string> module_lines;
    std::vector<std::string> http_lines;
    std::vector<std::string> tls_lines;
    std::vector<std::string> comments;
  };

  absl::Status Error(const YAML::Node& at, absl::string_view path,
                     absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(filename_, ":", Where(at.Mark()), ": ", path, ": ", what));
  }

  // Records a note; with `comments`, also as a TOML comment there.
  void Note(const YAML::Node& at, absl::string_view text,
            std::vector<std::string>* comments) {
    notes_.push_back(
        absl::StrCat(filename_, ":", at.Mark().line + 1, ": ", text));
    if (comments != nullptr) {
      comments->push_back(absl::StrCat("# not carried over (line ",
                                       at.Mark().line + 1, "): ", text));
    }
  }

  static std::string Kind(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a map";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return absl::StrCat("\"", n.Scalar(), "\"");
    }
  }

  absl::StatusOr<std::string> String(const YAML::Node& n,
                                     absl::string_view path) const {
    if (!n.IsScalar()) {
      return Error(n, path, absl::StrCat("expected a string, got ", Kind(n)));
    }
    return n.Scalar();
  }

  absl::StatusOr<bool> Bool(const YAML::Node& n, absl::string_view path) const {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
      return Error(n, path,
                   absl::StrCat("expected true or false, got ", Kind(n)));
    }
    return b;
  }

  absl::StatusOr<int64_t> Int(const YAML::Node& n,
                              absl::string_view path) const {
    int64_t v = 0;
    if (!n.IsScalar() || !absl::SimpleAtoi(n.Scalar(), &v)) {
      return Error(n, path, absl::StrCat("expected an integer, got ", Kind(n)));
    }
    return v;
  }

  absl::StatusOr<std::vector<std::string>> Strings(
      const YAML::Node& n, absl::string_view path) const {
    std::vector<std::string> out;
    if (n.IsNull()) return out;
    if (!n.IsSequence()) {
      return Error(n, path,
                   absl::StrCat("expected a list of strings, got ", Kind(n)));
    }
    for (size_t i = 0; i < n.size(); ++i) {
      ASSIGN_OR_RETURN(std::string s,
                       String(n[i], absl::StrCat(path, "[", i, "]")));
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<std::string> Duration(const YAML::Node& n,
                                       absl::string_view path) const {
    ASSIGN_OR_RETURN(std::string s, String(n, path));
    absl::Duration d;
    if (!absl::ParseDuration(s, &d) || d <= absl::ZeroDuration() ||
        d == absl::InfiniteDuration()) {
      return Error(
          n, path,
          absl::StrCat("expected a duration such as \"5s\", got \"", s, "\""));
    }
    return s;
  }

  absl::Status Module(const std::string& name, const YAML::Node& key,
                      const YAML::Node& module, std::string* out);
  absl::Status Http(const std::string& path, const YAML::Node& http,
                    Section* section);
  absl::Status Tls(const std::string& path, const YAML::Node& tls,
                   Section* section);
  absl::Status HeaderMatches(const std::string& path, const YAML::Node& n,
                             std::string* out) const;

  std::string filename_;
  std::vector<std::string> notes_;
  std::vector<std::string> skipped_comments_;  // top of the output
  int converted_ = 0;
};

// blackbox's body_size_limit is a Go units.Base2Bytes: "1MB" and "1MiB"
// both mean 1048576.
std::optional<int64_t> ParseBase2Bytes(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  size_t i = 0;
  while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
  int64_t n = 0;
  if (i == 0 || !absl::SimpleAtoi(s.substr(0, i), &n)) return std::nullopt;
  std::string unit = absl::AsciiStrToUpper(s.substr(i));
  absl::StrReplaceAll({{"IB", "B"}}, &unit);
  static const std::map<std::string, int> kShift = {
      {"", 0}, {"B", 0}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"TB", 40}};
  auto it = kShift.find(unit);
  if (it == kShift.end()) return std::nullopt;
  if (it->second > 0 && n > (INT64_MAX >> it->second)) return std::nullopt;
  return n << it->second;
}

absl::Status Converter::HeaderMatches(const std::string& path,
                                      const YAML::Node& n,
                                      std::string* out) const {
  if (n.IsNull()) return absl::OkStatus();
  if (!n.IsSequence()) {
    return Error(n, path, absl::StrCat("expected a list, got ", Kind(n)));
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string item_path = absl::StrCat(path, "[", i, "]");
    const YAML::Node m = n[i];
    if (!m.IsMap()) {
      return Error(m, item_path,
                   absl::StrCat("expected a map {header, regexp, "
                                "allow_missing}, got ",
                                Kind(m)));
    }
    std::string header, regexp;
    bool allow_missing = false;
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string k = it->first.Scalar();
      const std::string kp = absl::StrCat(item_path, ".", k);
      if (k == "header") {
        ASSIGN_OR_RETURN(header, String(it->second, kp));
      } else if (k == "regexp") {
        ASSIGN_OR_RETURN(regexp, String(it->second, kp));
      } else if (k == "allow_missing") {
        ASSIGN_OR_RETURN(allow_missing, Bool(it->second, kp));
      } else {
        return Error(it->first, kp,
                     "unknown key (want header, regexp, allow_missing)");
      }
    }
    if (header.empty()) return Error(m, item_path, "header is required");
    items.push_back(
        absl::StrCat("{ header = ", Quote(header), ", regexp = ", Quote(regexp),
                     allow_missing ? ", allow_missing = true" : "", " }"));
  }
  if (!items.empty()) {
    *out = absl::StrCat("[\n  ", absl::StrJoin(items, ",\n  "), ",\n]");
  }
  return absl::OkStatus();
}

absl::Status Converter::Tls(const std::string& path, const YAML::Node& tls,
                            Section* section) {
  if (tls.IsNull()) return absl::OkStatus();
  if (!tls.IsMap()) {
    return Error(tls, path, absl::StrCat("expected a map, got ", Kind(tls)));
  }
  for (auto it = tls.begin(); it != tls.end(); ++it) {
    const std::string k = it->first.Scalar();
    const std::string kp = absl::StrCat(path, ".", k);
    const YAML::Node v = it->second;  // a copy: `it->` is a proxy
    if (k == "ca_file" || k == "cert_file" || k == "key_file" ||
        k == "server_name") {
      ASSIGN_OR_RETURN(std::string s, String(v, kp));
      if (!s.empty()) section->tls_lines.push_back(k + " = " + Quote(s));
    } else if (k == "insecure_skip_verify") {
      ASSIGN_OR_RETURN(bool b, Bool(v, kp));
      section->tls_lines.push_back(k + " = " + (b ? "true" : "false"));
    } else if (k == "min_version" || k == "max_version") {
      ASSIGN_OR_RETURN(std::string s, String(v, kp));
      static const std::set<std::string> kVersions = {"TLS10", "TLS11", "TLS12",
                                                      "TLS13"};
      if (s.empty()) continue;
      if (kVersions.count(s) == 0) {
        return Error(v, kp,
                     absl::StrCat("expected TLS10, TLS11, TLS12 or TLS13, "
                                  "got \"",
                                  s, "\""));
      }
      section->tls_lines.push_back(k + " = " + Quote(s));
    } else if (auto u = UnsupportedTlsOptions().find(k);
               u != UnsupportedTlsOptions().end()) {
      Note(it->first, absl::StrCat(kp, ": ", u->second), &section->comments);
    } else {
      return Error(it->first, kp, "unknown key of blackbox's tls_config");
    }
  }
  return absl::OkStatus();
}

absl::Status Converter::Http(const std::string& path, const YAML::Node& http,
                             Section* section) {
  if (http.IsNull()) return absl::OkStatus();
  if (!http.IsMap()) {
    return Error(http, path, absl::StrCat("expected a map, got ", Kind(http)));
  }
  std::vector<std::string>& lines = section->http_lines;
  for (auto it = http.begin(); it != http.end(); ++it) {
    const std::string k = it->first.Scalar();
    const std::string kp = absl::StrCat(path, ".", k);
    const YAML::Node v = it->second;  // a copy: `it->` is a proxy
    if (k == "method") {
      ASSIGN_OR_RETURN(std::string m, String(v, kp));
      m = absl::AsciiStrToUpper(m);
      static const std::set<std::string> kMethods = {
          "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
      if (kMethods.count(m) == 0) {
        return Error(v, kp,
                     absl::StrCat("method \"", m,
                                  "\" is not supported (GET, HEAD, POST, "
                                  "PUT, PATCH, DELETE, OPTIONS)"));
      }
      lines.push_back("method = " + Quote(m));
    } else if (k == "headers") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) {
        return Error(v, kp,
                     absl::StrCat("expected a map of header names to "
                                  "values, got ",
                                  Kind(v)));
      }
      std::vector<std::string> pairs;
      for (auto h = v.begin(); h != v.end(); ++h) {
        ASSIGN_OR_RETURN(
            std::string value,
            String(h->second, absl::StrCat(kp, ".", h->first.Scalar())));
        pairs.push_back(
            absl::StrCat(Quote(h->first.Scalar()), " = ", Quote(value)));
      }
      if (!pairs.empty()) {
        lines.push_back(
            absl::StrCat("headers = { ", absl::StrJoin(pairs, ", "), " }"));
      }
    } else if (k == "body" || k == "body_file" || k == "bearer_token" ||
               k == "bearer_token_file" || k == "proxy_url" ||
               k == "compression" || k == "preferred_ip_protocol") {
      ASSIGN_OR_RETURN(std::string s, String(v, kp));
      if (s.empty()) continue;
      if (k == "compression") {
        static const std::set<std::string> kNames = {"gzip", "deflate", "br",
                                                     "identity"};
        if (kNames.count(s) == 0) {
          return Error(v, kp,
                       absl::StrCat("unsupported compression \"", s,
                                    "\" (gzip, deflate, br, identity)"));
        }
      }
      std::string key = k;
      if (k == "preferred_ip_protocol") {
        if (s != "ip4" && s != "ip6") {
          return Error(v, kp,
                       absl::StrCat("expected ip4 or ip6, got \"", s, "\""));
        }
        key = "ip_protocol";
      }
      lines.push_back(key + " = " + Quote(s));
    } else if (k == "valid_http_versions") {
      ASSIGN_OR_RETURN(std::vector<std::string> versions, Strings(v, kp));
      for (size_t i = 0; i < versions.size(); ++i) {
        if (versions[i] != "HTTP/1.0" && versions[i] != "HTTP/1.1" &&
            versions[i] != "HTTP/2.0") {
          return Error(v[i], absl::StrCat(kp, "[", i, "]"),
                       absl::StrCat("expected HTTP/1.0, HTTP/1.1 or HTTP/2.0, "
                                    "got \"",
                                    versions[i], "\""));
        }
      }
      if (!versions.empty()) lines.push_back(k + " = " + QuoteAll(versions));
    } else if (k == "valid_status_codes") {
      if (v.IsNull()) continue;
      if (!v.IsSequence()) {
        return Error(
            v, kp, absl::StrCat("expected a list of integers, got ", Kind(v)));
      }
      std::vector<std::string> codes;
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string ip = absl::StrCat(kp, "[", i, "]");
        ASSIGN_OR_RETURN(int64_t code, Int(v[i], ip));
        if (code < 100 || code > 599) {
          return Error(v[i], ip,
                       absl::StrCat("must be between 100 and 599, got ", code));
        }
        codes.push_back(absl::StrCat(code));
      }
      if (!codes.empty()) {
        lines.push_back(
            absl::StrCat(k, " = [", absl::StrJoin(codes, ", "), "]"));
      }
    } else if (k == "fail_if_body_matches_regexp" ||
               k == "fail_if_body_not_matches_regexp") {
      ASSIGN_OR_RETURN(std::vector<std::string> res, Strings(v, kp));
      if (!res.empty()) lines.push_back(k + " = " + QuoteAll(res));
    } else if (k == "fail_if_header_matches" ||
               k == "fail_if_header_not_matches") {
      std::string list;
      RETURN_IF_ERROR(HeaderMatches(kp, v, &list));
      if (!list.empty()) lines.push_back(k + " = " + list);
    } else if (k == "fail_if_ssl" || k == "fail_if_not_ssl" ||
               k == "ip_protocol_fallback" || k == "follow_redirects") {
      ASSIGN_OR_RETURN(bool b, Bool(v, kp));
      lines.push_back(k + " = " + (b ? "true" : "false"));
    } else if (k == "no_follow_redirects") {
      // The older spelling: its negation is follow_redirects.
      ASSIGN_OR_RETURN(bool b, Bool(v, kp));
      lines.push_back(std::string("follow_redirects = ") +
                      (b ? "false" : "true"));
    } else if (k == "enable_http2") {
      ASSIGN_OR_RETURN(bool b, Bool(v, kp));
      lines.push_back(std::string("http_version = ") +
                      (b ? "\"2\"" : "\"1.1\""));
    } else if (k == "enable_http1") {
      ASSIGN_OR_RETURN(bool b, Bool(v, kp));
      if (!b) {
        Note(it->first,
             absl::StrCat(kp,
                          ": HTTP/1.1 cannot be turned off; use "
                          "valid_http_versions to fail on it"),
             &section->comments);
      }
    } else if (k == "body_size_limit") {
      ASSIGN_OR_RETURN(std::string s, String(v, kp));
      std::optional<int64_t> bytes = ParseBase2Bytes(s);
      if (!bytes.has_value()) {
        return Error(v, kp,
                     absl::StrCat("expected a size such as \"1MB\" or "
                                  "\"512KiB\", got \"",
                                  s, "\""));
      }
      if (*bytes == 0) {
        // blackbox: 0 = no limit; ours must be a size.
        Note(it->first,
             absl::StrCat(kp,
                          ": 0 (no limit) has no equivalent; the "
                          "default of 1MiB applies"),
             &section->comments);
      } else if (*bytes > (int64_t{1} << 30)) {
        Note(it->first,
             absl::StrCat(kp, ": ", s,
                          " is over the 1GiB maximum; 1GiB "
                          "is used"),
             &section->comments);
        lines.push_back(absl::StrCat(k, " = ", int64_t{1} << 30));
      } else {
        lines.push_back(absl::StrCat(k, " = ", *bytes, "  # ", s));
      }
    } else if (k == "basic_auth") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) {
        return Error(v, kp, absl::StrCat("expected a map, got ", Kind(v)));
      }
      std::vector<std::string> parts;
      for (auto b = v.begin(); b != v.end(); ++b) {
        const std::string bk = b->first.Scalar();
        const std::string bp = absl::StrCat(kp, ".", bk);
        if (bk != "username" && bk != "password" && bk != "password_file") {
          if (bk == "username_file" || bk == "username_ref" ||
              bk == "password_ref") {
            Note(b->first,
                 absl::StrCat(bp, ": not supported; write the value inline"),
                 &section->comments);
            continue;
          }
          return Error(b->first, bp, "unknown key of blackbox's basic_auth");
        }
        ASSIGN_OR_RETURN(std::string s, String(b->second, bp));
        if (!s.empty()) parts.push_back(bk + " = " + Quote(s));
      }
      if (!parts.empty()) {
        lines.push_back(
            absl::StrCat("basic_auth = { ", absl::StrJoin(parts, ", "), " }"));
      }
    } else if (k == "tls_config") {
      RETURN_IF_ERROR(Tls(absl::StrCat(path, ".tls_config"), v, section));
    } else if (auto u = UnsupportedHttpOptions().find(k);
               u != UnsupportedHttpOptions().end()) {
      Note(it->first, absl::StrCat(kp, ": ", u->second), &section->comments);
    } else {
      return Error(it->first, kp, "unknown key of blackbox's http prober");
    }
  }
  return absl::OkStatus();
}

absl::Status Converter::Module(const std::string& name, const YAML::Node& key,
                               const YAML::Node& module, std::string* out) {
  const std::string path = absl::StrCat("modules.", name);
  if (!module.IsMap()) {
    return Error(module, path,
                 absl::StrCat("expected a module map with a prober, got ",
                              Kind(module)));
  }
  const YAML::Node prober = module["prober"];
  if (!prober.IsDefined()) {
    return Error(module, path, "no prober (http, tcp, icmp, dns, grpc)");
  }
  ASSIGN_OR_RETURN(std::string kind,
                   String(prober, absl::StrCat(path, ".prober")));
  static const std::set<std::string> kOther = {"tcp", "icmp", "dns", "grpc"};
  if (kOther.count(kind) > 0) {
    Note(key,
         absl::StrCat("module ", name, " skipped: prober ", kind,
                      " (canary_exporter probes HTTP only)"),
         nullptr);
    skipped_comments_.push_back(absl::StrCat(
        "# skipped (line ", key.Mark().line + 1, "): module ", name,
        ", prober ", kind, " (canary_exporter probes HTTP only)"));
    return absl::OkStatus();
  }
  if (kind != "http") {
    return Error(prober, absl::StrCat(path, ".prober"),
                 absl::StrCat("unknown prober \"", kind,
                              "\" (want http, tcp, icmp, dns or grpc)"));
  }
  if (!ValidModuleName(name)) {
    Note(key,
         absl::StrCat("module \"", name,
                      "\" skipped: module names here use only letters, "
                      "digits, '_' and '-'; rename it"),
         nullptr);
    skipped_comments_.push_back(
        absl::StrCat("# skipped (line ", key.Mark().line + 1, "): module \"",
                     name, "\": rename it to letters, digits, '_' and '-'"));
    return absl::OkStatus();
  }
  Section section;
  bool have_timeout = false;
  for (auto it = module.begin(); it != module.end(); ++it) {
    const std::string k = it->first.Scalar();
    const std::string kp = absl::StrCat(path, ".", k);
    if (k == "prober") continue;
    if (k == "timeout") {
      ASSIGN_OR_RETURN(std::string d, Duration(it->second, kp));
      absl::Duration parsed;
      absl::ParseDuration(d, &parsed);
      if (parsed > absl::Minutes(5)) {
        Note(it->first,
             absl::StrCat(kp, ": ", d, " is over the 5m maximum; 5m is used"),
             &section.comments);
        d = "5m";
      }
      section.module_lines.push_back("timeout = " + Quote(d));
      have_timeout = true;
    } else if (k == "http") {
      RETURN_IF_ERROR(Http(kp, it->second, &section));
    } else if (kOther.count(k) > 0) {
      Note(it->first, absl::StrCat(kp, ": settings of another prober, ignored"),
           &section.comments);
    } else {
      return Error(it->first, kp,
                   "unknown key of a blackbox module (want prober, timeout, "
                   "http, tcp, icmp, dns, grpc)");
    }
  }
  if (!have_timeout) {
    Note(key,
         absl::StrCat(path,
                      ": no timeout: blackbox derives it from the scrape "
                      "timeout; here each request gets the default 2s"),
         &section.comments);
  }
  absl::StrAppend(out, "\n[modules.", name, "]\n");
  for (const std::string& c : section.comments) absl::StrAppend(out, c, "\n");
  for (const std::string& l : section.module_lines) {
    absl::StrAppend(out, l, "\n");
  }
  if (!section.http_lines.empty() || !section.tls_lines.empty()) {
    absl::StrAppend(out, "\n[modules.", name, ".http]\n");
    for (const std::string& l : section.http_lines) {
      absl::StrAppend(out, l, "\n");
    }
  }
  if (!section.tls_lines.empty()) {
    absl::StrAppend(out, "\n[modules.", name, ".http.tls]\n");
    for (const std::string& l : section.tls_lines) {
      absl::StrAppend(out, l, "\n");
    }
  }
  ++converted_;
  return absl::OkStatus();
}

absl::StatusOr<BlackboxConversion> Converter::Run(const YAML::Node& root) {
  if (!root.IsMap()) {
    return Error(root, "<top level>",
                 absl::StrCat("not a blackbox_exporter configuration: "
                              "expected a map with \"modules\", got ",
                              Kind(root)));
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it->first.Scalar() != "modules") {
      return Error(it->first, it->first.Scalar(),
                   "not a blackbox_exporter configuration: unknown top-level "
                   "key (blackbox.yml has only \"modules\")");
    }
  }
  const YAML::Node modules = root["modules"];
  if (!modules.IsDefined()) {
    return Error(root, "modules",
                 "not a blackbox_exporter configuration: no \"modules\"");
  }
  if (!modules.IsMap()) {
    return Error(modules, "modules",
                 absl::StrCat("expected a map of module names to modules, "
                              "got ",
                              Kind(modules)));
  }
  std::string body;
  for (auto it = modules.begin(); it != modules.end(); ++it) {
    RETURN_IF_ERROR(Module(it->first.Scalar(), it->first, it->second, &body));
  }
  if (converted_ == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        filename_, ": no http module to convert",
        notes_.empty() ? ""
                       : absl::StrCat(" (", absl::StrJoin(notes_, "; "), ")")));
  }
  BlackboxConversion c;
  c.toml = absl::StrCat(
      "# canary_exporter configuration converted from ", filename_,
      " by --config.convert.\n"
      "# Each module sends one request per probe, as blackbox_exporter "
      "does;\n"
      "# add [modules.NAME.burst] and thresholds for more "
      "(docs/configuration.md).\n"
      "# blackbox probes any target: canary_exporter probes only loopback\n"
      "# targets until [security] allowed_targets lists yours.\n");
  for (const std::string& s : skipped_comments_) {
    absl::StrAppend(&c.toml, s, "\n");
  }
  c.toml += body;
  c.notes = std::move(notes_);
  return c;
}

}  // namespace

absl::StatusOr<BlackboxConversion> ConvertBlackboxYaml(
    absl::string_view yaml_text, absl::string_view filename) {
  // yaml-cpp reports syntax errors (and conversion failures) by exception:
  // this is the seam where they become a Status.
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    Converter converter(filename);
    return converter.Run(root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", Where(e.mark), ": ", e.msg));
  }
}

absl::StatusOr<BlackboxConversion> ConvertBlackboxYamlFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadConfigText(path));
  return ConvertBlackboxYaml(text, path);
}

}  // namespace canary::config
