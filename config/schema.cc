#include "config/schema.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "config/allowed_target.h"
#include "config/key_table.h"
#include "config/parse.h"
#include "config/secrets.h"
#include "config/threshold_syntax.h"
#include "re2/re2.h"

namespace canary::config {
namespace {

Reader<Regexp> RegexpReader() {
  return [](const Value& v) -> absl::StatusOr<Regexp> {
    ASSIGN_OR_RETURN(std::string pattern, v.String());
    RE2::Options options;
    options.set_log_errors(false);  // the error goes into our message instead
    auto re = std::make_shared<const RE2>(pattern, options);
    if (!re->ok()) {
      return v.Error(absl::StrCat("invalid regular expression \"", pattern,
                                  "\": ", re->error()));
    }
    return Regexp{std::move(pattern), std::move(re)};
  };
}

std::string FileError(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::StrCat("cannot read \"", path,
                        "\": ", std::generic_category().message(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::StrCat("\"", path, "\" is a directory, expected a file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return absl::StrCat("cannot read \"", path,
                        "\": ", std::generic_category().message(errno));
  }
  return "";
}

// The path of a file that must be readable at load.
Reader<std::string> ExistingFile() {
  return [](const Value& v) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string file, v.String());
    if (file.empty()) return v.Error("must not be empty");
    if (std::string error = FileError(file); !error.empty()) {
      return v.Error(error);
    }
    return file;
  };
}

// RFC 9110 token characters, the syntax of a header field name.
bool IsHeaderName(absl::string_view name) {
  static constexpr absl::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) ||
           kTokenPunct.find(c) != absl::string_view::npos;
  });
}

// A secret given inline (`name`) or in a file (`name`_file), one of them,
// into `member`; no message may quote it (config/secrets.h). The `_file`
// key is listed in the table as a Key without `read`.
template <typename T>
Key<T> Secret(absl::string_view name, std::string T::*member, bool empty_ok) {
  return {name,
          [name, member, empty_ok](const Value& t, T& out) -> absl::Status {
            const std::string file_key = absl::StrCat(name, "_file");
            std::optional<Value> value = t.Get(name);
            std::optional<Value> file = t.Get(file_key);
            if (value.has_value() && file.has_value()) {
              return file->Error(absl::StrCat("conflicts with \"", name,
                                              "\"; set only one of them"));
            }
            if (value.has_value()) {
              ASSIGN_OR_RETURN(std::string secret, value->String());
              if (secret.empty() && !empty_ok) {
                return value->Error("must not be empty");
              }
              if (secret.find_first_of(std::string("\r\n\0", 3)) !=
                  std::string::npos) {
                return value->Error("must not contain line breaks or NUL");
              }
              out.*member = std::move(secret);
            } else if (file.has_value()) {
              ASSIGN_OR_RETURN(std::string path, file->String());
              if (path.empty()) return file->Error("must not be empty");
              absl::StatusOr<std::string> read = ReadSecretFile(path);
              if (!read.ok()) return file->Error(read.status().message());
              out.*member = *std::move(read);
            }
            return absl::OkStatus();
          }};
}

Reader<TlsConfig::Version> TlsVersionReader() {
  return OneOf<TlsConfig::Version>({{"TLS10", TlsConfig::Version::kTls10},
                                    {"TLS11", TlsConfig::Version::kTls11},
                                    {"TLS12", TlsConfig::Version::kTls12},
                                    {"TLS13", TlsConfig::Version::kTls13}});
}

// ---- the tables, one per TOML table of the file ----

const Table<TlsConfig>& TlsTable() {
  static const auto* const kTable = new Table<TlsConfig>{
      "modules.NAME.http.tls",
      {
          Field("ca_file", &TlsConfig::ca_file, ExistingFile()),
          Field("cert_file", &TlsConfig::cert_file, ExistingFile()),
          Field("key_file", &TlsConfig::key_file, ExistingFile()),
          Field("server_name", &TlsConfig::server_name, String()),
          Field("insecure_skip_verify", &TlsConfig::insecure_skip_verify,
                Bool()),
          Field("min_version", &TlsConfig::min_version, TlsVersionReader()),
          Field("max_version", &TlsConfig::max_version, TlsVersionReader()),
      },
      // The pairing is checked before the files exist, so the message names
      // the structural mistake rather than a missing path.
      [](const Value& t, TlsConfig&) {
        return RequireBoth(t, "cert_file", "key_file",
                           "a client certificate needs its key");
      },
      [](const Value& t, TlsConfig& tls) -> absl::Status {
        if (tls.max_version.has_value() && *tls.max_version < tls.min_version) {
          return t.Get("max_version")
              ->Error("is lower than min_version; no TLS version is left");
        }
        return absl::OkStatus();
      },
  };
  return *kTable;
}

const Table<HeaderMatch>& HeaderMatchTable() {
  static const auto* const kTable = new Table<HeaderMatch>{
      "modules.NAME.http.fail_if_header_matches[]",
      {
          Required(Field("header", &HeaderMatch::header,
                         Where<std::string>(
                             String(), IsHeaderName,
                             [](const std::string& name) {
                               return absl::StrCat(
                                   "\"", name, "\" is not a valid header name");
                             }))),
          Required(Field("regexp", &HeaderMatch::regexp, RegexpReader())),
          Field("allow_missing", &HeaderMatch::allow_missing, Bool()),
      },
  };
  return *kTable;
}

const Table<BasicAuth>& BasicAuthTable() {
  static const auto* const kTable = new Table<BasicAuth>{
      "modules.NAME.http.basic_auth",
      {
          Required(Field(
              "username", &BasicAuth::username,
              Where<std::string>(
                  String(),
                  [](const std::string& name) {
                    return !name.empty() &&
                           name.find_first_of(std::string(":\r\n\0", 4)) ==
                               std::string::npos;
                  },
                  [](const std::string&) {
                    return "must be non-empty without \":\", line breaks or "
                           "NUL (RFC 7617)";
                  }))),
          Secret("password", &BasicAuth::password, /*empty_ok=*/true),
          Key<BasicAuth>{"password_file", nullptr},  // read with password
      },
  };
  return *kTable;
}

Reader<std::vector<std::pair<std::string, std::string>>> HeadersReader() {
  return
      [](const Value& v)
          -> absl::StatusOr<std::vector<std::pair<std::string, std::string>>> {
        ASSIGN_OR_RETURN(std::vector<Value::Member> members, v.Members());
        std::vector<std::pair<std::string, std::string>> headers;
        for (const Value::Member& m : members) {
          if (!IsHeaderName(m.key)) {
            return m.KeyError(
                "is not a valid header name (letters, digits and "
                "!#$%&'*+-.^_`|~ only)");
          }
          ASSIGN_OR_RETURN(std::string value, m.value.String());
          if (value.find_first_of("\r\n") != std::string::npos ||
              value.find('\0') != std::string::npos) {
            return m.value.Error(
                "header value must not contain line breaks or NUL");
          }
          headers.emplace_back(std::string(m.key), std::move(value));
        }
        return headers;
      };
}

Reader<int64_t> BodySizeLimitReader() {
  static_assert(kMaxBodySizeLimit == int64_t{1} << 30, "the message says 1GiB");
  return [](const Value& v) -> absl::StatusOr<int64_t> {
    int64_t bytes;
    const Node& n = v.node();
    if (n.type == Node::Type::kInteger) {
      bytes = n.integer;
    } else if (n.type == Node::Type::kString) {
      absl::StatusOr<int64_t> size = ParseSize(n.string);
      if (!size.ok()) return v.Error(size.status().message());
      bytes = *size;
    } else {
      return v.TypeError(
          "a size such as \"1MiB\" or an integer number of bytes");
    }
    if (bytes < 1 || bytes > kMaxBodySizeLimit) {
      return v.Error(absl::StrCat("must be between 1 byte and 1GiB, got ",
                                  bytes, " bytes"));
    }
    return bytes;
  };
}

Reader<std::string> ProxyUrlReader() {
  return [](const Value& v) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string url, v.String());
    if (url.empty()) return url;
    static constexpr absl::string_view kSchemes[] = {
        "http", "https", "socks4", "socks4a", "socks5", "socks5h"};
    size_t sep = url.find("://");
    absl::string_view scheme = sep == std::string::npos
                                   ? absl::string_view()
                                   : absl::string_view(url).substr(0, sep);
    if (std::find(std::begin(kSchemes), std::end(kSchemes), scheme) ==
            std::end(kSchemes) ||
        sep + 3 == url.size()) {
      return v.Error(absl::StrCat(
          "expected a URL such as \"http://proxy:3128\" (schemes: ",
          absl::StrJoin(kSchemes, ", "), "), got \"", url, "\""));
    }
    return url;
  };
}

// `body_file`: the request body, read at load; exclusive with `body`.
absl::Status ReadBodyFile(const Value& t, HttpConfig& h) {
  std::optional<Value> v = t.Get("body_file");
  if (!v.has_value()) return absl::OkStatus();
  if (t.Has("body")) {
    return v->Error("conflicts with \"body\"; set only one of them");
  }
  ASSIGN_OR_RETURN(std::string path, ExistingFile()(*v));
  absl::StatusOr<std::string> body =
      ReadFileAtMost(path, kMaxBodyFileSize, "a request body");
  if (!body.ok()) return v->Error(body.status().message());
  h.body = *std::move(body);
  h.body_file = std::move(path);
  return absl::OkStatus();
}

// The rules between the blackbox-style options of [modules.NAME.http].
absl::Status CheckHttpOptions(const Value& t, const HttpConfig& h) {
  if (h.fail_if_ssl && h.fail_if_not_ssl) {
    return t.Get("fail_if_not_ssl")
        ->Error("conflicts with fail_if_ssl; every request would fail");
  }
  if (std::optional<Value> v = t.Get("ip_protocol_fallback");
      v.has_value() && !t.Has("ip_protocol")) {
    return v->Error("applies only with ip_protocol; set it too");
  }
  // As blackbox: an Accept-Encoding header must accept the compression.
  static constexpr absl::string_view kNames[] = {"", "gzip", "deflate", "br",
                                                 "identity"};
  const absl::string_view name = kNames[static_cast<int>(h.compression)];
  if (name.empty()) return absl::OkStatus();
  for (const auto& [header, value] : h.headers) {
    if (!absl::EqualsIgnoreCase(header, "Accept-Encoding")) continue;
    bool accepted = false;
    for (absl::string_view coding : absl::StrSplit(value, ',')) {
      coding = absl::StripAsciiWhitespace(
          coding.substr(0, std::min(coding.size(), coding.find(';'))));
      accepted =
          accepted || coding == "*" || absl::EqualsIgnoreCase(coding, name);
    }
    if (!accepted) {
      return t.Get("compression")
          ->Error(absl::StrCat("\"", name,
                               "\" is not accepted by headers.Accept-Encoding "
                               "\"",
                               value, "\"; fix or remove that header"));
    }
  }
  return absl::OkStatus();
}

Reader<std::string> MethodReader() {
  return OneOf<std::string>({{"GET", "GET"},
                             {"HEAD", "HEAD"},
                             {"POST", "POST"},
                             {"PUT", "PUT"},
                             {"PATCH", "PATCH"},
                             {"DELETE", "DELETE"},
                             {"OPTIONS", "OPTIONS"}});
}

constexpr absl::string_view kHeaderMatchType =
    "a table such as { header = \"Content-Type\", regexp = \"json\" }";

const Table<HttpConfig>& HttpTable() {
  using H = HttpConfig;
  static const auto* const kTable = new Table<HttpConfig>{
      "modules.NAME.http",
      {
          Field("method", &H::method, MethodReader()),
          Field("headers", &H::headers, HeadersReader()),
          Field("body", &H::body, String()),
          Custom<H>("body_file", ReadBodyFile),
          Field("valid_status_codes", &H::valid_status_codes,
                ArrayOf(IntIn<int>(kMinStatusCode, kMaxStatusCode))),
          Field("fail_if_body_matches_regexp", &H::fail_if_body_matches_regexp,
                ArrayOf(RegexpReader())),
          Field("fail_if_body_not_matches_regexp",
                &H::fail_if_body_not_matches_regexp, ArrayOf(RegexpReader())),
          Field("fail_if_header_matches", &H::fail_if_header_matches,
                ArrayOf(TableOf(HeaderMatchTable(), kHeaderMatchType))),
          Field("fail_if_header_not_matches", &H::fail_if_header_not_matches,
                ArrayOf(TableOf(HeaderMatchTable(), kHeaderMatchType))),
          Field("follow_redirects", &H::follow_redirects, Bool()),
          Field("max_redirects", &H::max_redirects,
                IntIn<int>(0, kMaxRedirects)),
          Field("http_version", &H::http_version,
                OneOf<HttpVersion>({{"1.1", HttpVersion::kHttp1_1},
                                    {"2", HttpVersion::kHttp2}},
                                   /*quote=*/true)),
          Field("reuse_connections", &H::reuse_connections, Bool()),
          Field("body_size_limit", &H::body_size_limit, BodySizeLimitReader()),
          Field(
              "valid_http_versions", &H::valid_http_versions,
              Where<std::vector<HttpVersion>>(
                  ArrayOf(
                      OneOf<HttpVersion>({{"HTTP/1.0", HttpVersion::kHttp1_0},
                                          {"HTTP/1.1", HttpVersion::kHttp1_1},
                                          {"HTTP/2.0", HttpVersion::kHttp2}},
                                         /*quote=*/true)),
                  [](const std::vector<HttpVersion>& v) { return !v.empty(); },
                  [](const std::vector<HttpVersion>&) {
                    return "must list at least one version (omit it to "
                           "accept any)";
                  })),
          Field("compression", &H::compression,
                OneOf<Compression>({{"", Compression::kNone},
                                    {"gzip", Compression::kGzip},
                                    {"deflate", Compression::kDeflate},
                                    {"br", Compression::kBr},
                                    {"identity", Compression::kIdentity}},
                                   /*quote=*/true)),
          Field("fail_if_ssl", &H::fail_if_ssl, Bool()),
          Field("fail_if_not_ssl", &H::fail_if_not_ssl, Bool()),
          Field("ip_protocol", &H::ip_protocol,
                OneOf<IpProtocol>(
                    {{"ip4", IpProtocol::kIp4}, {"ip6", IpProtocol::kIp6}})),
          Field("ip_protocol_fallback", &H::ip_protocol_fallback, Bool()),
          Field("proxy_url", &H::proxy_url, ProxyUrlReader()),
          Field("tls", &H::tls, TableOf(TlsTable())),
          Secret("bearer_token", &H::bearer_token, /*empty_ok=*/false),
          Key<H>{"bearer_token_file", nullptr},  // read with bearer_token
          Custom<H>("basic_auth",
                    [](const Value& t, H& h) -> absl::Status {
                      std::optional<Value> v = t.Get("basic_auth");
                      if (!v.has_value()) return absl::OkStatus();
                      if (!h.bearer_token.empty()) {
                        return v->Error(
                            "conflicts with \"bearer_token\"; a request "
                            "carries one Authorization header");
                      }
                      ASSIGN_OR_RETURN(
                          h.basic_auth,
                          TableOf(BasicAuthTable(),
                                  "a table such as { username = \"u\", "
                                  "password_file = \"/run/secrets/pw\" }")(*v));
                      return absl::OkStatus();
                    }),
      },
      nullptr,
      // One Authorization header per request.
      [](const Value& t, H& h) -> absl::Status {
        RETURN_IF_ERROR(CheckHttpOptions(t, h));
        const char* auth_key = h.basic_auth.has_value() ? "basic_auth"
                               : t.Has("bearer_token")  ? "bearer_token"
                                                        : "bearer_token_file";
        std::optional<Value> v = t.Get(auth_key);
        if (!v.has_value()) return absl::OkStatus();
        for (const auto& [name, value] : h.headers) {
          if (absl::EqualsIgnoreCase(name, "Authorization")) {
            return v->Error(
                "conflicts with headers.Authorization; set only one of them");
          }
        }
        return absl::OkStatus();
      },
  };
  return *kTable;
}

const Table<BurstConfig>& BurstTable() {
  using B = BurstConfig;
  static const auto* const kTable = new Table<BurstConfig>{
      "modules.NAME.burst",
      {
          Field("vus", &B::vus, IntIn<int>(1, kMaxVus)),
          Custom<B>("think_time",
                    [](const Value& t, B& b) -> absl::Status {
                      std::optional<Value> v = t.Get("think_time");
                      if (!v.has_value()) return absl::OkStatus();
                      if (b.open_model()) {
                        return v->Error(
                            "applies to the closed model only; remove it or "
                            "remove \"rate\"");
                      }
                      ASSIGN_OR_RETURN(b.think_time,
                                       v->Duration(true, kMaxDuration));
                      return absl::OkStatus();
                    }),
          Field("duration", &B::duration, DurationIn(false, kMaxDuration)),
          Field("requests", &B::requests, IntIn<int64_t>(1, kMaxRequests)),
          // First: it selects the model, which think_time and the defaults
          // depend on.
          First(Field(
              "rate", &B::rate,
              Reader<double>([](const Value& v) -> absl::StatusOr<double> {
                ASSIGN_OR_RETURN(double rate, v.Number());
                if (rate <= 0 || rate > kMaxRate) {
                  return v.Error(absl::StrCat(
                      "must be greater than 0 and at most ", kMaxRate,
                      " requests per second, got ", rate));
                }
                return rate;
              }))),
      },
      nullptr,
      [](const Value& t, B& b) -> absl::Status {
        if (b.open_model() && !t.Has("vus")) b.vus = B::kOpenModelVus;
        if (b.open_model() && !b.duration.has_value() &&
            !b.requests.has_value()) {
          return t.Get("rate")->Error(
              "the open model needs \"duration\" or \"requests\" to end the "
              "burst");
        }
        b.requests = b.request_limit();
        return absl::OkStatus();
      },
  };
  return *kTable;
}

Reader<std::vector<double>> BucketsReader() {
  return [](const Value& v) -> absl::StatusOr<std::vector<double>> {
    ASSIGN_OR_RETURN(std::vector<Value> elements, v.Elements());
    if (elements.empty()) {
      return v.Error(
          "must list at least one bucket (omit it for the defaults)");
    }
    if (elements.size() > kMaxBuckets) {
      return v.Error(absl::StrCat("must have at most ", kMaxBuckets,
                                  " buckets, got ", elements.size()));
    }
    std::vector<double> buckets;
    for (const Value& e : elements) {
      ASSIGN_OR_RETURN(double bound, e.Number());
      if (bound <= 0) {
        return e.Error(absl::StrCat("must be positive, got ", bound));
      }
      if (!buckets.empty() && bound <= buckets.back()) {
        return e.Error(absl::StrCat("buckets must be strictly increasing, got ",
                                    bound, " after ", buckets.back()));
      }
      buckets.push_back(bound);
    }
    return buckets;
  };
}

Reader<Threshold> ThresholdReader() {
  return [](const Value& v) -> absl::StatusOr<Threshold> {
    ASSIGN_OR_RETURN(std::string text, v.String());
    absl::StatusOr<Threshold> threshold = ParseThreshold(text);
    if (!threshold.ok()) return v.Error(threshold.status().message());
    return threshold;
  };
}

const Table<MetricsConfig>& MetricsTable() {
  using P = MetricsConfig::Phases;
  static const auto* const kTable = new Table<MetricsConfig>{
      "modules.NAME.metrics",
      {
          Field("phases", &MetricsConfig::phases,
                OneOf<P>({{"histogram", P::kHistogram},
                          {"quantiles", P::kQuantiles},
                          {"off", P::kOff}})),
          Field("blackbox_compat", &MetricsConfig::blackbox_compat, Bool()),
      },
  };
  return *kTable;
}

// ---- scenarios: [[modules.NAME.steps]] ----

bool IsVariableName(absl::string_view name) {
  return !name.empty() && !absl::ascii_isdigit(name[0]) &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

// Splits `v`'s string at `${name}` references; every name must be in
// `defined` (variables of earlier steps), looked up in `variables`.
absl::StatusOr<Template> ReadTemplate(const Value& v,
                                      const std::vector<std::string>& variables,
                                      const std::vector<bool>& defined) {
  ASSIGN_OR_RETURN(std::string text, v.String());
  Template out;
  out.source = text;
  size_t at = 0;
  std::string literal;
  while (at < text.size()) {
    size_t ref = text.find("${", at);
    if (ref == std::string::npos) {
      literal += text.substr(at);
      break;
    }
    literal += text.substr(at, ref - at);
    size_t close = text.find('}', ref + 2);
    if (close == std::string::npos) {
      return v.Error(absl::StrCat("unterminated \"${\" at offset ", ref,
                                  "; write ${name}"));
    }
    const std::string name = text.substr(ref + 2, close - ref - 2);
    if (!IsVariableName(name)) {
      return v.Error(absl::StrCat("\"${", name,
                                  "}\": a variable name must match "
                                  "[A-Za-z_][A-Za-z0-9_]*"));
    }
    auto it = std::find(variables.begin(), variables.end(), name);
    const int index = static_cast<int>(it - variables.begin());
    if (it == variables.end() || !defined[index]) {
      return v.Error(absl::StrCat(
          "variable \"", name,
          "\" is used before it is defined (by an extract of an earlier "
          "step)"));
    }
    if (!literal.empty()) out.parts.push_back({std::move(literal), -1});
    literal.clear();
    out.parts.push_back({"", index});
    at = close + 1;
  }
  if (!literal.empty()) out.parts.push_back({std::move(literal), -1});
  return out;
}

// A step's url: a path resolved against the target, or an http(s) URL. The
// literal text is checked here; a URL that takes a variable is checked
// again, expanded, before it is sent (probes/scenario.h).
absl::Status CheckStepUrl(const Value& v, const Template& url) {
  const std::string& s = url.source;
  auto bad = [&](absl::string_view why) {
    return v.Error(absl::StrCat(
        "must be a path starting with \"/\" or an http(s) URL",
        why.empty() ? "" : absl::StrCat(" (", why, ")"), ", got \"", s, "\""));
  };
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return bad("no spaces or control characters");
    }
  }
  if (absl::StartsWith(s, "/")) {
    if (absl::StartsWith(s, "//")) return bad("\"//\" starts a host");
    return absl::OkStatus();
  }
  for (absl::string_view scheme : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(s, scheme)) {
      absl::string_view rest = absl::string_view(s).substr(scheme.size());
      if (rest.empty() || rest[0] == '/' || rest[0] == ':' || rest[0] == '?') {
        return bad("no host");
      }
      return absl::OkStatus();
    }
  }
  return bad("");
}

const Table<Extraction>& ExtractionTable() {
  using E = Extraction;
  static const auto* const kTable = new Table<Extraction>{
      "modules.NAME.steps[].extract[]",
      {
          Required(
              Field("var", &E::var,
                    Where<std::string>(
                        String(),
                        [](const std::string& n) { return IsVariableName(n); },
                        [](const std::string& n) {
                          return absl::StrCat("\"", n,
                                              "\" is not a variable name "
                                              "([A-Za-z_][A-Za-z0-9_]*)");
                        }))),
          Custom<E>("header",
                    [](const Value& t, E& e) -> absl::Status {
                      std::optional<Value> v = t.Get("header");
                      if (!v.has_value()) return absl::OkStatus();
                      ASSIGN_OR_RETURN(e.header, v->String());
                      if (!IsHeaderName(e.header)) {
                        return v->Error(absl::StrCat(
                            "\"", e.header, "\" is not a valid header name"));
                      }
                      e.from = E::From::kHeader;
                      return absl::OkStatus();
                    }),
          Custom<E>("regex",
                    [](const Value& t, E& e) -> absl::Status {
                      std::optional<Value> v = t.Get("regex");
                      if (!v.has_value()) return absl::OkStatus();
                      ASSIGN_OR_RETURN(e.regex, RegexpReader()(*v));
                      e.from = E::From::kRegex;
                      return absl::OkStatus();
                    }),
          Custom<E>("group",
                    [](const Value& t, E& e) -> absl::Status {
                      std::optional<Value> v = t.Get("group");
                      if (!v.has_value()) {
                        if (e.from == E::From::kRegex &&
                            e.regex.re->NumberOfCapturingGroups() == 0) {
                          e.group = 0;  // no group: the whole match
                        }
                        return absl::OkStatus();
                      }
                      if (e.from != E::From::kRegex) {
                        return v->Error("applies to \"regex\" only");
                      }
                      const int groups = e.regex.re->NumberOfCapturingGroups();
                      ASSIGN_OR_RETURN(int64_t g, v->Int(0, 100));
                      if (g > groups) {
                        return v->Error(absl::StrCat(
                            "the regex has ", groups, " capturing group",
                            groups == 1 ? "" : "s", ", got group ", g));
                      }
                      e.group = static_cast<int>(g);
                      return absl::OkStatus();
                    }),
          Custom<E>("json_pointer",
                    [](const Value& t, E& e) -> absl::Status {
                      std::optional<Value> v = t.Get("json_pointer");
                      if (!v.has_value()) return absl::OkStatus();
                      ASSIGN_OR_RETURN(e.json_pointer, v->String());
                      if (!e.json_pointer.empty() && e.json_pointer[0] != '/') {
                        return v->Error(absl::StrCat(
                            "must be empty or start with \"/\" (RFC 6901), "
                            "got \"",
                            e.json_pointer, "\""));
                      }
                      for (size_t i = 0; i < e.json_pointer.size(); ++i) {
                        if (e.json_pointer[i] == '~' &&
                            (i + 1 == e.json_pointer.size() ||
                             (e.json_pointer[i + 1] != '0' &&
                              e.json_pointer[i + 1] != '1'))) {
                          return v->Error(
                              "\"~\" must be followed by 0 or 1 (RFC 6901)");
                        }
                      }
                      e.from = E::From::kJsonPointer;
                      return absl::OkStatus();
                    }),
      },
      // Exactly one source.
      [](const Value& t, E&) -> absl::Status {
        int sources = 0;
        for (absl::string_view k : {"header", "regex", "json_pointer"}) {
          if (t.Has(k)) ++sources;
        }
        if (sources != 1) {
          return t.Error(
              "needs exactly one of \"header\", \"regex\" or "
              "\"json_pointer\"");
        }
        return absl::OkStatus();
      },
  };
  return *kTable;
}

// A key of a step that sets a member of Step::checks with the reader the
// [modules.NAME.http] key of the same name uses.
template <typename M, typename V>
Key<Step> CheckKey(absl::string_view name, M HttpConfig::*member,
                   Reader<V> read) {
  return Custom<Step>(
      name, [name, member, read](const Value& t, Step& s) -> absl::Status {
        std::optional<Value> v = t.Get(name);
        if (!v.has_value()) return absl::OkStatus();
        ASSIGN_OR_RETURN(s.checks.*member, read(*v));
        return absl::OkStatus();
      });
}

// The keys of a step. url, headers and body are templates: ReadSteps
// parses them, since they depend on the steps before.
const Table<Step>& StepTable() {
  static const auto* const kTable = new Table<Step>{
      "modules.NAME.steps[]",
      {
          Required(Field(
              "name", &Step::name,
              Where<std::string>(
                  String(), [](const std::string& n) { return IsBareKey(n); },
                  [](const std::string& n) {
                    return absl::StrCat("\"", n,
                                        "\": a step name must match "
                                        "[A-Za-z0-9_-]+");
                  }))),
          CheckKey("method", &HttpConfig::method, MethodReader()),
          Required(Key<Step>{"url", nullptr}),
          Key<Step>{"headers", nullptr},
          Key<Step>{"body", nullptr},
          CheckKey("valid_status_codes", &HttpConfig::valid_status_codes,
                   ArrayOf(IntIn<int>(kMinStatusCode, kMaxStatusCode))),
          CheckKey("fail_if_body_matches_regexp",
                   &HttpConfig::fail_if_body_matches_regexp,
                   ArrayOf(RegexpReader())),
          CheckKey("fail_if_body_not_matches_regexp",
                   &HttpConfig::fail_if_body_not_matches_regexp,
                   ArrayOf(RegexpReader())),
          CheckKey("fail_if_header_matches",
                   &HttpConfig::fail_if_header_matches,
                   ArrayOf(TableOf(HeaderMatchTable(), kHeaderMatchType))),
          CheckKey("fail_if_header_not_matches",
                   &HttpConfig::fail_if_header_not_matches,
                   ArrayOf(TableOf(HeaderMatchTable(), kHeaderMatchType))),
          Field("think_time", &Step::think_time,
                DurationIn(true, kMaxDuration)),
          Field("optional", &Step::optional, Bool()),
          Key<Step>{"extract", nullptr},
      },
  };
  return *kTable;
}

// [[modules.NAME.steps]]: the steps in order, each template checked against
// the variables the steps before it extract.
absl::Status ReadSteps(const Value& t, Module& m) {
  std::optional<Value> v = t.Get("steps");
  if (!v.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<Value> elements, v->Elements());
  if (elements.empty()) {
    return v->Error("must list at least one step (omit it for one request)");
  }
  if (elements.size() > static_cast<size_t>(kMaxSteps)) {
    return v->Error(absl::StrCat("must have at most ", kMaxSteps,
                                 " steps, got ", elements.size()));
  }
  std::vector<bool> defined;
  for (const Value& e : elements) {
    RETURN_IF_ERROR(e.ExpectTable(
        "a table such as { name = \"login\", url = \"/login\" }"));
    Step step;
    RETURN_IF_ERROR(ReadTable(e, StepTable(), step));
    for (const Step& earlier : m.steps) {
      if (earlier.name == step.name) {
        return e.Get("name")->Error(absl::StrCat(
            "duplicate step name \"", step.name, "\"; names must be unique"));
      }
    }
    std::optional<Value> url = e.Get("url");
    ASSIGN_OR_RETURN(step.url, ReadTemplate(*url, m.variables, defined));
    RETURN_IF_ERROR(CheckStepUrl(*url, step.url));
    if (std::optional<Value> h = e.Get("headers")) {
      ASSIGN_OR_RETURN(auto headers, HeadersReader()(*h));
      ASSIGN_OR_RETURN(std::vector<Value::Member> members, h->Members());
      for (size_t i = 0; i < headers.size(); ++i) {
        ASSIGN_OR_RETURN(Template value,
                         ReadTemplate(members[i].value, m.variables, defined));
        step.headers.emplace_back(std::move(headers[i].first),
                                  std::move(value));
      }
    }
    if (std::optional<Value> b = e.Get("body")) {
      ASSIGN_OR_RETURN(step.body, ReadTemplate(*b, m.variables, defined));
    }
    if (std::optional<Value> x = e.Get("extract")) {
      ASSIGN_OR_RETURN(
          step.extract,
          ArrayOf(TableOf(ExtractionTable(),
                          "a table such as { var = \"token\", json_pointer = "
                          "\"/token\" }"))(*x));
      if (step.extract.size() > static_cast<size_t>(kMaxExtractions)) {
        return x->Error(absl::StrCat("must have at most ", kMaxExtractions,
                                     " entries, got ", step.extract.size()));
      }
      for (Extraction& ex : step.extract) {
        auto it = std::find(m.variables.begin(), m.variables.end(), ex.var);
        if (it == m.variables.end()) {
          m.variables.push_back(ex.var);
          defined.push_back(true);
          it = m.variables.end() - 1;
        }
        ex.var_index = static_cast<int>(it - m.variables.begin());
        defined[ex.var_index] = true;
      }
    }
    m.steps.push_back(std::move(step));
  }
  return absl::OkStatus();
}

const Table<Module>& ModuleTable() {
  static const auto* const kTable = new Table<Module>{
      "modules.NAME",
      {
          // The durations first: a bad one is reported before the lists and
          // tables.
          First(Field("timeout", &Module::timeout,
                      DurationIn(false, kMaxTimeout))),
          Field("thresholds", &Module::thresholds, ArrayOf(ThresholdReader())),
          Field("buckets", &Module::buckets, BucketsReader()),
          // Read when absent too: its defaults depend on the model.
          Custom<Module>("burst",
                         [](const Value& t, Module& m) -> absl::Status {
                           Value v = GetOrEmpty(t, "burst");
                           RETURN_IF_ERROR(v.ExpectTable());
                           return ReadTable(v, BurstTable(), m.burst);
                         }),
          Field("http", &Module::http, TableOf(HttpTable())),
          First(Field("min_interval", &Module::min_interval,
                      DurationIn(true, kMaxMinInterval))),
          Field("metrics", &Module::metrics, TableOf(MetricsTable())),
          Custom<Module>("steps", ReadSteps),
      },
      nullptr,
      // Scoped thresholds name steps, which are read after them.
      [](const Value& t, Module& m) -> absl::Status {
        for (size_t i = 0; i < m.thresholds.size(); ++i) {
          Threshold& th = m.thresholds[i];
          if (th.step.empty() && !th.iteration) continue;
          auto where = [&]() -> absl::Status {
            ASSIGN_OR_RETURN(std::vector<Value> el,
                             t.Get("thresholds")->Elements());
            return el[i].Error(
                th.iteration
                    ? std::string("iteration_duration needs a module with "
                                  "steps")
                    : absl::StrCat("no step named \"", th.step,
                                   "\" in this module"));
          };
          if (th.iteration) {
            if (m.steps.empty()) return where();
            continue;
          }
          for (size_t k = 0; k < m.steps.size(); ++k) {
            if (m.steps[k].name == th.step) th.step_index = static_cast<int>(k);
          }
          if (th.step_index < 0) return where();
        }
        return absl::OkStatus();
      },
  };
  return *kTable;
}

const Table<WebConfig>& WebTable() {
  using W = WebConfig;
  static const auto* const kTable = new Table<WebConfig>{
      "web",
      {
          Field("tls_cert_file", &W::tls_cert_file, ExistingFile()),
          Field("tls_key_file", &W::tls_key_file, ExistingFile()),
          Field("tls_client_ca_file", &W::tls_client_ca_file, ExistingFile()),
          // First: a value error must not hide behind a missing file.
          First(Field("tls_min_version", &W::tls_min_version,
                      OneOf<TlsConfig::Version>(
                          {{"TLS12", TlsConfig::Version::kTls12},
                           {"TLS13", TlsConfig::Version::kTls13}}))),
          Field(
              "basic_auth_users", &W::basic_auth_users,
              Reader<std::map<std::string,
                              std::string>>([](const Value& v)
                                                -> absl::StatusOr<std::map<
                                                    std::string, std::string>> {
                ASSIGN_OR_RETURN(std::vector<Value::Member> users, v.Members());
                // $2a$/$2b$/$2y$, a two-digit cost 04..31, 22 salt + 31
                // hash chars.
                static const LazyRE2 kBcrypt = {
                    R"(\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53})"};
                std::map<std::string, std::string> out;
                for (const Value::Member& user : users) {
                  if (user.key.empty() ||
                      user.key.find(':') != absl::string_view::npos) {
                    return user.KeyError(
                        "user name must be non-empty without \":\"");
                  }
                  ASSIGN_OR_RETURN(std::string hash, user.value.String());
                  if (!RE2::FullMatch(hash, *kBcrypt)) {
                    // Not quoted: a hash is as sensitive as a password.
                    return user.value.Error(
                        "must be a bcrypt hash ($2a$, $2b$ or $2y$, cost "
                        "04-31, 60 characters), e.g. from \"htpasswd "
                        "-nbBC 10 USER PASSWORD\"");
                  }
                  out.emplace(std::string(user.key), std::move(hash));
                }
                return out;
              })),
          Field("max_connections", &W::max_connections,
                IntIn<int>(1, kMaxWebConnections)),
          Field("max_connections_per_client", &W::max_connections_per_client,
                IntIn<int>(1, kMaxWebConnections)),
          Field("request_head_timeout", &W::request_head_timeout,
                DurationIn(false, kMaxRequestHeadTimeout)),
      },
      // Structure before values and files.
      [](const Value& t, W&) -> absl::Status {
        RETURN_IF_ERROR(RequireBoth(t, "tls_cert_file", "tls_key_file",
                                    "HTTPS needs a certificate and its key"));
        for (absl::string_view tls_only :
             {"tls_client_ca_file", "tls_min_version"}) {
          std::optional<Value> v = t.Get(tls_only);
          if (v.has_value() && !t.Has("tls_cert_file")) {
            return v->Error(
                "applies to HTTPS only; set \"tls_cert_file\" and "
                "\"tls_key_file\" too");
          }
        }
        return absl::OkStatus();
      },
  };
  return *kTable;
}

const Table<ServerConfig>& ServerTable() {
  static const auto* const kTable = new Table<ServerConfig>{
      "server",
      {
          Field("max_concurrent_probes", &ServerConfig::max_concurrent_probes,
                IntIn<int>(1, kMaxConcurrentProbes)),
          Field("max_inflight_requests", &ServerConfig::max_inflight_requests,
                IntIn<int>(1, kMaxInflightRequests)),
      },
  };
  return *kTable;
}

const Table<SecurityConfig>& SecurityTable() {
  static const auto* const kTable = new Table<SecurityConfig>{
      "security",
      {
          Field("allowed_targets", &SecurityConfig::allowed_targets,
                Reader<std::vector<AllowedTarget>>(
                    [](const Value& v)
                        -> absl::StatusOr<std::vector<AllowedTarget>> {
                      ASSIGN_OR_RETURN(std::vector<Value> elements,
                                       v.Elements());
                      if (elements.empty()) {
                        return v.Error(
                            "must list at least one CIDR or host pattern (omit "
                            "it to allow loopback targets only)");
                      }
                      std::vector<AllowedTarget> out;
                      for (const Value& e : elements) {
                        ASSIGN_OR_RETURN(std::string text, e.String());
                        absl::StatusOr<AllowedTarget> entry =
                            ParseAllowedTarget(text);
                        if (!entry.ok())
                          return e.Error(entry.status().message());
                        out.push_back(*std::move(entry));
                      }
                      return out;
                    })),
      },
  };
  return *kTable;
}

absl::Status ReadModules(const Value& root, Config& config) {
  static constexpr absl::string_view kNone =
      "at least one module is required, e.g. [modules.canary]";
  std::optional<Value> v = root.Get("modules");
  if (!v.has_value()) {
    return ErrorAt(root.filename(), root.node().position, "modules", kNone);
  }
  ASSIGN_OR_RETURN(std::vector<Value::Member> members, v->Members());
  if (members.empty()) return v->Error(kNone);
  for (const Value::Member& m : members) {
    if (!IsBareKey(m.key)) {
      return m.KeyError("module name must match [A-Za-z0-9_-]+");
    }
    RETURN_IF_ERROR(m.value.ExpectTable());
    Module module;
    module.name = std::string(m.key);
    RETURN_IF_ERROR(ReadTable(m.value, ModuleTable(), module));
    config.modules.emplace(module.name, std::move(module));
  }
  return absl::OkStatus();
}

// A burst larger than the whole budget would be refused on every probe: say
// so at load instead, at the module's vus (or the nearest enclosing table).
absl::Status CheckBudget(const Value& root, const Config& config) {
  for (const auto& [name, module] : config.modules) {
    const int need = module.burst.max_in_flight();
    if (need <= config.server.max_inflight_requests) continue;
    const std::string what = absl::StrCat(
        need, " requests in flight exceed server.max_inflight_requests (",
        config.server.max_inflight_requests,
        "), so every probe would be refused; lower vus or raise the limit");
    std::optional<Value> where = root.Get("modules");
    if (where.has_value()) where = where->Get(name);
    for (absl::string_view key : {"burst", "vus"}) {
      if (!where.has_value()) break;
      std::optional<Value> next = where->Get(key);
      if (!next.has_value()) break;
      where = next;
    }
    if (where.has_value()) return where->Error(what);
    return ErrorAt(root.filename(), root.node().position,
                   ChildPath("modules", name), what);
  }
  return absl::OkStatus();
}

const Table<Config>& RootTable() {
  static const auto* const kTable = new Table<Config>{
      "",
      {
          Custom<Config>("modules", ReadModules),
          Field("web", &Config::web, TableOf(WebTable())),
          // After modules: it checks every module's burst against the budget,
          // with or without [server].
          Custom<Config>("server",
                         [](const Value& t, Config& config) -> absl::Status {
                           if (std::optional<Value> v = t.Get("server")) {
                             ASSIGN_OR_RETURN(config.server,
                                              TableOf(ServerTable())(*v));
                           }
                           return CheckBudget(t, config);
                         }),
          Field("security", &Config::security, TableOf(SecurityTable())),
      },
  };
  return *kTable;
}

template <typename T>
SchemaTable Keys(const Table<T>& table) {
  SchemaTable out{std::string(table.name), {}};
  for (const Key<T>& k : table.keys) out.keys.emplace_back(k.name);
  return out;
}

}  // namespace

absl::StatusOr<Config> ConfigFromDocument(const Node& root,
                                          absl::string_view filename) {
  Config config;
  RETURN_IF_ERROR(ReadTable(Value(root, "", filename), RootTable(), config));
  return config;
}

std::vector<SchemaTable> SchemaTables() {
  return {
      Keys(RootTable()),       Keys(ModuleTable()),      Keys(BurstTable()),
      Keys(HttpTable()),       Keys(HeaderMatchTable()), Keys(BasicAuthTable()),
      Keys(TlsTable()),        Keys(MetricsTable()),     Keys(StepTable()),
      Keys(ExtractionTable()), Keys(WebTable()),         Keys(ServerTable()),
      Keys(SecurityTable())};
}

}  // namespace canary::config
