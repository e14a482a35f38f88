#include "probes/validate.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace canary::probes {
namespace {

bool StatusValid(int status, const std::vector<int>& valid) {
  if (valid.empty()) return status >= 200 && status < 300;
  return std::find(valid.begin(), valid.end(), status) != valid.end();
}

// Every value of header `name` (case-insensitive), in order.
std::vector<absl::string_view> HeaderValues(const Headers& headers,
                                            absl::string_view name) {
  std::vector<absl::string_view> out;
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) out.push_back(v);
  }
  return out;
}

bool Matches(const config::Regexp& re, absl::string_view text) {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re.re);
}

}  // namespace

bool NeedsBody(const config::HttpConfig& http) {
  return !http.fail_if_body_matches_regexp.empty() ||
         !http.fail_if_body_not_matches_regexp.empty();
}

bool NeedsHeaders(const config::HttpConfig& http) {
  return !http.fail_if_header_matches.empty() ||
         !http.fail_if_header_not_matches.empty();
}

ResultClass CheckResponse(int status, const Headers& headers,
                          absl::string_view body,
                          const config::HttpConfig& http, std::string* error) {
  if (!StatusValid(status, http.valid_status_codes)) {
    *error =
        http.valid_status_codes.empty()
            ? absl::StrCat("status ", status, " is not 2xx")
            : absl::StrCat("status ", status, " is not in valid_status_codes");
    return ResultClass::kHttpStatus;
  }
  for (const config::Regexp& re : http.fail_if_body_matches_regexp) {
    if (Matches(re, body)) {
      *error = absl::StrCat("body matched /", re.pattern, "/");
      return ResultClass::kValidation;
    }
  }
  for (const config::Regexp& re : http.fail_if_body_not_matches_regexp) {
    if (!Matches(re, body)) {
      *error = absl::StrCat("body did not match /", re.pattern, "/");
      return ResultClass::kValidation;
    }
  }
  // As in blackbox_exporter, a missing header fails either check unless
  // allow_missing is set, and a repeated header (two Set-Cookie lines) is
  // one header with several values: fail_if_header_matches fails when any
  // value matches, fail_if_header_not_matches passes when any value matches.
  for (const config::HeaderMatch& m : http.fail_if_header_matches) {
    std::vector<absl::string_view> values = HeaderValues(headers, m.header);
    if (values.empty() && !m.allow_missing) {
      *error = absl::StrCat("header ", m.header, " is missing");
      return ResultClass::kValidation;
    }
    for (absl::string_view v : values) {
      if (Matches(m.regexp, v)) {
        *error = absl::StrCat("header ", m.header, " matched /",
                              m.regexp.pattern, "/");
        return ResultClass::kValidation;
      }
    }
  }
  for (const config::HeaderMatch& m : http.fail_if_header_not_matches) {
    std::vector<absl::string_view> values = HeaderValues(headers, m.header);
    if (values.empty()) {
      if (m.allow_missing) continue;
      *error = absl::StrCat("header ", m.header, " is missing");
      return ResultClass::kValidation;
    }
    const bool any =
        std::any_of(values.begin(), values.end(),
                    [&m](absl::string_view v) { return Matches(m.regexp, v); });
    if (!any) {
      *error = absl::StrCat(
          "header ", m.header, " did not match /", m.regexp.pattern, "/",
          values.size() > 1 ? absl::StrCat(" (", values.size(), " values)")
                            : "");
      return ResultClass::kValidation;
    }
  }
  error->clear();
  return ResultClass::kSuccess;
}

ResultClass CheckConnection(std::optional<config::HttpVersion> version,
                            bool tls, const config::HttpConfig& http,
                            std::string* error) {
  const std::vector<config::HttpVersion>& valid = http.valid_http_versions;
  if (!valid.empty() &&
      (!version.has_value() ||
       std::find(valid.begin(), valid.end(), *version) == valid.end())) {
    const char* name = !version.has_value() ? "an unknown version"
                       : *version == config::HttpVersion::kHttp1_0 ? "HTTP/1.0"
                       : *version == config::HttpVersion::kHttp1_1 ? "HTTP/1.1"
                                                                   : "HTTP/2.0";
    *error =
        absl::StrCat("response came in ", name, ", not in valid_http_versions");
    return ResultClass::kValidation;
  }
  if (http.fail_if_ssl && tls) {
    *error = "response came over TLS (fail_if_ssl)";
    return ResultClass::kValidation;
  }
  if (http.fail_if_not_ssl && !tls) {
    *error = "response came without TLS (fail_if_not_ssl)";
    return ResultClass::kValidation;
  }
  error->clear();
  return ResultClass::kSuccess;
}

}  // namespace canary::probes
