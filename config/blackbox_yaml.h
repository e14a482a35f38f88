// blackbox_yaml.h: converts a blackbox_exporter configuration (blackbox.yml)
// into canary_exporter TOML. The only place that uses yaml-cpp.
//
//   absl::StatusOr<BlackboxConversion> c =
//       ConvertBlackboxYamlFile("blackbox.yml");
//   if (!c.ok()) return c.status();  // "blackbox.yml:7:9: modules.x...: ..."
//   std::cout << c->toml;
//   for (const std::string& n : c->notes) std::cerr << n << "\n";
//
// Each `prober: http` module becomes [modules.NAME] with the same name; a
// blackbox probe is one request, which is what a module without [burst]
// does here. Options with the same meaning keep their names (blackbox's
// tls_config is our [http.tls], preferred_ip_protocol is ip_protocol,
// no_follow_redirects is the negated follow_redirects, enable_http2 picks
// http_version). An option blackbox knows but canary_exporter cannot carry
// over, and every module of another prober (tcp, icmp, dns, grpc), gives a
// note: one line, also written as a `#` comment into the TOML at the place
// it concerns.
//
// Thread-safety: pure functions.
// Errors: InvalidArgument "<file>:<line>:<column>: <key path>: <what>" for a
// YAML syntax error, a file that is not a blackbox configuration (no
// `modules` map, an unknown key), a value of the wrong type or an option
// value canary_exporter cannot express; FailedPrecondition when no http
// module is left to convert; NotFound / PermissionDenied when the file
// cannot be read.
#ifndef CANARY_CONFIG_BLACKBOX_YAML_H_
#define CANARY_CONFIG_BLACKBOX_YAML_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::config {

struct BlackboxConversion {
  std::string toml;  // a complete canary_exporter configuration
  // One line per option not carried over and per skipped module, each
  // starting "<file>:<line>: ".
  std::vector<std::string> notes;
};

// ConvertBlackboxYaml converts `yaml_text`; `filename` is used only in
// messages.
absl::StatusOr<BlackboxConversion> ConvertBlackboxYaml(
    absl::string_view yaml_text, absl::string_view filename);

// ConvertBlackboxYamlFile reads the file at `path` and converts it.
absl::StatusOr<BlackboxConversion> ConvertBlackboxYamlFile(
    const std::string& path);

}  // namespace canary::config

#endif  // CANARY_CONFIG_BLACKBOX_YAML_H_
