#include "config/loader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "config/default_config.h"
#include "config/parse.h"
#include "config/secrets.h"
#include "config/threshold.h"
#include "re2/re2.h"
#include "toml++/toml.h"

namespace canary::config {
namespace {

// Debian's Abseil has absl::string_view != std::string_view: convert at the
// toml++ seam.
absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

constexpr int kMaxBuckets = 64;
constexpr int kMaxRedirects = 50;
constexpr int64_t kMaxBodySizeLimit = int64_t{1} << 30;
constexpr absl::Duration kMaxMinInterval = absl::Hours(1);
constexpr int64_t kMaxConcurrentProbes = 10000;
constexpr int64_t kMaxInflightRequests = 100000;

constexpr absl::string_view kMethods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                          "PATCH", "DELETE", "OPTIONS"};

absl::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

bool IsBareKey(absl::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '-';
  });
}

// Appends `key` to a dotted path, quoting it as TOML would when needed.
std::string Child(absl::string_view path, absl::string_view key) {
  std::string k =
      IsBareKey(key) ? std::string(key) : absl::StrFormat("\"%s\"", key);
  return path.empty() ? k : absl::StrCat(path, ".", k);
}

std::string Element(absl::string_view path, size_t i) {
  return absl::StrCat(path, "[", i, "]");
}

// Levenshtein distance, for "did you mean" on unknown keys.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// RFC 9110 token characters, the syntax of a header field name.
bool IsHeaderName(absl::string_view name) {
  static constexpr absl::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) ||
           kTokenPunct.find(c) != absl::string_view::npos;
  });
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

// Entries of a table in file order; toml::table itself is ordered by key.
std::vector<std::pair<const toml::key*, const toml::node*>> InFileOrder(
    const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
  std::stable_sort(
      entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const toml::source_position& pa = a.first->source().begin;
        const toml::source_position& pb = b.first->source().begin;
        return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
      });
  return entries;
}

// Turns a toml::table into a validated Config. Each Parse* method handles one
// table of the file; a new top-level table ([server], [web], ...) is a new
// entry in Sections() plus its method.
class Loader {
 public:
  explicit Loader(absl::string_view filename) : filename_(filename) {}

  absl::StatusOr<Config> Load(const toml::table& root) {
    Config config;
    RETURN_IF_ERROR(CheckKeys(root, "", SectionNames()));
    for (const Section& section : Sections()) {
      const toml::node* node =
          root.get(std::string_view(section.name.data(), section.name.size()));
      const toml::table* table = nullptr;
      if (node != nullptr) {
        ASSIGN_OR_RETURN(table, AsTable(*node, std::string(section.name)));
      }
      RETURN_IF_ERROR((this->*section.parse)(root, table, config));
    }
    return config;
  }

 private:
  struct Section {
    absl::string_view name;
    // `table` is null when the section is absent.
    absl::Status (Loader::*parse)(const toml::table& root,
                                  const toml::table* table, Config& config);
  };
  // Member-function bodies see the complete class, so the table lives here.
  static absl::Span<const Section> Sections() {
    static constexpr Section kSections[] = {
        {"modules", &Loader::ParseModules},
        {"web", &Loader::ParseWeb},
        // After modules: it checks every module's burst against the budget.
        {"server", &Loader::ParseServer},
        {"security", &Loader::ParseSecurity},
    };
    return kSections;
  }

  static std::vector<absl::string_view> SectionNames() {
    std::vector<absl::string_view> names;
    for (const Section& s : Sections()) names.push_back(s.name);
    return names;
  }

  absl::Status ErrorAt(const toml::source_region& where, absl::string_view path,
                       absl::string_view what) const {
    // Implicit tables may carry no position; 1:1 still makes a valid
    // editor link.
    return absl::InvalidArgumentError(absl::StrCat(
        filename_, ":", std::max<uint32_t>(where.begin.line, 1), ":",
        std::max<uint32_t>(where.begin.column, 1), ": ", path, ": ", what));
  }
  absl::Status ErrorAt(const toml::node& node, absl::string_view path,
                       absl::string_view what) const {
    return ErrorAt(node.source(), path, what);
  }
  absl::Status TypeError(const toml::node& node, absl::string_view path,
                         absl::string_view expected) const {
    return ErrorAt(
        node, path,
        absl::StrCat("expected ", expected, ", got ", TypeName(node)));
  }

  absl::Status CheckKeys(const toml::table& table, absl::string_view path,
                         const std::vector<absl::string_view>& known) const {
    for (const auto& [key, node] : InFileOrder(table)) {
      absl::string_view name = AbslView(key->str());
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      std::string what = "unknown key";
      size_t best = 3;
      for (absl::string_view candidate : known) {
        size_t d = EditDistance(name, candidate);
        if (d < best) {
          best = d;
          what =
              absl::StrCat("unknown key (did you mean \"", candidate, "\"?)");
        }
      }
      return ErrorAt(key->source(), Child(path, name), what);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<const toml::table*> AsTable(const toml::node& node,
                                             absl::string_view path) const {
    if (!node.is_table()) return TypeError(node, path, "a table");
    return node.as_table();
  }

  absl::StatusOr<const toml::array*> AsArray(const toml::node& node,
                                             absl::string_view path) const {
    if (!node.is_array()) return TypeError(node, path, "an array");
    return node.as_array();
  }

  absl::StatusOr<std::string> GetString(const toml::node& node,
                                        absl::string_view path) const {
    if (!node.is_string()) return TypeError(node, path, "a string");
    return std::string(node.as_string()->get());
  }

  absl::StatusOr<bool> GetBool(const toml::node& node,
                               absl::string_view path) const {
    if (!node.is_boolean()) return TypeError(node, path, "a boolean");
    return node.as_boolean()->get();
  }

  absl::StatusOr<int64_t> GetInt(const toml::node& node, absl::string_view path,
                                 int64_t min, int64_t max) const {
    if (!node.is_integer()) return TypeError(node, path, "an integer");
    int64_t v = node.as_integer()->get();
    if (v < min || v > max) {
      return ErrorAt(
          node, path,
          absl::StrCat("must be between ", min, " and ", max, ", got ", v));
    }
    return v;
  }

  // An integer or a float, finite.
  absl::StatusOr<double> GetNumber(const toml::node& node,
                                   absl::string_view path) const {
    double v;
    if (node.is_integer()) {
      v = static_cast<double>(node.as_integer()->get());
    } else if (node.is_floating_point()) {
      v = node.as_floating_point()->get();
    } else {
      return TypeError(node, path, "a number");
    }
    if (!std::isfinite(v)) {
      return ErrorAt(node, path, absl::StrCat("must be finite, got ", v));
    }
    return v;
  }

  // A duration string in (min, max], or [0, max] when zero_ok.
  absl::StatusOr<absl::Duration> GetDuration(const toml::node& node,
                                             absl::string_view path,
                                             bool zero_ok,
                                             absl::Duration max) const {
    if (!node.is_string()) {
      return TypeError(node, path,
                       "a duration string such as \"500ms\" or \"2s\"");
    }
    std::string text(node.as_string()->get());
    absl::StatusOr<absl::Duration> d = ParseDuration(text);
    if (!d.ok()) return ErrorAt(node, path, d.status().message());
    if (!zero_ok && *d == absl::ZeroDuration()) {
      return ErrorAt(
          node, path,
          absl::StrCat("must be greater than 0, got \"", text, "\""));
    }
    if (*d > max) {
      return ErrorAt(node, path,
                     absl::StrCat("must be at most ", absl::FormatDuration(max),
                                  ", got \"", text, "\""));
    }
    return *d;
  }

  absl::StatusOr<Regexp> GetRegexp(const toml::node& node,
                                   absl::string_view path) const {
    ASSIGN_OR_RETURN(std::string pattern, GetString(node, path));
    RE2::Options options;
    options.set_log_errors(false);  // the error goes into our message instead
    auto re = std::make_shared<const RE2>(pattern, options);
    if (!re->ok()) {
      return ErrorAt(node, path,
                     absl::StrCat("invalid regular expression \"", pattern,
                                  "\": ", re->error()));
    }
    return Regexp{std::move(pattern), std::move(re)};
  }

  absl::StatusOr<std::vector<Regexp>> GetRegexps(const toml::node& node,
                                                 absl::string_view path) const {
    ASSIGN_OR_RETURN(const toml::array* array, AsArray(node, path));
    std::vector<Regexp> out;
    for (size_t i = 0; i < array->size(); ++i) {
      ASSIGN_OR_RETURN(Regexp re, GetRegexp((*array)[i], Element(path, i)));
      out.push_back(std::move(re));
    }
    return out;
  }

  // ---- [modules] ----

  absl::Status ParseModules(const toml::table& root, const toml::table* table,
                            Config& config) {
    if (table == nullptr || table->empty()) {
      return ErrorAt(table != nullptr ? table->source() : root.source(),
                     "modules",
                     "at least one module is required, e.g. [modules.canary]");
    }
    for (const auto& [key, node] : InFileOrder(*table)) {
      std::string name(key->str());
      std::string path = Child("modules", name);
      if (!IsBareKey(name)) {
        return ErrorAt(key->source(), path,
                       "module name must match [A-Za-z0-9_-]+");
      }
      ASSIGN_OR_RETURN(const toml::table* module_table, AsTable(*node, path));
      Module module;
      module.name = name;
      RETURN_IF_ERROR(ParseModule(*module_table, path, module));
      config.modules.emplace(name, std::move(module));
    }
    return absl::OkStatus();
  }

  absl::Status ParseModule(const toml::table& t, absl::string_view path,
                           Module& m) const {
    RETURN_IF_ERROR(CheckKeys(
        t, path,
        {"timeout", "thresholds", "buckets", "burst", "http", "min_interval"}));
    if (const toml::node* n = t.get("timeout")) {
      ASSIGN_OR_RETURN(m.timeout, GetDuration(*n, Child(path, "timeout"),
                                              /*zero_ok=*/false, kMaxTimeout));
    }
    if (const toml::node* n = t.get("min_interval")) {
      ASSIGN_OR_RETURN(m.min_interval,
                       GetDuration(*n, Child(path, "min_interval"),
                                   /*zero_ok=*/true, kMaxMinInterval));
    }
    if (const toml::node* n = t.get("thresholds")) {
      std::string p = Child(path, "thresholds");
      ASSIGN_OR_RETURN(const toml::array* array, AsArray(*n, p));
      for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = (*array)[i];
        ASSIGN_OR_RETURN(std::string text, GetString(element, Element(p, i)));
        absl::StatusOr<Threshold> threshold = ParseThreshold(text);
        if (!threshold.ok()) {
          return ErrorAt(element, Element(p, i), threshold.status().message());
        }
        m.thresholds.push_back(*std::move(threshold));
      }
    }
    if (const toml::node* n = t.get("buckets")) {
      ASSIGN_OR_RETURN(m.buckets, ParseBuckets(*n, Child(path, "buckets")));
    }
    // An absent [burst] still gets the model-dependent defaults.
    const toml::table empty_burst;
    const toml::table* burst = &empty_burst;
    if (const toml::node* n = t.get("burst")) {
      ASSIGN_OR_RETURN(burst, AsTable(*n, Child(path, "burst")));
    }
    RETURN_IF_ERROR(ParseBurst(*burst, Child(path, "burst"), m.burst));
    if (const toml::node* n = t.get("http")) {
      std::string p = Child(path, "http");
      ASSIGN_OR_RETURN(const toml::table* http, AsTable(*n, p));
      RETURN_IF_ERROR(ParseHttp(*http, p, m.http));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<double>> ParseBuckets(
      const toml::node& node, absl::string_view path) const {
    ASSIGN_OR_RETURN(const toml::array* array, AsArray(node, path));
    if (array->empty()) {
      return ErrorAt(node, path,
                     "must list at least one bucket (omit it for the "
                     "defaults)");
    }
    if (array->size() > kMaxBuckets) {
      return ErrorAt(node, path,
                     absl::StrCat("must have at most ", kMaxBuckets,
                                  " buckets, got ", array->size()));
    }
    std::vector<double> buckets;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = (*array)[i];
      std::string p = Element(path, i);
      ASSIGN_OR_RETURN(double bound, GetNumber(element, p));
      if (bound <= 0) {
        return ErrorAt(element, p,
                       absl::StrCat("must be positive, got ", bound));
      }
      if (!buckets.empty() && bound <= buckets.back()) {
        return ErrorAt(element, p,
                       absl::StrCat("buckets must be strictly increasing, got ",
                                    bound, " after ", buckets.back()));
      }
      buckets.push_back(bound);
    }
    return buckets;
  }

  absl::Status ParseBurst(const toml::table& t, absl::string_view path,
                          BurstConfig& b) const {
    RETURN_IF_ERROR(CheckKeys(
        t, path, {"vus", "think_time", "duration", "requests", "rate"}));
    const toml::node* rate = t.get("rate");
    const toml::node* think_time = t.get("think_time");
    const toml::node* duration = t.get("duration");
    const toml::node* requests = t.get("requests");
    const toml::node* vus = t.get("vus");
    if (rate != nullptr) {
      std::string p = Child(path, "rate");
      ASSIGN_OR_RETURN(b.rate, GetNumber(*rate, p));
      if (b.rate <= 0 || b.rate > kMaxRate) {
        return ErrorAt(
            *rate, p,
            absl::StrCat("must be greater than 0 and at most ", kMaxRate,
                         " requests per second, got ", b.rate));
      }
    }
    if (vus != nullptr) {
      ASSIGN_OR_RETURN(b.vus, GetInt(*vus, Child(path, "vus"), 1, kMaxVus));
    } else {
      b.vus = b.open_model() ? 10 : 1;
    }
    if (think_time != nullptr) {
      std::string p = Child(path, "think_time");
      if (b.open_model()) {
        return ErrorAt(*think_time, p,
                       "applies to the closed model only; remove it or remove "
                       "\"rate\"");
      }
      ASSIGN_OR_RETURN(b.think_time,
                       GetDuration(*think_time, p,
                                   /*zero_ok=*/true, kMaxDuration));
    }
    if (duration != nullptr) {
      ASSIGN_OR_RETURN(b.duration,
                       GetDuration(*duration, Child(path, "duration"),
                                   /*zero_ok=*/false, kMaxDuration));
    }
    if (requests != nullptr) {
      ASSIGN_OR_RETURN(b.requests, GetInt(*requests, Child(path, "requests"), 1,
                                          kMaxRequests));
    }
    if (!b.duration.has_value() && !b.requests.has_value()) {
      if (b.open_model()) {
        return ErrorAt(*rate, Child(path, "rate"),
                       "the open model needs \"duration\" or \"requests\" to "
                       "end the burst");
      }
      b.requests = 1;
    }
    return absl::OkStatus();
  }

  absl::Status ParseHttp(const toml::table& t, absl::string_view path,
                         HttpConfig& h) const {
    RETURN_IF_ERROR(CheckKeys(
        t, path,
        {"method", "headers", "body", "valid_status_codes",
         "fail_if_body_matches_regexp", "fail_if_body_not_matches_regexp",
         "fail_if_header_matches", "fail_if_header_not_matches",
         "follow_redirects", "max_redirects", "http_version",
         "reuse_connections", "body_size_limit", "proxy_url", "tls",
         "bearer_token", "bearer_token_file", "basic_auth"}));
    if (const toml::node* n = t.get("method")) {
      std::string p = Child(path, "method");
      ASSIGN_OR_RETURN(h.method, GetString(*n, p));
      if (std::find(std::begin(kMethods), std::end(kMethods), h.method) ==
          std::end(kMethods)) {
        return ErrorAt(
            *n, p,
            absl::StrCat("must be one of ", absl::StrJoin(kMethods, ", "),
                         ", got \"", h.method, "\""));
      }
    }
    if (const toml::node* n = t.get("headers")) {
      ASSIGN_OR_RETURN(h.headers, ParseHeaders(*n, Child(path, "headers")));
    }
    if (const toml::node* n = t.get("body")) {
      ASSIGN_OR_RETURN(h.body, GetString(*n, Child(path, "body")));
    }
    if (const toml::node* n = t.get("valid_status_codes")) {
      std::string p = Child(path, "valid_status_codes");
      ASSIGN_OR_RETURN(const toml::array* array, AsArray(*n, p));
      for (size_t i = 0; i < array->size(); ++i) {
        ASSIGN_OR_RETURN(int64_t code,
                         GetInt((*array)[i], Element(p, i), 100, 599));
        h.valid_status_codes.push_back(static_cast<int>(code));
      }
    }
    if (const toml::node* n = t.get("fail_if_body_matches_regexp")) {
      ASSIGN_OR_RETURN(
          h.fail_if_body_matches_regexp,
          GetRegexps(*n, Child(path, "fail_if_body_matches_regexp")));
    }
    if (const toml::node* n = t.get("fail_if_body_not_matches_regexp")) {
      ASSIGN_OR_RETURN(
          h.fail_if_body_not_matches_regexp,
          GetRegexps(*n, Child(path, "fail_if_body_not_matches_regexp")));
    }
    if (const toml::node* n = t.get("fail_if_header_matches")) {
      ASSIGN_OR_RETURN(
          h.fail_if_header_matches,
          ParseHeaderMatches(*n, Child(path, "fail_if_header_matches")));
    }
    if (const toml::node* n = t.get("fail_if_header_not_matches")) {
      ASSIGN_OR_RETURN(
          h.fail_if_header_not_matches,
          ParseHeaderMatches(*n, Child(path, "fail_if_header_not_matches")));
    }
    if (const toml::node* n = t.get("follow_redirects")) {
      ASSIGN_OR_RETURN(h.follow_redirects,
                       GetBool(*n, Child(path, "follow_redirects")));
    }
    if (const toml::node* n = t.get("max_redirects")) {
      ASSIGN_OR_RETURN(h.max_redirects, GetInt(*n, Child(path, "max_redirects"),
                                               0, kMaxRedirects));
    }
    if (const toml::node* n = t.get("http_version")) {
      std::string p = Child(path, "http_version");
      if (!n->is_string())
        return TypeError(*n, p, "a string (\"1.1\" or \"2\")");
      ASSIGN_OR_RETURN(std::string v, GetString(*n, p));
      if (v == "1.1") {
        h.http_version = HttpVersion::kHttp1_1;
      } else if (v == "2") {
        h.http_version = HttpVersion::kHttp2;
      } else {
        return ErrorAt(
            *n, p, absl::StrCat("must be \"1.1\" or \"2\", got \"", v, "\""));
      }
    }
    if (const toml::node* n = t.get("reuse_connections")) {
      ASSIGN_OR_RETURN(h.reuse_connections,
                       GetBool(*n, Child(path, "reuse_connections")));
    }
    if (const toml::node* n = t.get("body_size_limit")) {
      ASSIGN_OR_RETURN(h.body_size_limit,
                       ParseBodySizeLimit(*n, Child(path, "body_size_limit")));
    }
    if (const toml::node* n = t.get("proxy_url")) {
      std::string p = Child(path, "proxy_url");
      ASSIGN_OR_RETURN(h.proxy_url, GetString(*n, p));
      RETURN_IF_ERROR(CheckProxyUrl(*n, p, h.proxy_url));
    }
    if (const toml::node* n = t.get("tls")) {
      std::string p = Child(path, "tls");
      ASSIGN_OR_RETURN(const toml::table* tls, AsTable(*n, p));
      RETURN_IF_ERROR(ParseTls(*tls, p, h.tls));
    }
    RETURN_IF_ERROR(ParseHttpSecrets(t, path, h));
    return absl::OkStatus();
  }

  // ---- secrets (config/secrets.h): no message may quote a secret ----

  // A secret given inline (`key`) or in a file (`key_file`), one of them.
  // Returns nullopt when neither is set.
  absl::StatusOr<std::optional<std::string>> GetSecret(const toml::table& t,
                                                       absl::string_view path,
                                                       absl::string_view key,
                                                       bool empty_ok) const {
    const std::string file_key = absl::StrCat(key, "_file");
    const toml::node* value = t.get(std::string_view(key.data(), key.size()));
    const toml::node* file = t.get(file_key);
    if (value != nullptr && file != nullptr) {
      return ErrorAt(
          *file, Child(path, file_key),
          absl::StrCat("conflicts with \"", key, "\"; set only one of them"));
    }
    std::string secret;
    if (value != nullptr) {
      std::string p = Child(path, key);
      ASSIGN_OR_RETURN(secret, GetString(*value, p));
      if (secret.empty() && !empty_ok) {
        return ErrorAt(*value, p, "must not be empty");
      }
      if (secret.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        return ErrorAt(*value, p, "must not contain line breaks or NUL");
      }
    } else if (file != nullptr) {
      std::string p = Child(path, file_key);
      ASSIGN_OR_RETURN(std::string file_path, GetString(*file, p));
      if (file_path.empty()) return ErrorAt(*file, p, "must not be empty");
      absl::StatusOr<std::string> read = ReadSecretFile(file_path);
      if (!read.ok()) return ErrorAt(*file, p, read.status().message());
      secret = *std::move(read);
    } else {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(std::move(secret));
  }

  absl::Status ParseHttpSecrets(const toml::table& t, absl::string_view path,
                                HttpConfig& h) const {
    ASSIGN_OR_RETURN(std::optional<std::string> token,
                     GetSecret(t, path, "bearer_token", /*empty_ok=*/false));
    if (token.has_value()) h.bearer_token = *std::move(token);
    if (const toml::node* n = t.get("basic_auth")) {
      std::string p = Child(path, "basic_auth");
      if (!h.bearer_token.empty()) {
        return ErrorAt(*n, p,
                       "conflicts with \"bearer_token\"; a request carries "
                       "one Authorization header");
      }
      if (!n->is_table()) {
        return TypeError(*n, p,
                         "a table such as { username = \"u\", password_file "
                         "= \"/run/secrets/pw\" }");
      }
      const toml::table& auth = *n->as_table();
      RETURN_IF_ERROR(
          CheckKeys(auth, p, {"username", "password", "password_file"}));
      const toml::node* user = auth.get("username");
      if (user == nullptr) {
        return ErrorAt(*n, p, "missing required key \"username\"");
      }
      BasicAuth basic;
      ASSIGN_OR_RETURN(basic.username, GetString(*user, Child(p, "username")));
      if (basic.username.empty() || basic.username.find_first_of(std::string(
                                        ":\r\n\0", 4)) != std::string::npos) {
        return ErrorAt(*user, Child(p, "username"),
                       "must be non-empty without \":\", line breaks or NUL "
                       "(RFC 7617)");
      }
      ASSIGN_OR_RETURN(std::optional<std::string> password,
                       GetSecret(auth, p, "password", /*empty_ok=*/true));
      if (password.has_value()) basic.password = *std::move(password);
      h.basic_auth = std::move(basic);
    }
    const char* auth_key = h.basic_auth.has_value() ? "basic_auth"
                           : t.get("bearer_token") != nullptr
                               ? "bearer_token"
                               : "bearer_token_file";
    if (const toml::node* n = t.get(auth_key)) {
      for (const auto& [name, value] : h.headers) {
        if (absl::EqualsIgnoreCase(name, "Authorization")) {
          return ErrorAt(*n, Child(path, auth_key),
                         "conflicts with headers.Authorization; set only one "
                         "of them");
        }
      }
    }
    return absl::OkStatus();
  }

  // ---- [web] ----

  absl::StatusOr<std::string> GetFile(const toml::node& node,
                                      absl::string_view path) const {
    ASSIGN_OR_RETURN(std::string file, GetString(node, path));
    if (file.empty()) return ErrorAt(node, path, "must not be empty");
    if (std::string error = FileError(file); !error.empty()) {
      return ErrorAt(node, path, error);
    }
    return file;
  }

  absl::Status ParseWeb(const toml::table& /*root*/, const toml::table* t,
                        Config& config) {
    if (t == nullptr) return absl::OkStatus();
    const std::string path = "web";
    RETURN_IF_ERROR(
        CheckKeys(*t, path,
                  {"tls_cert_file", "tls_key_file", "tls_client_ca_file",
                   "tls_min_version", "basic_auth_users"}));
    WebConfig& web = config.web;
    const toml::node* cert = t->get("tls_cert_file");
    const toml::node* key = t->get("tls_key_file");
    if ((cert == nullptr) != (key == nullptr)) {
      absl::string_view present =
          cert != nullptr ? "tls_cert_file" : "tls_key_file";
      absl::string_view missing =
          cert != nullptr ? "tls_key_file" : "tls_cert_file";
      return ErrorAt(cert != nullptr ? *cert : *key, Child(path, present),
                     absl::StrCat("requires \"", missing,
                                  "\" as well (HTTPS needs a certificate and "
                                  "its key)"));
    }
    // Structure and values first: a file error must not hide them.
    for (absl::string_view tls_only :
         {"tls_client_ca_file", "tls_min_version"}) {
      const toml::node* n =
          t->get(std::string_view(tls_only.data(), tls_only.size()));
      if (n != nullptr && cert == nullptr) {
        return ErrorAt(*n, Child(path, tls_only),
                       "applies to HTTPS only; set \"tls_cert_file\" and "
                       "\"tls_key_file\" too");
      }
    }
    if (const toml::node* n = t->get("tls_min_version")) {
      std::string p = Child(path, "tls_min_version");
      ASSIGN_OR_RETURN(std::string v, GetString(*n, p));
      if (v == "TLS12") {
        web.tls_min_version = TlsConfig::Version::kTls12;
      } else if (v == "TLS13") {
        web.tls_min_version = TlsConfig::Version::kTls13;
      } else {
        return ErrorAt(*n, p,
                       absl::StrCat("must be TLS12 or TLS13, got \"", v, "\""));
      }
    }
    if (cert != nullptr) {
      ASSIGN_OR_RETURN(web.tls_cert_file,
                       GetFile(*cert, Child(path, "tls_cert_file")));
      ASSIGN_OR_RETURN(web.tls_key_file,
                       GetFile(*key, Child(path, "tls_key_file")));
    }
    if (const toml::node* n = t->get("tls_client_ca_file")) {
      ASSIGN_OR_RETURN(web.tls_client_ca_file,
                       GetFile(*n, Child(path, "tls_client_ca_file")));
    }
    if (const toml::node* n = t->get("basic_auth_users")) {
      std::string p = Child(path, "basic_auth_users");
      ASSIGN_OR_RETURN(const toml::table* users, AsTable(*n, p));
      // $2a$/$2b$/$2y$, a two-digit cost 04..31, 22 salt + 31 hash chars.
      static const LazyRE2 kBcrypt = {
          R"(\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53})"};
      for (const auto& [user, hash] : InFileOrder(*users)) {
        std::string name(user->str());
        std::string up = Child(p, name);
        if (name.empty() || name.find(':') != std::string::npos) {
          return ErrorAt(user->source(), up,
                         "user name must be non-empty without \":\"");
        }
        ASSIGN_OR_RETURN(std::string h, GetString(*hash, up));
        if (!RE2::FullMatch(h, *kBcrypt)) {
          // The hash is not quoted: it is as sensitive as a password.
          return ErrorAt(*hash, up,
                         "must be a bcrypt hash ($2a$, $2b$ or $2y$, cost "
                         "04-31, 60 characters), e.g. from \"htpasswd -nbBC "
                         "10 USER PASSWORD\"");
        }
        web.basic_auth_users.emplace(std::move(name), std::move(h));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseHeaders(
      const toml::node& node, absl::string_view path) const {
    ASSIGN_OR_RETURN(const toml::table* table, AsTable(node, path));
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [key, value] : InFileOrder(*table)) {
      std::string name(key->str());
      std::string p = Child(path, name);
      if (!IsHeaderName(name)) {
        return ErrorAt(key->source(), p,
                       "is not a valid header name (letters, digits and "
                       "!#$%&'*+-.^_`|~ only)");
      }
      ASSIGN_OR_RETURN(std::string v, GetString(*value, p));
      if (v.find_first_of("\r\n") != std::string::npos ||
          v.find('\0') != std::string::npos) {
        return ErrorAt(*value, p,
                       "header value must not contain line breaks or NUL");
      }
      headers.emplace_back(std::move(name), std::move(v));
    }
    return headers;
  }

  absl::StatusOr<std::vector<HeaderMatch>> ParseHeaderMatches(
      const toml::node& node, absl::string_view path) const {
    ASSIGN_OR_RETURN(const toml::array* array, AsArray(node, path));
    std::vector<HeaderMatch> matches;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = (*array)[i];
      std::string p = Element(path, i);
      if (!element.is_table()) {
        return TypeError(element, p,
                         "a table such as { header = \"Content-Type\", regexp "
                         "= \"json\" }");
      }
      const toml::table& t = *element.as_table();
      RETURN_IF_ERROR(CheckKeys(t, p, {"header", "regexp", "allow_missing"}));
      HeaderMatch match;
      const toml::node* header = t.get("header");
      const toml::node* regexp = t.get("regexp");
      if (header == nullptr) {
        return ErrorAt(element, p, "missing required key \"header\"");
      }
      if (regexp == nullptr) {
        return ErrorAt(element, p, "missing required key \"regexp\"");
      }
      ASSIGN_OR_RETURN(match.header, GetString(*header, Child(p, "header")));
      if (!IsHeaderName(match.header)) {
        return ErrorAt(
            *header, Child(p, "header"),
            absl::StrCat("\"", match.header, "\" is not a valid header name"));
      }
      ASSIGN_OR_RETURN(match.regexp, GetRegexp(*regexp, Child(p, "regexp")));
      if (const toml::node* n = t.get("allow_missing")) {
        ASSIGN_OR_RETURN(match.allow_missing,
                         GetBool(*n, Child(p, "allow_missing")));
      }
      matches.push_back(std::move(match));
    }
    return matches;
  }

  absl::StatusOr<int64_t> ParseBodySizeLimit(const toml::node& node,
                                             absl::string_view path) const {
    int64_t bytes;
    if (node.is_integer()) {
      bytes = node.as_integer()->get();
    } else if (node.is_string()) {
      absl::StatusOr<int64_t> size = ParseSize(node.as_string()->get());
      if (!size.ok()) return ErrorAt(node, path, size.status().message());
      bytes = *size;
    } else {
      return TypeError(node, path,
                       "a size such as \"1MiB\" or an integer number of bytes");
    }
    if (bytes < 1 || bytes > kMaxBodySizeLimit) {
      return ErrorAt(node, path,
                     absl::StrCat("must be between 1 byte and 1GiB, got ",
                                  bytes, " bytes"));
    }
    return bytes;
  }

  absl::Status CheckProxyUrl(const toml::node& node, absl::string_view path,
                             absl::string_view url) const {
    if (url.empty()) return absl::OkStatus();
    static constexpr absl::string_view kSchemes[] = {
        "http", "https", "socks4", "socks4a", "socks5", "socks5h"};
    size_t sep = url.find("://");
    absl::string_view scheme =
        sep == absl::string_view::npos ? "" : url.substr(0, sep);
    if (std::find(std::begin(kSchemes), std::end(kSchemes), scheme) ==
            std::end(kSchemes) ||
        sep + 3 == url.size()) {
      return ErrorAt(
          node, path,
          absl::StrCat("expected a URL such as "
                       "\"http://proxy:3128\" (schemes: ",
                       absl::StrJoin(kSchemes, ", "), "), got \"", url, "\""));
    }
    return absl::OkStatus();
  }

  absl::Status ParseTls(const toml::table& t, absl::string_view path,
                        TlsConfig& tls) const {
    RETURN_IF_ERROR(
        CheckKeys(t, path,
                  {"ca_file", "cert_file", "key_file", "server_name",
                   "insecure_skip_verify", "min_version"}));
    // The pairing is checked before the files exist, so the message names
    // the structural mistake rather than a missing path.
    const toml::node* cert = t.get("cert_file");
    const toml::node* key = t.get("key_file");
    if ((cert == nullptr) != (key == nullptr)) {
      absl::string_view present = cert != nullptr ? "cert_file" : "key_file";
      absl::string_view missing = cert != nullptr ? "key_file" : "cert_file";
      return ErrorAt(cert != nullptr ? *cert : *key, Child(path, present),
                     absl::StrCat("requires \"", missing,
                                  "\" as well (a client certificate needs its "
                                  "key)"));
    }
    struct File {
      absl::string_view key;
      std::string* field;
    };
    for (const File& f :
         {File{"ca_file", &tls.ca_file}, File{"cert_file", &tls.cert_file},
          File{"key_file", &tls.key_file}}) {
      const toml::node* n = t.get(std::string_view(f.key.data(), f.key.size()));
      if (n == nullptr) continue;
      std::string p = Child(path, f.key);
      ASSIGN_OR_RETURN(*f.field, GetString(*n, p));
      if (f.field->empty()) return ErrorAt(*n, p, "must not be empty");
      if (std::string error = FileError(*f.field); !error.empty()) {
        return ErrorAt(*n, p, error);
      }
    }
    if (const toml::node* n = t.get("server_name")) {
      ASSIGN_OR_RETURN(tls.server_name,
                       GetString(*n, Child(path, "server_name")));
    }
    if (const toml::node* n = t.get("insecure_skip_verify")) {
      ASSIGN_OR_RETURN(tls.insecure_skip_verify,
                       GetBool(*n, Child(path, "insecure_skip_verify")));
    }
    if (const toml::node* n = t.get("min_version")) {
      std::string p = Child(path, "min_version");
      ASSIGN_OR_RETURN(std::string v, GetString(*n, p));
      if (v == "TLS10") {
        tls.min_version = TlsConfig::Version::kTls10;
      } else if (v == "TLS11") {
        tls.min_version = TlsConfig::Version::kTls11;
      } else if (v == "TLS12") {
        tls.min_version = TlsConfig::Version::kTls12;
      } else if (v == "TLS13") {
        tls.min_version = TlsConfig::Version::kTls13;
      } else {
        return ErrorAt(*n, p,
                       absl::StrCat("must be one of TLS10, TLS11, TLS12, "
                                    "TLS13, got \"",
                                    v, "\""));
      }
    }
    return absl::OkStatus();
  }

  // ---- [security] ----

  absl::Status ParseSecurity(const toml::table& /*root*/,
                             const toml::table* table, Config& config) {
    if (table == nullptr) return absl::OkStatus();
    RETURN_IF_ERROR(CheckKeys(*table, "security", {"allowed_targets"}));
    const toml::node* n = table->get("allowed_targets");
    if (n == nullptr) return absl::OkStatus();
    const std::string path = "security.allowed_targets";
    ASSIGN_OR_RETURN(const toml::array* array, AsArray(*n, path));
    if (array->empty()) {
      return ErrorAt(*n, path,
                     "must list at least one CIDR or host pattern (omit it "
                     "to allow loopback targets only)");
    }
    std::vector<AllowedTarget> entries;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = (*array)[i];
      const std::string p = Element(path, i);
      ASSIGN_OR_RETURN(std::string text, GetString(element, p));
      absl::StatusOr<AllowedTarget> entry = ParseAllowedTarget(text);
      if (!entry.ok()) return ErrorAt(element, p, entry.status().message());
      entries.push_back(*std::move(entry));
    }
    config.security.allowed_targets = std::move(entries);
    return absl::OkStatus();
  }

  // ---- [server] ----

  absl::Status ParseServer(const toml::table& root, const toml::table* t,
                           Config& config) {
    ServerConfig& server = config.server;
    if (t != nullptr) {
      RETURN_IF_ERROR(CheckKeys(
          *t, "server", {"max_concurrent_probes", "max_inflight_requests"}));
      if (const toml::node* n = t->get("max_concurrent_probes")) {
        ASSIGN_OR_RETURN(server.max_concurrent_probes,
                         GetInt(*n, "server.max_concurrent_probes", 1,
                                kMaxConcurrentProbes));
      }
      if (const toml::node* n = t->get("max_inflight_requests")) {
        ASSIGN_OR_RETURN(server.max_inflight_requests,
                         GetInt(*n, "server.max_inflight_requests", 1,
                                kMaxInflightRequests));
      }
    }
    // A burst larger than the whole budget would be refused on every probe:
    // say so at load instead.
    for (const auto& [name, module] : config.modules) {
      const int need = module.burst.max_in_flight();
      if (need <= server.max_inflight_requests) continue;
      const toml::node* where = root.get("modules");
      std::string path = Child("modules", name);
      if (where != nullptr) where = where->as_table()->get(name);
      for (const char* key : {"burst", "vus"}) {
        const toml::table* table =
            where != nullptr ? where->as_table() : nullptr;
        const toml::node* next = table != nullptr ? table->get(key) : nullptr;
        if (next == nullptr) break;
        where = next;
        path = Child(path, key);
      }
      return ErrorAt(where != nullptr ? where->source() : root.source(), path,
                     absl::StrCat(need,
                                  " requests in flight exceed "
                                  "server.max_inflight_requests (",
                                  server.max_inflight_requests,
                                  "), so every probe would be refused; lower "
                                  "vus or raise the limit"));
    }
    return absl::OkStatus();
  }

  std::string filename_;
};

}  // namespace

absl::StatusOr<Config> LoadConfig(absl::string_view toml_text,
                                  absl::string_view filename) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(toml_text.data(), toml_text.size()),
                       std::string_view(filename.data(), filename.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ":", e.source().begin.line, ":",
                     e.source().begin.column, ": ", AbslView(e.description())));
  }
  return Loader(filename).Load(root);
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file \"", path, "\" is a directory"));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot open config file \"", path, "\""));
  }
  std::string text;
  char buffer[1 << 14];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::ErrnoToStatus(
        error, absl::StrCat("cannot read config file \"", path, "\""));
  }
  return LoadConfig(text, path);
}

absl::StatusOr<Config> LoadDefaultConfig() {
  return LoadConfig(DefaultConfigToml(), "<default config>");
}

}  // namespace canary::config
